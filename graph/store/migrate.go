package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// ErrNewerSchema: the store was last opened by a newer kith, whose schema
// this one does not know.
var ErrNewerSchema = errors.New("store: schema is newer than this kith")

// migrationFiles are the schema's numbered migrations: NNNN_name.sql
// takes a store from version NNNN-1 to NNNN. A released migration is never
// edited; a change to the schema is a new file (and, if it needs Go, a
// step in goSteps).
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// goSteps are the migrations that need Go, by version: each runs after
// its version's SQL, in the same transaction.
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx, idx Index) error{
	2: indexAllUIDs, // fill contact_uids from the records
}

// migration is one step of the schema.
type migration struct {
	version int
	name    string // file name, for errors
	sql     string
	step    func(ctx context.Context, tx *sql.Tx, idx Index) error
}

// migrations are the schema's steps in order: migrations[i] makes
// version i+1.
var migrations = loadMigrations(migrationFiles, goSteps)

// schemaVersion is the version this code creates and reads.
var schemaVersion = len(migrations)

// loadMigrations reads the numbered files; it panics if the numbers do not
// run 1, 2, 3… or a Go step has no file, since the embedded files are part
// of the program.
func loadMigrations(files fs.FS, steps map[int]func(context.Context, *sql.Tx, Index) error) []migration {
	names, err := fs.Glob(files, "migrations/*.sql")
	if err != nil {
		panic("bug: " + err.Error())
	}
	var out []migration
	for i, path := range names { // fs.Glob sorts them
		name := strings.TrimPrefix(path, "migrations/")
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			panic(fmt.Sprintf("bug: migration %s is not numbered %04d_<name>.sql", name, i+1))
		}
		b, err := fs.ReadFile(files, path)
		if err != nil {
			panic("bug: " + err.Error())
		}
		out = append(out, migration{version: v, name: name, sql: string(b), step: steps[v]})
	}
	for v := range steps {
		if v < 1 || v > len(out) {
			panic(fmt.Sprintf("bug: Go step for migration %d, which has no file", v))
		}
	}
	return out
}

// migrate brings the store's schema to version target, one migration per
// transaction, each recording its version in user_version as it commits:
// a crash half way leaves the store at the last version reached, and the
// next Open goes on from there. A store at a version newer than this
// code's is refused.
func migrate(ctx context.Context, db *sql.DB, idx Index, target int) error {
	v, err := userVersion(ctx, db)
	if err != nil {
		return err
	}
	if v > schemaVersion {
		return fmt.Errorf("%w: the store is at schema version %d, this kith knows versions up to %d; "+
			"run the newer kith that upgraded it (or restore a backup made before the upgrade)", ErrNewerSchema, v, schemaVersion)
	}
	for _, m := range migrations[v:target] {
		if err := apply(ctx, db, idx, m); err != nil {
			return fmt.Errorf("migrating the store to schema version %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// apply runs one migration in its own transaction, unless another process
// applied it first.
func apply(ctx context.Context, db *sql.DB, idx Index, m migration) error {
	tx, err := db.BeginTx(ctx, nil) // immediate: holds the write lock
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("reading the schema version: %w", err)
	}
	if v >= m.version {
		return nil
	}
	if v != m.version-1 {
		return fmt.Errorf("the store is at version %d, not %d", v, m.version-1)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if m.step != nil {
		if err := m.step(ctx, tx, idx); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return fmt.Errorf("recording the schema version: %w", err)
	}
	return tx.Commit()
}

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}
