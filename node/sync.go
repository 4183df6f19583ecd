package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

// Sync protocol tuning. Variables, not constants, so tests can shorten them.
var (
	// syncIdleTimeout bounds the wait for each frame of a sync stream: a
	// peer that stops sending (or never ends) is reset.
	syncIdleTimeout = 30 * time.Second
	// syncBatch is how many received entries go into one transaction.
	syncBatch = 1000
	// serveChunk is how many entries the responder reads from the store at a time.
	serveChunk = 1000
	// maxRequestFrame bounds a sync request frame.
	maxRequestFrame = 16 << 10
	// maxChunkBytes bounds the entry bytes of one received chunk, so that
	// a pull holds at most a few such chunks in memory whatever the peer
	// sends.
	maxChunkBytes = 4 << 20
	// resyncEvery is how often online connections are pulled from even
	// without an announcement: a lost announcement costs at most this.
	resyncEvery = time.Minute
)

// ErrUnrequested: a peer sent an entry of a log that was not asked for.
var ErrUnrequested = errors.New("node: peer sent an entry that was not requested")

// syncer runs pulls from peers one at a time per peer and announces new
// local entries to online connections.
type syncer struct {
	n *Node

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu guards the maps below and, with ctx, the adding to wg.
	mu sync.Mutex
	// pulls and announces hold the peers with a pull or an announcement
	// running, mapped to whether one more run was asked for meanwhile
	// (see coalesce).
	pulls, announces map[peer.ID]bool
	// limiters rate-limit inbound streams per peer.
	limiters map[peer.ID]*rate.Limiter
	// asking holds peers a Connect call is sending a request to right now:
	// the repeat on connection must not send a second one, which could
	// arrive after the person on the other side already declined the first.
	asking map[peer.ID]int
}

func newSyncer(n *Node) *syncer {
	ctx, cancel := context.WithCancel(context.Background())
	return &syncer{n: n, ctx: ctx, cancel: cancel, pulls: map[peer.ID]bool{}, announces: map[peer.ID]bool{},
		limiters: map[peer.ID]*rate.Limiter{}, asking: map[peer.ID]int{}}
}

func (s *syncer) close() {
	s.mu.Lock()
	s.cancel() // under mu: no goTracked or enter can add to wg after this
	s.mu.Unlock()
	s.wg.Wait()
}

// enter counts a stream handler in, so that Close waits for it; it
// reports false once the node is closing. Call exit when done.
func (s *syncer) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *syncer) exit() { s.wg.Done() }

// forget drops what is kept per peer once it has no connection left. A
// limiter goes only once full again: reconnecting must not buy a peer a
// fresh burst.
func (s *syncer) forget(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.limiters[p]; ok && refilled(l) {
		delete(s.limiters, p)
	}
}

// refilled reports whether l is back to a full burst: forgetting it then
// gives its peer nothing it would not have anyway.
func refilled(l *rate.Limiter) bool { return l.Tokens() >= float64(l.Burst()) }

// sweep drops the limiters of peers without a connection that are full
// again (forget kept them while they were not).
func (s *syncer) sweep(connected func(peer.ID) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, l := range s.limiters {
		if !connected(p) && refilled(l) {
			delete(s.limiters, p)
		}
	}
}

// go runs f in a goroutine that Close waits for.
func (s *syncer) goTracked(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// allow reports whether p may open another inbound stream now.
func (s *syncer) allow(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[p]
	if !ok {
		l = rate.NewLimiter(rate.Limit(inboundRate), inboundBurst)
		s.limiters[p] = l
	}
	return l.Allow()
}

// beginAsking marks p as being sent a request by Connect; the returned
// func unmarks it.
func (s *syncer) beginAsking(p peer.ID) func() {
	s.mu.Lock()
	s.asking[p]++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		if s.asking[p]--; s.asking[p] <= 0 {
			delete(s.asking, p)
		}
		s.mu.Unlock()
	}
}

// isAsking reports whether a Connect call is sending p a request now.
func (s *syncer) isAsking(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asking[p] > 0
}

// Inbound stream rate per peer (both protocols).
var (
	inboundRate  = 20.0
	inboundBurst = 40
)

// schedule asks for a pull from p; pulls from one peer never overlap, and
// a request during a pull runs one more pull after it.
func (s *syncer) schedule(p peer.ID) {
	s.coalesce(s.pulls, p, func() {
		if err := s.n.pull(s.ctx, p); err != nil && s.ctx.Err() == nil {
			s.n.log.Debug("sync pull failed", "peer", p, "err", err)
		}
	})
}

