package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// ErrCorrupt: a stored row does not parse or does not match what it claims.
var ErrCorrupt = errors.New("store: corrupt")

// Store is a SQLite-backed [graph.Store].
type Store struct {
	db   *sql.DB
	path string
	idx  Index

	// bulk: opened by [OpenBulk] and not yet finished ([Store.FinishBulk]):
	// Put leaves the search index and contact_uids to FinishBulk. lax: the
	// file was written without journal or fsync, so Close syncs it.
	bulk, lax  bool
	bulkFailed atomic.Bool // a Put of the bulk load failed
	// bulkRecs holds the records of a bulk load until FinishBulk writes
	// them (see bulkFold).
	bulkRecs *bulkFold
	// laxFile is the database file of a lax store, open for syncing it
	// (kept open until the database is closed: closing a descriptor of a
	// file drops the process's POSIX locks on it, SQLite's included);
	// earlySync, when FinishBulk started one, reports its sync of what
	// Put wrote (see FinishBulk).
	laxFile   *os.File
	earlySync chan error

	wrote     chan struct{} // a commit happened: see checkpointer
	stop      context.CancelFunc
	stopped   chan struct{}
	closeOnce sync.Once
	closeErr  error

	stmts map[string]*sql.Stmt // the kept statements (see prepareKept); read-only once open
}

var _ graph.Store = (*Store)(nil)

// Open opens (creating if needed) the store at path, migrating its schema
// to this code's version. idx says what the records mean for search and
// UID lookups (graph/book.Index for Kith's address book); it is required.
// A store last opened by a newer kith is refused with [ErrNewerSchema].
func Open(ctx context.Context, path string, idx Index) (*Store, error) {
	return open(ctx, path, idx, schemaVersion, false)
}

// open opens the store at path and migrates it to schema version target;
// bulk opens it for [OpenBulk].
func open(ctx context.Context, path string, idx Index, target int, bulk bool) (*Store, error) {
	if idx == nil {
		return nil, fmt.Errorf("opening store %s: no Index given: pass graph/book.Index{} (or the index of the records it holds), or nothing would be searchable", path)
	}
	// The store holds decrypted cards: only the owner may read it. SQLite
	// gives new -wal and -shm files the database file's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	f.Close()
	privatize(path, path+"-wal", path+"-shm")
	pragmas := []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)",
		fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpointPages), fmt.Sprintf("journal_size_limit(%d)", walSizeLimit)}
	if bulk {
		pragmas = bulkPragmas
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	uri, err := fileURI(path)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", uri+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if bulk {
		db.SetMaxOpenConns(1) // the pragmas above hold per connection; a bulk load has one writer
	}
	s := &Store{db: db, path: path, idx: idx, bulk: bulk, lax: bulk}
	if bulk {
		s.bulkRecs = &bulkFold{byKey: map[string]int{}}
		if s.laxFile, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
			db.Close()
			return nil, fmt.Errorf("opening store %s: %w", path, err)
		}
	}
	if err := migrate(ctx, db, idx, target); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	// A store opened at an older version (tests of migrations) lacks the
	// tables of the kept statements: it prepares each on use.
	if err := s.prepareKept(ctx, target == schemaVersion); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	s.startCheckpointer()
	return s, nil
}

// fileURI returns the SQLite URI of the file at path, without a query.
// The driver cuts the DSN at its first '?' and SQLite percent-decodes the
// path and ends it at '?' or '#', so the path is escaped (a '?', '#', '%'
// or space in a directory name would otherwise open another file, or
// none). SQLite wants an absolute path after "file://"; on Windows that is
// "file:///C:/…".
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("making the path absolute: %w", err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a volume name: C:/…
	}
	u := url.URL{Scheme: "file", Path: p}
	return u.String(), nil
}

// privatize takes group and other permissions off the files that exist
// (ones an older version made 0644). A file system without modes (an
// exFAT card) refuses; the store opens all the same.
func privatize(paths ...string) {
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o077 != 0 {
			os.Chmod(p, fi.Mode().Perm()&0o700)
		}
	}
}

