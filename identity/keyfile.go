package identity

import (
	"bytes"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// Key file format, version 2. A JSON object:
//
//	{
//	  "version":  2,
//	  "type":     "ed25519",
//	  "kdf":      "none" | "argon2id",
//	  "argon2id": {"time": 3, "memory_kib": 65536, "threads": 4},  // argon2id only
//	  "salt":     "<base64, 16 bytes>",                             // argon2id only
//	  "nonce":    "<base64, 24 bytes>",                             // argon2id only
//	  "keys":     "<base64: identity seed (32) || data key D (32), or their XChaCha20-Poly1305 sealing>",
//	  "recovery": "<base64: the recovery public key, 32 bytes>",
//	  "peer_id":  "12D3KooW…"
//	}
//
// For argon2id, key = Argon2id(passphrase, salt, params, 32 bytes) and keys =
// XChaCha20-Poly1305(key, nonce, seed || D, additional data =
// keyFileAD(version, type, kdf, params, recovery)). Base64 is standard,
// padded. The file never holds the root or the recovery private key.
//
// Version 1 (pre-release) held one seed from which everything was derived,
// with a recovery key beside it; a phrase cannot restore those keys, so
// ParseKey refuses it with [ErrPreReleaseKey].
const (
	keyFileVersion = 2
	// preReleaseKeyFileVersion is the version before the keys came from a
	// recovery phrase.
	preReleaseKeyFileVersion = 1
	keyTypeEd25519           = "ed25519"
	kdfNone                  = "none"
	kdfArgon2id              = "argon2id"

	// MaxKeyFileSize bounds a key file; ParseKey rejects anything larger,
	// since the bytes may come from an untrusted export.
	MaxKeyFileSize = 16 << 10

	saltSize  = 16
	keySize   = chacha20poly1305.KeySize
	nonceSize = chacha20poly1305.NonceSizeX
)

// argon2Params is the Argon2id cost recorded in a key file.
type argon2Params struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint32 `json:"threads"`
}

// defaultArgon2 is the cost new key files use: the second recommended option
// of RFC 9106 §4 (t=3, 64 MiB, p=4).
var defaultArgon2 = argon2Params{Time: 3, MemoryKiB: 64 << 10, Threads: 4}

// kdfCost is the Argon2id cost MarshalKey uses. It is defaultArgon2 except in
// this package's tests, which lower it to keep the suite fast.
var kdfCost = defaultArgon2

// kdfLimits bounds the Argon2id cost ParseKey accepts from a file, so a
// hostile file cannot exhaust memory or CPU.
type kdfLimits struct {
	maxTime, maxMemoryKiB, maxThreads uint32
}

// fileLimits is what ParseKey and Keystore.Load accept: time ≤ 10,
// memory ≤ 1 GiB, threads ≤ 16.
var fileLimits = kdfLimits{maxTime: 10, maxMemoryKiB: 1 << 20, maxThreads: 16}

func (l kdfLimits) check(p argon2Params) error {
	switch {
	case p.Time < 1 || p.Time > l.maxTime:
		return fmt.Errorf("argon2id time %d outside 1..%d", p.Time, l.maxTime)
	case p.Threads < 1 || p.Threads > l.maxThreads:
		return fmt.Errorf("argon2id threads %d outside 1..%d", p.Threads, l.maxThreads)
	case p.MemoryKiB < 8*p.Threads || p.MemoryKiB > l.maxMemoryKiB:
		return fmt.Errorf("argon2id memory_kib %d outside %d..%d", p.MemoryKiB, 8*p.Threads, l.maxMemoryKiB)
	}
	return nil
}

// keyFile is the JSON form of a key file. []byte fields travel as base64.
type keyFile struct {
	Version  int           `json:"version"`
	Type     string        `json:"type"`
	KDF      string        `json:"kdf"`
	Argon2id *argon2Params `json:"argon2id,omitempty"`
	Salt     []byte        `json:"salt,omitempty"`
	Nonce    []byte        `json:"nonce,omitempty"`
	Keys     []byte        `json:"keys"`
	Recovery []byte        `json:"recovery"`
	PeerID   string        `json:"peer_id"`
}

