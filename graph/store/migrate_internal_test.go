package store

import (
	"context"
	"database/sql"
	"testing"
	"testing/fstest"
)

// TestLoadMigrations: the migrations run 1, 2, 3… and a Go step has a
// file; anything else is a bug caught when the program starts.
func TestLoadMigrations(t *testing.T) {
	step := func(context.Context, *sql.Tx, Index) error { return nil }
	file := &fstest.MapFile{Data: []byte("SELECT 1;")}
	for _, tc := range []struct {
		name   string
		files  fstest.MapFS
		steps  map[int]func(context.Context, *sql.Tx, Index) error
		panics bool
	}{
		{"in order", fstest.MapFS{"migrations/0001_a.sql": file, "migrations/0002_b.sql": file}, map[int]func(context.Context, *sql.Tx, Index) error{2: step}, false},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file, "migrations/0003_c.sql": file}, nil, true},
		{"no name", fstest.MapFS{"migrations/0001.sql": file}, nil, true},
		{"step without file", fstest.MapFS{"migrations/0001_a.sql": file}, map[int]func(context.Context, *sql.Tx, Index) error{2: step}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); (r != nil) != tc.panics {
					t.Errorf("loadMigrations panicked: %v, want a panic: %v", r, tc.panics)
				}
			}()
			ms := loadMigrations(tc.files, tc.steps)
			if len(ms) != 2 || ms[1].step == nil || ms[0].step != nil {
				t.Errorf("loadMigrations = %+v, want 2 migrations, a step on the second", ms)
			}
		})
	}
	if len(migrations) != schemaVersion || migrations[1].step == nil {
		t.Errorf("the embedded migrations did not load: %d, version %d", len(migrations), schemaVersion)
	}
}
