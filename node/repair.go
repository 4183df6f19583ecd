package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// Repair implements api.API: it salvages the store into a new one (see
// store.Salvage) and restarts the node on it, keeping the damaged file
// aside. Only a node the daemon runs can be repaired: the daemon stops it
// first, so that nothing is written meanwhile, and starts its successor.
func (n *Node) Repair(ctx context.Context) (*api.RepairReport, error) {
	if n.repair == nil {
		return nil, fmt.Errorf("%w: this node is not run by a daemon; stop it and run `kith repair` with `kith daemon` running", api.ErrInvalid)
	}
	return n.repair(ctx)
}

// repairHome salvages the store of home (closed: its node is stopped) into
// a new file, then moves the damaged one aside (name.damaged-<time>) and
// the new one into its place. On an error before the swap the store is
// left as it was.
func repairHome(ctx context.Context, id *identity.Identity, home string) (*api.RepairReport, error) {
	path := filepath.Join(home, DBName)
	tmp := path + ".repair"
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(tmp + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing an earlier repair's %s: %w", tmp+suffix, err)
		}
	}
	sr, err := store.Salvage(ctx, path, tmp, book.Index{}, graph.Opener(id))
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("salvaging %s: %w", path, err)
	}
	aside := fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405Z"))
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Rename(path+suffix, aside+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("moving the damaged store aside: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("moving the repaired store into place (the damaged one is %s): %w", aside, err)
	}
	if d, err := os.Open(home); err == nil {
		d.Sync()
		d.Close()
	}
	return &api.RepairReport{Entries: sr.Entries, Logs: sr.Logs, Lost: sr.Lost, Tables: sr.Tables, Problems: sr.Problems, DamagedStore: aside}, nil
}
