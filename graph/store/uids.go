package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// indexUIDs queues the contact_uids rows of record id for its new
// version (uids, as the Index gives them), and queues the rows of its
// version before this transaction for deletion, if it existed.
func (p *prepared) indexUIDs(identity peer.ID, id int64, existed bool, uids []string) {
	if existed && !p.uidsDropped[id] {
		if p.uidsDropped == nil {
			p.uidsDropped = map[int64]bool{}
		}
		p.uidsDropped[id] = true
	}
	if p.uids == nil {
		p.uids = map[int64]recordUIDs{}
	}
	if len(uids) == 0 {
		delete(p.uids, id)
		return
	}
	p.uids[id] = recordUIDs{identity, uids} // the last version in the batch wins
}

// recordUIDs are the UIDs of one record of identity's.
type recordUIDs struct {
	identity peer.ID
	uids     []string
}

// flushUIDs deletes the contact_uids rows of the records replaced and
// writes the queued ones, many per statement.
func (p *prepared) flushUIDs(ctx context.Context, tx *sql.Tx) error {
	dropped := slices.Sorted(maps.Keys(p.uidsDropped))
	for len(dropped) > 0 {
		n := min(len(dropped), ftsChunk)
		args := make([]any, n)
		for i, id := range dropped[:n] {
			args[i] = id
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM contact_uids WHERE record IN (?"+strings.Repeat(",?", n-1)+")", args...); err != nil {
			return fmt.Errorf("unindexing UIDs: %w", err)
		}
		dropped = dropped[n:]
	}
	// Rows go in in key order: contact_uids is a b-tree keyed by
	// (identity, uid), and UIDs are random, so in record order every row
	// landed on another page (a bulk load's 100,000 took 0.85 s that way).
	var rows []uidRow
	for id, r := range p.uids {
		for _, uid := range r.uids {
			rows = append(rows, uidRow{r.identity, uid, id})
		}
	}
	slices.SortFunc(rows, func(a, b uidRow) int {
		return cmp.Or(strings.Compare(string(a.identity), string(b.identity)), strings.Compare(a.uid, b.uid), cmp.Compare(a.record, b.record))
	})
	p.uids, p.uidsDropped = nil, nil
	for len(rows) > 0 {
		n := min(len(rows), ftsChunk)
		args := make([]any, 0, 3*n)
		for _, r := range rows[:n] {
			args = append(args, []byte(r.identity), r.uid, r.record)
		}
		q := "INSERT OR IGNORE INTO contact_uids (identity, uid, record) VALUES (?,?,?)" + strings.Repeat(",(?,?,?)", n-1)
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("indexing UIDs: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

// indexAllUIDs fills contact_uids from the records, as idx gives their
// UIDs (the Go step of migration 2; on an empty store it does nothing).
func indexAllUIDs(ctx context.Context, tx *sql.Tx, idx Index) error {
	want, err := wantUIDs(ctx, tx, idx)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM contact_uids"); err != nil {
		return err
	}
	st, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO contact_uids (identity, uid, record) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for r := range want {
		if _, err := st.ExecContext(ctx, []byte(r.identity), r.uid, r.record); err != nil {
			return fmt.Errorf("indexing UIDs: %w", err)
		}
	}
	return nil
}

// uidRow is one row of contact_uids.
type uidRow struct {
	identity peer.ID
	uid      string
	record   int64
}

// wantUIDs computes contact_uids from the live records, as idx gives
// their UIDs.
func wantUIDs(ctx context.Context, q rowsQuerier, idx Index) (map[uidRow]bool, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, identity, kind, key, body FROM records WHERE del = 0")
	if err != nil {
		return nil, fmt.Errorf("reading records: %w", err)
	}
	defer rows.Close()
	out := map[uidRow]bool{}
	for rows.Next() {
		var (
			id        int64
			ib, bb    []byte
			kind, key string
		)
		if err := rows.Scan(&id, &ib, &kind, &key, &bb); err != nil {
			return nil, err
		}
		b, err := graph.DecodeBody(bb)
		if err != nil {
			continue // Check reports an unreadable record
		}
		for _, uid := range idx.UIDs(kind, key, b) {
			out[uidRow{peer.ID(ib), uid, id}] = true
		}
	}
	return out, rows.Err()
}

// LocalContacts returns how many live contact records of identity's have
// UIDs: its local contacts, since the Index gives none to notes on a
// connection (also contact records).
func (s *Store) LocalContacts(ctx context.Context, identity peer.ID) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT u.record) FROM contact_uids u JOIN records r ON r.id = u.record
		WHERE u.identity = ? AND r.kind = ?`, []byte(identity), graph.KindContact).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting contacts: %w", err)
	}
	return n, nil
}

// uidChunk bounds the UIDs of one lookup query.
const uidChunk = 500

// ContactsByUID returns identity's live contact records that uids name
// (as the Index gives them), by UID; a UID that two records claim
// (written on two devices) names the one with the smaller key.
func (s *Store) ContactsByUID(ctx context.Context, identity peer.ID, uids []string) (map[string]*graph.Record, error) {
	out := make(map[string]*graph.Record, len(uids))
	for len(uids) > 0 {
		n := min(len(uids), uidChunk)
		args := make([]any, 0, n+2)
		args = append(args, []byte(identity), graph.KindContact)
		for _, u := range uids[:n] {
			args = append(args, u)
		}
		rows, err := s.query(ctx, uidLookupQuery(n), args...)
		if err != nil {
			return nil, fmt.Errorf("looking up UIDs: %w", err)
		}
		for rows.Next() {
			var uid string
			r, err := scanRecord(uidScanner{rows, &uid}, identity, graph.KindContact)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[uid] = r // by key descending: the smallest key is written last
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
		uids = uids[n:]
	}
	return out, nil
}

// rowsQuerier runs queries: a *sql.DB, *sql.Tx or *sql.Conn.
type rowsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// uidScanner scans a leading uid column, then what scanRecord reads.
type uidScanner struct {
	rows *sql.Rows
	uid  *string
}

func (u uidScanner) Scan(dest ...any) error { return u.rows.Scan(append([]any{u.uid}, dest...)...) }

// checkUIDs compares contact_uids with what the records say it holds.
func checkUIDs(ctx context.Context, q rowsQuerier, idx Index, rep *CheckReport) error {
	want, err := wantUIDs(ctx, q, idx)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(ctx, "SELECT identity, uid, record FROM contact_uids")
	if err != nil {
		return fmt.Errorf("reading contact_uids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ib []byte
			r  uidRow
		)
		if err := rows.Scan(&ib, &r.uid, &r.record); err != nil {
			return err
		}
		r.identity = peer.ID(ib)
		if !want[r] {
			rep.addf("contact_uids: UID %q of record %d is not the record's", r.uid, r.record)
			continue
		}
		delete(want, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for r := range want {
		rep.addf("contact_uids: UID %q of record %d is missing", r.uid, r.record)
	}
	return nil
}
