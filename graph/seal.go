package graph

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
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

// HKDF info strings of a sealed audience (SPEC.md "Audience and body").
// Changing one makes every sealed entry unreadable.
const (
	infoEph  = "kith/aud/eph/v3"  // the entry's ephemeral scalar, from D and the body nonce
	infoSlot = "kith/aud/slot/v3" // a reader's tag and slot key, from the X25519 secret
)

// nonceSize is the body's XChaCha20-Poly1305 nonce.
const nonceSize = chacha20poly1305.NonceSizeX

// entryOverhead bounds the encoded bytes of an entry besides its audience
// and its body's bytes: the keys, v, author (38 bytes), seq, prev (a
// 36-byte CID in a tag), time, the 64-byte signature and the headers come
// to about 220 bytes at the largest integers (TestEntryOverhead).
const entryOverhead = 256

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
// body bytes for a new entry. A sealed body (self or readers) is padded to
// a bucket ([spec.PaddedSize]); readers are wrapped in [spec.SlotCount]
// slots that name none of them.
func Seal(id *identity.Identity, aud Audience, body *Body) (spec.Audience, []byte, error) {
	plain, err := spec.Marshal(body)
	if err != nil {
		return spec.Audience{}, nil, fmt.Errorf("encoding body: %w", err)
	}
	switch {
	case aud.Public:
		return spec.PublicAudience, plain, nil
	case aud.Self:
		nonce := make([]byte, nonceSize)
		if _, err := rand.Read(nonce); err != nil {
			return spec.Audience{}, nil, err
		}
		sealed, err := sealBody(id.SelfKey(), nonce, padFor(plain, spec.SelfAudience), id.PeerID())
		return spec.SelfAudience, sealed, err
	case len(aud.Readers) == 0:
		return spec.Audience{}, nil, errors.New("graph: sealing for an empty audience")
	}
	readers := slices.Clone(aud.Readers)
	slices.SortFunc(readers, func(a, b Reader) int { return bytes.Compare([]byte(a.ID), []byte(b.ID)) })
	readers = slices.CompactFunc(readers, func(a, b Reader) bool { return a.ID == b.ID })
	if len(readers) > spec.MaxRecipients {
		return spec.Audience{}, nil, fmt.Errorf("graph: sealing to %d readers, limit %d", len(readers), spec.MaxRecipients)
	}
	nonce := make([]byte, nonceSize)
	cek := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(nonce); err != nil {
		return spec.Audience{}, nil, err
	}
	if _, err := rand.Read(cek); err != nil {
		return spec.Audience{}, nil, err
	}
	return sealReaders(id, readers, plain, nonce, cek, rand.Reader)
}

// sealReaders seals plain to readers under the content key cek and the body
// nonce; the dummy slots are read from dummies. Seal passes fresh random
// values; the vector tests pass fixed ones.
func sealReaders(id *identity.Identity, readers []Reader, plain, nonce, cek []byte, dummies io.Reader) (spec.Audience, []byte, error) {
	x, err := ephemeral(id, nonce)
	if err != nil {
		return spec.Audience{}, nil, err
	}
	eph := x.PublicKey().Bytes()
	slots := make([][]byte, 0, spec.SlotCount(len(readers)))
	seen := make(map[string]bool, len(readers))
	for _, r := range readers {
		if seen[string(r.EncKey)] {
			continue // two peer IDs with one key (a test's): one slot opens for both
		}
		seen[string(r.EncKey)] = true
		pub, err := ecdh.X25519().NewPublicKey(r.EncKey)
		if err != nil {
			return spec.Audience{}, nil, fmt.Errorf("sealing to %s: %w: %w", r.ID, identity.ErrBadPublicKey, err)
		}
		z, err := x.ECDH(pub)
		if err != nil {
			return spec.Audience{}, nil, fmt.Errorf("sealing to %s: %w: low-order point", r.ID, identity.ErrBadPublicKey)
		}
		tag, kek, err := slotKeys(z, eph, r.EncKey)
		if err != nil {
			return spec.Audience{}, nil, err
		}
		slots = append(slots, sealSlot(tag, kek, cek))
	}
	for len(slots) < spec.SlotCount(len(readers)) {
		d := make([]byte, spec.SlotSize)
		if _, err := io.ReadFull(dummies, d); err != nil {
			return spec.Audience{}, nil, fmt.Errorf("making dummy slots: %w", err)
		}
		slots = append(slots, d)
	}
	slices.SortFunc(slots, bytes.Compare)
	aud := spec.Audience{Sealed: &spec.Sealed{Eph: eph, Slots: slots}}
	sealed, err := sealBody(cek, nonce, padFor(plain, aud), id.PeerID())
	return aud, sealed, err
}

// ephemeral derives the entry's X25519 scalar from the author's data key D
// and the body nonce, so the author (and no one else) can derive it again
// to tell who an entry of its own was sealed to ([Recipients]).
func ephemeral(id *identity.Identity, nonce []byte) (*ecdh.PrivateKey, error) {
	d := id.DataKey()
	defer clear(d)
	seed, err := hkdf.Key(sha256.New, d, nonce, infoEph, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the audience key: %w", err)
	}
	defer clear(seed)
	return ecdh.X25519().NewPrivateKey(seed)
}

// slotKeys derives a reader's tag and slot key from the X25519 secret z of
// the entry's ephemeral key eph and the reader's key pub.
func slotKeys(z, eph, pub []byte) (tag, kek []byte, err error) {
	info := make([]byte, 0, len(infoSlot)+len(eph)+len(pub))
	info = append(append(append(info, infoSlot...), eph...), pub...)
	okm, err := hkdf.Key(sha256.New, z, nil, string(info), spec.TagSize+chacha20poly1305.KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("deriving a slot key: %w", err)
	}
	return okm[:spec.TagSize], okm[spec.TagSize:], nil
}

