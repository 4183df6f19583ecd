package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/identity"
)

func TestMain(m *testing.M) {
	checkpointIdle = 50 * time.Millisecond
	goleak.VerifyTestMain(m) // the checkpointer stops with Close
}

// Once writes pause, the store copies its write-ahead log into the database
// file itself, well before SQLite's own bound.
func TestCheckpointWhenIdle(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kith.db")
	s, err := Open(ctx, path, book.Index{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := graph.NewWriter(ctx, identity.NewTest(t, "me"), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	drafts := make([]graph.Draft, 500)
	for i := range drafts {
		drafts[i] = graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: fmt.Sprintf("c%d", i)}, To: graph.Audience{Self: true}}
	}
	if _, err := w.Append(ctx, drafts...); err != nil {
		t.Fatal(err)
	}
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	if wal := size(path + "-wal"); wal < 256<<10 {
		t.Fatalf("the log holds only %d bytes after 500 entries; the test needs more", wal)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size(path) < 256<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes (log %d) 10s after the last write: no checkpoint", size(path), size(path+"-wal"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "kith.db"), book.Index{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// The store and its log hold decrypted cards: only the owner reads them,
// also when an older version left the file open to others.
func TestStoreFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kith.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, book.Index{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), m)
		}
	}
}

// Files an older version left open to others are made private; missing
// ones are no error.
func TestPrivatize(t *testing.T) {
	dir := t.TempDir()
	wal := filepath.Join(dir, "kith.db-wal")
	if err := os.WriteFile(wal, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	privatize(wal, filepath.Join(dir, "kith.db-shm"))
	fi, err := os.Stat(wal)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %o after privatize, want 600", m)
	}
}
