package logsync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/spec"
)

// ServiceName names the service to the resource manager.
const ServiceName = "kith.sync"

// ErrUnrequested: a peer sent an entry of a log that was not asked for.
var ErrUnrequested = errors.New("logsync: peer sent an entry that was not requested")

// Tuning holds the service's limits and timers.
type Tuning struct {
	// IdleTimeout bounds the wait for each frame of a sync stream: a peer
	// that stops sending (or never ends) is reset.
	IdleTimeout time.Duration
	// Batch is how many received entries go into one transaction.
	Batch int
	// ServeChunk is how many entries the responder reads from the store at a time.
	ServeChunk int
	// MaxRequestFrame bounds a sync request frame.
	MaxRequestFrame int
	// MaxChunkBytes bounds the entry bytes of one received chunk, so that
	// a pull holds at most a few such chunks in memory whatever the peer
	// sends.
	MaxChunkBytes int
	// Quota bounds each other author's log in the store (see quota.go).
	Quota Quota
}

// DefaultTuning is what a daemon runs with.
var DefaultTuning = Tuning{
	IdleTimeout:     30 * time.Second,
	Batch:           1000,
	ServeChunk:      1000,
	MaxRequestFrame: 16 << 10,
	MaxChunkBytes:   4 << 20,
	Quota:           DefaultQuota,
}

// Store is what the service reads and writes of the store.
type Store interface {
	Head(ctx context.Context, author peer.ID) (graph.Head, error)
	Log(ctx context.Context, author peer.ID, after uint64, limit int) ([]store.LogEntry, error)
	// Put stores verified entries of other logs than mine.
	Put(ctx context.Context, entries []*graph.Entry) error
	MarkSynced(ctx context.Context, p peer.ID, t time.Time) error
	// Closed returns the authors of the logs held here that end with a
	// rotation, newest first. A rotate entry authenticates itself, so such
	// a log is offered to and served to every connection (spec "Rotation",
	// "A friend offline during a rotation"), at most MaxOffered of them.
	Closed(ctx context.Context) ([]peer.ID, error)
}

// MaxOffered bounds the logs ended by a rotation that a sync request
// offers (in "have") beyond the two logs it is about, and the offers a
// node looks at in one request.
const MaxOffered = 32

// Writer is my log's writer: entries of my own log that a friend gives
// back go through it.
type Writer interface {
	Head() graph.Head
	// Adopt stores entries of my log that extend my head.
	Adopt(ctx context.Context, entries []*graph.Entry) (int, error)
	// Rebase takes back a friend's history of my log from the first seq
	// where it differs from mine, and appends my records from there again
	// on top; it returns how many entries it took and appended again.
	Rebase(ctx context.Context, theirs []*graph.Entry) (taken, again int, err error)
	// Learnt is told that a pull of my log from p completed.
	Learnt(p peer.ID)
	// Blind reports whether c, an entry of my log, was written before any
	// connection told me my head: a friend's copy that parts from mine
	// there is taken back (Rebase) rather than shown to it as a fork.
	Blind(c cid.Cid) bool
}

// Peers is what the service asks about peers and tells of them.
type Peers interface {
	// SyncsWith reports whether p is a connection to sync with: one that
	// has not disconnected me.
	SyncsWith(ctx context.Context, p peer.ID) bool
	// Active returns those connections.
	Active(ctx context.Context) ([]peer.ID, error)
	// Refused is told of a peer that asked to sync and is not one to sync
	// with (perhaps one I disconnected, who missed my word).
	Refused(p peer.ID)
	// KeysArrived is told that p's encryption key has arrived.
	KeysArrived(ctx context.Context, p peer.ID) error
}

// Config is what New needs.
type Config struct {
	Host    host.Host
	Self    peer.ID
	Open    func(*spec.Entry) (*graph.Body, error) // opens what is sealed to me (graph.Opener)
	Store   Store
	Writer  Writer
	Peers   Peers
	Limiter *p2putil.Limiter // inbound streams per peer, shared with the other protocols
	Quota   QuotaStore       // measures and records authors' storage; nil: no quota
	Tuning  Tuning
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default: discard
}

