package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// rereadBatch entries are folded per transaction.
const rereadBatch = 500

// Reread folds the stored entries that were kept unread but open now: an
// entry addressed to this node in a form an older reader refused (a kind
// it did not know). It does the work once per reader version: version is
// recorded when every entry has been tried, so a crash half way only means
// reading again at the next start. It returns how many entries it folded.
//
// Stored entries were verified when they were stored, so they are decoded
// here, not verified again.
func (s *Store) Reread(ctx context.Context, open func(*spec.Entry) (*graph.Body, error), version int) (int, error) {
	var done int
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'reader_version'").Scan(&done)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("reading the reader version: %w", err)
	}
	if done > version {
		// An older reader runs on this store now: what it keeps unread
		// from here on must be tried again by the next newer one.
		return 0, s.setReaderVersion(ctx, version)
	}
	if done == version {
		return 0, nil
	}
	readable, err := s.readable(ctx, open)
	if err != nil {
		return 0, err
	}
	folded := len(readable)
	for len(readable) > 0 {
		n := min(len(readable), rereadBatch)
		if err := s.fold(ctx, readable[:n]); err != nil {
			return 0, err
		}
		readable = readable[n:]
	}
	return folded, s.setReaderVersion(ctx, version)
}

func (s *Store) setReaderVersion(ctx context.Context, version int) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('reader_version', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, version); err != nil {
		return fmt.Errorf("recording the reader version: %w", err)
	}
	return nil
}

// readable returns the unread entries that open reads now.
func (s *Store) readable(ctx context.Context, open func(*spec.Entry) (*graph.Body, error)) ([]*graph.Entry, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT cid, author, identity, raw FROM entries WHERE kind IS NULL ORDER BY author, seq")
	if err != nil {
		return nil, fmt.Errorf("reading unread entries: %w", err)
	}
	defer rows.Close()
	var out []*graph.Entry
	for rows.Next() {
		var cb, ab, ib, raw []byte
		if err := rows.Scan(&cb, &ab, &ib, &raw); err != nil {
			return nil, err
		}
		// A stored entry that no longer decodes is damage for Check to
		// report; it must not keep the node from starting.
		se, err := spec.Decode(raw)
		if err != nil {
			continue
		}
		c, err := cid.Cast(cb)
		if err != nil {
			continue
		}
		b, err := open(se)
		if err != nil {
			continue // still not for me, or still not readable
		}
		out = append(out, &graph.Entry{Entry: se, Raw: raw, CID: c, Author: peer.ID(ab), Identity: peer.ID(ib), Body: b})
	}
	return out, rows.Err()
}

// fold marks stored entries read and folds their bodies, in one
// transaction.
func (s *Store) fold(ctx context.Context, entries []*graph.Entry) error {
	tx, p, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	for _, e := range entries {
		if _, err := tx.ExecContext(ctx, "UPDATE entries SET kind = ?, key = ? WHERE author = ? AND seq = ?",
			e.Body.Kind, e.Body.Key, []byte(e.Author), e.Seq); err != nil {
			return fmt.Errorf("marking %s seq %d read: %w", e.Author, e.Seq, err)
		}
		if err := p.fold(ctx, e); err != nil {
			return err
		}
	}
	if err := p.flushIndex(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing %d reread entries: %w", len(entries), err)
	}
	s.noteWrite()
	return nil
}
