package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/connect"
)

// Restore implements api.API: it takes my log back from a friend, then the
// friend's own log if it is a connection of mine (per my log as restored).
// The logs of my other connections come from each of them: those online
// now are pulled from in the background, the others when they are next
// online (only a connection serves its own log). A store that fails its
// check is first moved aside for a fresh one, when the daemon runs this
// node (see RunDaemon).
func (n *Node) Restore(ctx context.Context, req api.RestoreRequest) (*api.RestoreResult, error) {
	ai, _, err := connect.ParseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	me := n.id.PeerID()
	if ai.ID == me {
		return nil, fmt.Errorf("%w: that is this node's own peer ID; restore from a friend", api.ErrInvalid)
	}
	if n.reopen != nil && !n.writer.restoring() {
		rep, err := n.store.Check(ctx, n.rots.opener(ctx, n))
		if err != nil || !rep.OK() {
			n.log.Warn("the store fails its check: moving it aside for a fresh one, restored from a friend", "err", err, "problems", problems(rep))
			fresh, err := n.reopen(ctx)
			if err != nil {
				return nil, fmt.Errorf("starting over with a fresh store: %w", err)
			}
			return fresh.Restore(ctx, req)
		}
	}
	cs := n.connect.Load()
	if err := cs.Dial(ctx, ai); err != nil {
		return nil, err
	}
	p := ai.ID
	mine0, theirs0, err := n.heads(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := n.sync.Pull(ctx, p); err != nil {
		return nil, fmt.Errorf("restoring my log from %s: %w", p, err)
	}
	if n.writer.restoring() {
		return nil, fmt.Errorf("%w: %s holds no copy of your log (is it a connection of yours?)", api.ErrNotFound, p)
	}
	if r, err := n.store.Record(ctx, me, graph.KindRotate, ""); err == nil && r.Body.Rotate != nil {
		// My log ended with a rotation: this key is retired. Move the
		// home to the identity it rotated to, and restore that one.
		return n.restoreRotated(ctx, req, p, r.Body.Rotate)
	} else if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	res := &api.RestoreResult{From: p, Syncing: []peer.ID{}, Pending: []peer.ID{}, DamagedStore: n.damaged, PeerID: me}
	res.Connection = cs.SyncsWith(ctx, p)
	if res.Connection {
		// My log is back, so p is known now: its own log too.
		if err := n.sync.Pull(ctx, p); err != nil {
			return nil, fmt.Errorf("restoring %s's log: %w", p, err)
		}
	}
	mine1, theirs1, err := n.heads(ctx, p)
	if err != nil {
		return nil, err
	}
	res.Logs = append(res.Logs, api.RestoredLog{Author: me, Mine: true, Entries: grew(mine0, mine1), Head: mine1})
	if res.Connection {
		res.Logs = append(res.Logs, api.RestoredLog{Author: p, Entries: grew(theirs0, theirs1), Head: theirs1})
	}
	active, err := cs.Active(ctx)
	if err != nil {
		return nil, err
	}
	for _, q := range active {
		switch {
		case q == p:
		case n.online(q):
			n.sync.Schedule(q)
			res.Syncing = append(res.Syncing, q)
		default:
			res.Pending = append(res.Pending, q)
		}
	}
	n.log.Info("restored from a friend", "peer", p, "my_entries", grew(mine0, mine1), "their_entries", grew(theirs0, theirs1))
	return res, nil
}

func grew(before, after uint64) uint64 {
	if after < before {
		return 0
	}
	return after - before
}

func problems(rep *store.CheckReport) []string {
	if rep == nil {
		return nil
	}
	return rep.Problems
}

// heads returns the heads of my log and p's in the store.
func (n *Node) heads(ctx context.Context, p peer.ID) (mine, theirs uint64, err error) {
	h, err := n.store.Head(ctx, n.id.PeerID())
	if err != nil {
		return 0, 0, err
	}
	t, err := n.store.Head(ctx, p)
	if err != nil {
		return 0, 0, err
	}
	return h.Seq, t.Seq, nil
}

// openHomeStore opens the store of home. One that does not open (not a
// database, or damaged past what SQLite reads) is moved aside to
// kith.db.damaged-<time> with its WAL, and a fresh store takes its place,
// to be restored from a friend; fresh moves it aside whatever its state.
// A store of a newer kith is not damage: that error is returned. It
// returns where a damaged store went, if one did.
func openHomeStore(ctx context.Context, home string, fresh bool, log func(msg string, args ...any)) (*store.Store, string, error) {
	path := filepath.Join(home, DBName)
	if !fresh {
		st, err := store.Open(ctx, path, book.Index{})
		if err == nil {
			return st, "", nil
		}
		if errors.Is(err, store.ErrNewerSchema) || ctx.Err() != nil {
			return nil, "", err
		}
		log("the store does not open: moving it aside and starting a fresh one, to restore from a friend (`kith restore --from …`)", "err", err)
	}
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, "", fmt.Errorf("moving the damaged store aside: %w", err)
		}
	}
	log("moved the damaged store aside", "to", aside)
	st, err := store.Open(ctx, path, book.Index{})
	if err != nil {
		return nil, "", err
	}
	return st, aside, nil
}
