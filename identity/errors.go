package identity

import "errors"

// Errors returned by this package. Callers test them with errors.Is; the
// returned errors wrap them with the path or detail involved.
var (
	// ErrBadSeed: a seed, data key or recovery public key is not 32 bytes.
	ErrBadSeed = errors.New("identity: keys must be 32 bytes")
	// ErrBadPublicKey: a recipient encryption key is not a usable X25519
	// public key (wrong length or a low-order point).
	ErrBadPublicKey = errors.New("identity: bad X25519 public key")
	// ErrUnwrap: a wrapped key cannot be opened with this identity (not sealed
	// to it, sealed with other info, or damaged).
	ErrUnwrap = errors.New("identity: cannot unwrap key")
	// ErrBadPhrase: a recovery phrase has an unknown word, the wrong number of
	// words, or a failing checksum; the error says which.
	ErrBadPhrase = errors.New("identity: bad recovery phrase")
	// ErrKeyExists: Save refuses to replace an existing key file.
	ErrKeyExists = errors.New("identity: key file already exists")
	// ErrNoKey: there is no key file; the node has not been initialised.
	ErrNoKey = errors.New("identity: no identity key (run `kith init`)")
	// ErrPassphraseRequired: the key file is encrypted and no passphrase was
	// given.
	ErrPassphraseRequired = errors.New("identity: key file is encrypted; passphrase required")
	// ErrWrongPassphrase: the passphrase does not open the key file. The
	// authenticated encryption cannot tell a wrong passphrase from a damaged
	// ciphertext, so this also covers a tampered encrypted seed.
	ErrWrongPassphrase = errors.New("identity: wrong passphrase (or damaged key file)")
	// ErrCorruptKey: the key file cannot be parsed, has bad or out-of-range
	// fields, or holds a key that does not match its peer_id.
	ErrCorruptKey = errors.New("identity: corrupt key file")
	// ErrPreReleaseKey: the key file was made by a pre-release kith (key
	// file version 1), whose keys a recovery phrase cannot restore. Errors
	// carrying it match ErrCorruptKey too.
	ErrPreReleaseKey = errors.New("this key file was made by a pre-release kith whose keys a recovery phrase cannot restore; " +
		"move this home aside and make a new identity with `kith init`")
	// ErrNoRecoveryKey: MarshalKey was given an identity that does not know
	// its recovery public key.
	ErrNoRecoveryKey = errors.New("identity: identity without its recovery public key")
	// ErrInsecureKeyFile: the key file is readable or writable by group or
	// other users.
	ErrInsecureKeyFile = errors.New("identity: key file is accessible by other users")
)
