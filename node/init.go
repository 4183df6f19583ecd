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

// InitResult is what Init, Recover or NewLog made.
type InitResult struct {
	PeerID         string
	RecoveryPhrase string // from Init only: shown once, never stored
}

// Init creates home (0700), a new root with its recovery phrase, the
// identity key and data key it derives (saved encrypted when passphrase is
// non-empty; the phrase and the recovery key are not), and the first
// entries of the log: genesis (committing to the recovery key), keys, and
// the default circles.
func Init(ctx context.Context, home string, passphrase []byte) (*InitResult, error) {
	ks := identity.Keystore{Dir: home}
	if ks.Exists() {
		return nil, fmt.Errorf("%w: %s exists", ErrAlreadyInitialized, ks.Path())
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("creating home %s: %w", home, err)
	}
	root, err := identity.NewRoot(rand.Reader)
	if err != nil {
		return nil, err
	}
	defer root.Clear()
	id, err := root.Identity()
	if err != nil {
		return nil, err
	}
	if err := newLog(ctx, home, id); err != nil {
		return nil, err
	}
	// The key is saved last: a crash before this leaves a log without a key,
	// which a second `kith init` simply ignores.
	if err := ks.Save(id, passphrase); err != nil {
		return nil, err
	}
	return &InitResult{PeerID: id.PeerID().String(), RecoveryPhrase: root.Phrase()}, nil
}

// Recover writes home's key file from a recovery phrase: the identity key
// and data key the phrase derives, encrypted when passphrase is non-empty.
// It writes no log: home is then a key-only home, which gets its log back
// from the first connection that holds it (see [HasLog]). It refuses a home
// that holds a key already ([ErrAlreadyInitialized]) and a wrong phrase
// ([identity.ErrBadPhrase], saying which word).
func Recover(ctx context.Context, home, phrase string, passphrase []byte) (*InitResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ks := identity.Keystore{Dir: home}
	if ks.Exists() {
		return nil, fmt.Errorf("%w: %s exists", ErrAlreadyInitialized, ks.Path())
	}
	id, _, err := identity.FromPhrase(phrase)
	if err != nil {
		return nil, err
	}
	if err := ks.Save(id, passphrase); err != nil {
		if errors.Is(err, identity.ErrKeyExists) {
			return nil, fmt.Errorf("%w: %w", ErrAlreadyInitialized, err)
		}
		return nil, err
	}
	return &InitResult{PeerID: id.PeerID().String()}, nil
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
// the first entries as [Init] writes them, committing to the recovery key
// the key file names, so the recovery phrase stays the same. Friends holding the old log see the new one as a fork: getting the old
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
	if err := newLog(ctx, home, id); err != nil {
		return nil, err
	}
	return &InitResult{PeerID: id.PeerID().String()}, nil
}

// newLog starts id's log in home's store with a genesis that commits to its
// recovery key.
func newLog(ctx context.Context, home string, id *identity.Identity) error {
	st, err := store.Open(ctx, filepath.Join(home, DBName), book.Index{})
	if err != nil {
		return err
	}
	defer st.Close()
	return bootstrap(ctx, id, st, id.RecoveryCommitment())
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
