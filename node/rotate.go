package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// Key rotation (spec/SPEC.md "Rotation"). The rotating side: [Node.Rotate]
// writes the new identity's log (genesis, keys, and my book carried over),
// then ends my log with a rotate entry signed by the recovery key, then
// puts the new key file in place; the daemon goes on as the old identity,
// writing nothing, until it is restarted. The following side: every entry
// the sync service stores passes [rotationStore.Put], which refuses an
// invalid rotate entry and anything after a valid one, and moves a
// connection that rotated to its new peer ID.

// rotateStaging is the directory inside the home where the new key file
// waits between the new log and the rotate entry.
const rotateStaging = "rotate-next"

// Rotate implements api.API.
func (n *Node) Rotate(ctx context.Context, req api.RotateRequest) (*api.RotateResult, error) {
	if err := n.writer.CanWrite(); err != nil {
		return nil, err
	}
	root, err := identity.ParsePhrase(req.Phrase)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	defer root.Clear()
	self := n.id.PeerID()
	gen, ok := root.GenerationOf(self)
	if !ok {
		return nil, fmt.Errorf("%w: no generation of its keys is %s", api.ErrWrongPhrase, self)
	}
	if r, err := n.store.Record(ctx, self, graph.KindRotate, ""); err == nil && r.Body.Rotate != nil {
		np, _ := r.Body.Rotate.NewPeer()
		return nil, fmt.Errorf("%w: %s already rotated to %s; restart the daemon to run as it", api.ErrExists, self, np)
	} else if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return nil, err
	}
	genesis, err := n.store.Record(ctx, self, graph.KindGenesis, "")
	if err != nil {
		return nil, fmt.Errorf("reading my genesis: %w", err)
	}
	mode := graph.RotatePlanned
	if req.Recover {
		mode = graph.RotateRecover
	}
	if req.At > 0 {
		if err := n.dropAfter(ctx, req.At, req.Recover); err != nil {
			return nil, err
		}
	}
	next, err := root.IdentityAt(gen + 1)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	rec := root.RecoveryKey()
	defer clear(rec)

	staged, err := n.stageKey(next, req.Passphrase)
	if err != nil {
		return nil, err
	}
	carried, err := n.writeNewLog(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("writing the new identity's log: %w", err)
	}
	re, err := n.appendRotation(ctx, genesis.Body.Recovery, func(h graph.Head) (graph.Draft, error) {
		return graph.RotationDraft(self, h, mode, next, gen+1, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("ending my log with the rotation: %w", err)
	}
	n.rots.noteRotation(self, re.Body.Rotate, re.Time)
	n.writer.announce()
	// The old identity takes no more connect messages. A friend that has
	// followed the rotation holds a tombstone for the old peer ID, and
	// answers its next sync with "disconnected": recorded, that would mark
	// the friend as gone in the store the new identity starts from. Sync
	// keeps serving, so that friends fetch the rotation.
	if err := n.connect.Load().Close(); err != nil {
		n.log.Warn("stopping the connect protocol of the old identity", "err", err)
	}
	res := &api.RotateResult{OldPeerID: self, PeerID: next.PeerID(), Generation: gen + 1, Mode: mode, Carried: carried}
	if staged != "" {
		ks := identity.Keystore{Dir: n.home}
		if err := os.Rename(staged, ks.Path()); err != nil {
			return nil, fmt.Errorf("rotated to %s, but putting its key file in place: %w (move %s to %s by hand)", next.PeerID(), err, staged, ks.Path())
		}
		os.Remove(filepath.Dir(staged))
		res.KeyFile = ks.Path()
	}
	if n.switchKey != nil && staged != "" {
		// The daemon goes on as the new identity: its key file is in place.
		// Where my connections are now is kept, so that the new identity
		// dials them at once (they move me to it as they sync the rotation).
		n.keepAddrs(ctx)
		if _, err := n.switchKey(context.WithoutCancel(ctx), next); err != nil {
			return nil, fmt.Errorf("rotated to %s, but restarting as it: %w (restart the daemon)", next.PeerID(), err)
		}
		res.Restarted = true
		n.log.Info("rotated to a new identity; the daemon runs as it", "old", self, "new", next.PeerID(), "generation", gen+1, "mode", mode)
		return res, nil
	}
	n.log.Info("rotated to a new identity; restart the daemon to run as it", "old", self, "new", next.PeerID(), "generation", gen+1, "mode", mode)
	return res, nil
}

// dropAfter takes my entries after seq out of my log (a thief's, written
// with a stolen device key), so that a recovery rotation ends the log at
// seq: friends then drop them too (spec "Rotation", "After a theft"). A
// history holding them is never taken back (logWriter.dropped).
func (n *Node) dropAfter(ctx context.Context, seq uint64, recover bool) error {
	if !recover {
		return graph.Invalidf("--at goes with --recover: only a recovery rotation drops entries of the old key")
	}
	l := n.writer
	if err := l.wait(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	me := n.id.PeerID()
	h := l.w.Head()
	switch {
	case seq > h.Seq:
		return graph.Invalidf("--at %d is past the head of your log (seq %d)", seq, h.Seq)
	case seq < 2:
		return graph.Invalidf("--at %d: a log's first two entries (genesis, keys) stay", seq)
	case seq == h.Seq:
		return nil
	}
	les, err := n.store.Log(ctx, me, seq, 0)
	if err != nil {
		return err
	}
	k, err := n.store.Rewind(ctx, me, seq, nil, graph.Opener(n.id))
	if err != nil {
		return fmt.Errorf("dropping the entries after seq %d: %w", seq, err)
	}
	if _, err := l.w.Adopt(ctx, nil); err != nil { // the writer reads the new head
		return err
	}
	for _, le := range les {
		l.dropped[le.CID] = true
	}
	n.log.Warn("dropped the entries of my log after the last one I wrote, for a recovery rotation", "after_seq", seq, "dropped", k)
	return nil
}

// keepAddrs stores the addresses the host knows of my connections, for a
// node started after this one (see startRedial).
func (n *Node) keepAddrs(ctx context.Context) {
	cs, err := n.book.Connections(ctx)
	if err != nil {
		return
	}
	for _, p := range cs {
		as := n.host.Peerstore().Addrs(p)
		if len(as) == 0 {
			continue
		}
		ss := make([]string, len(as))
		for i, a := range as {
			ss[i] = a.String()
		}
		if err := n.store.PutPeerAddrs(ctx, p, ss); err != nil {
			n.log.Warn("remembering where a connection is", "peer", p, "err", err)
		}
	}
}

// appendRotation ends my log with a rotation as logWriter.Append writes:
// once my head is learnt from a connection, and never during a rebase.
func (n *Node) appendRotation(ctx context.Context, commitment []byte, build func(graph.Head) (graph.Draft, error)) (*graph.Entry, error) {
	l := n.writer
	if err := l.wait(ctx); err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.AppendRotation(ctx, commitment, build)
}

// stageKey writes next's key file into the staging directory, sealed with
// passphrase, and returns its path ("" for a node without a home). It
// refuses to seal in the clear what is sealed today.
func (n *Node) stageKey(next *identity.Identity, passphrase []byte) (string, error) {
	if n.home == "" {
		return "", nil
	}
	cur := identity.Keystore{Dir: n.home}
	if enc, err := cur.Encrypted(); err != nil {
		return "", fmt.Errorf("reading the key file: %w", err)
	} else if enc && len(passphrase) == 0 {
		return "", graph.Invalidf("the key file is sealed with a passphrase: give it (KITH_PASSPHRASE) to seal the new one")
	}
	ks := identity.Keystore{Dir: filepath.Join(n.home, rotateStaging)}
	if err := os.Remove(ks.Path()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := ks.Save(next, passphrase); err != nil {
		return "", err
	}
	return ks.Path(), nil
}

// writeNewLog writes next's genesis and keys entries (unless a failed
// rotation wrote them already) and carries my book into its log.
//
// Each card is sealed to the circle members whose keys the store holds
// now; a member whose keys entry arrives while the rotation runs is sealed
// to when the new identity's node starts (resealCards).
func (n *Node) writeNewLog(ctx context.Context, next *identity.Identity) (int, error) {
	w, err := graph.NewWriter(ctx, next, n.store, n.now)
	if err != nil {
		return 0, err
	}
	if w.Head().Seq == 0 {
		if _, err := w.Append(ctx,
			graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: next.RecoveryCommitment()}, To: graph.Audience{Public: true}},
			graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: next.EncryptionKey()}, To: graph.Audience{Public: true}},
		); err != nil {
			return 0, err
		}
	}
	b := book.New(graph.Reader{ID: next.PeerID(), EncKey: next.EncryptionKey()}, bookStore{n.store}, openWriter{w}, n.log)
	return b.CarryFrom(ctx, n.id.PeerID())
}

