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

func joinList(s []string) string { return strings.Join(s, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// PutRequest records (or replaces) a pending request.
func (s *Store) PutRequest(ctx context.Context, r Request) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO requests (peer, outgoing, note, circles, time) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (peer) DO UPDATE SET outgoing = excluded.outgoing, note = excluded.note, circles = excluded.circles, time = excluded.time`,
		[]byte(r.Peer), r.Outgoing, r.Note, joinList(r.Circles), r.Time.UnixMilli())
	if err != nil {
		return fmt.Errorf("recording request from %s: %w", r.Peer, err)
	}
	return nil
}

// GetRequest returns the pending request with p; graph.ErrNotFound if none.
func (s *Store) GetRequest(ctx context.Context, p peer.ID) (*Request, error) {
	var (
		r       = &Request{Peer: p}
		circles string
		ms      int64
	)
	err := s.db.QueryRowContext(ctx, "SELECT outgoing, note, circles, time FROM requests WHERE peer = ?", []byte(p)).Scan(&r.Outgoing, &r.Note, &circles, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no pending request with %s", graph.ErrNotFound, p)
	}
	if err != nil {
		return nil, err
	}
	r.Circles, r.Time = splitList(circles), time.UnixMilli(ms)
	return r, nil
}

// Requests lists pending requests, oldest first.
func (s *Store) Requests(ctx context.Context) ([]Request, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT peer, outgoing, note, circles, time FROM requests ORDER BY time")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var (
			r       Request
			p       []byte
			circles string
			ms      int64
		)
		if err := rows.Scan(&p, &r.Outgoing, &r.Note, &circles, &ms); err != nil {
			return nil, err
		}
		r.Peer, r.Circles, r.Time = peer.ID(p), splitList(circles), time.UnixMilli(ms)
		out = append(out, r)
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
	_, err := s.db.ExecContext(ctx, "INSERT INTO invites (secret, expires, circles) VALUES (?, ?, ?)", secret, expires.Unix(), joinList(circles))
	return err
}

// ErrInviteInvalid: the invite secret is unknown, used or expired.
var ErrInviteInvalid = errors.New("store: invite unknown, used or expired")

// UseInvite marks an invite used and returns its circles; it fails with
// ErrInviteInvalid if the secret is unknown, used or expired. One use only,
// even under concurrent attempts.
func (s *Store) UseInvite(ctx context.Context, secret []byte, now time.Time) ([]string, error) {
	var circles string
	err := s.db.QueryRowContext(ctx, "UPDATE invites SET used = 1 WHERE secret = ? AND used = 0 AND expires > ? RETURNING circles",
		secret, now.Unix()).Scan(&circles)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrInviteInvalid
	}
	if err != nil {
		return nil, err
	}
	return splitList(circles), nil
}

// PeerInfo is what this node remembers of a peer between runs.
type PeerInfo struct {
	Peer     peer.ID
	Addrs    []string
	LastSync time.Time
}

// PutPeerAddrs remembers a peer's addresses.
func (s *Store) PutPeerAddrs(ctx context.Context, p peer.ID, addrs []string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO peers (peer, addrs) VALUES (?, ?)
		ON CONFLICT (peer) DO UPDATE SET addrs = excluded.addrs`, []byte(p), strings.Join(addrs, "\n"))
	return err
}

// MarkSynced records a completed sync with p.
func (s *Store) MarkSynced(ctx context.Context, p peer.ID, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO peers (peer, addrs, last_sync) VALUES (?, '', ?)
		ON CONFLICT (peer) DO UPDATE SET last_sync = excluded.last_sync`, []byte(p), t.UnixMilli())
	s.noteWrite() // the commonest write of a node that writes little itself
	return err
}

// PeerInfo returns what is remembered of p (zero values if nothing).
func (s *Store) PeerInfo(ctx context.Context, p peer.ID) (PeerInfo, error) {
	pi := PeerInfo{Peer: p}
	var (
		addrs string
		ms    int64
	)
	err := s.db.QueryRowContext(ctx, "SELECT addrs, last_sync FROM peers WHERE peer = ?", []byte(p)).Scan(&addrs, &ms)
	if errors.Is(err, sql.ErrNoRows) {
		return pi, nil
	}
	if err != nil {
		return pi, err
	}
	if addrs != "" {
		pi.Addrs = strings.Split(addrs, "\n")
	}
	if ms > 0 {
		pi.LastSync = time.UnixMilli(ms)
	}
	return pi, nil
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
