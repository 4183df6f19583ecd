package store

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
)

// TestKeptStatements: a store at this code's schema prepares its hot
// statements once, when it opens; the lookups run through them (and
// those with more UIDs than are kept prepare their own); after Close they
// fail rather than hang or panic.
func TestKeptStatements(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "kith.db"), book.Index{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(s.stmts), len(keptQueries()); got != want {
		t.Fatalf("%d statements kept, want %d", got, want)
	}
	if _, err := s.Record(ctx, "someone", graph.KindContact, "nokey"); !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("Record of a missing key: %v", err)
	}
	for _, uids := range [][]string{{"a"}, {"a", "b"}, {"a", "b", "c", "d", "e", "f"}} {
		found, err := s.ContactsByUID(ctx, "someone", uids)
		if err != nil || len(found) != 0 {
			t.Fatalf("ContactsByUID(%v) = %v, %v", uids, found, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, "someone", graph.KindContact, "nokey"); err == nil || errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("Record after Close: %v, want an error", err)
	}
}
