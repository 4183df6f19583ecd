package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

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

// Check re-verifies every stored entry (encoding, signature, CID, chain),
// every log head, and recomputes the fold to compare with the records and
// the search index. open, if non-nil, decrypts bodies so that their kind
// and key are checked too. Problems are reported, not repaired; the error is
// for I/O only.
//
// Check reads in one read transaction, a snapshot of the store: writes
// that commit while it runs are not seen, so they cannot make it report a
// problem. It does not hold up writers (WAL mode).
func (s *Store) Check(ctx context.Context, open func(*spec.Entry) (*graph.Body, error)) (*CheckReport, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}) // a deferred BEGIN, not the writers' IMMEDIATE
	if err != nil {
		return nil, fmt.Errorf("beginning the check's read transaction: %w", err)
	}
	defer tx.Rollback()
	return check(ctx, tx, s.idx, open)
}

func check(ctx context.Context, tx rowsQuerier, idx Index, open func(*spec.Entry) (*graph.Body, error)) (*CheckReport, error) {
	rep := &CheckReport{}
	rows, err := tx.QueryContext(ctx, "SELECT cid, author, identity, seq, coalesce(kind, ''), coalesce(key, ''), kind IS NULL, raw FROM entries ORDER BY author, seq")
	if err != nil {
		return nil, fmt.Errorf("reading entries: %w", err)
	}
	defer rows.Close()
	var (
		prev     *spec.Entry
		prevCID  cid.Cid
		lastHead = map[peer.ID]graph.Head{}
		best     = map[recKey]recBest{}
	)
	for rows.Next() {
		var (
			cb, ab, ib, raw []byte
			seq             uint64
			kind, key       string
			unreadable      bool
		)
		if err := rows.Scan(&cb, &ab, &ib, &seq, &kind, &key, &unreadable, &raw); err != nil {
			return nil, err
		}
		rep.Entries++
		author := peer.ID(ab)
		e, err := graph.Verify(raw, nil)
		if err != nil {
			rep.addf("entry %s seq %d: %v", author, seq, err)
			prev = nil
			continue
		}
		if c, _ := cid.Cast(cb); !c.Equals(e.CID) {
			rep.addf("entry %s seq %d: stored under CID %s, content hashes to %s", author, seq, c, e.CID)
		}
		if e.Author != author || e.Seq != seq || !bytes.Equal(ib, ab) {
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
		if open != nil {
			b, err := open(e.Entry)
			switch {
			case err == nil && unreadable:
				rep.addf("entry %s seq %d: readable but not folded", author, seq)
			case err == nil && (b.Kind != kind || b.Key != key):
				rep.addf("entry %s seq %d: body is %s/%s, columns say %s/%s", author, seq, b.Kind, b.Key, kind, key)
			case err != nil && !unreadable:
				rep.addf("entry %s seq %d: folded but does not open: %v", author, seq, err)
			}
		}
		if unreadable {
			continue
		}
		k := recKey{peer.ID(ib), kind, key}
		v := graph.VersionOf(e)
		if cur, ok := best[k]; !ok || v.After(cur.v) {
			best[k] = recBest{v: v, cid: e.CID}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()

	heads, err := headsOf(ctx, tx)
	if err != nil {
		return nil, err
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

	rrows, err := tx.QueryContext(ctx, "SELECT identity, kind, key, cid, del, body FROM records")
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
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
			return nil, err
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
		return nil, err
	}
	for k := range best {
		if !seen[k] {
			rep.addf("record %s/%q of %s: set by an entry but missing", k.kind, k.key, k.identity)
		}
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM cards_fts").Scan(&rep.Indexed); err != nil {
		return nil, fmt.Errorf("counting index: %w", err)
	}
	if rep.Indexed != wantIndexed {
		rep.addf("search index holds %d cards, want %d", rep.Indexed, wantIndexed)
	}
	if err := checkUIDs(ctx, tx, idx, rep); err != nil {
		return nil, err
	}
	return rep, nil
}