// keysSize is the plaintext of "keys": identity seed || data key.
const keysSize = SeedSize + DataKeySize

// keyFileAD is the additional data of the sealed keys: it binds the version,
// key type, KDF and its parameters and the recovery public key, so none can
// be swapped without the decryption failing.
func keyFileAD(version int, typ, kdf string, p argon2Params, recovery []byte) []byte {
	ad := []byte("kith/identity-key")
	for _, f := range []string{
		strconv.Itoa(version), typ, kdf,
		strconv.FormatUint(uint64(p.Time), 10),
		strconv.FormatUint(uint64(p.MemoryKiB), 10),
		strconv.FormatUint(uint64(p.Threads), 10),
		string(recovery),
	} {
		ad = append(ad, 0)
		ad = append(ad, f...)
	}
	return ad
}

func deriveFileKey(passphrase, salt []byte, p argon2Params) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, uint8(p.Threads), keySize)
}

// MarshalKey returns the key file bytes for id: the contents of
// identity.key, also used by `kith export --with-key`. It holds the identity
// seed and the data key, with a non-empty passphrase sealed under an
// Argon2id-stretched key, with an empty one in the clear; and the recovery
// public key. It returns [ErrNoRecoveryKey] if id does not know its recovery
// public key.
func MarshalKey(id *Identity, passphrase []byte) ([]byte, error) {
	if id.recovery == nil {
		return nil, ErrNoRecoveryKey
	}
	kf := keyFile{
		Version:  keyFileVersion,
		Type:     keyTypeEd25519,
		KDF:      kdfNone,
		Keys:     append(id.Seed(), id.data[:]...),
		Recovery: id.RecoveryPublic(),
		PeerID:   id.PeerID().String(),
	}
	if len(passphrase) > 0 {
		p := kdfCost
		kf.KDF = kdfArgon2id
		kf.Argon2id = &p
		kf.Salt = make([]byte, saltSize)
		kf.Nonce = make([]byte, nonceSize)
		if _, err := io.ReadFull(crand.Reader, kf.Salt); err != nil {
			return nil, fmt.Errorf("reading salt: %w", err)
		}
		if _, err := io.ReadFull(crand.Reader, kf.Nonce); err != nil {
			return nil, fmt.Errorf("reading nonce: %w", err)
		}
		key := deriveFileKey(passphrase, kf.Salt, p)
		defer clear(key)
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("creating cipher: %w", err)
		}
		plain := kf.Keys
		kf.Keys = aead.Seal(nil, kf.Nonce, plain, keyFileAD(kf.Version, kf.Type, kf.KDF, p, kf.Recovery))
		clear(plain)
	}
	out, err := json.MarshalIndent(kf, "", "  ")
	if kf.KDF == kdfNone {
		clear(kf.Keys)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding key file: %w", err)
	}
	return append(out, '\n'), nil
}

// ParseKey is the inverse of [MarshalKey]. The passphrase is ignored for an
// unencrypted file. Errors: [ErrPassphraseRequired] for an encrypted file and
// an empty passphrase, [ErrWrongPassphrase] when decryption fails, and
// [ErrCorruptKey] for anything malformed: more than [MaxKeyFileSize] bytes,
// bad JSON, unknown fields or version, bad base64, wrong sizes, Argon2id
// parameters beyond time 10, 1 GiB or 16 threads, or a seed that does not give
// the recorded peer_id. A key file of the pre-release version 1 is refused
// with an error matching both [ErrPreReleaseKey] and [ErrCorruptKey].
func ParseKey(data []byte, passphrase []byte) (*Identity, error) {
	return parseKey(data, passphrase, fileLimits)
}

