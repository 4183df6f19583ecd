package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// logWriter is my log's writer as the book, the API and the sync service
// see it. It refuses to write while my log is to be restored; it holds
// writes after start until my head is learnt from a connection (or the
// hold runs out: see [tuning].writeHold); it takes back a friend's history
// of my log when mine diverged from it (Rebase); and it announces every
// append to my online connections (the one place that happens).
type logWriter struct {
	w        *graph.Writer
	id       *identity.Identity
	store    *store.Store
	announce func()
	log      *slog.Logger
	// hasLog caches that my log exists; it never goes back.
	hasLog atomic.Bool

	// held is closed once writes may go: a connection told me its view of
	// my head, or none could in time.
	held     chan struct{}
	holdOnce sync.Once

	// mu is held shared by appends and exclusively by a rebase, which
	// rewrites the stored log under the writer.
	mu sync.RWMutex
	// dropped are the CIDs of my entries a rebase took out (this run): a
	// history holding one is a branch I left, not one to take back.
	dropped map[cid.Cid]bool
	// rebaseFault, in tests, fails a rebase once its entries are built,
	// before anything is stored: a crash at that point.
	rebaseFault func() error

	// bmu guards blind and blindCIDs. My writes are blind from a hold
	// that ended without any connection telling me my head (none
	// reachable, or none answered in time) until a pull of my log
	// completes (Learnt); blindCIDs are the entries written so, this run.
	// A friend's copy of my log that parts from mine only where mine is
	// blind is my own past, most likely lost with an old store (nothing
	// told me my head before I wrote over it), not a fork: Rebase takes
	// it back whatever its length, and logsync withholds those entries
	// from that friend until it has (see Blind).
	bmu       sync.Mutex
	blind     bool
	blindCIDs map[cid.Cid]bool
}

func newLogWriter(w *graph.Writer, id *identity.Identity, st *store.Store, log *slog.Logger, announce func()) *logWriter {
	return &logWriter{w: w, id: id, store: st, log: log, announce: announce, held: make(chan struct{}), dropped: map[cid.Cid]bool{},
		blindCIDs: map[cid.Cid]bool{}}
}

// CanWrite returns errNoLog while my log is to be restored.
func (l *logWriter) CanWrite() error {
	if l.restoring() {
		return errNoLog
	}
	return nil
}

// release lets writes go; why says what ended the hold, blind whether
// the writes that follow are blind (no connection told me my head though
// I have some: see blindCIDs).
func (l *logWriter) release(why string, blind bool) {
	l.holdOnce.Do(func() {
		l.log.Debug("writes may go", "why", why, "head", l.w.Head().Seq, "blind", blind)
		l.bmu.Lock()
		l.blind = blind
		l.bmu.Unlock()
		close(l.held)
	})
}

// Learnt is told that a pull of my log from p completed: p's view of my
// head is in this store now, so writes need not wait any more, and are
// no longer blind.
func (l *logWriter) Learnt(p peer.ID) {
	l.bmu.Lock()
	l.blind = false
	l.bmu.Unlock()
	l.release("head learnt from "+p.String(), false)
}

// Blind reports whether c is an entry of my log written blind, this run
// (see blindCIDs).
func (l *logWriter) Blind(c cid.Cid) bool {
	l.bmu.Lock()
	defer l.bmu.Unlock()
	return l.blindCIDs[c]
}

// allBlind reports whether every one of les was written blind.
func (l *logWriter) allBlind(les []store.LogEntry) bool {
	l.bmu.Lock()
	defer l.bmu.Unlock()
	for _, le := range les {
		if !l.blindCIDs[le.CID] {
			return false
		}
	}
	return true
}

// wait waits for the hold to end.
func (l *logWriter) wait(ctx context.Context) error {
	select {
	case <-l.held:
		return nil
	default:
	}
	select {
	case <-l.held:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting to learn my log's head from a connection: %w", ctx.Err())
	}
}

// Append writes drafts to my log and announces them.
func (l *logWriter) Append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error) {
	if l.restoring() {
		return nil, errNoLog
	}
	if err := l.wait(ctx); err != nil {
		return nil, err
	}
	l.mu.RLock()
	l.bmu.Lock()
	blind := l.blind
	l.bmu.Unlock()
	es, err := l.w.Append(ctx, drafts...)
	if err == nil && blind {
		l.bmu.Lock()
		for _, e := range es {
			l.blindCIDs[e.CID] = true
		}
		l.bmu.Unlock()
	}
	l.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	l.announce()
	return es, nil
}