// openWriter is a graph.Writer as the book takes it, for a log no one else
// writes yet.
type openWriter struct{ *graph.Writer }

func (openWriter) CanWrite() error { return nil }

// rotationStore is the store as the sync service writes it: a batch with
// an invalid rotate entry, or with an entry after a valid one, is refused
// whole (spec: nothing of the batch is stored); a stored valid rotation of
// a connection is followed.
type rotationStore struct{ n *Node }

func (s rotationStore) Head(ctx context.Context, author peer.ID) (graph.Head, error) {
	return s.n.store.Head(ctx, author)
}

func (s rotationStore) Log(ctx context.Context, author peer.ID, after uint64, limit int) ([]store.LogEntry, error) {
	return s.n.store.Log(ctx, author, after, limit)
}

func (s rotationStore) MarkSynced(ctx context.Context, p peer.ID, t time.Time) error {
	return s.n.store.MarkSynced(ctx, p, t)
}

// followed is a verified rotation of old to next.
type followed struct {
	old, next peer.ID
	mode      string
	rot       *graph.Rotation
	time      int64
}

// Put checks the rotations among es, stores es, and follows them.
func (s rotationStore) Put(ctx context.Context, es []*graph.Entry) error {
	rots, err := s.n.checkRotations(ctx, es)
	if err != nil {
		s.n.log.Warn("refused entries: an invalid or replayed rotation, or an entry after a rotation", "err", err)
		return err
	}
	es, err = s.n.supersede(ctx, es, rots)
	if err != nil {
		return err
	}
	if err := s.n.store.Put(ctx, es); err != nil {
		return err
	}
	for _, r := range rots {
		s.n.rots.noteRotation(r.old, r.rot, r.time)
		s.n.bg.Go(func() { s.n.follow(s.n.bg.Context(), r) })
	}
	return nil
}

