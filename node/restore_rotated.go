package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// restoreRotated goes on with a restore whose log came back ended by
// rotation r (spec "Rotation", "Restoring a rotated identity"): a home
// recovered from the phrase starts at generation 0, but the person may
// have rotated since. The phrase derives r's generation; its key replaces
// the home's key file, the daemon restarts the node on it, and the restore
// goes on as that identity (whose own log may end with a rotation in turn).
func (n *Node) restoreRotated(ctx context.Context, req api.RestoreRequest, from peer.ID, r *graph.Rotation) (*api.RestoreResult, error) {
	me := n.id.PeerID()
	np, err := r.NewPeer()
	if err != nil {
		return nil, err
	}
	if req.Phrase == "" {
		return nil, fmt.Errorf("%w: your identity %s rotated to %s (generation %d), which this home must run as: "+
			"give your recovery phrase to `kith restore` to move it there", api.ErrNeedPhrase, me, np, r.Gen)
	}
	root, err := identity.ParsePhrase(req.Phrase)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	defer root.Clear()
	if _, ok := root.GenerationOf(me); !ok {
		return nil, fmt.Errorf("%w: no generation of its keys is %s", api.ErrWrongPhrase, me)
	}
	next, err := root.IdentityAt(uint32(r.Gen))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	if next.PeerID() != np {
		return nil, fmt.Errorf("%w: the rotation of %s names %s at generation %d, but that generation of your phrase is %s",
			api.ErrWrongPhrase, me, np, r.Gen, next.PeerID())
	}
	staged, err := n.stageKey(next, req.Passphrase)
	if err != nil {
		return nil, err
	}
	if staged != "" {
		ks := identity.Keystore{Dir: n.home}
		if err := os.Rename(staged, ks.Path()); err != nil {
			return nil, fmt.Errorf("putting the key file of %s in place: %w (move %s to %s by hand)", np, err, staged, ks.Path())
		}
		os.Remove(filepath.Dir(staged))
	}
	n.log.Info("my log came back ended by a rotation: this home now runs as the identity it rotated to", "old", me, "new", np, "generation", r.Gen)
	if n.switchKey == nil {
		return &api.RestoreResult{From: from, Syncing: []peer.ID{}, Pending: []peer.ID{}, DamagedStore: n.damaged,
			PeerID: np, Rotated: []peer.ID{me}, Generation: uint32(r.Gen), Restart: true}, nil
	}
	fresh, err := n.switchKey(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("restarting as %s: %w", np, err)
	}
	res, err := fresh.Restore(ctx, req)
	if err != nil {
		return nil, err
	}
	res.Rotated = append([]peer.ID{me}, res.Rotated...)
	if res.Generation == 0 {
		res.Generation = uint32(r.Gen)
	}
	return res, nil
}