// Service is the sync protocol of one node.
type Service struct {
	host    host.Host
	self    peer.ID
	open    func(*spec.Entry) (*graph.Body, error)
	store   Store
	writer  Writer
	peers   Peers
	limiter *p2putil.Limiter
	t       Tuning
	now     func() time.Time
	log     *slog.Logger

	g     *p2putil.Group
	quota *quota // nil: none

	// mu guards pulls and announces: the peers with a pull or an
	// announcement running, mapped to whether one more run was asked for
	// meanwhile (see coalesce).
	mu               sync.Mutex
	pulls, announces map[peer.ID]bool
	// later holds the peers with a pull waiting for their rate limit (see
	// scheduleLater).
	later map[peer.ID]bool
	// relay holds, per peer, the logs of my connections it offered at a
	// later head than mine, or with another entry at a seq I hold: the
	// next pull from it wants them too, from my head (0) or after the seq
	// before the one that differs (that seq).
	relay map[peer.ID]map[peer.ID]uint64
	// rebase (under mu too) holds the peers whose copy of my log parts
	// from mine where mine is blind (Writer.Blind): mapped to false, the
	// next pull from it takes its copy back (rebaseFrom) and my log is
	// withheld from it meanwhile; to true once that was tried, when my
	// log is served to it as it is (a fork it records, if the copies
	// still part).
	rebase map[peer.ID]bool
}

// New starts the service: it serves /kith/sync/1.0.0 on c.Host until Close.
func New(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	s := &Service{host: c.Host, self: c.Self, open: c.Open, store: c.Store, writer: c.Writer, peers: c.Peers,
		limiter: c.Limiter, t: c.Tuning, now: c.Now, log: c.Log, g: p2putil.NewGroup(),
		pulls: map[peer.ID]bool{}, announces: map[peer.ID]bool{}, later: map[peer.ID]bool{},
		relay: map[peer.ID]map[peer.ID]uint64{}, rebase: map[peer.ID]bool{}}
	if c.Quota != nil {
		s.quota = newQuota(c.Tuning.Quota, c.Quota, c.Now, s.log)
	}
	c.Host.SetStreamHandler(spec.ProtoSync, s.g.Handler(ServiceName, s.log, s.handle))
	return s
}

// Close stops serving and waits for every pull, announcement and handler.
func (s *Service) Close() error {
	s.host.RemoveStreamHandler(spec.ProtoSync)
	s.g.Close()
	return nil
}

// restoring reports whether my log is still to be restored: the home held
// the key alone.
func (s *Service) restoring() bool { return s.writer.Head().Seq == 0 }

// Schedule asks for a pull from p; pulls from one peer never overlap, and
// a request during a pull runs one more pull after it.
func (s *Service) Schedule(p peer.ID) {
	s.coalesce(s.pulls, p, func() {
		if err := s.Pull(s.g.Context(), p); err != nil && s.g.Context().Err() == nil {
			s.log.Debug("sync pull failed", "peer", p, "err", err)
		}
	})
}

// scheduleLater pulls from p once p's inbound streams may come in again:
// what a refused stream announced is not lost, and two peers over each
// other's limits do not bounce refused pulls back and forth. At most one
// such pull waits per peer.
func (s *Service) scheduleLater(p peer.ID) {
	s.mu.Lock()
	if s.later[p] {
		s.mu.Unlock()
		return
	}
	s.later[p] = true
	s.mu.Unlock()
	d := max(s.limiter.Delay(p), 50*time.Millisecond)
	ok := s.g.Go(func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.g.Context().Done():
		}
		s.mu.Lock()
		delete(s.later, p)
		s.mu.Unlock()
		if s.g.Context().Err() == nil {
			s.Schedule(p)
		}
	})
	if !ok {
		s.mu.Lock()
		delete(s.later, p)
		s.mu.Unlock()
	}
}

