// Package identity holds a Kith person's keys: the Ed25519 identity key, the
// keys derived from it, the recovery key and the key file on disk.
//
// An [Identity] is an Ed25519 key pair built from a 32-byte seed. Its libp2p
// peer ID ([Identity.PeerID]) is the person's public address, and
// [Identity.PrivKey] is the key the node's libp2p host runs on. Two more keys
// are derived from the seed with HKDF-SHA256, so that restoring the identity
// key alone restores everything it can read:
//
//   - an X25519 encryption key pair ([Identity.EncryptionKey]); [Wrap] seals a
//     content key to a recipient's public key with HPKE (RFC 9180) and
//     [Identity.Unwrap] opens it;
//   - a symmetric self key ([Identity.SelfKey]) for entries only the author
//     reads.
//
// A [Recovery] key is a second Ed25519 key shown once as a 24-word BIP-39
// phrase and never stored; the genesis entry keeps its [Commitment] so a lost
// identity key can be rotated away. [RecoveryKey] turns the phrase back into
// the key.
//
// A [Keystore] keeps the identity key in $dir/identity.key (mode 0600), a
// small JSON document written by [MarshalKey] and read by [ParseKey]. With a
// passphrase the seed is sealed with XChaCha20-Poly1305 under a key stretched
// by Argon2id; without one it is stored in the clear and the file mode is the
// only protection.
//
// An Identity is immutable and safe for concurrent use; methods that return
// byte slices return copies. Keystore and Recovery are plain values. Nothing in
// this package prints or logs.
package identity
