package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// Errors from Import.
var (
	// ErrHomeHasLog: the home's store holds entries already; an import
	// goes into a fresh home (there is no merge).
	ErrHomeHasLog = errors.New("node: this home already holds a log")
	// ErrNoKeyToImport: the export holds no key and the home has none, so
	// nothing could open the entries or run the node.
	ErrNoKeyToImport = errors.New("node: the export holds no identity key and the home has none")
	// ErrImportCheck: the imported store does not hold the logs the
	// manifest lists, up to their heads.
	ErrImportCheck = errors.New("node: the imported store is inconsistent")
)

// Import reads an export (graph/archive) from r into home, which needs no
// init: it verifies every block, signature, chain and rotation (as sync
// does: a forged or replayed `rotate` entry, or an entry after one, is
// refused) and rebuilds every view. Home must hold no log (an empty home,
// or one holding only the identity key, which the export must then belong
// to); when it has no key, the export's key becomes its key, under the
// export's passphrase. The entries go into a temporary store that is moved
// into place only when everything passed: a refused import leaves home as
// it was. It takes the home's lock, so no daemon runs meanwhile.
func Import(ctx context.Context, home string, r io.Reader, opts api.ImportOptions) (res *api.ImportResult, err error) {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("creating home %s: %w", home, err)
	}
	unlock, err := lockHome(home)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dbPath := filepath.Join(home, DBName)
	if has, err := HasLog(ctx, home); err != nil {
		return nil, err
	} else if has {
		return nil, fmt.Errorf("%w (%s); import into a fresh home (--home or KITH_HOME naming a new directory), or move %s aside first",
			ErrHomeHasLog, home, dbPath)
	}
	ks := identity.Keystore{Dir: home}
	var id *identity.Identity
	if ks.Exists() {
		if id, err = ks.Load(opts.HomePassphrase); err != nil {
			return nil, err
		}
	}
	// Signatures are verified behind the store: the entries go into the
	// temporary store once their CIDs, encoding and chain check out, each
	// log's head signature as the chain reaches it (which authenticates
	// the log: spec/SPEC.md, "Export (CAR)"), and the other signatures are
	// verified on the other cores while the store loads and indexes;
	// nothing is kept until ar.Signatures returns nil.
	ropts := archive.ReadOptions{Progress: opts.Progress, SignaturesBehind: true}
	if id != nil {
		ropts.Expect = id.PeerID()
	}
	ar, err := archive.NewReader(bufio.NewReaderSize(r, 1<<20), ropts)
	if err != nil {
		return nil, err
	}
	var pass []byte
	keyImported := false
	if id == nil {
		if ar.Key() == nil {
			return nil, fmt.Errorf("%w: export again with --with-key, or put the identity key (identity.key) into %s first", ErrNoKeyToImport, home)
		}
		if opts.KeyPassphrase == nil {
			return nil, fmt.Errorf("the export's key: %w", identity.ErrPassphraseRequired)
		}
		if pass, err = opts.KeyPassphrase(ctx); err != nil {
			return nil, err
		}
		defer clear(pass)
		if id, err = identity.ParseKey(ar.Key(), pass); err != nil {
			return nil, fmt.Errorf("opening the key in the export: %w", err)
		}
		if id.PeerID() != ar.Identity() {
			return nil, fmt.Errorf("%w: its key is %s's, its manifest %s's", archive.ErrWrongIdentity, id.PeerID(), ar.Identity())
		}
		keyImported = true
	}

	tmp := dbPath + ".import"
	removeDB(tmp)
	st, err := store.OpenBulk(ctx, tmp, book.Index{})
	if err != nil {
		return nil, err
	}
	st.ExpectRecords(int(min(ar.Manifest().Entries(), maxExpectedRecords)))
	defer func() {
		if st != nil {
			st.Close()
		}
		if err != nil {
			removeDB(tmp)
		}
	}()
	open := graph.Opener(id)
	defer ar.Signatures() // on an early return: wait for the verifiers to stop
	// Rotations are checked as sync checks them (checkRotations), chunk
	// by chunk against what the temporary store holds already: a log's
	// genesis comes before its rotation, in the chunk or an earlier one.
	// The chunks go into the store on a goroutine of their own: called
	// from the reader's chain, each Put (a sixth of a second on 8192
	// entries) held up the reading and opening behind it, which then
	// held up the next Put, so the two took turns instead of overlapping.
	rotations := &Node{store: st}
	g, gctx := errgroup.WithContext(ctx)
	chunks := make(chan []*graph.Entry, importPutsAhead)
	g.Go(func() error {
		for es := range chunks {
			if _, err := rotations.checkRotations(gctx, es); err != nil {
				return fmt.Errorf("%w: %w", archive.ErrBadEntry, err)
			}
			if err := st.Put(gctx, es); err != nil {
				return err
			}
		}
		return nil
	})
	send := func(es []*graph.Entry) error {
		select {
		case chunks <- es:
			return nil
		case <-gctx.Done():
			return context.Cause(gctx)
		}
	}
	var pending []*graph.Entry
	put := func(ctx context.Context, es []*graph.Entry) error {
		if pending = append(pending, es...); len(pending) < importPutSize {
			return nil
		}
		es, pending = pending, nil
		return send(es)
	}
	// ctx, not gctx: the signatures verified behind outlive g (whose
	// Wait cancels gctx); a failed Put stops Entries through put.
	err = ar.Entries(ctx, open, put)
	if err == nil && len(pending) > 0 {
		err = send(pending)
	}
	close(chunks)
	if werr := g.Wait(); werr != nil {
		return nil, werr // the store's error, which stopped the reading
	}
	if err != nil {
		return nil, err
	}
	live, err := st.FinishBulk(ctx)
	if err != nil {
		return nil, err
	}
	// Entries returned nil: every entry matched its CID, decoded, opened
	// and linked up to its log's head in the manifest, and went through
	// Put's own checks (link, fork, fold) as sync's entries do; the
	// store must now hold exactly those heads. A full Store.Check here
	// (re-reading, re-hashing, re-opening and re-folding everything) took
	// a sixth of the import's CPU to re-derive what the load had just
	// built from the same verified entries; `kith check` runs it on
	// demand, and the bulk-load tests hold a bulk store to it.
	if err := checkHeads(ctx, st, ar.Manifest()); err != nil {
		return nil, err
	}
	if err := ar.Signatures(); err != nil {
		return nil, err
	}
	// Where my connections were last seen (unsigned hints): kept only
	// for connections of the verified graph, for the daemon to dial.
	if err := keepHints(ctx, st, id.PeerID(), ar.Hints()); err != nil {
		return nil, err
	}
	contacts := live[id.PeerID()][graph.KindContact]
	cerr := st.Close()
	st = nil
	if cerr != nil {
		return nil, cerr
	}
	if keyImported {
		// The export's key file as it is (ParseKey opened it above),
		// still under the export's passphrase: sealing it again would
		// run Argon2 a second time for the same result.
		if err := ks.SaveMarshaled(ar.Key()); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				os.Remove(ks.Path())
			}
		}()
	}
	removeDB(dbPath) // an empty store (checked above), if any
	// The store's file was synced by Close; the rename is made durable
	// too before the import is reported done (until then a crash leaves
	// the home without the store, or with the temporary file, which the
	// next import removes and nothing else reads).
	if err := os.Rename(tmp, dbPath); err != nil {
		return nil, fmt.Errorf("moving the imported store into place: %w", err)
	}
	if err := syncDir(home); err != nil {
		return nil, fmt.Errorf("syncing %s after moving the imported store into place: %w", home, err)
	}
	m := ar.Manifest()
	return &api.ImportResult{PeerID: id.PeerID(), Home: home, Logs: len(m.Logs), Entries: m.Entries(), KeyImported: keyImported,
		Created: m.CreatedTime().UTC(), Contacts: contacts}, nil
}