// Announce tells every online connection that my log grew. At most one
// announcement per peer is in flight; writes during it cause one more.
func (s *Service) Announce() {
	cs, err := s.peers.Active(s.g.Context())
	if err != nil {
		return
	}
	for _, p := range cs {
		if !p2putil.Online(s.host.Network(), p) {
			continue
		}
		s.coalesce(s.announces, p, func() {
			ctx, cancel := context.WithTimeout(s.g.Context(), s.t.IdleTimeout)
			defer cancel()
			if err := s.notify(ctx, p); err != nil && s.g.Context().Err() == nil {
				s.log.Debug("announce failed", "peer", p, "err", err)
			}
		})
	}
}

// coalesce runs f for p in a tracked goroutine unless one is running for
// p in q already; then it marks that one to run f once more when done. So
// any number of calls during a run cost one more run, not one each.
func (s *Service) coalesce(q map[peer.ID]bool, p peer.ID, f func()) {
	s.mu.Lock()
	if again, running := q[p]; running {
		if !again {
			q[p] = true
		}
		s.mu.Unlock()
		return
	}
	q[p] = false // running, nothing more asked yet
	s.mu.Unlock()
	ok := s.g.Go(func() {
		for {
			f()
			s.mu.Lock()
			if !q[p] || s.g.Context().Err() != nil {
				delete(q, p)
				s.mu.Unlock()
				return
			}
			q[p] = false
			s.mu.Unlock()
		}
	})
	if !ok {
		s.mu.Lock()
		delete(q, p)
		s.mu.Unlock()
	}
}

// openStream opens a sync stream to p (over a relayed connection too),
// attached to the service's resource scope.
func (s *Service) openStream(ctx context.Context, p peer.ID) (network.Stream, error) {
	str, err := s.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-sync"), p, spec.ProtoSync)
	if err != nil {
		return nil, fmt.Errorf("opening sync stream to %s: %w", p, err)
	}
	if err := str.Scope().SetService(ServiceName); err != nil {
		str.Reset()
		return nil, fmt.Errorf("sync stream to %s: %w", p, err)
	}
	return str, nil
}

// request opens a sync stream to p and sends req, with a watchdog on the
// stream (touch it as frames arrive). done ends the exchange: the stream
// is closed, or reset when err is not nil.
func (s *Service) request(ctx context.Context, p peer.ID, req *spec.SyncRequest) (str network.Stream, touch func(), done func(err error), err error) {
	str, err = s.openStream(ctx, p)
	if err != nil {
		return nil, nil, nil, err
	}
	touch, stop := p2putil.Watchdog(ctx, str, s.t.IdleTimeout)
	done = func(err error) {
		stop()
		if err != nil {
			str.Reset()
		} else {
			str.Close()
		}
	}
	if err := p2putil.WriteMsg(str, req); err != nil {
		done(err)
		return nil, nil, nil, err
	}
	return str, touch, done, nil
}

// wanted reports whether this node keeps author's log when p sends it: its
// own log (restored from a friend) and the log of the peer itself.
func (s *Service) wanted(author, from peer.ID) bool {
	return author == s.self || author == from
}

