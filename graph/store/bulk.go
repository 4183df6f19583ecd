package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
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
// (an import): [Store.Put] stores entries, heads and each record's first
// version as usual, folds later versions in memory ([Store.Record] reads
// the fold), and leaves the search index and contact_uids to
// [Store.FinishBulk], which writes the records' last versions and builds
// both in one pass; and the file is written without journal or fsync
// until [Store.Close], which syncs it. Such a store is not crash-safe
// before Close returns: load it under a temporary name and rename it into
// place afterwards. Until FinishBulk, [Store.Check] reports the missing
// indexes.
func OpenBulk(ctx context.Context, path string, idx Index) (*Store, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("%w: %s exists", ErrNotEmpty, path)
	}
	return open(ctx, path, idx, schemaVersion, true)
}

// ExpectRecords tells a bulk load ([OpenBulk]) that it will fold up to n
// records (an import: as many as the export holds entries), before its
// first Put: the fold in memory then holds them without growing (growing
// it to 100,000 records copied it over and over, half of its time).
func (s *Store) ExpectRecords(n int) {
	f := s.bulkRecs
	if f == nil || n <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.order) > 0 {
		return
	}
	f.order = make([]bulkRecord, 0, n)
	f.byKey = make(map[string]int, n)
}

// FinishBulk ends a bulk load ([OpenBulk]): it writes the last version
// of each record that changed after Put wrote its first, and builds the
// search index and contact_uids from the records folded in memory, in one
// transaction, as Put would have one batch at a time. Afterwards Put
// indexes as usual. Call it with no Put running; on a store not opened by
// OpenBulk it does nothing.
//
// It returns how many live (not deleted) records the store holds, by
// identity and kind.
//
// The fold in memory: records are indexed from the bodies in hand
// (reading every record back and decoding its body to index it took a
// third of an import's store time), and a record's first version goes in
// with its batch, on the store writer's share of the load, while the
// other cores still check signatures. Indexing once at the end instead of
// per batch: FTS5 writes a segment per statement and merges them as they
// pile up, and contact_uids is a b-tree keyed by random UIDs, so
// per-batch indexing touched most of both in every transaction.
// contact_uids_record (record → rows) is dropped while the rows go in, in
// UID order, and built again after them in one sorted pass.
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
	// What Put wrote (the entries and records, most of the file) goes to
	// stable storage while the indexes are built: Close's sync then has
	// only those left to write out.
	if s.lax && s.earlySync == nil {
		s.earlySync = make(chan error, 1)
		go func() { s.earlySync <- s.laxFile.Sync() }()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	p := &prepared{idx: s.idx, bulkIndex: true}
	update, err := tx.PrepareContext(ctx, "UPDATE records SET time = ?, author = ?, seq = ?, cid = ?, del = ?, body = ? WHERE id = ?")
	if err != nil {
		return nil, fmt.Errorf("preparing the bulk load's statements: %w", err)
	}
	defer update.Close()
	live = Live{}
	f := s.bulkRecs
	f.mu.Lock()
	defer f.mu.Unlock()
	// Encoding the changed bodies and computing every record's index
	// rows is most of the work outside SQLite: the other cores do it, a
	// chunk of records at a time, ahead of the rows going in here.
	prep := prepareRecords(f.order, s.idx)
	defer prep.stop()
	for c := range prep.chunks {
		if err := octx.Err(); err != nil {
			return nil, err
		}
		<-prep.chunks[c]
		for i := c * prepChunk; i < min((c+1)*prepChunk, len(f.order)); i++ {
			r, pr := &f.order[i], &prep.recs[i]
			b := r.body
			if pr.err != nil {
				return nil, fmt.Errorf("encoding record %s/%s: %w", b.Kind, b.Key, pr.err)
			}
			id := int64(i + 1)
			if r.changed {
				if _, err := update.ExecContext(ctx, r.version.Time, []byte(r.version.Author), r.version.Seq, r.cid.Bytes(), b.Del, pr.body, id); err != nil {
					return nil, fmt.Errorf("writing record %s/%s: %w", b.Kind, b.Key, err)
				}
			}
			if b.Del {
				continue
			}
			if err := p.queueIndexed(r.identity, id, false, b, pr.text, pr.uids); err != nil {
				return nil, err
			}
			live.add(r.identity, b.Kind)
		}
	}
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
		return nil, fmt.Errorf("committing the bulk load's records and indexes: %w", err)
	}
	s.bulk, s.bulkRecs = false, nil
	return live, nil
}

