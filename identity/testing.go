package identity

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"
)

// NewTest returns a deterministic identity for tests: its identity seed is
// sha256("kith/test/" + label), so the same label always gives the same peer
// ID; its data key is sha256("kith/test/data/" + label) and its recovery key
// the Ed25519 key of seed sha256("kith/test/recovery/" + label). It has no
// phrase: use [NewRoot] for that. Never use it outside tests.
func NewTest(tb testing.TB, label string) *Identity {
	tb.Helper()
	seed := sha256.Sum256([]byte("kith/test/" + label))
	data := sha256.Sum256([]byte("kith/test/data/" + label))
	rec := sha256.Sum256([]byte("kith/test/recovery/" + label))
	recPub := ed25519.NewKeyFromSeed(rec[:]).Public().(ed25519.PublicKey)
	id, err := FromKeys(seed[:], data[:], recPub)
	if err != nil {
		tb.Fatalf("identity.NewTest(%q): %v", label, err)
	}
	return id
}