// syncRequest is my position in the logs I keep from p: wanted (a pull)
// or only told (an announcement). conn is whether p is a connection of
// mine: only then are my log and p's in it, with the logs I hold that a
// rotation ended (offered: p may have missed the rotation). extra are
// logs of my connections that p offered at a later head (a pull wants
// them).
func (s *Service) syncRequest(ctx context.Context, p peer.ID, want, conn bool, extra map[peer.ID]uint64) (*spec.SyncRequest, error) {
	req := &spec.SyncRequest{Want: []spec.LogPos{}, Have: []spec.LogPos{}}
	var authors []peer.ID
	switch {
	case s.restoring():
		authors = []peer.ID{s.self} // my own log first: p may be no one of mine
	case conn:
		authors = []peer.ID{s.self, p}
	}
	pos := func(a peer.ID) (spec.LogPos, error) {
		h, err := s.store.Head(ctx, a)
		if err != nil {
			return spec.LogPos{}, err
		}
		lp := spec.LogPos{Author: []byte(a), Seq: h.Seq}
		if h.Seq > 0 {
			lp.CID = h.CID.Bytes()
		}
		return lp, nil
	}
	// from is a's position, or the one before an entry of a that p holds
	// another version of (see offered).
	from := func(a peer.ID) (spec.LogPos, bool, error) {
		lp, err := pos(a)
		if err != nil {
			return lp, false, err
		}
		if at := extra[a]; at > 0 && at <= lp.Seq {
			// From the entry before the one that differs: the sender
			// sends theirs from there (a recovery rotation, or a fork).
			lp = spec.LogPos{Author: []byte(a), Seq: at - 1}
			if at > 1 {
				les, err := s.store.Log(ctx, a, at-2, 1)
				if err != nil || len(les) != 1 {
					return lp, false, nil
				}
				lp.CID = les[0].CID.Bytes()
			}
		}
		return lp, true, nil
	}
	for _, a := range authors {
		lp, err := pos(a)
		if err != nil {
			return nil, err
		}
		req.Have = append(req.Have, lp)
		if !want || s.quota.full(a, lp.Seq) {
			continue
		}
		if extra[a] > 0 {
			if f, ok, err := from(a); err == nil && ok {
				lp = f
			}
		}
		req.Want = append(req.Want, lp)
	}
	for a := range extra {
		if a == s.self || a == p && conn {
			continue // wanted already
		}
		lp, ok, err := from(a)
		if err != nil {
			return nil, err
		}
		if ok && !s.quota.full(a, lp.Seq) {
			req.Want = append(req.Want, lp)
		}
	}
	if conn && !s.restoring() {
		closed, err := s.store.Closed(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range closed[:min(len(closed), MaxOffered)] {
			if a == s.self || a == p {
				continue
			}
			lp, err := pos(a)
			if err != nil {
				return nil, err
			}
			if lp.Seq > 0 {
				req.Have = append(req.Have, lp)
			}
		}
	}
	return req, nil
}

// notify sends my heads to p without asking for anything; p pulls if it
// is behind.
func (s *Service) notify(ctx context.Context, p peer.ID) error {
	req, err := s.syncRequest(ctx, p, false, true, nil)
	if err != nil {
		return err
	}
	str, err := s.openStream(ctx, p)
	if err != nil {
		return err
	}
	defer str.Close()
	_, stop := p2putil.Watchdog(ctx, str, s.t.IdleTimeout)
	defer stop()
	if err := p2putil.WriteMsg(str, req); err != nil {
		str.Reset()
		return err
	}
	if f, err := spec.ReadFrame(bufio.NewReader(str), spec.MaxFrameSize); err != nil || len(f) != 0 {
		str.Reset()
		return fmt.Errorf("reading end of announce: %v", err)
	}
	return nil
}

// Pull asks p for the entries I lack of the logs I keep from it, verifies
// each, and stores them in order, in batches.
//
// While my log is to be restored (the home held only the key), it asks
// any peer for my own log alone: a connection of mine serves it.
func (s *Service) Pull(ctx context.Context, p peer.ID) (err error) {
	restoring := s.restoring()
	extra := s.takeRelay(p)
	conn := !restoring && s.peers.SyncsWith(ctx, p)
	if !restoring && !conn && len(extra) == 0 {
		return nil
	}
	if restoring {
		defer func() {
			if err == nil && !s.restoring() {
				s.log.Info("restored my log from a connection", "peer", p, "entries", s.writer.Head().Seq)
				// Now I know my connections: a full pull from p.
				s.Schedule(p)
			}
		}()
	}
	req, err := s.syncRequest(ctx, p, true, conn, extra)
	if err != nil {
		return err
	}
	asked := map[peer.ID]bool{}
	for _, w := range req.Want {
		asked[peer.ID(w.Author)] = true
	}
	// Logs asked for from before a seq where p holds another entry than
	// mine: taken only for a rotation there (spec "Rotation", "After a
	// theft"); anything else is a shorter history that parts from mine,
	// not mine to take or to hold as a fork.
	parted := map[peer.ID]uint64{}
	for a, at := range extra {
		if at > 0 {
			parted[a] = at
		}
	}
	str, touch, finish, err := s.request(ctx, p, req)
	if err != nil {
		return err
	}
	defer func() { finish(err) }()
	// Three stages overlap: this goroutine reads frames into chunks, a
	// second verifies each chunk on every core and stores it, in order.
	chunks := make(chan [][]byte, 2)
	type result struct {
		stored   int
		gotKeys  bool
		diverged bool
		err      error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for chunk := range chunks {
			if res.err != nil {
				continue // drain
			}
			es, err := s.verifyChunk(chunk, asked)
			if err == nil && len(parted) > 0 {
				es = rotationsOnly(es, parted)
			}
			if err == nil {
				var d bool
				d, err = s.storeFrom(ctx, es)
				res.diverged = res.diverged || d
			}
			if err != nil {
				res.err = fmt.Errorf("entries from %s: %w", p, err)
				str.Reset() // stop the reader too
				continue
			}
			res.stored += len(es)
			for _, e := range es {
				if e.Body != nil && e.Body.Kind == graph.KindKeys && e.Author == p {
					res.gotKeys = true
				}
			}
		}
		done <- res
	}()
	readErr := func() error {
		defer close(chunks)
		r := bufio.NewReaderSize(str, 64<<10)
		chunk := make([][]byte, 0, s.t.Batch)
		size := 0
		for {
			touch()
			frame, err := spec.ReadFrame(r, spec.MaxFrameSize)
			if err != nil {
				return fmt.Errorf("reading from %s: %w", p, err)
			}
			if len(frame) == 0 {
				break
			}
			chunk = append(chunk, frame)
			size += len(frame)
			if len(chunk) == cap(chunk) || size >= s.t.MaxChunkBytes {
				chunks <- chunk
				chunk, size = make([][]byte, 0, s.t.Batch), 0
			}
		}
		if len(chunk) > 0 {
			chunks <- chunk
		}
		return nil
	}()
	res := <-done
	if res.err != nil {
		return res.err
	}
	if readErr != nil {
		return readErr
	}
	stored, gotKeys := res.stored, res.gotKeys
	if !conn && !restoring {
		return nil // only logs p offered: p is no connection of mine
	}
	s.writer.Learnt(p)
	if asked := s.rebaseAsked(p); res.diverged || asked {
		err := s.rebaseFrom(ctx, p)
		if asked && !errors.Is(err, errFetching) {
			s.rebaseTried(p)
		}
		if err != nil {
			s.log.Warn("a connection holds another history of my log; keeping mine", "peer", p, "err", err)
			return fmt.Errorf("taking back %s's history of my log: %w", p, err)
		}
	}
	if err := s.store.MarkSynced(ctx, p, s.now()); err != nil {
		s.log.Warn("recording the time of a sync", "peer", p, "err", err)
	}
	if stored > 0 {
		s.log.Debug("synced", "peer", p, "entries", stored)
	}
	if gotKeys {
		// Their encryption key arrived: the cards of their circles can now
		// be sealed to them.
		if err := s.peers.KeysArrived(ctx, p); err != nil {
			s.log.Warn("re-issuing cards", "peer", p, "err", err)
		}
	}
	return nil
}

// handle serves /kith/sync/1.0.0.
// It runs inside the group's Handler: counted in, in the service's scope.
func (s *Service) handle(str network.Stream) {
	remote := str.Conn().RemotePeer()
	ctx := s.g.Context()
	conn := s.peers.SyncsWith(ctx, remote)
	if !s.limiter.Allow(remote) {
		if conn {
			// Too many streams: refuse this one, but do not lose what it
			// may have announced: pull once the peer may come in again.
			s.scheduleLater(remote)
		}
		str.Reset()
		return
	}
	touch, stop := p2putil.Watchdog(ctx, str, s.t.IdleTimeout)
	defer stop()
	frame, err := spec.ReadFrame(bufio.NewReader(str), s.t.MaxRequestFrame)
	if err != nil {
		str.Reset()
		return
	}
	req, err := spec.DecodeSyncRequest(frame)
	if err != nil {
		s.log.Debug("bad sync request", "peer", remote, "err", err)
		str.Reset()
		return
	}
	offered := s.offered(ctx, req, remote)
	closed := s.closedSet(ctx)
	if !conn && offered == 0 && !closed[remote] {
		str.Reset()
		// Perhaps someone I disconnected who missed my word.
		s.peers.Refused(remote)
		return
	}
	// Not a connection, a peer may still offer a later head of a
	// connection's log (a friend's new identity bringing the rotation of
	// its old one), and take back its own log if a rotation ended it (a
	// home recovered at an old generation): nothing else.
	may := func(a peer.ID) bool {
		if !conn {
			return a == remote && closed[remote]
		}
		return s.wanted(a, remote) || closed[a]
	}
	pull := offered > 0
	for _, h := range req.Have {
		a := peer.ID(h.Author)
		if !conn || !s.wanted(a, remote) {
			continue
		}
		mine, err := s.store.Head(ctx, a)
		if err != nil {
			continue
		}
		if a == remote && h.Seq < mine.Seq && s.differs(ctx, a, h) {
			// Their own log, shorter than my copy and parting from it: a
			// recovery rotation over entries of a stolen key, perhaps
			// (spec "Rotation", "After a theft"). Pull it from there.
			s.addRelay(remote, a, h.Seq)
			pull = true
			break
		}
		if h.Seq > mine.Seq || a == remote && h.Seq == mine.Seq && h.Seq > 0 && len(h.CID) > 0 && !bytes.Equal(h.CID, mine.CID.Bytes()) {
			// They are ahead (on my own log too: the pull takes their
			// history back if it parts from mine), or their own log is at
			// my seq with another entry (a fork: the pull brings the
			// evidence).
			pull = true
			break
		}
	}
	if pull {
		s.Schedule(remote)
	}
	w := bufio.NewWriterSize(str, 64<<10)
	served := map[peer.ID]bool{}
	for _, want := range req.Want {
		a := peer.ID(want.Author)
		if !may(a) || served[a] {
			continue // only my log, theirs and logs a rotation ended are served, once each
		}
		served[a] = true
		after := want.Seq
		if after > 0 && len(want.CID) > 0 {
			// Their copy ends in a different entry than mine at that seq:
			// send mine too, so that they see the fork; unless it is my
			// log and mine is blind there: then I take theirs back first.
			if les, err := s.store.Log(ctx, a, after-1, 1); err == nil && len(les) == 1 && !bytes.Equal(les[0].CID.Bytes(), want.CID) {
				if a == s.self && s.withhold(remote, les[0].CID) {
					s.Schedule(remote)
					continue
				}
				after--
			}
		}
		for {
			les, err := s.store.Log(ctx, a, after, s.t.ServeChunk)
			if err != nil {
				str.Reset()
				return
			}
			if len(les) == 0 {
				break
			}
			touch()
			for _, le := range les {
				if err := spec.WriteFrame(w, le.Raw); err != nil {
					str.Reset()
					return
				}
			}
			after = les[len(les)-1].Seq
		}
	}
	if err := spec.WriteFrame(w, nil); err != nil || w.Flush() != nil {
		str.Reset()
		return
	}
	str.Close()
}

// offered records the logs of my connections (other than mine and the
// remote's) whose head in req's "have" is later than mine, for the next
// pull from remote to want, and returns how many. A log is taken from
// any peer that offers it so: every entry is verified, and a rotation
// authenticates itself (a friend that missed one gets it from whoever
// holds it). At most MaxOffered offers are looked at.
func (s *Service) offered(ctx context.Context, req *spec.SyncRequest, remote peer.ID) int {
	k, seen := 0, 0
	for _, h := range req.Have {
		a := peer.ID(h.Author)
		if s.wanted(a, remote) {
			continue
		}
		if seen++; seen > MaxOffered {
			break
		}
		if !s.peers.SyncsWith(ctx, a) {
			continue
		}
		mine, err := s.store.Head(ctx, a)
		if err != nil {
			continue
		}
		var at uint64 // from my head
		if h.Seq <= mine.Seq {
			// Not later: taken only with another entry than mine at that
			// seq (a recovery rotation over a thief's entries: see spec
			// "Rotation", "After a theft").
			if !s.differs(ctx, a, h) {
				continue
			}
			at = h.Seq
		}
		s.addRelay(remote, a, at)
		k++
	}
	return k
}

// rotationsOnly drops the entries of each log of parted unless es holds
// a rotate entry of it at the seq where it parts from mine.
func rotationsOnly(es []*graph.Entry, parted map[peer.ID]uint64) []*graph.Entry {
	keep := map[peer.ID]bool{}
	for _, e := range es {
		if at, ok := parted[e.Author]; ok && e.Seq == at && e.Body != nil && e.Body.Kind == graph.KindRotate {
			keep[e.Author] = true
		}
	}
	out := es[:0:0]
	for _, e := range es {
		if _, ok := parted[e.Author]; !ok || keep[e.Author] {
			out = append(out, e)
		}
	}
	return out
}

// differs reports whether I hold another entry of a at h's seq than h's.
func (s *Service) differs(ctx context.Context, a peer.ID, h spec.LogPos) bool {
	if h.Seq == 0 || len(h.CID) == 0 {
		return false
	}
	les, err := s.store.Log(ctx, a, h.Seq-1, 1)
	return err == nil && len(les) == 1 && les[0].Seq == h.Seq && !bytes.Equal(les[0].CID.Bytes(), h.CID)
}

// addRelay asks the next pull from p for a's log, from my head (at 0) or
// from before seq at.
func (s *Service) addRelay(p, a peer.ID, at uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.relay[p] == nil {
		s.relay[p] = map[peer.ID]uint64{}
	}
	s.relay[p][a] = at
}

// takeRelay returns and forgets the logs p offered (see offered).
func (s *Service) takeRelay(p peer.ID) map[peer.ID]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.relay[p]
	delete(s.relay, p)
	return out
}