// supersede applies the rule after a theft (spec "Rotation"): a verified
// `recover` rotation at seq n+1 ending the entry n I hold of its log wins
// over the entries I hold after n (written with the old device key, the
// thief's): they are dropped with what was folded from them, and the
// rotation is stored in their place, with the fork evidence of that log
// forgotten, in one transaction. It returns the entries of es left to
// store. A rotation that does not end an entry I hold is left to the
// store, which keeps it as fork evidence.
func (n *Node) supersede(ctx context.Context, es []*graph.Entry, rots []followed) ([]*graph.Entry, error) {
	for _, r := range rots {
		if r.mode != graph.RotateRecover {
			continue
		}
		h, err := n.store.Head(ctx, r.old)
		if err != nil {
			return nil, err
		}
		at := r.rot.Seq // the entry the rotation ends
		if h.Seq <= at {
			continue // it extends my copy: stored as any entry
		}
		held, err := n.store.Log(ctx, r.old, at-1, 1)
		if err != nil {
			return nil, err
		}
		if len(held) != 1 || !held[0].CID.Equals(r.rot.Head.Cid) {
			continue
		}
		i := slices.IndexFunc(es, func(e *graph.Entry) bool { return e.Author == r.old && e.Seq == at+1 })
		if i < 0 {
			continue
		}
		dropped, err := n.store.Rewind(ctx, r.old, at, es[i:i+1], graph.Opener(n.id))
		if err != nil {
			return nil, fmt.Errorf("taking the recovery rotation of %s over the entries after seq %d: %w", r.old, at, err)
		}
		if _, err := n.store.ForgetForks(ctx, r.old); err != nil {
			return nil, err
		}
		n.log.Warn("a recovery rotation superseded entries of the old key written after it (a stolen device's): dropped them",
			"peer", r.old, "new", r.next, "after_seq", at, "dropped", dropped)
		es = slices.DeleteFunc(slices.Clone(es), func(e *graph.Entry) bool { return e.Author == r.old && e.Seq <= at+1 })
	}
	return es, nil
}