// announce tells every online connection that my log grew. At most one
// announcement per peer is in flight; writes during it cause one more.
func (s *syncer) announce() {
	for _, p := range s.n.onlineConnections() {
		s.coalesce(s.announces, p, func() {
			ctx, cancel := context.WithTimeout(s.ctx, syncIdleTimeout)
			defer cancel()
			if err := s.n.notify(ctx, p); err != nil && s.ctx.Err() == nil {
				s.n.log.Debug("announce failed", "peer", p, "err", err)
			}
		})
	}
}

// coalesce runs f for p in a tracked goroutine unless one is running for
// p in q already; then it marks that one to run f once more when done. So
// any number of calls during a run cost one more run, not one each.
func (s *syncer) coalesce(q map[peer.ID]bool, p peer.ID, f func()) {
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
	ok := s.goTracked(func() {
		for {
			f()
			s.mu.Lock()
			if !q[p] || s.ctx.Err() != nil {
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

// wanted reports whether this node keeps author's log when p sends it: its
// own log (restored from a friend) and the log of the peer itself.
func (n *Node) wanted(author, from peer.ID) bool {
	return author == n.id.PeerID() || author == from
}

func (n *Node) syncRequest(p peer.ID, want bool) (*spec.SyncRequest, error) {
	req := &spec.SyncRequest{Want: []spec.LogPos{}, Have: []spec.LogPos{}}
	authors := []peer.ID{n.id.PeerID(), p}
	if n.restoring() {
		authors = authors[:1] // my own log first: p may be no one of mine
	}
	for _, a := range authors {
		h, err := n.store.Head(n.sync.ctx, a)
		if err != nil {
			return nil, err
		}
		pos := spec.LogPos{Author: []byte(a), Seq: h.Seq}
		if h.Seq > 0 {
			pos.CID = h.CID.Bytes()
		}
		if want {
			req.Want = append(req.Want, pos)
		}
		req.Have = append(req.Have, pos)
	}
	return req, nil
}

// notify sends my heads to p without asking for anything; p pulls if it
// is behind.
func (n *Node) notify(ctx context.Context, p peer.ID) error {
	req, err := n.syncRequest(p, false)
	if err != nil {
		return err
	}
	str, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-sync"), p, spec.ProtoSync)
	if err != nil {
		return err
	}
	defer str.Close()
	_, stop := watchdog(ctx, str, syncIdleTimeout)
	defer stop()
	if err := writeMsg(str, req); err != nil {
		str.Reset()
		return err
	}
	if f, err := spec.ReadFrame(bufio.NewReader(str), spec.MaxFrameSize); err != nil || len(f) != 0 {
		str.Reset()
		return fmt.Errorf("reading end of announce: %v", err)
	}
	return nil
}

func writeMsg(str network.Stream, v any) error {
	b, err := spec.Marshal(v)
	if err != nil {
		return err
	}
	return spec.WriteFrame(str, b)
}

// pull asks p for the entries I lack of the logs I keep from it, verifies
// each, and stores them in order, in batches.
//
// While my log is to be restored (the home held only the key), it asks
// any peer for my own log alone: a connection of mine serves it.
func (n *Node) pull(ctx context.Context, p peer.ID) (err error) {
	restoring := n.restoring()
	if !restoring && !n.syncsWith(ctx, p) {
		return nil
	}
	if restoring {
		defer func() {
			if err == nil && !n.restoring() {
				n.log.Info("restored my log from a connection", "peer", p, "entries", n.writer.Head().Seq)
				// Now I know my connections: a full pull from p.
				n.sync.schedule(p)
			}
		}()
	}
	req, err := n.syncRequest(p, true)
	if err != nil {
		return err
	}
	str, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-sync"), p, spec.ProtoSync)
	if err != nil {
		return fmt.Errorf("opening sync stream to %s: %w", p, err)
	}
	defer func() {
		if err != nil {
			str.Reset()
		} else {
			str.Close()
		}
	}()
	touch, stop := watchdog(ctx, str, syncIdleTimeout)
	defer stop()
	if err := writeMsg(str, req); err != nil {
		return err
	}
	// Three stages overlap: this goroutine reads frames into chunks, a
	// second verifies each chunk on every core and stores it, in order.
	chunks := make(chan [][]byte, 2)
	type result struct {
		stored  int
		gotKeys bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		for chunk := range chunks {
			if res.err != nil {
				continue // drain
			}
			es, err := n.verifyChunk(chunk, p)
			if err == nil {
				err = n.storeFrom(ctx, es)
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
		chunk := make([][]byte, 0, syncBatch)
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
			if len(chunk) == cap(chunk) || size >= maxChunkBytes {
				chunks <- chunk
				chunk, size = make([][]byte, 0, syncBatch), 0
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
	n.store.MarkSynced(ctx, p, n.now())
	if stored > 0 {
		n.log.Debug("synced", "peer", p, "entries", stored)
	}
	if gotKeys {
		// Their encryption key arrived: the cards of their circles can now
		// be sealed to them.
		if err := n.reissueFor(ctx, p); err != nil {
			n.log.Warn("re-issuing cards", "peer", p, "err", err)
		}
	}
	return nil
}

// handleSync serves /kith/sync/1.0.0.
func (n *Node) handleSync(str network.Stream) {
	if !n.sync.enter() {
		str.Reset()
		return
	}
	defer n.sync.exit()
	remote := str.Conn().RemotePeer()
	ctx := n.sync.ctx
	if !n.syncsWith(ctx, remote) {
		str.Reset()
		// Someone I disconnected who missed my word: tell them again.
		if n.disconnectedMe(ctx, remote) && n.sync.allow(remote) {
			n.tellDisconnected(remote)
		}
		return
	}
	if !n.sync.allow(remote) {
		// Too many streams: refuse this one, but do not lose what it may
		// have announced. Pulls from one peer coalesce.
		n.sync.schedule(remote)
		str.Reset()
		return
	}
	touch, stop := watchdog(ctx, str, syncIdleTimeout)
	defer stop()
	frame, err := spec.ReadFrame(bufio.NewReader(str), maxRequestFrame)
	if err != nil {
		str.Reset()
		return
	}
	req, err := spec.DecodeSyncRequest(frame)
	if err != nil {
		n.log.Debug("bad sync request", "peer", remote, "err", err)
		str.Reset()
		return
	}
	for _, h := range req.Have {
		a := peer.ID(h.Author)
		if !n.wanted(a, remote) {
			continue
		}
		mine, err := n.store.Head(ctx, a)
		if err != nil {
			continue
		}
		if h.Seq > mine.Seq || a == remote && h.Seq == mine.Seq && h.Seq > 0 && len(h.CID) > 0 && !bytes.Equal(h.CID, mine.CID.Bytes()) {
			// They are ahead, or their own log is at my seq with another
			// entry (a fork: the pull brings the evidence). A differing
			// copy of my own log they hold is never taken: mine wins.
			n.sync.schedule(remote)
			break
		}
	}
	w := bufio.NewWriterSize(str, 64<<10)
	served := map[peer.ID]bool{}
	for _, want := range req.Want {
		a := peer.ID(want.Author)
		if !n.wanted(a, remote) || served[a] {
			continue // only my log and theirs are served to them, once each
		}
		served[a] = true
		after := want.Seq
		if after > 0 && len(want.CID) > 0 {
			// Their copy ends in a different entry than mine at that seq:
			// send mine too, so that they see the fork.
			if les, err := n.store.Log(ctx, a, after-1, 1); err == nil && len(les) == 1 && !bytes.Equal(les[0].CID.Bytes(), want.CID) {
				after--
			}
		}
		for {
			les, err := n.store.Log(ctx, a, after, serveChunk)
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

// storeFrom stores verified entries from a peer: my own log's through the
// writer (a friend giving back what this store lost), the rest directly.
func (n *Node) storeFrom(ctx context.Context, es []*graph.Entry) error {
	var mine, theirs []*graph.Entry
	for _, e := range es {
		if e.Author == n.id.PeerID() {
			mine = append(mine, e)
		} else {
			theirs = append(theirs, e)
		}
	}
	if len(mine) > 0 {
		k, err := n.writer.Adopt(ctx, mine)
		switch {
		case errors.Is(err, spec.ErrBadPrev) || errors.Is(err, spec.ErrBadSeq):
			// My log went on differently after this store lost its end:
			// their copy is another history. Mine wins; theirs is dropped.
			n.log.Warn("a connection holds a different history of my own log; keeping mine", "err", err)
		case err != nil:
			return fmt.Errorf("restoring my own log: %w", err)
		}
		if k > 0 {
			n.log.Info("restored entries of my own log from a connection", "entries", k)
		}
	}
	return n.store.Put(ctx, theirs)
}

// verifyChunk verifies received entries on every core and checks that each
// belongs to a log this node keeps from p. It returns them in order.
func (n *Node) verifyChunk(frames [][]byte, p peer.ID) ([]*graph.Entry, error) {
	out := make([]*graph.Entry, len(frames))
	errs := make([]error, len(frames))
	open := graph.Opener(n.id)
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
				if err == nil && !n.wanted(e.Author, p) {
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
