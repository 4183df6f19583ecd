package store

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// DB exposes the database to tests that damage it on purpose.
func (s *Store) DB() *sql.DB { return s.db }

// CopyStore checkpoints the store in dir and opens a copy of it.
func CopyStore(tb testing.TB, dir string) *Store {
	tb.Helper()
	src, err := Open(context.Background(), filepath.Join(dir, "kith.db"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := src.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		tb.Fatal(err)
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
	s, err := Open(context.Background(), dst)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}
