package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// rotations is what this node knows of the rotations its store holds: the
// logs that end with one (closed), by old identity, and what each handed
// over to. The sync service offers and serves closed logs to every
// connection (a friend offline during a rotation gets it from whoever
// holds it), and a new identity's genesis is checked against the `next`
// of the rotation that named it. It is loaded from the store on first use
// and kept up to date by the paths that store rotations.
type rotations struct {
	// mu guards the fields below.
	mu     sync.Mutex
	loaded bool
	byOld  map[peer.ID]closedLog
	byNew  map[peer.ID]peer.ID // new identity → old
}

// closedLog is a log that ended with a rotation.
type closedLog struct {
	next   peer.ID
	commit []byte // the rotation's `next`: what next's genesis commits to
	time   int64  // the rotate entry's time (newest offered first)
}

// loadRotationsLocked reads every held rotation from the store once.
func (r *rotations) loadRotationsLocked(ctx context.Context, n *Node) error {
	if r.loaded {
		return nil
	}
	heads, err := n.store.Heads(ctx)
	if err != nil {
		return fmt.Errorf("reading log heads: %w", err)
	}
	byOld, byNew := map[peer.ID]closedLog{}, map[peer.ID]peer.ID{}
	for a, h := range heads {
		rec, err := n.store.Record(ctx, a, graph.KindRotate, "")
		if errors.Is(err, graph.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the rotation of %s: %w", a, err)
		}
		if rec.Body.Rotate == nil {
			continue
		}
		np, err := rec.Body.Rotate.NewPeer()
		if err != nil {
			continue
		}
		byOld[a] = closedLog{next: np, commit: rec.Body.Rotate.Next, time: h.Time}
		byNew[np] = a
	}
	r.byOld, r.byNew, r.loaded = byOld, byNew, true
	return nil
}

// add records a stored rotation of old.
func (r *rotations) noteRotation(old peer.ID, rot *graph.Rotation, t int64) {
	np, err := rot.NewPeer()
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded {
		return // the load reads it
	}
	r.byOld[old] = closedLog{next: np, commit: rot.Next, time: t}
	r.byNew[np] = old
}

// closed returns the old identities of the closed logs, newest first.
func (r *rotations) closedLogs(ctx context.Context, n *Node) ([]peer.ID, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.loadRotationsLocked(ctx, n); err != nil {
		return nil, err
	}
	out := make([]peer.ID, 0, len(r.byOld))
	for a := range r.byOld {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b peer.ID) int {
		if c := r.byOld[b].time - r.byOld[a].time; c != 0 {
			if c < 0 {
				return -1
			}
			return 1
		}
		return bytes.Compare([]byte(a), []byte(b))
	})
	return out, nil
}

// commitmentFor returns the `next` of the held rotation that handed over
// to p, if one did.
func (r *rotations) commitmentFor(ctx context.Context, n *Node, p peer.ID) ([]byte, peer.ID, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.loadRotationsLocked(ctx, n); err != nil {
		return nil, "", false, err
	}
	old, ok := r.byNew[p]
	if !ok {
		return nil, "", false, nil
	}
	return r.byOld[old].commit, old, true, nil
}

// Closed implements logsync.Store.
func (s rotationStore) Closed(ctx context.Context) ([]peer.ID, error) {
	return s.n.rots.closedLogs(ctx, s.n)
}

// opener is graph.Opener of n's identity for Check: a body of an earlier
// identity of mine (one that rotated, in one or more steps, to n's) that
// does not open returns graph.ErrRetiredKey, since the keys it was sealed
// to are not held any more.
func (r *rotations) opener(ctx context.Context, n *Node) func(*spec.Entry) (*graph.Body, error) {
	open := graph.Opener(n.id)
	retired := map[peer.ID]bool{}
	r.mu.Lock()
	if err := r.loadRotationsLocked(ctx, n); err == nil {
		for p := n.id.PeerID(); ; {
			old, ok := r.byNew[p]
			if !ok || retired[old] {
				break
			}
			retired[old], p = true, old
		}
	}
	r.mu.Unlock()
	if len(retired) == 0 {
		return open
	}
	return func(e *spec.Entry) (*graph.Body, error) {
		b, err := open(e)
		if err != nil && retired[peer.ID(e.Author)] {
			return nil, fmt.Errorf("%w: %w", graph.ErrRetiredKey, err)
		}
		return b, err
	}
}
