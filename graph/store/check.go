package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// CheckReport is what [Store.Check] found.
type CheckReport struct {
	Entries  int      `json:"entries"`
	Logs     int      `json:"logs"`
	Records  int      `json:"records"`
	Indexed  int      `json:"indexed"`
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether no problem was found.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

func (r *CheckReport) addf(format string, args ...any) {
	if len(r.Problems) < 100 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

type recKey struct {
	identity  peer.ID
	kind, key string
}

type recBest struct {
	v   graph.Version
	cid cid.Cid
}

// CheckOptions configures [Store.CheckWith]; the zero value checks
// everything without opening bodies.
type CheckOptions struct {
	// Open, if non-nil, decrypts bodies so that their kind and key are
	// checked too.
	Open func(*spec.Entry) (*graph.Body, error)
	// Verified lists, by author, heads up to which the caller verified
	// every entry's signature in this process moments ago (an import
	// that read them). Check does not verify those signatures again: it
	// still hashes every stored entry, checks every link and requires the
	// stored entry at each listed seq to be the listed head, and the chain
	// of CIDs then proves every stored entry up to it is the one whose
	// signature was verified. A log that does not reach its listed head
	// is a problem.
	Verified map[peer.ID]graph.Head
}

// Check re-verifies every stored entry (encoding, signature, CID, chain),
// every log head, and recomputes the fold to compare with the records and
// the search index. open, if non-nil, decrypts bodies so that their kind
// and key are checked too. Problems are reported, not repaired; the error is
// for I/O only. It is CheckWith(ctx, CheckOptions{Open: open}).
//
// Check reads in one read transaction, a snapshot of the store: writes
// that commit while it runs are not seen, so they cannot make it report a
// problem. It does not hold up writers (WAL mode). Entries are decoded,
// verified and opened on every core.
func (s *Store) Check(ctx context.Context, open func(*spec.Entry) (*graph.Body, error)) (*CheckReport, error) {
	return s.CheckWith(ctx, CheckOptions{Open: open})
}

// CheckWith is [Store.Check] with options.
func (s *Store) CheckWith(ctx context.Context, opts CheckOptions) (*CheckReport, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // a deferred BEGIN, not the writers' IMMEDIATE
	if err != nil {
		return nil, fmt.Errorf("beginning the check's read transaction: %w", err)
	}
	defer tx.Rollback()
	return check(ctx, tx, s.idx, opts)
}

// damaged reports err, met reading part of the store, as a problem, and
// returns nil, unless err is the context's: a damaged file (SQLite's
// "database disk image is malformed") is what Check is there to find, so
// it says so and checks the rest.
func damaged(ctx context.Context, rep *CheckReport, what string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rep.addf("%s: %v", what, err)
	return nil
}

// checkFile runs SQLite's own check of the file's structure (pages,
// b-trees) table by table, reporting what it finds. The search index's
// tables are left to the comparison with the records below: FTS5's own
// check reports corruption that is not there while a writer commits.
func checkFile(ctx context.Context, tx rowsQuerier, rep *CheckReport) error {
	tables, err := list(ctx, tx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'cards_fts%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name`)
	if err != nil {
		return damaged(ctx, rep, "database file", err)
	}
	for _, t := range tables {
		if err := quickCheck(ctx, tx, t, rep); err != nil {
			return err
		}
	}
	return nil
}

// quickCheck runs PRAGMA quick_check on one table.
func quickCheck(ctx context.Context, tx rowsQuerier, table string, rep *CheckReport) error {
	what := "database file, table " + table
	rows, err := tx.QueryContext(ctx, fmt.Sprintf("PRAGMA quick_check(%q)", table))
	if err != nil {
		return damaged(ctx, rep, what, err)
	}
	defer rows.Close()
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return damaged(ctx, rep, what, err)
		}
		if line != "ok" {
			rep.addf("%s: %s", what, line)
		}
	}
	return damaged(ctx, rep, what, rows.Err())
}

// checkRow is one row of entries, and what a worker made of it.
type checkRow struct {
	cb, ab, ib, raw []byte
	seq             uint64
	kind, key       string
	unreadable      bool

	e       *graph.Entry
	err     error // decoding or verifying
	body    *graph.Body
	openErr error
}

// checkBatch is a run of rows for one worker.
type checkBatch struct {
	rows []checkRow
	done chan struct{}
}

// checkBatchSize rows go to a worker at once.
const checkBatchSize = 256

// work decodes and verifies the batch's entries (the signature unless
// verified lists the author up to that seq) and opens their bodies.
func (b *checkBatch) work(verified map[peer.ID]graph.Head, open func(*spec.Entry) (*graph.Body, error)) {
	defer close(b.done)
	for i := range b.rows {
		r := &b.rows[i]
		h, ok := verified[peer.ID(r.ab)]
		r.e, r.err = decodeEntry(r.raw, !ok || r.seq > h.Seq)
		if r.err == nil && open != nil {
			r.body, r.openErr = open(r.e.Entry)
		}
	}
}

// decodeEntry is graph.Verify without opening the body, and without
// checking the signature unless sig.
func decodeEntry(raw []byte, sig bool) (*graph.Entry, error) {
	if sig {
		return graph.Verify(raw, nil)
	}
	se, err := spec.Decode(raw)
	if err != nil {
		return nil, err
	}
	author, err := se.AuthorID()
	if err != nil {
		return nil, err
	}
	return &graph.Entry{Entry: se, Raw: raw, CID: spec.CIDOf(raw), Author: author, Identity: author}, nil
}

func check(ctx context.Context, tx rowsQuerier, idx Index, opts CheckOptions) (*CheckReport, error) {
	rep := &CheckReport{}
	// The heads first: the snapshot starts here, at the first read.
	heads, err := headsOf(ctx, tx)
	if err := damaged(ctx, rep, "reading heads", err); err != nil {
		return nil, err
	}
	if err := checkFile(ctx, tx, rep); err != nil {
		return nil, err
	}
	var scanErr error // reading entries stopped: the file is damaged there
	var (
		prev     *spec.Entry
		prevCID  cid.Cid
		lastHead = map[peer.ID]graph.Head{}
		best     = map[recKey]recBest{}
	)
	workers := runtime.GOMAXPROCS(0)
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *checkBatch, workers)
	ordered := make(chan *checkBatch, 2*workers)
	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		rows, err := tx.QueryContext(gctx, "SELECT cid, author, identity, seq, coalesce(kind, ''), coalesce(key, ''), kind IS NULL, raw FROM entries ORDER BY author, seq")
		if err != nil {
			scanErr = err
			return nil
		}
		defer rows.Close()
		for more := true; more; {
			b := &checkBatch{done: make(chan struct{})}
			for len(b.rows) < checkBatchSize {
				if more = rows.Next(); !more {
					break
				}
				var r checkRow
				if err := rows.Scan(&r.cb, &r.ab, &r.ib, &r.seq, &r.kind, &r.key, &r.unreadable, &r.raw); err != nil {
					rep.addf("entries: a row does not read: %v", err)
					continue
				}
				b.rows = append(b.rows, r)
			}
			if len(b.rows) == 0 {
				break
			}
			for _, ch := range []chan *checkBatch{work, ordered} {
				select {
				case ch <- b:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
		}
		scanErr = rows.Err()
		return nil
	})
	for range workers {
		g.Go(func() error {
			for b := range work {
				b.work(opts.Verified, opts.Open)
			}
			return nil
		})
	}
	g.Go(func() error {
		for b := range ordered {
			select {
			case <-b.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			for i := range b.rows {
				r := &b.rows[i]
				rep.Entries++
				author, seq := peer.ID(r.ab), r.seq
				e, err := r.e, r.err
				if err != nil {
					rep.addf("entry %s seq %d: %v", author, seq, err)
					prev = nil
					continue
				}
				if c, _ := cid.Cast(r.cb); !c.Equals(e.CID) {
					rep.addf("entry %s seq %d: stored under CID %s, content hashes to %s", author, seq, c, e.CID)
				}
				if e.Author != author || e.Seq != seq || !bytes.Equal(r.ib, r.ab) {
					rep.addf("entry %s seq %d: columns disagree with the entry", author, seq)
				}
				if prev != nil && !bytes.Equal(prev.Author, e.Entry.Author) {
					prev = nil
				}
				if err := spec.CheckLink(prev, prevCID, e.Entry); err != nil {
					rep.addf("entry %s seq %d: %v", author, seq, err)
				}
				prev, prevCID = e.Entry, e.CID
				lastHead[author] = graph.Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
				if h, ok := opts.Verified[author]; ok && h.Seq == e.Seq && !h.CID.Equals(e.CID) {
					rep.addf("entry %s seq %d: is %s, not the verified head %s", author, seq, e.CID, h.CID)
				}
				if opts.Open != nil {
					b, err := r.body, r.openErr
					switch {
					case err == nil && r.unreadable:
						rep.addf("entry %s seq %d: readable but not folded", author, seq)
					case err == nil && (b.Kind != r.kind || b.Key != r.key):
						rep.addf("entry %s seq %d: body is %s/%s, columns say %s/%s", author, seq, b.Kind, b.Key, r.kind, r.key)
					case errors.Is(err, graph.ErrRetiredKey):
						// folded by an earlier identity of mine: nothing to open it with now
					case err != nil && !r.unreadable:
						rep.addf("entry %s seq %d: folded but does not open: %v", author, seq, err)
					}
				}
				if r.unreadable {
					continue
				}
				k := recKey{peer.ID(r.ib), r.kind, r.key}
				v := graph.VersionOf(e)
				if cur, ok := best[k]; !ok || v.After(cur.v) {
					best[k] = recBest{v: v, cid: e.CID}
				}
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := damaged(ctx, rep, "reading entries (those after this point were not checked)", scanErr); err != nil {
		return nil, err
	}
	for a, h := range opts.Verified {
		if got := lastHead[a]; got.Seq < h.Seq {
			rep.addf("log %s: ends at seq %d, before the verified head at seq %d", a, got.Seq, h.Seq)
		}
	}

	rep.Logs = len(heads)
	for a, h := range heads {
		if want := lastHead[a]; want.Seq != h.Seq || !want.CID.Equals(h.CID) {
			rep.addf("head of %s: stored seq %d, log ends at seq %d", a, h.Seq, want.Seq)
		}
	}
	for a := range lastHead {
		if _, ok := heads[a]; !ok {
			rep.addf("log %s has entries but no head", a)
		}
	}

	wantIndexed, err := checkRecords(ctx, tx, idx, best, rep)
	if err := damaged(ctx, rep, "reading records", err); err != nil {
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM cards_fts").Scan(&rep.Indexed); err != nil {
		if err := damaged(ctx, rep, "counting the search index", err); err != nil {
			return nil, err
		}
	} else if rep.Indexed != wantIndexed {
		rep.addf("search index holds %d cards, want %d", rep.Indexed, wantIndexed)
	}
	if err := damaged(ctx, rep, "checking contact_uids", checkUIDs(ctx, tx, idx, rep)); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkRecords compares the records with best, the newest entry of each
// (identity, kind, key), and returns how many the search index should hold.
func checkRecords(ctx context.Context, tx rowsQuerier, idx Index, best map[recKey]recBest, rep *CheckReport) (int, error) {
	rrows, err := tx.QueryContext(ctx, "SELECT identity, kind, key, cid, del, body FROM records")
	if err != nil {
		return 0, err
	}
	defer rrows.Close()
	wantIndexed := 0
	seen := map[recKey]bool{}
	for rrows.Next() {
		var (
			ib, cb, bb []byte
			k          recKey
			del        bool
		)
		if err := rrows.Scan(&ib, &k.kind, &k.key, &cb, &del, &bb); err != nil {
			rep.addf("records: a row does not read: %v", err)
			continue
		}
		k.identity = peer.ID(ib)
		rep.Records++
		seen[k] = true
		want, ok := best[k]
		c, _ := cid.Cast(cb)
		if !ok {
			rep.addf("record %s/%q of %s: no entry sets it", k.kind, k.key, k.identity)
			continue
		}
		if !c.Equals(want.cid) {
			rep.addf("record %s/%q of %s: holds %s, newest entry is %s", k.kind, k.key, k.identity, c, want.cid)
		}
		b, err := graph.DecodeBody(bb)
		if err != nil {
			rep.addf("record %s/%q: %v", k.kind, k.key, err)
			continue
		}
		if b.Del != del {
			rep.addf("record %s/%q: del column disagrees with body", k.kind, k.key)
		}
		if !b.Del && idx.SearchText(k.kind, k.key, b) != nil {
			wantIndexed++
		}
	}
	if err := rrows.Err(); err != nil {
		return wantIndexed, err
	}
	for k := range best {
		if !seen[k] {
			rep.addf("record %s/%q of %s: set by an entry but missing", k.kind, k.key, k.identity)
		}
	}
	return wantIndexed, nil
}
