package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
)

// InitResult is what Init created.
type InitResult struct {
	PeerID         string
	RecoveryPhrase string // shown once, never stored
}

// Init creates home (0700), a new identity key (encrypted when passphrase
// is non-empty), a recovery phrase, and the first entries of the log:
// genesis (committing to the recovery key), keys, and the default circles.
func Init(ctx context.Context, home string, passphrase []byte) (*InitResult, error) {
	ks := identity.Keystore{Dir: home}
	if ks.Exists() {
		return nil, fmt.Errorf("%w: %s exists", ErrAlreadyInitialized, ks.Path())
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("creating home %s: %w", home, err)
	}
	id, err := identity.Generate(rand.Reader)
	if err != nil {
		return nil, err
	}
	rec, err := newLog(ctx, home, id)
	if err != nil {
		return nil, err
	}
	// The key is saved last: a crash before this leaves a log without a key,
	// which a second `kith init` simply ignores.
	if err := ks.Save(id, passphrase); err != nil {
		return nil, err
	}
	return &InitResult{PeerID: id.PeerID().String(), RecoveryPhrase: rec.Phrase}, nil
}

// HasLog reports whether home's store holds any log (its own log is the
// first thing written to it). A home without (restored from a copy of the
// key alone) gets its log back from a connection (see [Node.Connect]), or
// a new one from [NewLog].
func HasLog(ctx context.Context, home string) (bool, error) {
	path := filepath.Join(home, DBName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	st, err := store.Open(ctx, path, book.Index{})
	if err != nil {
		return false, err
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	return stats.Entries > 0, err
}

// NewLog starts a new log for the identity key in home, which has none:
// the first entries as [Init] writes them, committing to a new recovery
// phrase (returned; the old one cannot be checked against a key alone).
// Friends holding the old log see the new one as a fork: getting the old
// one back from them is better when there are any. It takes the home's
// lock, so no daemon runs on it meanwhile.
func NewLog(ctx context.Context, home string, passphrase []byte) (*InitResult, error) {
	id, err := identity.Keystore{Dir: home}.Load(passphrase)
	if err != nil {
		return nil, err
	}
	unlock, err := lockHome(home)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rec, err := newLog(ctx, home, id)
	if err != nil {
		return nil, err
	}
	return &InitResult{PeerID: id.PeerID().String(), RecoveryPhrase: rec.Phrase}, nil
}

// newLog makes a recovery key and starts id's log in home's store with a
// genesis that commits to it.
func newLog(ctx context.Context, home string, id *identity.Identity) (*identity.Recovery, error) {
	rec, err := identity.NewRecovery(rand.Reader)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(home, DBName), book.Index{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if err := bootstrap(ctx, id, st, identity.Commitment(rec.Public)); err != nil {
		return nil, err
	}
	return rec, nil
}

// bootstrap writes the first entries of id's log.
func bootstrap(ctx context.Context, id *identity.Identity, st graph.Store, commitment []byte) error {
	w, err := graph.NewWriter(ctx, id, st, nil)
	if err != nil {
		return err
	}
	if w.Head().Seq != 0 {
		return fmt.Errorf("%w: the store already holds a log for %s", ErrAlreadyInitialized, id.PeerID())
	}
	drafts := []graph.Draft{
		{Body: graph.Body{Kind: graph.KindGenesis, Recovery: commitment}, To: graph.Audience{Public: true}},
		{Body: graph.Body{Kind: graph.KindKeys, Enc: id.EncryptionKey()}, To: graph.Audience{Public: true}},
	}
	drafts = append(drafts, book.CircleDrafts(book.DefaultCircles)...)
	if _, err := w.Append(ctx, drafts...); err != nil {
		return fmt.Errorf("writing the first log entries: %w", err)
	}
	return nil
}
