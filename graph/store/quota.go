package store

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Usage is what one author's log takes in the store.
type Usage struct {
	Entries int64
	Bytes   int64 // encoded entries
}

// AuthorUsage returns how many entries of author are held and their
// encoded size. SQLite reads a blob's length from its header, not its
// pages: about 10 ms for 100,000 entries.
func (s *Store) AuthorUsage(ctx context.Context, author peer.ID) (Usage, error) {
	var u Usage
	err := s.db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(length(raw)), 0) FROM entries WHERE author = ?",
		[]byte(author)).Scan(&u.Entries, &u.Bytes)
	if err != nil {
		return u, fmt.Errorf("measuring %s's log: %w", author, err)
	}
	return u, nil
}

// QuotaRefusal is the record of the entries of one author refused over its
// storage quota.
type QuotaRefusal struct {
	Author  peer.ID
	Entries int64 // refused, in all
	Bytes   int64
	First   time.Time
	Last    time.Time
	Reason  string // the latest
}

// RecordQuotaRefusal adds entries (of bytes in all) refused at t to
// author's record.
func (s *Store) RecordQuotaRefusal(ctx context.Context, author peer.ID, entries, bytes int64, t time.Time, reason string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO quota_refusals (author, entries, bytes, first, last, reason) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (author) DO UPDATE SET entries = entries + excluded.entries, bytes = bytes + excluded.bytes,
			last = excluded.last, reason = excluded.reason`,
		[]byte(author), entries, bytes, t.UnixMilli(), t.UnixMilli(), reason)
	if err != nil {
		return fmt.Errorf("recording a quota refusal of %s: %w", author, err)
	}
	return nil
}

// QuotaRefusals lists the authors with entries refused over quota, the
// latest refused first.
func (s *Store) QuotaRefusals(ctx context.Context) ([]QuotaRefusal, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT author, entries, bytes, first, last, reason FROM quota_refusals ORDER BY last DESC, author")
	if err != nil {
		return nil, fmt.Errorf("reading quota refusals: %w", err)
	}
	defer rows.Close()
	var out []QuotaRefusal
	for rows.Next() {
		var (
			r           QuotaRefusal
			a           []byte
			first, last int64
		)
		if err := rows.Scan(&a, &r.Entries, &r.Bytes, &first, &last, &r.Reason); err != nil {
			return nil, err
		}
		r.Author, r.First, r.Last = peer.ID(a), time.UnixMilli(first), time.UnixMilli(last)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ForgetQuotaRefusals drops author's refusal record (its quota was raised,
// or its log dropped).
func (s *Store) ForgetQuotaRefusals(ctx context.Context, author peer.ID) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM quota_refusals WHERE author = ?", []byte(author))
	return err
}