// prepChunk is how many records a worker of prepareRecords takes at once.
const prepChunk = 1024

// preparedRecords are the index rows of a bulk load's records and the
// encoded bodies of those that changed, computed by workers; chunks[c] is closed once records
// c·prepChunk to (c+1)·prepChunk are.
type preparedRecords struct {
	recs    []preparedRecord
	chunks  []chan struct{}
	stopped atomic.Bool
	wg      sync.WaitGroup
}

type preparedRecord struct {
	body       []byte
	text, uids []string
	err        error
}

// prepareRecords starts computing the index rows of recs (idx is pure:
// Index) and encoding the changed ones, on every core.
func prepareRecords(recs []bulkRecord, idx Index) *preparedRecords {
	p := &preparedRecords{recs: make([]preparedRecord, len(recs)), chunks: make([]chan struct{}, (len(recs)+prepChunk-1)/prepChunk)}
	for c := range p.chunks {
		p.chunks[c] = make(chan struct{})
	}
	var next atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		p.wg.Go(func() {
			for c := int(next.Add(1) - 1); c < len(p.chunks) && !p.stopped.Load(); c = int(next.Add(1) - 1) {
				for i := c * prepChunk; i < min((c+1)*prepChunk, len(recs)); i++ {
					b, pr := recs[i].body, &p.recs[i]
					if recs[i].changed {
						pr.body, pr.err = spec.Marshal(b)
					}
					if !b.Del {
						pr.text, pr.uids = idx.SearchText(b.Kind, b.Key, b), idx.UIDs(b.Kind, b.Key, b)
					}
				}
				close(p.chunks[c])
			}
		})
	}
	return p
}

// stop stops the workers and waits for them.
func (p *preparedRecords) stop() {
	p.stopped.Store(true)
	p.wg.Wait()
}

// bulkFold is a bulk load's fold: the newest version of each record, in
// memory, in the order the records first appeared (their ids).
type bulkFold struct {
	mu    sync.Mutex
	byKey map[string]int // identity, kind, key → index in order
	order []bulkRecord
}

type bulkRecord struct {
	identity peer.ID
	version  graph.Version
	cid      cid.Cid
	body     *graph.Body
	changed  bool // since its first version, which Put wrote
}

func recordKey(identity peer.ID, kind, key string) string {
	return string(identity) + "\x00" + kind + "\x00" + key
}

// add folds the body of the stored entry e, as prepared.fold does: a
// record's first version creates it, a later one replaces it only if it
// is newer (graph.Version.After).
// It returns the record's id (records are numbered in the order they
// first appear, as Put numbers them) and whether e created it.
func (f *bulkFold) add(e *graph.Entry) (id int64, created bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := e.Body
	k := recordKey(e.Identity, b.Kind, b.Key)
	if i, ok := f.byKey[k]; ok {
		r := &f.order[i]
		if graph.VersionOf(e).After(r.version) {
			r.version, r.cid, r.body, r.changed = graph.VersionOf(e), e.CID, b, true
		}
		return int64(i + 1), false
	}
	f.byKey[k] = len(f.order)
	f.order = append(f.order, bulkRecord{identity: e.Identity, version: graph.VersionOf(e), cid: e.CID, body: b})
	return int64(len(f.order)), true
}