// checkRotations verifies every rotate entry of es against its author's
// genesis (held, or earlier in es), and refuses an entry of a log that a
// rotation closed (held, or earlier in es).
func (n *Node) checkRotations(ctx context.Context, es []*graph.Entry) ([]followed, error) {
	var out []followed
	closed := map[peer.ID]bool{}
	commits := map[peer.ID][]byte{}
	nexts := map[peer.ID][]byte{} // new identity → `next` of a rotation earlier in es
	for _, e := range es {
		a := e.Author
		if _, seen := closed[a]; !seen {
			r, err := n.store.Record(ctx, a, graph.KindRotate, "")
			switch {
			case errors.Is(err, graph.ErrNotFound):
				closed[a] = false
			case err != nil:
				return nil, err
			default:
				closed[a] = r.Body.Rotate != nil || r.Body.Del
			}
		}
		if closed[a] {
			return nil, fmt.Errorf("entry %d of %s: %w", e.Seq, a, graph.ErrRotated)
		}
		if e.Body != nil && e.Body.Kind == graph.KindGenesis {
			commits[a] = e.Body.Recovery
			if err := n.checkNewGenesis(ctx, a, e.Body.Recovery, nexts); err != nil {
				return nil, err
			}
		}
		if !isRotate(e) {
			continue
		}
		c, ok := commits[a]
		if !ok {
			g, err := n.store.Record(ctx, a, graph.KindGenesis, "")
			if err != nil && !errors.Is(err, graph.ErrNotFound) {
				return nil, err
			}
			if err == nil {
				c = g.Body.Recovery
			}
		}
		r, err := graph.VerifyRotation(e, c)
		if err != nil {
			return nil, fmt.Errorf("rotate entry %d of %s: %w", e.Seq, a, err)
		}
		np, _ := r.NewPeer()
		// The new identity's genesis, if held already, commits to next.
		got, ok := commits[np]
		if !ok {
			g, err := n.store.Record(ctx, np, graph.KindGenesis, "")
			switch {
			case errors.Is(err, graph.ErrNotFound):
			case err != nil:
				return nil, err
			default:
				got, ok = g.Body.Recovery, true
			}
		}
		if ok && !bytes.Equal(got, r.Next) {
			return nil, fmt.Errorf("rotate entry %d of %s: %w: the genesis of %s commits to another recovery key than the rotation's next",
				e.Seq, a, graph.ErrBadRotation, np)
		}
		closed[a] = true
		nexts[np] = r.Next
		out = append(out, followed{old: a, next: np, mode: r.Mode, rot: r, time: e.Time})
	}
	return out, nil
}

// checkNewGenesis refuses the genesis of p when a rotation held (or in
// nexts: earlier in the batch) handed over to p and named another recovery
// commitment as its `next`: the new log must commit to the recovery key
// the rotation promised, or a later rotation of p could be signed by
// another key than the person's.
func (n *Node) checkNewGenesis(ctx context.Context, p peer.ID, commitment []byte, nexts map[peer.ID][]byte) error {
	want, ok := nexts[p]
	old := peer.ID("")
	if !ok {
		var err error
		if want, old, ok, err = n.rots.commitmentFor(ctx, n, p); err != nil {
			return err
		}
	}
	if ok && !bytes.Equal(want, commitment) {
		return fmt.Errorf("genesis of %s: %w: it commits to another recovery key than the rotation of %s named (next)", p, graph.ErrBadRotation, old)
	}
	return nil
}

// isRotate reports whether e sets a rotate record, read or not: a public
// body that did not parse is peeked at, so that a malformed rotation is
// refused rather than kept unread.
func isRotate(e *graph.Entry) bool {
	if e.Body != nil {
		return e.Body.Kind == graph.KindRotate
	}
	if !e.Aud.Public {
		return false
	}
	var m map[string]any
	if err := spec.Unmarshal(e.Entry.Body, &m); err != nil {
		return true // a public body must parse: refuse it through VerifyRotation
	}
	k, _ := m["kind"].(string)
	return k == graph.KindRotate
}

// follow moves my connection r.old to r.next and syncs with it: it is
// reached where old was.
func (n *Node) follow(ctx context.Context, r followed) {
	moved, err := n.book.FollowRotation(ctx, r.old, r.next)
	if err != nil {
		n.log.Warn("following a rotation", "old", r.old, "new", r.next, "err", err)
		return
	}
	if !moved {
		return
	}
	ps := n.host.Peerstore()
	ps.AddAddrs(r.next, ps.Addrs(r.old), peerstore.AddressTTL)
	if pi, err := n.store.PeerInfo(ctx, r.old); err == nil && len(pi.Addrs) > 0 {
		if err := n.store.PutPeerAddrs(ctx, r.next, pi.Addrs); err != nil {
			n.log.Warn("remembering the addresses of a rotated connection", "peer", r.next, "err", err)
		}
	}
	n.log.Info("a connection rotated to a new identity: moved it", "old", r.old, "new", r.next, "mode", r.mode)
	n.sync.Schedule(r.next)
}