// Close stops the checkpointer and closes the database (which checkpoints
// what is left). It is idempotent. A lax store ([OpenBulk]) is synced to
// stable storage before Close returns.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.stopped
		s.closeStmts()
		if !s.lax {
			s.closeErr = s.db.Close()
			return
		}
		// Without a journal every commit wrote its pages into the file,
		// and closing writes nothing more: the sync runs while SQLite
		// frees its page cache (a tenth of a second of munmap calls on
		// an import's 16 MiB), and after FinishBulk's early sync it
		// only has the indexes left to write out.
		synced := make(chan error, 1)
		go func() {
			if s.earlySync != nil {
				// A failed sync may not fail again (the kernel may
				// have dropped the pages it could not write).
				if err := <-s.earlySync; err != nil {
					synced <- err
					return
				}
			}
			synced <- s.laxFile.Sync()
		}()
		s.closeErr = s.db.Close()
		if err := <-synced; err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("syncing %s: %w", s.path, err)
		}
		if err := s.laxFile.Close(); err != nil && s.closeErr == nil {
			s.closeErr = fmt.Errorf("closing %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// closeFiles closes the database, and the lax file if any, of a store
// that failed to open.
func (s *Store) closeFiles() {
	s.db.Close()
	if s.laxFile != nil {
		s.laxFile.Close()
	}
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Head returns author's log head; the zero Head if nothing is held.
func (s *Store) Head(ctx context.Context, author peer.ID) (graph.Head, error) {
	return headOf(ctx, s.db, author)
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func headOf(ctx context.Context, q querier, author peer.ID) (graph.Head, error) {
	var (
		h  graph.Head
		cb []byte
	)
	err := q.QueryRowContext(ctx, "SELECT seq, cid, time FROM heads WHERE author = ?", []byte(author)).Scan(&h.Seq, &cb, &h.Time)
	if errors.Is(err, sql.ErrNoRows) {
		return graph.Head{}, nil
	}
	if err != nil {
		return graph.Head{}, fmt.Errorf("reading head: %w", err)
	}
	if h.CID, err = cid.Cast(cb); err != nil {
		return graph.Head{}, fmt.Errorf("%w: head cid: %v", ErrCorrupt, err)
	}
	return h, nil
}

// Heads returns every held log's head.
func (s *Store) Heads(ctx context.Context) (map[peer.ID]graph.Head, error) {
	return headsOf(ctx, s.db)
}

func headsOf(ctx context.Context, q rowsQuerier) (map[peer.ID]graph.Head, error) {
	rows, err := q.QueryContext(ctx, "SELECT author, seq, cid, time FROM heads")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[peer.ID]graph.Head{}
	for rows.Next() {
		var (
			a, cb []byte
			h     graph.Head
		)
		if err := rows.Scan(&a, &h.Seq, &cb, &h.Time); err != nil {
			return nil, err
		}
		if h.CID, err = cid.Cast(cb); err != nil {
			return nil, fmt.Errorf("%w: head cid: %v", ErrCorrupt, err)
		}
		out[peer.ID(a)] = h
	}
	return out, rows.Err()
}

// Put stores verified entries in one transaction. Each must extend its
// author's log (after the entries before it in the batch); an entry already
// held is skipped; a different entry at a held seq returns ErrFork and the
// evidence is kept. Nothing of the batch is stored on any other error.
//
// In a bulk load ([OpenBulk]) there is no journal to roll back with: a
// failed Put leaves the store unusable, and every later Put and
// [Store.FinishBulk] returns [ErrBulkFailed].
func (s *Store) Put(ctx context.Context, entries []*graph.Entry) (err error) {
	if len(entries) == 0 {
		return nil
	}
	if s.bulk {
		if s.bulkFailed.Load() {
			return ErrBulkFailed
		}
		defer func() {
			if err != nil {
				s.bulkFailed.Store(true)
			}
		}()
		if ctx, err = bulkContext(ctx); err != nil {
			return err
		}
	}
	tx, p, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if s.bulk {
		if err := p.prepareBulk(ctx, tx, s.bulkRecs); err != nil {
			return err
		}
	}
	heads := map[peer.ID]graph.Head{}
	var fork *graph.Entry
	for _, e := range entries {
		h, ok := heads[e.Author]
		if !ok {
			var forked bool
			if err := tx.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM forks WHERE author = ?)", []byte(e.Author)).Scan(&forked); err != nil {
				return fmt.Errorf("checking forks: %w", err)
			}
			if forked {
				return fmt.Errorf("%w: %s has a fork on record; its entries are held back until it is resolved", graph.ErrForked, e.Author)
			}
			if h, err = headOf(ctx, tx, e.Author); err != nil {
				return err
			}
		}
		if e.Seq <= h.Seq {
			if p.bulk != nil {
				if err := p.bulk.flushEntries(ctx); err != nil {
					return err
				}
			}
			held, err := p.cidAt(ctx, e.Author, e.Seq)
			if err != nil {
				return err
			}
			if held.Equals(e.CID) {
				continue // already stored
			}
			fork = e
			break
		}
		var prev *spec.Entry
		if h.Seq > 0 {
			prev = &spec.Entry{Author: []byte(e.Author), Seq: h.Seq}
		}
		if err := spec.CheckLink(prev, h.CID, e.Entry); err != nil {
			if errors.Is(err, spec.ErrBadPrev) && e.Seq == h.Seq+1 {
				// Signed by the author, one past the head, yet linked to
				// another entry at the head's seq: the author forked.
				fork = e
				break
			}
			return fmt.Errorf("linking %s seq %d: %w", e.Author, e.Seq, err)
		}
		if err := p.insert(ctx, e); err != nil {
			return err
		}
		heads[e.Author] = graph.Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	}
	if fork != nil && s.bulk {
		return fmt.Errorf("%w: %s seq %d", graph.ErrFork, fork.Author, fork.Seq)
	}
	if p.bulk != nil {
		if err := p.bulk.flush(ctx); err != nil {
			return err
		}
	}
	if fork != nil {
		tx.Rollback()
		if _, err := s.db.ExecContext(ctx, "INSERT OR IGNORE INTO forks (author, seq, cid, raw) VALUES (?, ?, ?, ?)",
			[]byte(fork.Author), fork.Seq, fork.CID.Bytes(), fork.Raw); err != nil {
			return fmt.Errorf("recording fork evidence: %w", err)
		}
		return fmt.Errorf("%w: %s seq %d", graph.ErrFork, fork.Author, fork.Seq)
	}
	if err := p.flushIndex(ctx, tx); err != nil {
		return err
	}
	for a, h := range heads {
		if _, err := p.head.ExecContext(ctx, []byte(a), []byte(a), h.Seq, h.CID.Bytes(), h.Time); err != nil {
			return fmt.Errorf("updating head: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing %d entries: %w", len(entries), err)
	}
	s.noteWrite()
	return nil
}

// ForgetForks drops the fork evidence on record for author, keeping the
// log: for a node's own identity, whose own history always wins locally
// (evidence against oneself is only ever left by older versions).
func (s *Store) ForgetForks(ctx context.Context, author peer.ID) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM forks WHERE author = ?", []byte(author))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ResolveFork settles the fork on record for author: it drops author's
// whole log, the evidence and the records folded from it, so that the
// next sync takes whatever history author's node serves now, from the
// start. (Only the whole log is sure to hold no entry of the other branch:
// two branches may part long before the seq where they were caught.) It
// returns how many entries were dropped, and graph.ErrNotFound if there is
// no fork on record for author.
func (s *Store) ResolveFork(ctx context.Context, author peer.ID) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM forks WHERE author = ?", []byte(author))
	if err != nil {
		return 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("%w: no fork on record for %s", graph.ErrNotFound, author)
	}
	res, err = tx.ExecContext(ctx, "DELETE FROM entries WHERE author = ?", []byte(author))
	if err != nil {
		return 0, fmt.Errorf("dropping entries: %w", err)
	}
	dropped, _ := res.RowsAffected()
	for _, q := range []string{
		"DELETE FROM heads WHERE author = ?",
		"DELETE FROM contact_uids WHERE identity = ?",
		"DELETE FROM cards_fts WHERE rowid IN (SELECT id FROM records WHERE identity = ?)",
		"DELETE FROM records WHERE identity = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, []byte(author)); err != nil {
			return 0, fmt.Errorf("resolving fork: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing fork resolution: %w", err)
	}
	s.noteWrite()
	return int(dropped), nil
}

type prepared struct {
	idx Index
	// deferIndex leaves the search index and contact_uids to
	// [Store.FinishBulk].
	deferIndex bool
	// bulkIndex: FinishBulk's index build, bulkFTSChunk rows a statement.
	bulkIndex bool

	entry, head, cidAtSeq, recNew, recGet, recSet, uidDel *sql.Stmt
	// bulk queues a bulk load's rows (prepareBulk).
	bulk *bulkRows

	// maxID is the largest records.id before this transaction: a record
	// with a larger id was created by it (and is not in the index yet).
	maxID int64

	// unindex and index queue search-index changes for flushIndex: rows
	// to delete (records that existed before, each once: unindexed),
	// then rows to insert.
	unindex   []int64
	unindexed map[int64]bool
	index     map[int64][]string

	// uids queues contact_uids rows for flushUIDs, by record;
	// uidsDropped holds the records whose rows from before this
	// transaction are deleted already.
	uids        map[int64]recordUIDs
	uidsDropped map[int64]bool
}

// begin starts a write transaction with the statements that store entries
// prepared; done rolls back whatever was not committed and frees them.
func (s *Store) begin(ctx context.Context) (tx *sql.Tx, p *prepared, done func(), err error) {
	tx, err = s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("beginning transaction: %w", err)
	}
	p, err = prepare(ctx, tx, s.idx, s)
	if err != nil {
		tx.Rollback()
		return nil, nil, nil, err
	}
	return tx, p, func() { p.close(); tx.Rollback() }, nil
}

// txQueries are the statements of a transaction that writes entries.
var txQueries = []struct {
	dst func(p *prepared) **sql.Stmt
	q   string
}{
	{func(p *prepared) **sql.Stmt { return &p.entry }, "INSERT INTO entries (cid, author, identity, seq, time, kind, key, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
	{func(p *prepared) **sql.Stmt { return &p.head }, `INSERT INTO heads (author, identity, seq, cid, time) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (author) DO UPDATE SET seq = excluded.seq, cid = excluded.cid, time = excluded.time`},
	{func(p *prepared) **sql.Stmt { return &p.cidAtSeq }, "SELECT cid FROM entries WHERE author = ? AND seq = ?"},
	{func(p *prepared) **sql.Stmt { return &p.recNew }, `INSERT INTO records (identity, kind, key, time, author, seq, cid, del, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (identity, kind, key) DO NOTHING RETURNING id`},
	{func(p *prepared) **sql.Stmt { return &p.recGet }, "SELECT id, time, author, seq FROM records WHERE identity = ? AND kind = ? AND key = ?"},
	{func(p *prepared) **sql.Stmt { return &p.recSet }, "UPDATE records SET time = ?, author = ?, seq = ?, cid = ?, del = ?, body = ? WHERE id = ?"},
	{func(p *prepared) **sql.Stmt { return &p.uidDel }, "DELETE FROM contact_uids WHERE record = ?"},
}

// prepare prepares a transaction's statements: on tx, as statements of
// s parsed once (see Store.stmt) when s is not nil.
func prepare(ctx context.Context, tx *sql.Tx, idx Index, s *Store) (*prepared, error) {
	p := &prepared{idx: idx}
	for _, st := range txQueries {
		st2, err := s.txStmt(ctx, tx, st.q)
		if err != nil {
			p.close()
			return nil, err
		}
		*st.dst(p) = st2
	}
	maxID, err := s.txStmt(ctx, tx, maxIDQuery)
	if err != nil {
		p.close()
		return nil, err
	}
	defer maxID.Close()
	if err := maxID.QueryRowContext(ctx).Scan(&p.maxID); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *prepared) close() {
	sts := []*sql.Stmt{p.entry, p.head, p.cidAtSeq, p.recNew, p.recGet, p.recSet, p.uidDel}
	if p.bulk != nil {
		sts = append(sts, p.bulk.entryStmt, p.bulk.recordStmt)
	}
	for _, st := range sts {
		if st != nil {
			st.Close()
		}
	}
}

func (p *prepared) cidAt(ctx context.Context, author peer.ID, seq uint64) (cid.Cid, error) {
	var b []byte
	if err := p.cidAtSeq.QueryRowContext(ctx, []byte(author), seq).Scan(&b); err != nil {
		return cid.Undef, fmt.Errorf("%w: head says seq %d is held but it is not: %v", ErrCorrupt, seq, err)
	}
	return cid.Cast(b)
}

// insert writes one entry and folds its body into records and the index.
func (p *prepared) insert(ctx context.Context, e *graph.Entry) error {
	var kind, key any
	if e.Body != nil {
		kind, key = e.Body.Kind, e.Body.Key
	}
	if p.bulk != nil {
		if err := p.bulk.entry(ctx, e, kind, key); err != nil {
			return err
		}
	} else if _, err := p.entry.ExecContext(ctx, e.CID.Bytes(), []byte(e.Author), []byte(e.Identity), e.Seq, e.Time, kind, key, e.Raw); err != nil {
		return fmt.Errorf("inserting entry %s: %w", e.CID, err)
	}
	return p.fold(ctx, e)
}

// fold folds a stored entry's body into records and queues its index
// changes; an entry without a readable body changes nothing.
func (p *prepared) fold(ctx context.Context, e *graph.Entry) error {
	if e.Body == nil {
		return nil
	}
	b := e.Body
	if p.bulk != nil {
		// A new record is written now (it keeps the id Put would give
		// it); a later version is folded in memory, and FinishBulk
		// writes it over the first.
		id, created := p.bulk.fold.add(e)
		if !created {
			return nil
		}
		body, err := spec.Marshal(b)
		if err != nil {
			return fmt.Errorf("encoding record %s/%s: %w", b.Kind, b.Key, err)
		}
		return p.bulk.record(ctx, id, e, body)
	}
	body, err := spec.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding record %s/%s: %w", b.Kind, b.Key, err)
	}
	// A new record goes in with one statement. One that exists is
	// replaced only if this version is newer: the rule is
	// graph.Version.After's, decided here and nowhere else (and in
	// bulkFold.add, which decides it alike for a bulk load).
	var id int64
	err = p.recNew.QueryRowContext(ctx, []byte(e.Identity), b.Kind, b.Key, e.Time, []byte(e.Author), e.Seq, e.CID.Bytes(), b.Del, body).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var (
			cur    graph.Version
			author []byte
		)
		if err := p.recGet.QueryRowContext(ctx, []byte(e.Identity), b.Kind, b.Key).Scan(&id, &cur.Time, &author, &cur.Seq); err != nil {
			return fmt.Errorf("reading record %s/%s: %w", b.Kind, b.Key, err)
		}
		cur.Author = peer.ID(author)
		if !graph.VersionOf(e).After(cur) {
			return nil // an older version arriving late: the entry is kept, the record is not changed
		}
		_, err = p.recSet.ExecContext(ctx, e.Time, []byte(e.Author), e.Seq, e.CID.Bytes(), b.Del, body, id)
	}
	if err != nil {
		return fmt.Errorf("writing record %s/%s: %w", b.Kind, b.Key, err)
	}
	if p.deferIndex {
		return nil
	}
	return p.queueIndex(e.Identity, id, id <= p.maxID, b)
}

