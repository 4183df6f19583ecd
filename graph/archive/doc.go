// Package archive writes and reads Kith exports: CAR v1 files holding every
// log a node keeps, behind a manifest the identity signs. It knows nothing of
// the network or of where entries are stored: [Write] reads them from a
// [Source], and a [Reader] hands verified entries to the caller in batches,
// in log order, ready for a [graph.Store].
//
// The layout (spec/SPEC.md, "Export (CAR)"): the CAR's one root is the
// manifest block (DAG-CBOR, [Manifest]); it comes first, then the key block
// when the manifest names one (the key file as identity.MarshalKey writes
// it, with a passphrase), then each log of the manifest in its order, seq 1
// to the head, each block an entry exactly as stored (CID = spec.CIDOf).
//
// Reading trusts nothing: every length is bounded before it is allocated
// ([MaxManifestSize] for the manifest, spec.MaxEntrySize for entries), every
// block must match its CID, the manifest's signature must verify against
// the identity it names, and each log must run from seq 1 to the head the
// manifest names without a gap. Each entry links to the one before by its
// CID, signature included, so a log's head signature commits its author to
// every earlier entry: the reader verifies it as soon as the chain reaches
// the head. The other entries' own signatures are verified too, in
// parallel, with the bodies opened there, or behind the caller's put
// ([ReadOptions.SignaturesBehind], then [Reader.Signatures] waits for them)
// so that an import loads and indexes its temporary store meanwhile.
// spec/SPEC.md ("Export (CAR)", "Signatures") says why they are still
// checked one by one.
//
// A [Reader] is not safe for concurrent use; [Write] and [DecodeManifest]
// are plain functions.
package archive