// Head is the head of my log as built.
func (l *logWriter) Head() graph.Head { return l.w.Head() }

// Fits implements book.Writer: see graph.Writer.Fits.
func (l *logWriter) Fits(d graph.Draft) error { return l.w.Fits(d) }

// Adopt stores entries of my log a friend gave back that extend my head.
func (l *logWriter) Adopt(ctx context.Context, entries []*graph.Entry) (int, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.Adopt(ctx, entries)
}

// ErrStaleBranch: a friend's history of my log holds an entry this node
// took out in an earlier rebase; it is not taken back.
var ErrStaleBranch = errors.New("node: a history of my log that this node left")

// ErrNotAhead: a friend's history of my log that parts from mine is not
// longer than mine, and mine is not blind where they part; it is not
// taken back.
var ErrNotAhead = errors.New("node: a friend's history of my log is not ahead of mine")

// Rebase takes back theirs, a friend's history of my log from the first
// seq where it differs from mine (verified entries, each linked to the one
// before, the first to my entry before it), in place of mine from there.
// My entries from that seq on are not lost: the body of each is appended
// again on top (sealed to the same readers), unless theirs holds a newer
// version of that record. It returns how many entries it took back and
// how many it appended again.
//
// A longer history is taken; one no longer than mine only when every
// entry of mine it replaces was written blind, this run (see blindCIDs:
// then theirs is my own past, most likely lost with an old store).
// Otherwise (ErrNotAhead) a friend holding a copy as long as mine that
// parts from it holds a fork, which it records and resolves (`kith forks
// resolve`): two copies of my log I wrote knowing my head are not mine to
// merge silently. Friends then see my log extend the history they hold:
// no fork. A history holding an entry a rebase took out is refused
// (ErrStaleBranch), so two histories cannot make a node go back and forth
// within a run; across runs, no entry is blind at start, and a rebased
// log is longer than the history it took, so only a longer one is.
func (l *logWriter) Rebase(ctx context.Context, theirs []*graph.Entry) (taken, again int, err error) {
	if len(theirs) == 0 {
		return 0, 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	me := l.id.PeerID()
	for _, e := range theirs {
		if l.dropped[e.CID] {
			return 0, 0, fmt.Errorf("%w: seq %d", ErrStaleBranch, e.Seq)
		}
	}
	les, err := l.store.Log(ctx, me, theirs[0].Seq-1, 0)
	if err != nil {
		return 0, 0, err
	}
	// What is the same as mine (another pull may have rebased meanwhile)
	// stays; a copy that only extends mine is adopted.
	for len(theirs) > 0 && len(les) > 0 && les[0].Seq == theirs[0].Seq && les[0].CID.Equals(theirs[0].CID) {
		les, theirs = les[1:], theirs[1:]
	}
	if len(theirs) == 0 {
		return 0, 0, nil
	}
	if len(les) == 0 {
		k, err := l.w.Adopt(ctx, theirs)
		return k, 0, err
	}
	if last, head := theirs[len(theirs)-1].Seq, l.w.Head().Seq; last <= head && !l.allBlind(les) {
		// Not ahead of mine, and mine was written knowing my head: the
		// friend holds a fork of my log, and mine stays (equal lengths
		// are no reason to prefer theirs).
		return 0, 0, fmt.Errorf("%w: their copy ends at seq %d, mine at %d", ErrNotAhead, last, head)
	}
	from := theirs[0].Seq
	if from == 1 {
		// A different genesis: another log of this key (`--new-log`), not
		// a history to merge.
		return 0, 0, fmt.Errorf("rebasing my log: the friend's copy starts with another genesis")
	}
	open := graph.Opener(l.id)
	var drafts []graph.Draft
	var mine []cid.Cid
	var candidates []graph.Reader // read once, for the first sealed entry
	for _, le := range les {
		mine = append(mine, le.CID)
		e, err := graph.Verify(le.Raw, open)
		if err != nil || e.Body == nil || e.Body.Kind == graph.KindGenesis || e.Body.Kind == graph.KindRotate {
			continue // a log's genesis is the friend's too; a rotation ends a log and is never written again
		}
		if newerIn(theirs, e) {
			continue
		}
		if candidates == nil {
			if candidates, err = l.knownReaders(ctx); err != nil {
				return 0, 0, err
			}
		}
		to, err := l.audienceOf(e.Entry, candidates)
		if err != nil {
			return 0, 0, err
		}
		drafts = append(drafts, graph.Draft{Body: *e.Body, To: to})
	}
	// My records go on top of their history in the same transaction that
	// takes it: a crash leaves either my log as it was or the whole
	// rebased one, never theirs without mine.
	last := theirs[len(theirs)-1]
	rebuilt, err := l.w.Build(graph.Head{Seq: last.Seq, CID: last.CID, Time: last.Time}, drafts...)
	if err != nil {
		return 0, 0, fmt.Errorf("sealing my records again on top of a friend's history: %w", err)
	}
	if l.rebaseFault != nil {
		if err := l.rebaseFault(); err != nil {
			return 0, 0, err
		}
	}
	if _, err := l.store.Rewind(ctx, me, from-1, append(slices.Clone(theirs), rebuilt...), open); err != nil {
		return 0, 0, fmt.Errorf("taking back a friend's history of my log: %w", err)
	}
	if _, err := l.w.Adopt(ctx, nil); err != nil { // the writer reads the new head
		return 0, 0, err
	}
	for _, c := range mine {
		l.dropped[c] = true
	}
	l.log.Warn("my log had diverged from a friend's copy: took theirs back and appended mine again on top",
		"from_seq", from, "taken", len(theirs), "dropped", len(mine), "appended_again", len(drafts))
	l.announce()
	return len(theirs), len(drafts), nil
}

// newerIn reports whether theirs holds a version of e's record at least
// as new as e.
func newerIn(theirs []*graph.Entry, e *graph.Entry) bool {
	for _, t := range theirs {
		if t.Body != nil && t.Body.Kind == e.Body.Kind && t.Body.Key == e.Body.Key && t.Time >= e.Time {
			return true
		}
	}
	return false
}

// audienceOf is the audience to seal a body to again: the readers of e, a
// stored entry of mine. An entry names no reader, so graph.Recipients
// tells which of the candidates (see knownReaders) it was sealed to.
func (l *logWriter) audienceOf(e *spec.Entry, candidates []graph.Reader) (graph.Audience, error) {
	switch {
	case e.Aud.Public:
		return graph.Audience{Public: true}, nil
	case e.Aud.Self:
		return graph.Audience{Self: true}, nil
	}
	readers, err := graph.Recipients(l.id, e, candidates)
	if err != nil {
		return graph.Audience{}, err
	}
	me := graph.Reader{ID: l.id.PeerID(), EncKey: l.id.EncryptionKey()}
	return graph.Audience{Readers: append([]graph.Reader{me}, readers...)}, nil
}

// knownReaders returns every other identity whose log this store holds
// and whose encryption key it knows: whom an entry of mine can have been
// sealed to.
func (l *logWriter) knownReaders(ctx context.Context) ([]graph.Reader, error) {
	heads, err := l.store.Heads(ctx)
	if err != nil {
		return nil, err
	}
	out := []graph.Reader{} // not nil: read
	for p := range heads {
		if p == l.id.PeerID() {
			continue
		}
		r, ok, err := graph.ReaderOf(ctx, l.store, p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// restoring reports whether my log is still to be restored: the home
// held the key alone.
func (l *logWriter) restoring() bool {
	if l.hasLog.Load() {
		return false // the common case, without the writer's lock
	}
	if l.w.Head().Seq > 0 {
		l.hasLog.Store(true)
		return false
	}
	return true
}

// errNoLog is the answer to a write while my log is being restored.
var errNoLog = fmt.Errorf("%w: this home holds your identity key but not your log; it comes back from a connection: "+
	"keep the daemon running for one to reach it, or `kith restore --from` (or `kith connect`) a friend's address, invite code or peer ID "+
	"(`kith init --new-log` starts a new log instead, which friends holding the old one see as a fork)", api.ErrNoLog)
