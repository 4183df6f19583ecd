package store

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// Rewind drops author's entries after seq, stores then in their place
// (verified entries of author's log from seq+1 on, each linked to the one
// before), and rebuilds the records of author's identity from the entries
// that stay (the fold keeps no history, so the records are folded again;
// open reads the bodies, as when they were stored), all in one
// transaction. It returns how many entries were dropped.
//
// It is for a node's own log only: when a friend holds a different history
// of it, the node takes that history back (see node's logWriter.Rebase).
// Nothing else may write author's log meanwhile.
func (s *Store) Rewind(ctx context.Context, author peer.ID, seq uint64, then []*graph.Entry, open func(*spec.Entry) (*graph.Body, error)) (int, error) {
	tx, p, done, err := s.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	res, err := tx.ExecContext(ctx, "DELETE FROM entries WHERE author = ? AND seq > ?", []byte(author), seq)
	if err != nil {
		return 0, fmt.Errorf("dropping entries after %d: %w", seq, err)
	}
	dropped, _ := res.RowsAffected()
	var (
		head graph.Head
		prev *spec.Entry
	)
	if seq > 0 {
		var cb []byte
		if err := tx.QueryRowContext(ctx, "SELECT cid, time FROM entries WHERE author = ? AND seq = ?", []byte(author), seq).Scan(&cb, &head.Time); err != nil {
			return 0, fmt.Errorf("%w: rewinding to seq %d, which is not held: %v", ErrCorrupt, seq, err)
		}
		if head.CID, err = cid.Cast(cb); err != nil {
			return 0, fmt.Errorf("%w: head cid: %v", ErrCorrupt, err)
		}
		head.Seq = seq
		prev = &spec.Entry{Author: []byte(author), Seq: seq}
	}
	for _, e := range then {
		if e.Author != author {
			return 0, fmt.Errorf("rewinding %s's log: an entry of %s", author, e.Author)
		}
		if err := spec.CheckLink(prev, head.CID, e.Entry); err != nil {
			return 0, fmt.Errorf("rewinding %s's log: seq %d: %w", author, e.Seq, err)
		}
		if _, err := p.entry.ExecContext(ctx, e.CID.Bytes(), []byte(e.Author), []byte(e.Identity), e.Seq, e.Time, kindOf(e), keyOf(e), e.Raw); err != nil {
			return 0, fmt.Errorf("inserting entry %s: %w", e.CID, err)
		}
		prev, head = e.Entry, graph.Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	}
	if head.Seq == 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM heads WHERE author = ?", []byte(author)); err != nil {
			return 0, fmt.Errorf("dropping head: %w", err)
		}
	} else if _, err := p.head.ExecContext(ctx, []byte(author), []byte(author), head.Seq, head.CID.Bytes(), head.Time); err != nil {
		return 0, fmt.Errorf("updating head: %w", err)
	}
	for _, q := range []string{
		"DELETE FROM contact_uids WHERE identity = ?",
		"DELETE FROM cards_fts WHERE rowid IN (SELECT id FROM records WHERE identity = ?)",
		"DELETE FROM records WHERE identity = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, []byte(author)); err != nil {
			return 0, fmt.Errorf("dropping records: %w", err)
		}
	}
	// Records made from here on are new to the index (none existed before).
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM records").Scan(&p.maxID); err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, "SELECT cid, author, raw FROM entries WHERE identity = ? ORDER BY author, seq", []byte(author))
	if err != nil {
		return 0, fmt.Errorf("reading entries to fold: %w", err)
	}
	var es []*graph.Entry
	for rows.Next() {
		var cb, ab, raw []byte
		if err := rows.Scan(&cb, &ab, &raw); err != nil {
			rows.Close()
			return 0, err
		}
		se, err := spec.Decode(raw)
		if err != nil {
			continue // damage for Check to report
		}
		c, err := cid.Cast(cb)
		if err != nil {
			continue
		}
		b, err := open(se)
		if err != nil {
			continue // kept unread, as when it was stored
		}
		es = append(es, &graph.Entry{Entry: se, Raw: raw, CID: c, Author: peer.ID(ab), Identity: author, Body: b})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, e := range es {
		if err := p.fold(ctx, e); err != nil {
			return 0, err
		}
	}
	if err := p.flushIndex(ctx, tx); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("committing the rewind of %s to seq %d: %w", author, seq, err)
	}
	s.noteWrite()
	return int(dropped), nil
}

func kindOf(e *graph.Entry) any {
	if e.Body == nil {
		return nil
	}
	return e.Body.Kind
}

func keyOf(e *graph.Entry) any {
	if e.Body == nil {
		return nil
	}
	return e.Body.Key
}
