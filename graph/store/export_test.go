package store

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kith-p2p/kith/graph/book"
)

// DB exposes the database to tests that damage it on purpose.
func (s *Store) DB() *sql.DB { return s.db }

// CopyStore checkpoints the store in dir and opens a copy of it.
func CopyStore(tb testing.TB, dir string) *Store {
	tb.Helper()
	src, err := Open(context.Background(), filepath.Join(dir, "kith.db"), book.Index{})
	if err != nil {
		tb.Fatal(err)
	}
	// A checkpoint of the store still open in dir (its idle checkpointer)
	// makes this one report busy instead of failing: try until it is done.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var busy, logFrames, done int
		if err := src.db.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err != nil {
			tb.Fatal(err)
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatal("store still busy after 10s; cannot checkpoint it for a copy")
		}
		time.Sleep(10 * time.Millisecond)
	}
	src.Close()
	dst := filepath.Join(tb.TempDir(), "kith.db")
	in, err := os.Open(filepath.Join(dir, "kith.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		tb.Fatal(err)
	}
	out.Close()
	s, err := Open(context.Background(), dst, book.Index{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// SchemaVersion is the schema version Open migrates to.
var SchemaVersion = schemaVersion

// OpenAt opens the store at path migrated to schema version v only
// (migrations 1..v), for tests that build a store as an older kith left it.
func OpenAt(ctx context.Context, path string, idx Index, v int) (*Store, error) {
	return open(ctx, path, idx, v, false)
}
