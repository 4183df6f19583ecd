package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"fmt"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// SeedSize is the size of an Ed25519 seed: the identity seed and the
// recovery seed are each one.
const SeedSize = ed25519.SeedSize

// DataKeySize is the size of the data key D, the secret behind everything
// private (see [Identity.DataKey]).
const DataKeySize = 32

// HKDF info strings for the keys derived from the data key D. Changing one
// changes every derived key: old entries would become unreadable.
const (
	infoX25519 = "kith/x25519/v2"
	infoSelf   = "kith/self/v2"
)

// Identity is what a device holds: the Ed25519 identity key that signs (its
// peer ID is the person's address) and the data key D behind the X25519 and
// self keys. Build one with [Root.Identity], [FromPhrase], [FromKeys] or
// [Keystore.Load]; the zero value is not usable. It is immutable and safe for
// concurrent use.
type Identity struct {
	seed     [SeedSize]byte
	data     [DataKeySize]byte
	recovery ed25519.PublicKey // nil when not known
	priv     ed25519.PrivateKey
	lpPriv   crypto.PrivKey
	peerID   peer.ID
	encPriv  hpke.PrivateKey
	encECDH  *ecdh.PrivateKey // the same X25519 key, for Agree
	encPub   []byte
	selfKey  []byte
}

// FromKeys builds an identity from the two secrets a device holds: the
// 32-byte Ed25519 identity seed and the 32-byte data key D, as a [Root]
// derives them or a key file stores them. recovery is the recovery public
// key the identity's genesis commits to, or nil when unknown; it grants no
// power, and lets a key-only home start a new log committing to the same
// recovery key ([Identity.RecoveryCommitment]). It returns [ErrBadSeed] for a
// seed or data key of another length, or a recovery key that is not 32 bytes.
func FromKeys(seed, data []byte, recovery ed25519.PublicKey) (*Identity, error) {
	if len(seed) != SeedSize {
		return nil, fmt.Errorf("%w: identity seed is %d bytes", ErrBadSeed, len(seed))
	}
	if len(data) != DataKeySize {
		return nil, fmt.Errorf("%w: data key is %d bytes", ErrBadSeed, len(data))
	}
	if recovery != nil && len(recovery) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: recovery public key is %d bytes", ErrBadSeed, len(recovery))
	}
	id := &Identity{priv: ed25519.NewKeyFromSeed(seed)}
	copy(id.seed[:], seed)
	copy(id.data[:], data)
	if recovery != nil {
		id.recovery = append(ed25519.PublicKey(nil), recovery...)
	}

	var err error
	id.lpPriv, err = crypto.UnmarshalEd25519PrivateKey(id.priv)
	if err != nil {
		return nil, fmt.Errorf("building libp2p key: %w", err)
	}
	id.peerID, err = peer.IDFromPrivateKey(id.lpPriv)
	if err != nil {
		return nil, fmt.Errorf("deriving peer ID: %w", err)
	}

	encSeed, err := hkdf.Key(sha256.New, data, nil, infoX25519, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving encryption key: %w", err)
	}
	defer clear(encSeed)
	ecPriv, err := ecdh.X25519().NewPrivateKey(encSeed)
	if err != nil {
		return nil, fmt.Errorf("deriving encryption key: %w", err)
	}
	id.encPub = ecPriv.PublicKey().Bytes()
	id.encECDH = ecPriv
	id.encPriv, err = hpke.NewDHKEMPrivateKey(ecPriv)
	if err != nil {
		return nil, fmt.Errorf("building HPKE key: %w", err)
	}

	id.selfKey, err = hkdf.Key(sha256.New, data, nil, infoSelf, 32)
	if err != nil {
		return nil, fmt.Errorf("deriving self key: %w", err)
	}
	return id, nil
}

// Seed returns a copy of the 32-byte Ed25519 identity seed, the secret
// that signs. It opens nothing: that is [Identity.DataKey].
func (id *Identity) Seed() []byte {
	s := make([]byte, SeedSize)
	copy(s, id.seed[:])
	return s
}

// DataKey returns a copy of the 32-byte data key D, from which the X25519
// and self keys are derived: the secret that reads everything the person
// wrote.
func (id *Identity) DataKey() []byte {
	d := make([]byte, DataKeySize)
	copy(d, id.data[:])
	return d
}

// RecoveryPublic returns a copy of the recovery public key the identity's
// genesis commits to, or nil when this identity does not know it (one built
// by [FromKeys] without it, such as a test identity).
func (id *Identity) RecoveryPublic() ed25519.PublicKey {
	if id.recovery == nil {
		return nil
	}
	return append(ed25519.PublicKey(nil), id.recovery...)
}

// RecoveryCommitment returns [Commitment] of [Identity.RecoveryPublic]: what
// a genesis entry stores. It is nil when the recovery key is not known.
func (id *Identity) RecoveryCommitment() []byte {
	if id.recovery == nil {
		return nil
	}
	return Commitment(id.recovery)
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
// HKDF-SHA256(D, info "kith/x25519/v2"), so it is restored with the data
// key D, which the recovery phrase derives.
func (id *Identity) EncryptionKey() []byte {
	return append([]byte(nil), id.encPub...)
}

// SelfKey returns a copy of the 32-byte symmetric key for entries whose
// audience is only the author: HKDF-SHA256(D, info "kith/self/v2").
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

// Agree returns the X25519 shared secret of this identity's encryption key
// and the X25519 public key pub (RFC 7748): what an author who sealed to
// this identity's [Identity.EncryptionKey] with the private half of pub
// can compute too. It returns [ErrBadPublicKey] if pub is not 32 bytes or
// is a low-order point (the secret would be all zeros).
func (id *Identity) Agree(pub []byte) ([]byte, error) {
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadPublicKey, err)
	}
	z, err := id.encECDH.ECDH(p)
	if err != nil {
		return nil, fmt.Errorf("%w: low-order point", ErrBadPublicKey)
	}
	return z, nil
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