// queueIndex queues the index changes of record id, now at body b: its
// search text and UIDs, as p.idx gives them, replace those of its version
// before this transaction, if it existed.
func (p *prepared) queueIndex(identity peer.ID, id int64, existed bool, b *graph.Body) error {
	var text, uids []string
	if !b.Del {
		text, uids = p.idx.SearchText(b.Kind, b.Key, b), p.idx.UIDs(b.Kind, b.Key, b)
	}
	return p.queueIndexed(identity, id, existed, b, text, uids)
}

// queueIndexed is queueIndex with the search text and UIDs of b given.
func (p *prepared) queueIndexed(identity peer.ID, id int64, existed bool, b *graph.Body, text, uids []string) error {
	if len(text) > SearchColumns {
		return fmt.Errorf("indexing record %s/%s: the index gives %d search columns, the store has %d; fix the Index passed to store.Open",
			b.Kind, b.Key, len(text), SearchColumns)
	}
	p.indexUIDs(identity, id, existed, uids)
	if existed && !p.unindexed[id] {
		p.unindex = append(p.unindex, id)
		if p.unindexed == nil {
			p.unindexed = map[int64]bool{}
		}
		p.unindexed[id] = true
	}
	if p.index == nil {
		p.index = map[int64][]string{}
	}
	if text == nil {
		delete(p.index, id)
	} else {
		p.index[id] = text // the last version in the batch wins
	}
	return nil
}