// closedSet is Store.Closed as a set (empty on error).
func (s *Service) closedSet(ctx context.Context) map[peer.ID]bool {
	out := map[peer.ID]bool{}
	cs, err := s.store.Closed(ctx)
	if err != nil {
		s.log.Debug("reading the logs a rotation ended", "err", err)
	}
	for _, a := range cs {
		out[a] = true
	}
	return out
}

// storeFrom stores verified entries from a peer: my own log's through the
// writer (a friend giving back what this store lost), the rest directly.
// It reports whether the peer's copy of my log is longer than mine and
// parts from it (a rebase follows the pull). A copy that parts from mine
// but is no longer is the friend's to resolve: it holds a fork of mine.
func (s *Service) storeFrom(ctx context.Context, es []*graph.Entry) (diverged bool, err error) {
	var mine, theirs []*graph.Entry
	for _, e := range es {
		if e.Author == s.self {
			mine = append(mine, e)
		} else {
			theirs = append(theirs, e)
		}
	}
	if len(mine) > 0 {
		k, err := s.writer.Adopt(ctx, mine)
		switch {
		case errors.Is(err, spec.ErrBadPrev) || errors.Is(err, spec.ErrBadSeq):
			diverged = true // entries past my head that do not link to it
		case err != nil:
			return false, fmt.Errorf("restoring my own log: %w", err)
		}
		if k > 0 {
			s.log.Info("restored entries of my own log from a connection", "entries", k)
		}
	}
	theirs, overQuota := s.quota.admit(ctx, theirs)
	if err := s.store.Put(ctx, theirs); err != nil {
		return diverged, err
	}
	return diverged, overQuota
}

