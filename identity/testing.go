package identity

import (
	"crypto/sha256"
	"testing"
)

// NewTest returns a deterministic identity for tests: its seed is
// sha256("kith/test/" + label), so the same label always gives the same peer
// ID. Never use it outside tests.
func NewTest(tb testing.TB, label string) *Identity {
	tb.Helper()
	seed := sha256.Sum256([]byte("kith/test/" + label))
	id, err := FromSeed(seed[:])
	if err != nil {
		tb.Fatalf("identity.NewTest(%q): %v", label, err)
	}
	return id
}
