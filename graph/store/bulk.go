package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

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
// the indexes a load touches at random (16 MiB; the default 2 MiB spilled
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
// It returns how many live (not deleted) records the store holds, by
// identity and kind: it reads them all anyway, and a count(*) afterwards
// (which reads every row for its del flag) took a seventh of FinishBulk's
// time on 100,000 contacts.
//
// Indexing once at the end instead of per batch: FTS5 writes a segment per
// statement and merges them as they pile up, and contact_uids is a b-tree
// keyed by random UIDs, so per-batch indexing touched most of both in every
// transaction. contact_uids_record (record → rows) is dropped while the
// rows go in, in UID order, and built again after them in one sorted pass.
func (s *Store) FinishBulk(ctx context.Context) (live Live, err error) {
	if !s.bulk {
		return nil, nil
	}
	if s.bulkFailed.Load() {
		return nil, ErrBulkFailed
	}
	defer func() {
		if err != nil {
			s.bulkFailed.Store(true)
		}
	}()
	octx := ctx
	if ctx, err = bulkContext(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	p := &prepared{idx: s.idx, bulkIndex: true}
	live = Live{}
	rows, err := tx.QueryContext(ctx, "SELECT id, identity, kind, key, body FROM records WHERE del = 0 ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        int64
			ib, bb    []byte
			kind, key string
		)
		if err := octx.Err(); err != nil {
			return nil, err
		}
		if err := rows.Scan(&id, &ib, &kind, &key, &bb); err != nil {
			return nil, err
		}
		b, err := graph.DecodeBody(bb)
		if err != nil {
			return nil, fmt.Errorf("%w: record %s/%s: %v", ErrCorrupt, kind, key, err)
		}
		if err := p.queueIndex(peer.ID(ib), id, false, b); err != nil {
			return nil, err
		}
		live.add(peer.ID(ib), kind)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, "DROP INDEX contact_uids_record"); err != nil {
		return nil, fmt.Errorf("dropping contact_uids_record for the load: %w", err)
	}
	if err := p.flushIndex(ctx, tx); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, createUIDsRecordIndex); err != nil {
		return nil, fmt.Errorf("building contact_uids_record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("committing the bulk load's indexes: %w", err)
	}
	s.bulk = false
	return live, nil
}

// createUIDsRecordIndex is contact_uids_record as migration 0002 creates
// it (without IF NOT EXISTS, which SQLite does not keep in the schema):
// FinishBulk drops it and builds it again.
const createUIDsRecordIndex = "CREATE INDEX contact_uids_record ON contact_uids (record)"

// Live counts live records by identity and kind.
type Live map[peer.ID]map[string]int

func (l Live) add(identity peer.ID, kind string) {
	m := l[identity]
	if m == nil {
		m = map[string]int{}
		l[identity] = m
	}
	m[kind]++
}

// prepareBulk readies p for a Put of a bulk load: the search index and
// contact_uids are left to FinishBulk, so no record's id is needed, and
// entries and new records go in bulkChunk rows a statement (a row at a
// time, binding and stepping each statement through database/sql cost
// as much as SQLite's own work). Which records are new the load knows
// from seen, the keys of the records it created.
func (p *prepared) prepareBulk(ctx context.Context, tx *sql.Tx, seen map[string]struct{}) (err error) {
	p.deferIndex = true
	p.bulk = &bulkRows{tx: tx, seen: seen}
	if p.bulk.entryStmt, err = tx.PrepareContext(ctx, entryInsert(bulkChunk)); err != nil {
		return fmt.Errorf("preparing the bulk load's statements: %w", err)
	}
	if p.bulk.recordStmt, err = tx.PrepareContext(ctx, recordInsert(bulkChunk)); err != nil {
		return fmt.Errorf("preparing the bulk load's statements: %w", err)
	}
	return nil
}

// bulkChunk is how many rows a bulk load inserts with one statement.
const bulkChunk = 128

// bulkRows queues a bulk load's entries and new records for multi-row
// INSERTs.
type bulkRows struct {
	tx                    *sql.Tx
	seen                  map[string]struct{}
	entryStmt, recordStmt *sql.Stmt // bulkChunk rows each
	entries, records      []any     // the arguments of the queued rows
}

const (
	entryColumns  = 8
	recordColumns = 9
)

func entryInsert(n int) string {
	return "INSERT INTO entries (cid, author, identity, seq, time, kind, key, raw) VALUES (?,?,?,?,?,?,?,?)" +
		strings.Repeat(",(?,?,?,?,?,?,?,?)", n-1)
}

func recordInsert(n int) string {
	return "INSERT INTO records (identity, kind, key, time, author, seq, cid, del, body) VALUES (?,?,?,?,?,?,?,?,?)" +
		strings.Repeat(",(?,?,?,?,?,?,?,?,?)", n-1)
}

// entry queues e's row.
func (r *bulkRows) entry(ctx context.Context, e *graph.Entry, kind, key any) error {
	r.entries = append(r.entries, e.CID.Bytes(), []byte(e.Author), []byte(e.Identity), e.Seq, e.Time, kind, key, e.Raw)
	if len(r.entries) < bulkChunk*entryColumns {
		return nil
	}
	return r.flushEntries(ctx)
}

// record queues the row of e's record, whose body encodes to body, when
// the load has not created that record yet; it reports whether it did.
func (r *bulkRows) record(ctx context.Context, e *graph.Entry, body []byte) (bool, error) {
	b := e.Body
	k := string(e.Identity) + "\x00" + b.Kind + "\x00" + b.Key
	if _, ok := r.seen[k]; ok {
		return false, nil
	}
	r.seen[k] = struct{}{}
	r.records = append(r.records, []byte(e.Identity), b.Kind, b.Key, e.Time, []byte(e.Author), e.Seq, e.CID.Bytes(), b.Del, body)
	if len(r.records) < bulkChunk*recordColumns {
		return true, nil
	}
	return true, r.flushRecords(ctx)
}

// flush inserts the queued rows.
func (r *bulkRows) flush(ctx context.Context) error {
	if err := r.flushEntries(ctx); err != nil {
		return err
	}
	return r.flushRecords(ctx)
}

func (r *bulkRows) flushEntries(ctx context.Context) error {
	if err := r.exec(ctx, r.entryStmt, entryInsert, r.entries, entryColumns); err != nil {
		return fmt.Errorf("inserting entries: %w", err)
	}
	r.entries = r.entries[:0]
	return nil
}

func (r *bulkRows) flushRecords(ctx context.Context) error {
	if err := r.exec(ctx, r.recordStmt, recordInsert, r.records, recordColumns); err != nil {
		return fmt.Errorf("inserting records: %w", err)
	}
	r.records = r.records[:0]
	return nil
}

// exec inserts the rows of args (columns arguments a row): a full chunk
// with the prepared full, fewer with a statement of their own.
func (r *bulkRows) exec(ctx context.Context, full *sql.Stmt, q func(int) string, args []any, columns int) error {
	n := len(args) / columns
	var err error
	switch {
	case n == 0:
		return nil
	case n == bulkChunk:
		_, err = full.ExecContext(ctx, args...)
	default:
		_, err = r.tx.ExecContext(ctx, q(n), args...)
	}
	clear(args)
	return err
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
