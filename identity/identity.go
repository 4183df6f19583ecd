package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	crand "crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SeedSize is the size of an Ed25519 seed, the only secret an Identity holds.
const SeedSize = ed25519.SeedSize

// HKDF info strings for the keys derived from the identity seed. Changing one
// changes every derived key: old entries would become unreadable.
const (
	infoX25519 = "kith/x25519/v1"
	infoSelf   = "kith/self/v1"
)

// Identity is an Ed25519 identity key plus keys derived from its 32-byte seed.
// Build one with [Generate], [FromSeed] or [Keystore.Load]; the zero value is
// not usable. It is immutable and safe for concurrent use.
type Identity struct {
	seed    [SeedSize]byte
	priv    ed25519.PrivateKey
	lpPriv  crypto.PrivKey
	peerID  peer.ID
	encPriv hpke.PrivateKey
	encPub  []byte
	selfKey []byte
}

// Generate creates a new identity from 32 bytes read from rand. A nil rand
// means crypto/rand.
func Generate(rand io.Reader) (*Identity, error) {
	if rand == nil {
		rand = crand.Reader
	}
	var seed [SeedSize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("reading random seed: %w", err)
	}
	defer clear(seed[:])
	return FromSeed(seed[:])
}

// FromSeed rebuilds an identity from its 32-byte Ed25519 seed. It returns
// [ErrBadSeed] for any other length. The same seed always gives the same peer
// ID, encryption key and self key.
func FromSeed(seed []byte) (*Identity, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w: got %d bytes", ErrBadSeed, len(seed))
	}
	id := &Identity{priv: ed25519.NewKeyFromSeed(seed)}
	copy(id.seed[:], seed)

	var err error
	id.lpPriv, err = crypto.UnmarshalEd25519PrivateKey(id.priv)
	if err != nil {
		return nil, fmt.Errorf("building libp2p key: %w", err)
	}
	id.peerID, err = peer.IDFromPrivateKey(id.lpPriv)
	if err != nil {
		return nil, fmt.Errorf("deriving peer ID: %w", err)
	}

	encSeed, err := hkdf.Key(sha256.New, seed, nil, infoX25519, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving encryption key: %w", err)
	}
	defer clear(encSeed)
	ecPriv, err := ecdh.X25519().NewPrivateKey(encSeed)
	if err != nil {
		return nil, fmt.Errorf("deriving encryption key: %w", err)
	}
	id.encPub = ecPriv.PublicKey().Bytes()
	id.encPriv, err = hpke.NewDHKEMPrivateKey(ecPriv)
	if err != nil {
		return nil, fmt.Errorf("building HPKE key: %w", err)
	}

	id.selfKey, err = hkdf.Key(sha256.New, seed, nil, infoSelf, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving self key: %w", err)
	}
	return id, nil
}

// Seed returns a copy of the 32-byte Ed25519 seed: the identity's only
// secret, from which every other key is derived.
func (id *Identity) Seed() []byte {
	s := make([]byte, SeedSize)
	copy(s, id.seed[:])
	return s
}

// PeerID returns the libp2p peer ID of the identity key (12D3KooW…).
func (id *Identity) PeerID() peer.ID { return id.peerID }

// PublicKey returns a copy of the Ed25519 public key.
func (id *Identity) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), id.priv.Public().(ed25519.PublicKey)...)
}

// PrivKey returns the identity key as a libp2p private key, for the libp2p
// host.
func (id *Identity) PrivKey() crypto.PrivKey { return id.lpPriv }

// Sign returns the Ed25519 signature of msg. The error is always nil today; it
// is there for keys that may one day live outside the process.
func (id *Identity) Sign(msg []byte) ([]byte, error) {
	return ed25519.Sign(id.priv, msg), nil
}

// EncryptionKey returns a copy of the identity's 32-byte X25519 public key,
// the key others pass to [Wrap]. The private half is
// HKDF-SHA256(seed, info "kith/x25519/v1"), so it is restored with the seed.
func (id *Identity) EncryptionKey() []byte {
	return append([]byte(nil), id.encPub...)
}

// SelfKey returns a copy of the 32-byte symmetric key for entries whose
// audience is only the author: HKDF-SHA256(seed, info "kith/self/v1").
func (id *Identity) SelfKey() []byte {
	return append([]byte(nil), id.selfKey...)
}

// String returns "identity " and the peer ID; it never shows key material.
func (id *Identity) String() string {
	if id == nil {
		return "identity <nil>"
	}
	return "identity " + id.peerID.String()
}

// GoString is like String, so %#v does not print the seed either.
func (id *Identity) GoString() string { return id.String() }

// hpkeSuite returns the HPKE KDF and AEAD of Kith's suite:
// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305.
func hpkeSuite() (hpke.KDF, hpke.AEAD) {
	return hpke.HKDFSHA256(), hpke.ChaCha20Poly1305()
}

// Wrap seals contentKey to the holder of the X25519 public key recipientEncKey
// (another identity's [Identity.EncryptionKey]) with HPKE base mode (RFC 9180)
// over DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and ChaCha20Poly1305. info
// binds the result to a context; [Identity.Unwrap] must be given the same
// info. The result is the encapsulated key followed by the ciphertext. It
// returns [ErrBadPublicKey] if recipientEncKey is not a usable X25519 key.
func Wrap(recipientEncKey, contentKey, info []byte) ([]byte, error) {
	pub, err := hpke.DHKEM(ecdh.X25519()).NewPublicKey(recipientEncKey)
	if err != nil {
		return nil, fmt.Errorf("parsing recipient key: %w: %w", ErrBadPublicKey, err)
	}
	kdf, aead := hpkeSuite()
	out, err := hpke.Seal(pub, kdf, aead, info, contentKey)
	if err != nil {
		// With the system random source, Seal only fails when the X25519
		// exchange does: a low-order recipient point.
		return nil, fmt.Errorf("sealing to recipient key: %w: %w", ErrBadPublicKey, err)
	}
	return out, nil
}

// probeKey is a fixed X25519 scalar used only to test public keys: a
// low-order point gives the all-zero shared secret for every scalar.
var probeKey = func() *ecdh.PrivateKey {
	seed := sha256.Sum256([]byte("kith/x25519-probe"))
	k, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		panic(err)
	}
	return k
}()

// CheckEncryptionKey returns [ErrBadPublicKey] unless key is an X25519
// public key that [Wrap] can seal to: 32 bytes and not a low-order point.
// Check a peer's published key with it before storing it, so that one bad
// key cannot stop a card from being sealed to everyone else.
func CheckEncryptionKey(key []byte) error {
	pub, err := ecdh.X25519().NewPublicKey(key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadPublicKey, err)
	}
	if _, err := probeKey.ECDH(pub); err != nil {
		return fmt.Errorf("%w: low-order point", ErrBadPublicKey)
	}
	return nil
}

// Unwrap opens a [Wrap] output sealed to this identity's encryption key with
// the same info. It returns [ErrUnwrap] if that fails for any reason.
func (id *Identity) Unwrap(wrapped, info []byte) ([]byte, error) {
	kdf, aead := hpkeSuite()
	pt, err := hpke.Open(id.encPriv, kdf, aead, info, wrapped)
	if err != nil {
		return nil, fmt.Errorf("opening wrapped key: %w", ErrUnwrap)
	}
	return pt, nil
}
