// Package identity holds a Kith person's keys: the root behind them and its
// recovery phrase, the identity key that signs, the data key that reads, the
// recovery key that may one day rotate, and the key file on disk.
//
// Everything comes from a [Root]: 32 bytes of entropy shown once as a
// 24-word BIP-39 phrase ([NewRoot], [Root.Phrase]) and never stored. HKDF-SHA256
// of the root with three info strings gives three independent secrets:
//
//   - the identity seed ("kith/identity/v2"), an Ed25519 key: its libp2p peer
//     ID ([Identity.PeerID]) is the person's address, it signs their entries,
//     and [Identity.PrivKey] is the key the node's libp2p host runs on;
//   - the recovery key ("kith/recovery/v2", [Root.RecoveryKey]), an Ed25519
//     key whose [Commitment] the genesis entry stores. Only it will authorise
//     a rotation after a loss or theft, so no device ever stores it;
//   - the data key D ("kith/data/v2", [Identity.DataKey]), behind everything
//     private: the X25519 key pair others seal to ([Identity.EncryptionKey],
//     HKDF(D, "kith/x25519/v2"); [Identity.Agree] gives the X25519 secret
//     a sealed entry's reader finds its slot with (graph, SPEC.md "Audience
//     and body"); [Wrap] and [Identity.Unwrap] seal a key to it with HPKE,
//     RFC 9180) and the symmetric self key
//     ([Identity.SelfKey], HKDF(D, "kith/self/v2")).
//
// An [Identity] is what a device holds: the identity seed and D (and the
// recovery public key, which grants nothing). The phrase gives all of them
// back ([ParsePhrase], [FromPhrase]), so it alone reaches everything the
// person wrote; a stolen device reads what its owner could but cannot rotate
// the identity away. The signing key is separate from D, so a later device
// key authorised by the identity can sign while reading through the same D
// ([FromKeys]). spec/SPEC.md "Keys" is the normative description.
//
// A rotation (spec/SPEC.md "Rotation") moves a person to the next
// generation of the same root ([Root.IdentityAt]: the info strings gain
// "/g<n>"; generation 0 is the above): new identity and data keys, the
// same recovery key and phrase. [Root.GenerationOf] finds which generation
// a peer ID is.
//
// [ParsePhrase] takes words separated by any whitespace in any case, and
// refuses a wrong phrase with [ErrBadPhrase], naming each unknown word by
// position with the nearest BIP-39 words, the wrong count, or a failing
// checksum.
//
// A [Keystore] keeps the identity seed and D in $dir/identity.key (mode
// 0600), a small JSON document written by [MarshalKey] and read by
// [ParseKey]. With a passphrase both are sealed with XChaCha20-Poly1305 under
// a key stretched by Argon2id; without one they are stored in the clear and
// the file mode is the only protection. A key file of the pre-release
// format, whose keys no phrase can restore, is refused with
// [ErrPreReleaseKey].
//
// An Identity is immutable and safe for concurrent use; methods that return
// byte slices return copies. Keystore and Root are plain values. Nothing in
// this package prints or logs.
package identity