// ftsChunk rows go into one statement: FTS5 flushes its pending index at
// every statement, so row-at-a-time inserts would write a segment each.
const ftsChunk = 200

// bulkFTSChunk rows go into one statement in FinishBulk, which indexes
// every record at once: with 200, its 500 statements on 100,000 records
// flushed and merged 500 segments (a third of the index's time).
const bulkFTSChunk = 4000

// flushIndex applies the queued changes to the search index and
// contact_uids.
func (p *prepared) flushIndex(ctx context.Context, tx *sql.Tx) error {
	if err := p.flushUIDs(ctx, tx); err != nil {
		return err
	}
	for len(p.unindex) > 0 {
		n := min(len(p.unindex), ftsChunk)
		args := make([]any, n)
		for i, id := range p.unindex[:n] {
			args[i] = id
		}
		q := "DELETE FROM cards_fts WHERE rowid IN (?" + strings.Repeat(",?", n-1) + ")"
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("unindexing: %w", err)
		}
		p.unindex = p.unindex[n:]
	}
	ids := slices.Sorted(maps.Keys(p.index))
	chunk := ftsChunk
	if p.bulkIndex {
		chunk = bulkFTSChunk
	}
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		args := make([]any, 0, n*6)
		for _, id := range ids[:n] {
			var d [SearchColumns]string
			copy(d[:], p.index[id])
			args = append(args, id, d[0], d[1], d[2], d[3], d[4])
		}
		q := "INSERT INTO cards_fts (rowid, name, emails, phones, orgs, notes) VALUES (?,?,?,?,?,?)" + strings.Repeat(",(?,?,?,?,?,?)", n-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("indexing: %w", err)
		}
		ids = ids[n:]
	}
	p.index, p.unindexed = nil, nil
	return nil
}