// importPutSize is how many entries an import stores in one transaction
// (eight of the reader's batches): each commit writes out every page the
// transaction touched, and every batch touches the same index pages. On
// 100,000 entries, 8192 instead of 1024 took the commits from 0.7 s of
// CPU to 0.4 s.
const importPutSize = 8192

// maxExpectedRecords bounds what an import makes room for ahead
// (store.ExpectRecords) on the manifest's word, which is checked only
// as the entries arrive.
const maxExpectedRecords = 1 << 17

// importPutsAhead is how many chunks of importPutSize entries the reader
// may hand on while the store is still putting one.
const importPutsAhead = 2

// checkHeads checks that st holds each log of m up to its head, and no
// other log.
func checkHeads(ctx context.Context, st *store.Store, m *archive.Manifest) error {
	heads, err := st.Heads(ctx)
	if err != nil {
		return err
	}
	if len(heads) != len(m.Logs) {
		return fmt.Errorf("%w: it holds %d logs, the manifest lists %d", ErrImportCheck, len(heads), len(m.Logs))
	}
	for _, l := range m.Logs {
		if h := heads[peer.ID(l.Author)]; h.Seq != l.Seq || !h.CID.Equals(l.Head.Cid) {
			return fmt.Errorf("%w: the log of %s ends at seq %d (%s), the manifest's head is seq %d (%s)",
				ErrImportCheck, peer.ID(l.Author), h.Seq, h.CID, l.Seq, l.Head)
		}
	}
	return nil
}

// removeDB removes a store's files.
func removeDB(path string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
}

// syncDir flushes dir's entries (a rename in it) to stable storage.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
