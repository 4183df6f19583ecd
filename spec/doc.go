// Package spec is Kith's wire format: protocol IDs, size limits and the entry
// codec (deterministic DAG-CBOR, CIDv1 dag-cbor sha2-256, Ed25519 signatures).
//
// An [Entry] is one signed record in an author's append-only log. [Decode]
// parses untrusted bytes with size and nesting limits and rejects any encoding
// that does not re-encode to the same bytes; [Entry.Verify] checks the
// signature and [CheckLink] checks that an entry follows its predecessor.
// Nothing here knows about keys on disk, stores or networks; the package has
// no Kith imports, so every other package can depend on it.
//
// The normative description is SPEC.md beside this file; the vectors in
// testdata/ are reproduced by the tests. All functions are safe for
// concurrent use; an Entry value is not.
package spec