// rebaseFrom asks p for its whole copy of my log, finds the first seq
// where it parts from mine and takes it back from there
// ([Writer.Rebase]); a copy that only extends mine is adopted.
func (s *Service) rebaseFrom(ctx context.Context, p peer.ID) (err error) {
	head, err := s.store.Head(ctx, s.self)
	if err != nil {
		return err
	}
	req := &spec.SyncRequest{Want: []spec.LogPos{{Author: []byte(s.self)}}, Have: []spec.LogPos{}}
	str, touch, done, err := s.request(ctx, p, req)
	if err != nil {
		return fmt.Errorf("%w: %w", errFetching, err)
	}
	defer func() { done(err) }()
	var parted, ext []*graph.Entry
	take := func(chunk [][]byte) error {
		es, err := s.verifyChunk(chunk, map[peer.ID]bool{s.self: true})
		if err != nil {
			return err
		}
		var held []store.LogEntry
		if len(parted) == 0 && es[0].Seq <= head.Seq {
			if held, err = s.store.Log(ctx, s.self, es[0].Seq-1, len(es)); err != nil {
				return err
			}
		}
		for i, e := range es {
			if e.Author != s.self {
				return fmt.Errorf("%w: a %s entry", ErrUnrequested, e.Author)
			}
			switch {
			case len(parted) > 0:
				parted = append(parted, e)
			case i < len(held) && held[i].Seq == e.Seq && held[i].CID.Equals(e.CID):
				// the same history so far
			case e.Seq <= head.Seq:
				parted = append(parted, e)
			default:
				ext = append(ext, e)
			}
		}
		return nil
	}
	r := bufio.NewReaderSize(str, 64<<10)
	chunk := make([][]byte, 0, s.t.Batch)
	for {
		touch()
		frame, err := spec.ReadFrame(r, spec.MaxFrameSize)
		if err != nil {
			return fmt.Errorf("%w: reading from %s: %w", errFetching, p, err)
		}
		if len(frame) == 0 {
			break
		}
		if chunk = append(chunk, frame); len(chunk) == cap(chunk) {
			if err := take(chunk); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
	if len(chunk) > 0 {
		if err := take(chunk); err != nil {
			return err
		}
	}
	if len(parted) == 0 {
		_, err := s.writer.Adopt(ctx, ext)
		return err
	}
	taken, again, err := s.writer.Rebase(ctx, parted)
	if err != nil {
		return err
	}
	s.log.Info("took back a connection's history of my log", "peer", p, "taken", taken, "appended_again", again)
	return nil
}

// withhold reports whether my log is to be withheld from p, whose copy
// ends at seq where mine holds c: c was written blind and taking p's copy
// back was not tried yet. It asks the next pull from p to try.
func (s *Service) withhold(p peer.ID, c cid.Cid) bool {
	if !s.writer.Blind(c) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tried, ok := s.rebase[p]; ok && tried {
		return false
	}
	s.rebase[p] = false
	return true
}

// rebaseAsked reports whether the next pull from p is to take its copy of
// my log back (see withhold).
func (s *Service) rebaseAsked(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tried, ok := s.rebase[p]
	return ok && !tried
}

// rebaseTried records that taking p's copy of my log back was tried.
func (s *Service) rebaseTried(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rebase[p] = true
}

// errFetching marks a rebaseFrom that failed to fetch the friend's copy
// (it may work next time), not one the writer refused.
var errFetching = errors.New("logsync: fetching a friend's copy of my log")

// verifyChunk verifies received entries on every core and checks that each
// belongs to a log that was asked for. It returns them in order.
func (s *Service) verifyChunk(frames [][]byte, asked map[peer.ID]bool) ([]*graph.Entry, error) {
	out := make([]*graph.Entry, len(frames))
	errs := make([]error, len(frames))
	open := s.open
	workers := min(runtime.GOMAXPROCS(0), len(frames))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(frames); i += workers {
				e, err := graph.Verify(frames[i], open)
				if err != nil && (errors.Is(err, graph.ErrDecrypt) || errors.Is(err, graph.ErrBadBody)) {
					// Signed and sound, but addressed to me in a form I
					// cannot read (a newer kith's kind, a broken seal):
					// keep it unread rather than stall the whole log.
					e, err = graph.Verify(frames[i], nil)
				}
				if err == nil && !asked[e.Author] {
					err = fmt.Errorf("%w: a %s entry", ErrUnrequested, e.Author)
				}
				out[i], errs[i] = e, err
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("entry %d of the batch: %w", i+1, err)
		}
	}
	return out, nil
}