// record returns the record (identity, kind, key) as folded so far.
func (f *bulkFold) record(identity peer.ID, kind, key string) (*graph.Record, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, ok := f.byKey[recordKey(identity, kind, key)]
	if !ok {
		return nil, false
	}
	r := f.order[i]
	return &graph.Record{Identity: identity, Kind: kind, Key: key, Version: r.version, CID: r.cid, Body: r.body}, true
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

// prepareBulk readies p for a Put of a bulk load: a record's later
// versions are folded in f (FinishBulk writes them), the search index and
// contact_uids are left to FinishBulk, and entries and new records go in
// bulkChunk rows a statement (a row at a time, binding and stepping each
// statement through database/sql cost as much as SQLite's own work).
func (p *prepared) prepareBulk(ctx context.Context, tx *sql.Tx, f *bulkFold) (err error) {
	p.deferIndex = true
	p.bulk = &bulkRows{tx: tx, fold: f}
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
	fold                  *bulkFold
	entryStmt, recordStmt *sql.Stmt // bulkChunk rows each
	entries, records      []any     // the arguments of the queued rows
}

const (
	entryColumns  = 8
	recordColumns = 10
)

func entryInsert(n int) string {
	return "INSERT INTO entries (cid, author, identity, seq, time, kind, key, raw) VALUES (?,?,?,?,?,?,?,?)" +
		strings.Repeat(",(?,?,?,?,?,?,?,?)", n-1)
}

func recordInsert(n int) string {
	return "INSERT INTO records (id, identity, kind, key, time, author, seq, cid, del, body) VALUES (?,?,?,?,?,?,?,?,?,?)" +
		strings.Repeat(",(?,?,?,?,?,?,?,?,?,?)", n-1)
}

// entry queues e's row.
func (r *bulkRows) entry(ctx context.Context, e *graph.Entry, kind, key any) error {
	r.entries = append(r.entries, e.CID.Bytes(), []byte(e.Author), []byte(e.Identity), e.Seq, e.Time, kind, key, e.Raw)
	if len(r.entries) < bulkChunk*entryColumns {
		return nil
	}
	return r.flushEntries(ctx)
}

// record queues the row of the record e created, id, whose body encodes
// to body.
func (r *bulkRows) record(ctx context.Context, id int64, e *graph.Entry, body []byte) error {
	b := e.Body
	r.records = append(r.records, id, []byte(e.Identity), b.Kind, b.Key, e.Time, []byte(e.Author), e.Seq, e.CID.Bytes(), b.Del, body)
	if len(r.records) < bulkChunk*recordColumns {
		return nil
	}
	return r.flushRecords(ctx)
}

// flush inserts the queued rows.
func (r *bulkRows) flush(ctx context.Context) error {
	if err := r.flushEntries(ctx); err != nil {
		return err
	}
	return r.flushRecords(ctx)
}

func (r *bulkRows) flushEntries(ctx context.Context) error {
	var err error
	if r.entries, err = r.exec(ctx, r.entryStmt, entryInsert, r.entries, entryColumns); err != nil {
		return fmt.Errorf("inserting entries: %w", err)
	}
	return nil
}

func (r *bulkRows) flushRecords(ctx context.Context) error {
	var err error
	if r.records, err = r.exec(ctx, r.recordStmt, recordInsert, r.records, recordColumns); err != nil {
		return fmt.Errorf("inserting records: %w", err)
	}
	return nil
}

// exec inserts the rows of args (columns arguments a row): a full chunk
// with the prepared full, fewer with a statement of their own. It
// returns args emptied.
func (r *bulkRows) exec(ctx context.Context, full *sql.Stmt, q func(int) string, args []any, columns int) ([]any, error) {
	n := len(args) / columns
	var err error
	switch {
	case n == 0:
		return args, nil
	case n == bulkChunk:
		_, err = full.ExecContext(ctx, args...)
	default:
		_, err = r.tx.ExecContext(ctx, q(n), args...)
	}
	clear(args)
	return args[:0], err
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
