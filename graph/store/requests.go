package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Why an incoming request was not kept (AddIncomingRequest).
var (
	// ErrRequestsFull: as many incoming requests are pending as allowed.
	ErrRequestsFull = errors.New("store: too many pending connection requests")
	// ErrRequestsFromSource: as many incoming requests from the request's
	// source address are pending as allowed.
	ErrRequestsFromSource = errors.New("store: too many pending connection requests from one address")
)

// RequestLimits bound the incoming requests kept.
type RequestLimits struct {
	// Max is the number of incoming requests kept in all.
	Max int
	// PerSource is the number kept from one source address.
	PerSource int
	// Expired: incoming requests made before this are dropped first.
	Expired time.Time
}

// AddIncomingRequest keeps a request from r.Peer, which came from source
// (an IP address, "" if unknown), within lim, in one transaction: the
// expired requests are dropped, then the count and the insert cannot be
// split by another request. A repeat of a pending request keeps its
// first time (it expires from then) and counts once. A request over a
// limit is not kept: ErrRequestsFull or ErrRequestsFromSource.
func (s *Store) AddIncomingRequest(ctx context.Context, r Request, source string, lim RequestLimits) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM requests WHERE outgoing = 0 AND time < ?", lim.Expired.UnixMilli()); err != nil {
			return err
		}
		var outgoing sql.NullBool
		switch err := tx.QueryRowContext(ctx, "SELECT outgoing FROM requests WHERE peer = ?", []byte(r.Peer)).Scan(&outgoing); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		}
		if outgoing.Valid && !outgoing.Bool {
			// A repeat: the note may change, the rest stays.
			_, err := tx.ExecContext(ctx, "UPDATE requests SET note = ? WHERE peer = ?", r.Note, []byte(r.Peer))
			return err
		}
		var total, fromSource int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(source = ?), 0) FROM requests WHERE outgoing = 0`,
			source).Scan(&total, &fromSource); err != nil {
			return err
		}
		if total >= lim.Max {
			return ErrRequestsFull
		}
		if source != "" && fromSource >= lim.PerSource {
			return ErrRequestsFromSource
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO requests (peer, outgoing, note, time, source) VALUES (?, 0, ?, ?, ?)
			ON CONFLICT (peer) DO UPDATE SET outgoing = 0, note = excluded.note, time = excluded.time, source = excluded.source`,
			[]byte(r.Peer), r.Note, r.Time.UnixMilli(), source); err != nil {
			return err
		}
		return putList(ctx, tx, "request_circles", "peer", "circle", []byte(r.Peer), nil)
	})
	if err != nil && !errors.Is(err, ErrRequestsFull) && !errors.Is(err, ErrRequestsFromSource) {
		return fmt.Errorf("recording request from %s: %w", r.Peer, err)
	}
	return err
}

// ExpireRequests drops the incoming requests made before t and returns
// how many it dropped.
func (s *Store) ExpireRequests(ctx context.Context, t time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM requests WHERE outgoing = 0 AND time < ?", t.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("dropping expired requests: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
