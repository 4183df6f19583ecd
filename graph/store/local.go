package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
)

// Request is a pending connection request.
type Request struct {
	Peer     peer.ID
	Outgoing bool // I asked them
	Note     string
	Circles  []string // circles to put them in once accepted
	Time     time.Time
}

// PutRequest records (or replaces) a pending request.
func (s *Store) PutRequest(ctx context.Context, r Request) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO requests (peer, outgoing, note, time) VALUES (?, ?, ?, ?)
			ON CONFLICT (peer) DO UPDATE SET outgoing = excluded.outgoing, note = excluded.note, time = excluded.time`,
			[]byte(r.Peer), r.Outgoing, r.Note, r.Time.UnixMilli()); err != nil {
			return err
		}
		return putList(ctx, tx, "request_circles", "peer", "circle", []byte(r.Peer), r.Circles)
	})
	if err != nil {
		return fmt.Errorf("recording request from %s: %w", r.Peer, err)
	}
	return nil
}

// inTx runs f in a write transaction and commits it if f succeeds.
func (s *Store) inTx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// putList replaces the items of owner in a list table (owner column,
// pos, item column), keeping their order.
func putList(ctx context.Context, tx *sql.Tx, table, ownerCol, itemCol string, owner []byte, items []string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE "+ownerCol+" = ?", owner); err != nil {
		return err
	}
	if len(items) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(items))
	for i, it := range items {
		args = append(args, owner, i, it)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO "+table+" ("+ownerCol+", pos, "+itemCol+") VALUES (?,?,?)"+
		strings.Repeat(",(?,?,?)", len(items)-1), args...)
	return err
}

// GetRequest returns the pending request with p; graph.ErrNotFound if none.
func (s *Store) GetRequest(ctx context.Context, p peer.ID) (*Request, error) {
	rs, err := s.requests(ctx, "WHERE r.peer = ?", []byte(p))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: no pending request with %s", graph.ErrNotFound, p)
	}
	return &rs[0], nil
}

// Requests lists pending requests, oldest first.
func (s *Store) Requests(ctx context.Context) ([]Request, error) {
	return s.requests(ctx, "")
}

// requests reads the requests that where (a WHERE clause on r, or "")
// selects, oldest first, with their circles.
func (s *Store) requests(ctx context.Context, where string, args ...any) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.peer, r.outgoing, r.note, r.time, c.circle
		FROM requests r LEFT JOIN request_circles c ON c.peer = r.peer `+where+`
		ORDER BY r.time, r.peer, c.pos`, args...)
	if err != nil {
		return nil, fmt.Errorf("reading requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var (
			r      Request
			p      []byte
			ms     int64
			circle sql.NullString
		)
		if err := rows.Scan(&p, &r.Outgoing, &r.Note, &ms, &circle); err != nil {
			return nil, err
		}
		r.Peer, r.Time = peer.ID(p), time.UnixMilli(ms)
		if n := len(out); n == 0 || out[n-1].Peer != r.Peer {
			out = append(out, r)
		}
		if circle.Valid {
			last := &out[len(out)-1]
			last.Circles = append(last.Circles, circle.String)
		}
	}
	return out, rows.Err()
}

// CountRequests returns the number of pending incoming requests.
func (s *Store) CountRequests(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM requests WHERE outgoing = 0").Scan(&n)
	return n, err
}

// DeleteRequest forgets a pending request.
func (s *Store) DeleteRequest(ctx context.Context, p peer.ID) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM requests WHERE peer = ?", []byte(p))
	return err
}

// Decline forgets the pending request from p and remembers the refusal, so
// that a repeat of the request is answered without asking the person again.
func (s *Store) Decline(ctx context.Context, p peer.ID, t time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM requests WHERE peer = ?", []byte(p)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO declined (peer, time) VALUES (?, ?)
		ON CONFLICT (peer) DO UPDATE SET time = excluded.time`, []byte(p), t.UnixMilli()); err != nil {
		return fmt.Errorf("recording the refusal of %s: %w", p, err)
	}
	return tx.Commit()
}

// Declined reports whether I declined a request from p.
func (s *Store) Declined(ctx context.Context, p peer.ID) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM declined WHERE peer = ?", []byte(p)).Scan(&n)
	return n > 0, err
}

// ForgetDeclined forgets a refusal of p: I asked them, accepted them or
// they used my invite.
func (s *Store) ForgetDeclined(ctx context.Context, p peer.ID) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM declined WHERE peer = ?", []byte(p))
	return err
}

// DroppedBy records that my connection p ended the connection on its side.
func (s *Store) DroppedBy(ctx context.Context, p peer.ID, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO dropped_by (peer, time) VALUES (?, ?)
		ON CONFLICT (peer) DO NOTHING`, []byte(p), t.UnixMilli())
	return err
}