// slotNonce is the slot AEAD's nonce: every slot key seals once.
var slotNonce = make([]byte, chacha20poly1305.NonceSize)

func sealSlot(tag, kek, cek []byte) []byte {
	aead, err := chacha20poly1305.New(kek)
	if err != nil {
		panic("bug: slot key size: " + err.Error())
	}
	return aead.Seal(slices.Clip(tag), slotNonce, cek, nil)
}

// padFor pads plain to its bucket, or less when the bucket would not fit in
// an entry with audience aud: then to what fits (an entry that fits
// without padding always fits with it).
func padFor(plain []byte, aud spec.Audience) []byte {
	size := spec.PaddedSize(len(plain))
	if enc, err := spec.Marshal(aud); err == nil {
		room := spec.MaxEntrySize - entryOverhead - len(enc) - (nonceSize + chacha20poly1305.Overhead) - 5 // body header
		if size > room {
			size = max(room, len(plain)+1)
		}
	}
	return spec.Pad(plain, size)
}

// Open decrypts and parses the body of e for id. It returns ErrNotForMe when
// id is not in the audience.
func Open(id *identity.Identity, e *spec.Entry) (*Body, error) {
	var plain []byte
	switch {
	case e.Aud.Public:
		return DecodeBody(e.Body)
	case e.Aud.Self:
		if !bytes.Equal(e.Author, []byte(id.PeerID())) {
			return nil, ErrNotForMe
		}
		p, err := openBody(id.SelfKey(), e.Body, e.Author)
		if err != nil {
			return nil, err
		}
		plain = p
	case e.Aud.Sealed != nil:
		cek, err := openSlot(id, e.Aud.Sealed)
		if err != nil {
			return nil, err
		}
		p, err := openBody(cek, e.Body, e.Author)
		if err != nil {
			return nil, err
		}
		plain = p
	default:
		return nil, ErrNotForMe
	}
	unpadded, err := spec.Unpad(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	return DecodeBody(unpadded)
}

// openSlot finds id's slot by its tag and opens the content key in it.
func openSlot(id *identity.Identity, s *spec.Sealed) ([]byte, error) {
	z, err := id.Agree(s.Eph)
	if err != nil {
		return nil, ErrNotForMe // a low-order key: sealed to no one
	}
	tag, kek, err := slotKeys(z, s.Eph, id.EncryptionKey())
	if err != nil {
		return nil, err
	}
	for _, sl := range s.Slots {
		if len(sl) != spec.SlotSize || !bytes.Equal(sl[:spec.TagSize], tag) {
			continue // spec.Decode refuses a slot of another size; a hand-built entry may hold one
		}
		aead, err := chacha20poly1305.New(kek)
		if err != nil {
			return nil, err
		}
		cek, err := aead.Open(nil, slotNonce, sl[spec.TagSize:], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: opening my slot: %v", ErrDecrypt, err)
		}
		return cek, nil
	}
	return nil, ErrNotForMe
}

// Recipients returns those of candidates that e, an entry id wrote with a
// sealed audience, was sealed to. Only the author can tell: it derives the
// entry's ephemeral key again from its data key and computes each
// candidate's tag. It serves re-sealing an entry's body to the same readers
// (a rebase appends it again).
func Recipients(id *identity.Identity, e *spec.Entry, candidates []Reader) ([]Reader, error) {
	s := e.Aud.Sealed
	if s == nil || !bytes.Equal(e.Author, []byte(id.PeerID())) || len(e.Body) < nonceSize {
		return nil, fmt.Errorf("graph: telling the readers of an entry: only its author can, of a sealed entry")
	}
	x, err := ephemeral(id, e.Body[:nonceSize])
	if err != nil {
		return nil, err
	}
	eph := x.PublicKey().Bytes()
	if !bytes.Equal(eph, s.Eph) {
		return nil, fmt.Errorf("graph: telling the readers of an entry: its audience key is not the one %s derives", id.PeerID())
	}
	tags := make(map[string]bool, len(s.Slots))
	for _, sl := range s.Slots {
		if len(sl) == spec.SlotSize {
			tags[string(sl[:spec.TagSize])] = true
		}
	}
	var out []Reader
	for _, c := range candidates {
		pub, err := ecdh.X25519().NewPublicKey(c.EncKey)
		if err != nil {
			continue
		}
		z, err := x.ECDH(pub)
		if err != nil {
			continue
		}
		tag, _, err := slotKeys(z, eph, c.EncKey)
		if err != nil {
			return nil, err
		}
		if tags[string(tag)] {
			out = append(out, c)
		}
	}
	return out, nil
}

// Opener returns Open bound to id, in the shape [Verify] takes.
func Opener(id *identity.Identity) func(*spec.Entry) (*Body, error) {
	return func(e *spec.Entry) (*Body, error) { return Open(id, e) }
}

// sealBody encrypts plain with XChaCha20-Poly1305 under nonce, with the
// author's peer ID as associated data: nonce || ciphertext. Nonces are
// random: safe for the long-lived self key.
func sealBody(key, nonce, plain []byte, author peer.ID) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(nonce), len(nonce)+len(plain)+aead.Overhead())
	copy(out, nonce)
	return aead.Seal(out, nonce, plain, []byte(author)), nil
}

func openBody(key, sealed, ad []byte) ([]byte, error) {
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
