package store

import (
	"context"
	"path/filepath"
	"testing"
)

// NewTest opens a store with idx (graph/book.Index{} for Kith's records)
// in a temporary directory for tests. Its cleanup runs [Store.Check] and
// fails the test on any inconsistency.
func NewTest(tb testing.TB, idx Index) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "kith.db"), idx)
	if err != nil {
		tb.Fatalf("opening test store: %v", err)
	}
	tb.Cleanup(func() {
		rep, err := s.Check(context.Background(), nil)
		if err != nil {
			tb.Errorf("checking store: %v", err)
		} else if !rep.OK() {
			tb.Errorf("store inconsistent: %v", rep.Problems)
		}
		if err := s.Close(); err != nil {
			tb.Errorf("closing store: %v", err)
		}
	})
	return s
}
