package graph

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

// Errors from [Seal] and [Open].
var (
	// ErrNotForMe: this node is not in the entry's audience.
	ErrNotForMe = errors.New("graph: entry not addressed to this identity")
	// ErrDecrypt: the body or its wrapped key does not decrypt; the entry is
	// corrupt or was sealed to a different key.
	ErrDecrypt = errors.New("graph: body does not decrypt")
)

// wrapInfo is the HPKE info string for wrapped content keys.
var wrapInfo = []byte("kith/cek/v1")

// Reader is one recipient of an entry: a peer and its X25519 key.
type Reader struct {
	ID     peer.ID
	EncKey []byte
}

// Audience says who a new entry is for: exactly one of Self, Public, or a
// non-empty Readers list (the author should be among them to read it back).
type Audience struct {
	Self    bool
	Public  bool
	Readers []Reader
}

// Seal encrypts body for aud on behalf of id and returns the header and the
// body bytes for a new entry.
func Seal(id *identity.Identity, aud Audience, body *Body) (spec.Audience, []byte, error) {
	plain, err := spec.Marshal(body)
	if err != nil {
		return spec.Audience{}, nil, fmt.Errorf("encoding body: %w", err)
	}
	ad := []byte(id.PeerID())
	switch {
	case aud.Public:
		return spec.PublicAudience, plain, nil
	case aud.Self:
		sealed, err := sealWith(id.SelfKey(), plain, ad)
		return spec.SelfAudience, sealed, err
	case len(aud.Readers) == 0:
		return spec.Audience{}, nil, errors.New("graph: sealing for an empty audience")
	}
	cek := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(cek); err != nil {
		return spec.Audience{}, nil, err
	}
	readers := slices.Clone(aud.Readers)
	slices.SortFunc(readers, func(a, b Reader) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })
	readers = slices.CompactFunc(readers, func(a, b Reader) bool { return a.ID == b.ID })
	recips := make([]spec.Recipient, 0, len(readers))
	for _, r := range readers {
		w, err := identity.Wrap(r.EncKey, cek, wrapInfo)
		if err != nil {
			return spec.Audience{}, nil, fmt.Errorf("wrapping key for %s: %w", r.ID, err)
		}
		recips = append(recips, spec.Recipient{ID: []byte(r.ID), Key: w})
	}
	sealed, err := sealWith(cek, plain, ad)
	return spec.Audience{Recipients: recips}, sealed, err
}

// Open decrypts and parses the body of e for id. It returns ErrNotForMe when
// id is not in the audience.
func Open(id *identity.Identity, e *spec.Entry) (*Body, error) {
	var plain []byte
	switch {
	case e.Aud.Public:
		plain = e.Body
	case e.Aud.Self:
		if !bytes.Equal(e.Author, []byte(id.PeerID())) {
			return nil, ErrNotForMe
		}
		p, err := openWith(id.SelfKey(), e.Body, e.Author)
		if err != nil {
			return nil, err
		}
		plain = p
	default:
		r, ok := e.Aud.Includes(id.PeerID())
		if !ok {
			return nil, ErrNotForMe
		}
		cek, err := id.Unwrap(r.Key, wrapInfo)
		if err != nil {
			return nil, fmt.Errorf("%w: unwrapping key: %v", ErrDecrypt, err)
		}
		p, err := openWith(cek, e.Body, e.Author)
		if err != nil {
			return nil, err
		}
		plain = p
	}
	return DecodeBody(plain)
}

// Opener returns Open bound to id, in the shape [Verify] takes.
func Opener(id *identity.Identity) func(*spec.Entry) (*Body, error) {
	return func(e *spec.Entry) (*Body, error) { return Open(id, e) }
}

// sealWith encrypts with XChaCha20-Poly1305 under a random 24-byte nonce:
// nonce || ciphertext. Random nonces are safe for the long-lived self key.
func sealWith(key, plain, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return aead.Seal(out, out, plain, ad), nil
}

func openWith(key, sealed, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: body too short", ErrDecrypt)
	}
	n := aead.NonceSize()
	p, err := aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return p, nil
}