// Record returns the folded record (identity, kind, key), tombstones
// included; ErrNotFound if none.
func (s *Store) Record(ctx context.Context, identity peer.ID, kind, key string) (*graph.Record, error) {
	if f := s.bulkRecs; f != nil {
		if r, ok := f.record(identity, kind, key); ok {
			return r, nil
		}
		return nil, fmt.Errorf("%w: %s %q", graph.ErrNotFound, kind, key)
	}
	r, err := scanRecord(s.queryRow(ctx, recordQuery, []byte(identity), kind, key), identity, kind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s %q", graph.ErrNotFound, kind, key)
	}
	return r, err
}

// Records returns identity's live (not deleted) records of kind, by key.
func (s *Store) Records(ctx context.Context, identity peer.ID, kind string) ([]*graph.Record, error) {
	return s.queryRecords(ctx, identity, kind, "SELECT key, time, author, seq, cid, body FROM records WHERE identity = ? AND kind = ? AND del = 0 ORDER BY key",
		[]byte(identity), kind)
}

// queryRecords runs q, which selects key, time, author, seq, cid, body of
// identity's records of kind, and scans the rows.
func (s *Store) queryRecords(ctx context.Context, identity peer.ID, kind, q string, args ...any) ([]*graph.Record, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("reading %s records: %w", kind, err)
	}
	defer rows.Close()
	var (
		out     []*graph.Record
		damaged *graph.DamagedError
	)
	for rows.Next() {
		r, err := scanRecord(rows, identity, kind)
		if errors.Is(err, ErrCorrupt) && r != nil {
			// One record that does not read must not hide the others.
			if damaged == nil {
				damaged = &graph.DamagedError{Kind: kind, Err: err}
			}
			damaged.Keys = append(damaged.Keys, r.Key)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if damaged != nil {
		return out, damaged
	}
	return out, nil
}

// Search returns identity's live contact and card records of kind matching
// every word of query (prefix match), best first.
func (s *Store) Search(ctx context.Context, identity peer.ID, kind, query string, limit int) ([]*graph.Record, error) {
	match := ftsQuery(query)
	if match == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 100
	}
	return s.queryRecords(ctx, identity, kind, `SELECT r.key, r.time, r.author, r.seq, r.cid, r.body
		FROM cards_fts JOIN records r ON r.id = cards_fts.rowid
		WHERE cards_fts MATCH ? AND r.identity = ? AND r.kind = ? AND r.del = 0
		ORDER BY cards_fts.rank LIMIT ?`, match, []byte(identity), kind, limit)
}