// DroppedPeers returns the connections that disconnected me, and when.
func (s *Store) DroppedPeers(ctx context.Context) (map[peer.ID]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT peer, time FROM dropped_by")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[peer.ID]time.Time{}
	for rows.Next() {
		var (
			b  []byte
			ms int64
		)
		if err := rows.Scan(&b, &ms); err != nil {
			return nil, err
		}
		out[peer.ID(b)] = time.UnixMilli(ms)
	}
	return out, rows.Err()
}

// ForgetDropped forgets that p disconnected me: we are connected again.
func (s *Store) ForgetDropped(ctx context.Context, p peer.ID) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM dropped_by WHERE peer = ?", []byte(p))
	return err
}

// PutInvite records a new invite secret.
func (s *Store) PutInvite(ctx context.Context, secret []byte, expires time.Time, circles []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO invites (secret, expires) VALUES (?, ?)", secret, expires.Unix()); err != nil {
			return err
		}
		return putList(ctx, tx, "invite_circles", "secret", "circle", secret, circles)
	})
	if err != nil {
		return fmt.Errorf("recording invite: %w", err)
	}
	return nil
}

// ErrInviteInvalid: the invite secret is unknown, used or expired.
var ErrInviteInvalid = errors.New("store: invite unknown, used or expired")

// UseInvite marks an invite used and returns its circles; it fails with
// ErrInviteInvalid if the secret is unknown, used or expired. One use only,
// even under concurrent attempts.
func (s *Store) UseInvite(ctx context.Context, secret []byte, now time.Time) ([]string, error) {
	var circles []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var b []byte
		err := tx.QueryRowContext(ctx, "UPDATE invites SET used = 1 WHERE secret = ? AND used = 0 AND expires > ? RETURNING secret",
			secret, now.Unix()).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInviteInvalid
		}
		if err != nil {
			return fmt.Errorf("using invite: %w", err)
		}
		circles, err = list(ctx, tx, "SELECT circle FROM invite_circles WHERE secret = ? ORDER BY pos", secret)
		return err
	})
	if err != nil {
		return nil, err
	}
	return circles, nil
}

// list returns the one text column that q selects.
func list(ctx context.Context, q rowsQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PeerInfo is what this node remembers of a peer between runs.
type PeerInfo struct {
	Peer     peer.ID
	Addrs    []string
	LastSync time.Time
}

// PutPeerAddrs remembers a peer's addresses (replacing those remembered).
func (s *Store) PutPeerAddrs(ctx context.Context, p peer.ID, addrs []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO peers (peer) VALUES (?) ON CONFLICT (peer) DO NOTHING", []byte(p)); err != nil {
			return err
		}
		return putList(ctx, tx, "peer_addrs", "peer", "addr", []byte(p), addrs)
	})
	if err != nil {
		return fmt.Errorf("recording the addresses of %s: %w", p, err)
	}
	return nil
}

// MarkSynced records a completed sync with p.
func (s *Store) MarkSynced(ctx context.Context, p peer.ID, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO peers (peer, last_sync) VALUES (?, ?)
		ON CONFLICT (peer) DO UPDATE SET last_sync = excluded.last_sync`, []byte(p), t.UnixMilli())
	s.noteWrite() // the commonest write of a node that writes little itself
	return err
}

// PeerInfo returns what is remembered of p (zero values if nothing).
func (s *Store) PeerInfo(ctx context.Context, p peer.ID) (PeerInfo, error) {
	pi := PeerInfo{Peer: p}
	rows, err := s.db.QueryContext(ctx, `SELECT p.last_sync, a.addr FROM peers p LEFT JOIN peer_addrs a ON a.peer = p.peer
		WHERE p.peer = ? ORDER BY a.pos`, []byte(p))
	if err != nil {
		return pi, fmt.Errorf("reading what is known of %s: %w", p, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			ms   int64
			addr sql.NullString
		)
		if err := rows.Scan(&ms, &addr); err != nil {
			return pi, err
		}
		if ms > 0 {
			pi.LastSync = time.UnixMilli(ms)
		}
		if addr.Valid {
			pi.Addrs = append(pi.Addrs, addr.String)
		}
	}
	return pi, rows.Err()
}

// CountEntries returns how many entries of author are held.
func (s *Store) CountEntries(ctx context.Context, author peer.ID) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM entries WHERE author = ?", []byte(author)).Scan(&n)
	return n, err
}

// Forks lists the authors with fork evidence on record.
func (s *Store) Forks(ctx context.Context) ([]peer.ID, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT author FROM forks")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []peer.ID
	for rows.Next() {
		var a []byte
		if err := rows.Scan(&a); err != nil {
			return nil, err
		}
		out = append(out, peer.ID(a))
	}
	return out, rows.Err()
}
