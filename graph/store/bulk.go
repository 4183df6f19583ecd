package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// Errors of a bulk load.
var (
	// ErrNotEmpty: [OpenBulk] was given a path that holds a file already.
	ErrNotEmpty = errors.New("store: a bulk load needs a new file")
	// ErrBulkFailed: a Put of this bulk load failed, and without a journal
	// it could not be rolled back; throw the file away.
	ErrBulkFailed = errors.New("store: a put of this bulk load failed; the store is unusable")
)

// bulkPragmas set up a bulk load into a new file that nothing reads until
// it is finished, checked and renamed into place: no write-ahead log and
// no fsync (a crash leaves a temporary file that is thrown away; Close
// syncs the file once), no rollback journal (a failed Put makes the load
// fail: ErrBulkFailed; an in-memory journal cost a fifth of Put's time in
// allocating and freeing it), no foreign-key checks (the only foreign
// key, contact_uids → records, is filled by FinishBulk from the records
// themselves, and Check compares the two), and a page cache that holds
// the indexes a load touches at random (64 MiB; the default 2 MiB spilled
// pages to disk in every transaction). On a 100,000-entry import these
// took Put from 11.3 s of CPU to 5.2 s.
var bulkPragmas = []string{"journal_mode(OFF)", "synchronous(OFF)", "busy_timeout(10000)", "foreign_keys(0)",
	"cache_size(-16384)", "temp_store(MEMORY)"}

// OpenBulk creates a store at path, which must not exist, for a bulk load
// (an import): [Store.Put] stores entries, heads and records as usual but
// leaves the search index and contact_uids to [Store.FinishBulk], which
// builds them in one pass; and the file is written without journal or
// fsync until [Store.Close], which syncs it. Such a store is not
// crash-safe before Close returns: load it under a temporary name and
// rename it into place afterwards. Until FinishBulk, [Store.Check] reports
// the missing indexes.
func OpenBulk(ctx context.Context, path string, idx Index) (*Store, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%w: %s exists", ErrNotEmpty, path)
	}
	return open(ctx, path, idx, schemaVersion, true)
}

// FinishBulk ends a bulk load ([OpenBulk]): it builds the search index
// and contact_uids from the records in one transaction, as Put would have
// one batch at a time. Afterwards Put indexes as usual. Call it with no
// Put running; on a store not opened by OpenBulk it does nothing.
//
// Indexing once at the end instead of per batch: FTS5 writes a segment per
// statement and merges them as they pile up, and contact_uids is a b-tree
// keyed by random UIDs, so per-batch indexing touched most of both in every
// transaction.
func (s *Store) FinishBulk(ctx context.Context) (err error) {
	if !s.bulk {
		return nil
	}
	if s.bulkFailed.Load() {
		return ErrBulkFailed
	}
	defer func() {
		if err != nil {
			s.bulkFailed.Store(true)
		}
	}()
	octx := ctx
	if ctx, err = bulkContext(ctx); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	p := &prepared{idx: s.idx}
	rows, err := tx.QueryContext(ctx, "SELECT id, identity, kind, key, body FROM records WHERE del = 0 ORDER BY id")
	if err != nil {
		return fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        int64
			ib, bb    []byte
			kind, key string
		)
		if err := octx.Err(); err != nil {
			return err
		}
		if err := rows.Scan(&id, &ib, &kind, &key, &bb); err != nil {
			return err
		}
		b, err := graph.DecodeBody(bb)
		if err != nil {
			return fmt.Errorf("%w: record %s/%s: %v", ErrCorrupt, kind, key, err)
		}
		if err := p.queueIndex(peer.ID(ib), id, false, b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	if err := p.flushIndex(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing the bulk load's indexes: %w", err)
	}
	s.bulk = false
	return nil
}

// prepareBulk readies p for a Put of a bulk load: the search index and
// contact_uids are left to FinishBulk, so no record's id is needed, and a
// new record goes in with recAdd: recNew's RETURNING made every insert a
// query, which cost twice an Exec.
func (p *prepared) prepareBulk(ctx context.Context, tx *sql.Tx) (err error) {
	p.deferIndex = true
	p.recAdd, err = tx.PrepareContext(ctx, `INSERT INTO records (identity, kind, key, time, author, seq, cid, del, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (identity, kind, key) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("preparing the bulk load's statements: %w", err)
	}
	return nil
}

// add inserts e's record, whose body encodes to body, with recAdd; it
// returns sql.ErrNoRows when the record exists already.
func (p *prepared) add(ctx context.Context, e *graph.Entry, body []byte) error {
	b := e.Body
	res, err := p.recAdd.ExecContext(ctx, []byte(e.Identity), b.Kind, b.Key, e.Time, []byte(e.Author), e.Seq, e.CID.Bytes(), b.Del, body)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return sql.ErrNoRows
	}
	return nil
}

// bulkContext returns ctx without its cancellation, once it checked that
// ctx is not done, for the statements of one step of a bulk load (a Put,
// FinishBulk), which checks ctx between steps instead: modernc.org/sqlite
// starts a goroutine to interrupt each statement run under a context that
// can be cancelled, two statements an entry here, and that was a tenth of
// Put's time. A cancelled load ends at the end of its current step.
func bulkContext(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}
