package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// SalvageReport says what [Salvage] kept of a damaged store and what it
// lost.
type SalvageReport struct {
	Entries int // entries kept: read, verified and linked to their log
	Logs    int // logs kept
	// Lost counts the entries read but not kept (they fail to verify, or
	// follow a gap in their log); rows that could not be read at all are
	// not counted, Problems names their range.
	Lost int
	// Tables are the local tables (requests, invites, peers, ...) copied
	// whole; Problems says which could not be.
	Tables   []string
	Problems []string // what was lost and why
}

func (r *SalvageReport) addf(format string, args ...any) {
	if len(r.Problems) < 100 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// salvageRead is how many entry rows a query of Salvage reads at a time.
const salvageRead = 1000

// rebuilt are the tables Salvage builds again from the entries rather
// than copy.
var rebuilt = []string{"entries", "heads", "records", "contact_uids"}

// Salvage copies what can be read and trusted of the store file at src
// into a new store at dst (which must not exist): every entry row that
// reads, decodes and verifies (its signature, and its body opened with
// open), log by log from seq 1 up to the first entry missing or not
// linked; the views (records, search index, UIDs) folded again from them;
// and the rows of the other, local tables that read back. src is only
// read. Entries after a gap in a log are lost here; a friend that holds
// the log gives them back on the next sync.
func Salvage(ctx context.Context, src, dst string, idx Index, open func(*spec.Entry) (*graph.Body, error)) (*SalvageReport, error) {
	if _, err := os.Stat(dst); err == nil {
		return nil, fmt.Errorf("%w: %s exists", ErrNotEmpty, dst)
	}
	uri, err := fileURI(src)
	if err != nil {
		return nil, err
	}
	old, err := sql.Open("sqlite", uri+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("opening %s to salvage: %w", src, err)
	}
	defer old.Close()
	rep := &SalvageReport{}
	logs, err := readEntries(ctx, old, open, rep)
	if err != nil {
		return nil, err
	}
	st, err := Open(ctx, dst, idx)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for _, a := range slices.Sorted(func(yield func(peer.ID) bool) {
		for a := range logs {
			if !yield(a) {
				return
			}
		}
	}) {
		kept := chain(a, logs[a], rep)
		for b := range slices.Chunk(kept, salvageRead) {
			if err := st.Put(ctx, b); err != nil {
				return nil, fmt.Errorf("storing the salvaged log of %s: %w", a, err)
			}
		}
		if len(kept) > 0 {
			rep.Logs++
			rep.Entries += len(kept)
		}
	}
	if err := st.copyLocal(ctx, uri, rep); err != nil {
		return nil, err
	}
	return rep, st.Close()
}

// readEntries reads every entry row of db that it can, verifies each, and
// returns the verified ones by author. Rows that do not read (a damaged
// page) are stepped over: it looks for the next row that reads further
// and further on, then back to the first one.
func readEntries(ctx context.Context, db *sql.DB, open func(*spec.Entry) (*graph.Body, error), rep *SalvageReport) (map[peer.ID][]*graph.Entry, error) {
	logs := map[peer.ID][]*graph.Entry{}
	var last int64
	for {
		n, err := readEntryRows(ctx, db, &last, open, logs, rep)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil {
			if n == 0 {
				return logs, nil
			}
			continue
		}
		// The rows after last do not read: find where they read again.
		from, step := last, int64(1)
		for !readsAfter(ctx, db, from+step) {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if step > 1<<40 {
				rep.addf("entries: no row after row %d reads (%v)", from, err)
				return logs, nil
			}
			step *= 2
		}
		lo, hi := from+step/2, from+step // rows after hi read; after lo, not (unless lo is from)
		for hi-lo > 1 {
			if mid := lo + (hi-lo)/2; readsAfter(ctx, db, mid) {
				hi = mid
			} else {
				lo = mid
			}
		}
		rep.addf("entries: rows %d to %d do not read: %v", from+1, hi, err)
		last = hi
	}
}

// readsAfter reports whether the first entry row after rowid reads.
func readsAfter(ctx context.Context, db *sql.DB, rowid int64) bool {
	var id int64
	var raw []byte
	err := db.QueryRowContext(ctx, "SELECT rowid, raw FROM entries WHERE rowid > ? ORDER BY rowid LIMIT 1", rowid).Scan(&id, &raw)
	return err == nil || errors.Is(err, sql.ErrNoRows)
}

// readEntryRows reads up to salvageRead rows after *last, moving *last
// past each row read.
func readEntryRows(ctx context.Context, db *sql.DB, last *int64, open func(*spec.Entry) (*graph.Body, error), logs map[peer.ID][]*graph.Entry, rep *SalvageReport) (int, error) {
	rows, err := db.QueryContext(ctx, "SELECT rowid, raw FROM entries WHERE rowid > ? ORDER BY rowid LIMIT ?", *last, salvageRead)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id  int64
			raw []byte
		)
		if err := rows.Scan(&id, &raw); err != nil {
			return n, err
		}
		*last, n = id, n+1
		e, err := graph.Verify(raw, open)
		if err != nil {
			rep.Lost++
			rep.addf("entry row %d: %v", id, err)
			continue
		}
		logs[e.Author] = append(logs[e.Author], e)
	}
	return n, rows.Err()
}

// chain returns the entries of author's log that link up from seq 1, in
// order; the rest are reported lost.
func chain(author peer.ID, es []*graph.Entry, rep *SalvageReport) []*graph.Entry {
	slices.SortFunc(es, func(a, b *graph.Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	var (
		out  []*graph.Entry
		prev *graph.Entry
	)
	for i, e := range es {
		if prev != nil && e.Seq == prev.Seq && e.CID.Equals(prev.CID) {
			continue // the same entry twice
		}
		var (
			p  *spec.Entry
			pc cid.Cid
		)
		if prev != nil {
			p, pc = prev.Entry, prev.CID
		}
		if err := spec.CheckLink(p, pc, e.Entry); err != nil {
			lost := len(es) - i
			rep.Lost += lost
			rep.addf("log %s: %d entries from seq %d lost (%v); a friend that holds this log gives them back on the next sync", author, lost, e.Seq, err)
			break
		}
		out, prev = append(out, e), e
	}
	return out
}

// copyLocal copies, from the store file at srcURI, the rows of every
// table of this store that Salvage does not rebuild, as far as they read.
func (s *Store) copyLocal(ctx context.Context, srcURI string, rep *SalvageReport) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tables, err := list(ctx, conn, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'cards_fts%' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("listing tables: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON")
	if _, err := conn.ExecContext(ctx, "ATTACH DATABASE ? AS old", srcURI+"?mode=ro"); err != nil {
		rep.addf("local tables: not copied, the damaged file does not attach: %v", err)
		return nil
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH DATABASE old")
	for _, t := range tables {
		if slices.Contains(rebuilt, t) {
			continue
		}
		q := fmt.Sprintf("INSERT OR IGNORE INTO main.%q SELECT * FROM old.%q", t, t)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			rep.addf("table %s: not copied (%v)", t, strings.TrimPrefix(err.Error(), "SQL logic error: "))
			continue
		}
		rep.Tables = append(rep.Tables, t)
	}
	return nil
}