// ftsQuery turns free text into an FTS5 query: every word must match as a
// prefix. Quotes keep FTS5 syntax characters literal.
func ftsQuery(q string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		terms = append(terms, `"`+w+`"*`)
	}
	return strings.Join(terms, " ")
}

type scanner interface{ Scan(dest ...any) error }

func scanRecord(sc scanner, identity peer.ID, kind string) (*graph.Record, error) {
	var (
		r              = &graph.Record{Identity: identity, Kind: kind}
		author, cb, bb []byte
	)
	if err := sc.Scan(&r.Key, &r.Version.Time, &author, &r.Version.Seq, &cb, &bb); err != nil {
		return nil, err
	}
	r.Version.Author = peer.ID(author)
	var err error
	if r.CID, err = cid.Cast(cb); err != nil {
		return r, fmt.Errorf("%w: record %s/%s: cid: %v", ErrCorrupt, kind, r.Key, err)
	}
	if r.Body, err = graph.DecodeBody(bb); err != nil {
		return r, fmt.Errorf("%w: record %s/%s: %v", ErrCorrupt, kind, r.Key, err)
	}
	if r.Body.Kind != kind || (r.Body.Card == nil && !r.Body.Del && (kind == graph.KindContact || kind == graph.KindCard)) {
		return r, fmt.Errorf("%w: record %s/%s: holds a %s body", ErrCorrupt, kind, r.Key, r.Body.Kind)
	}
	return r, nil
}