func parseKey(data, passphrase []byte, lim kdfLimits) (*Identity, error) {
	kf, err := decodeKeyFile(data, lim)
	if err != nil {
		return nil, err
	}
	keys := kf.Keys
	if kf.KDF == kdfArgon2id {
		if len(passphrase) == 0 {
			return nil, ErrPassphraseRequired
		}
		key := deriveFileKey(passphrase, kf.Salt, *kf.Argon2id)
		defer clear(key)
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, fmt.Errorf("creating cipher: %w", err)
		}
		keys, err = aead.Open(nil, kf.Nonce, kf.Keys, keyFileAD(kf.Version, kf.Type, kf.KDF, *kf.Argon2id, kf.Recovery))
		if err != nil {
			return nil, ErrWrongPassphrase
		}
	}
	defer clear(keys)
	id, err := FromKeys(keys[:SeedSize], keys[SeedSize:], kf.Recovery)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptKey, err)
	}
	if id.PeerID() != kf.peerID {
		return nil, fmt.Errorf("%w: key is %s but file says %s", ErrCorruptKey, id.PeerID(), kf.peerID)
	}
	return id, nil
}

// decodedKeyFile is a keyFile whose fields have been checked.
type decodedKeyFile struct {
	keyFile
	peerID peer.ID
}

// decodeKeyFile parses and checks everything that can be checked without the
// passphrase. Every error wraps ErrCorruptKey.
func decodeKeyFile(data []byte, lim kdfLimits) (*decodedKeyFile, error) {
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrCorruptKey}, args...)...)
	}
	if len(data) > MaxKeyFileSize {
		return nil, corrupt("%d bytes, limit %d", len(data), MaxKeyFileSize)
	}
	var v struct {
		Version int `json:"version"`
	}
	if json.Unmarshal(data, &v) == nil && v.Version == preReleaseKeyFileVersion {
		return nil, fmt.Errorf("%w: %w", ErrCorruptKey, ErrPreReleaseKey)
	}
	var kf keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&kf); err != nil {
		return nil, corrupt("decoding JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, corrupt("trailing data after JSON object")
	}
	if kf.Version != keyFileVersion {
		return nil, corrupt("unsupported version %d", kf.Version)
	}
	if kf.Type != keyTypeEd25519 {
		return nil, corrupt("unsupported key type %q", kf.Type)
	}
	if len(kf.Recovery) != ed25519.PublicKeySize {
		return nil, corrupt("recovery is %d bytes, want %d", len(kf.Recovery), ed25519.PublicKeySize)
	}
	pid, err := peer.Decode(kf.PeerID)
	if err != nil {
		return nil, corrupt("peer_id: %v", err)
	}
	switch kf.KDF {
	case kdfNone:
		if kf.Argon2id != nil || kf.Salt != nil || kf.Nonce != nil {
			return nil, corrupt("kdf none with argon2id, salt or nonce set")
		}
		if len(kf.Keys) != keysSize {
			return nil, corrupt("keys is %d bytes, want %d", len(kf.Keys), keysSize)
		}
	case kdfArgon2id:
		if kf.Argon2id == nil {
			return nil, corrupt("kdf argon2id without parameters")
		}
		if err := lim.check(*kf.Argon2id); err != nil {
			return nil, corrupt("%v", err)
		}
		if len(kf.Salt) != saltSize {
			return nil, corrupt("salt is %d bytes, want %d", len(kf.Salt), saltSize)
		}
		if len(kf.Nonce) != nonceSize {
			return nil, corrupt("nonce is %d bytes, want %d", len(kf.Nonce), nonceSize)
		}
		if want := keysSize + chacha20poly1305.Overhead; len(kf.Keys) != want {
			return nil, corrupt("sealed keys is %d bytes, want %d", len(kf.Keys), want)
		}
	default:
		return nil, corrupt("unknown kdf %q", kf.KDF)
	}
	return &decodedKeyFile{keyFile: kf, peerID: pid}, nil
}