// LogEntry is one stored entry as listed by [Store.Log].
type LogEntry struct {
	Seq  uint64
	CID  cid.Cid
	Time int64
	Kind string // "" when the body is not readable here
	Key  string
	Raw  []byte
}

// Log returns author's entries with seq > after, in order, at most limit
// (0 = all).
func (s *Store) Log(ctx context.Context, author peer.ID, after uint64, limit int) ([]LogEntry, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.db.QueryContext(ctx, "SELECT seq, cid, time, coalesce(kind, ''), coalesce(key, ''), raw FROM entries WHERE author = ? AND seq > ? ORDER BY seq LIMIT ?",
		[]byte(author), after, limit)
	if err != nil {
		return nil, fmt.Errorf("reading log: %w", err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var (
			le LogEntry
			cb []byte
		)
		if err := rows.Scan(&le.Seq, &cb, &le.Time, &le.Kind, &le.Key, &le.Raw); err != nil {
			return nil, err
		}
		if le.CID, err = cid.Cast(cb); err != nil {
			return nil, fmt.Errorf("%w: entry cid: %v", ErrCorrupt, err)
		}
		out = append(out, le)
	}
	return out, rows.Err()
}

// Stats describes the store.
type Stats struct {
	Entries int64 // entries held, all logs
	Logs    int64 // logs held
	Forks   int64 // fork evidence rows
	Bytes   int64 // database file size, WAL included
}

// Stats returns counts and the on-disk size.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.db.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM heads), (SELECT count(*) FROM forks)").
		Scan(&st.Entries, &st.Logs, &st.Forks); err != nil {
		return st, fmt.Errorf("counting: %w", err)
	}
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(s.path + suffix); err == nil {
			st.Bytes += fi.Size()
		}
	}
	return st, nil
}

// Count returns the number of identity's live records of kind.
func (s *Store) Count(ctx context.Context, identity peer.ID, kind string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM records WHERE identity = ? AND kind = ? AND del = 0", []byte(identity), kind).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting %s records: %w", kind, err)
	}
	return n, nil
}
