package p2putil

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/kith-p2p/kith/spec"
)

// Watchdog resets str when ctx ends or when idle passes without a call to
// touch. It backs up stream deadlines, which not every transport honours
// (mocknet ignores them), so that a stalled peer can never pin a goroutine.
// stop must be called when the stream is done.
func Watchdog(ctx context.Context, str network.Stream, idle time.Duration) (touch func(), stop func()) {
	t := time.AfterFunc(idle, func() { str.Reset() })
	unhook := context.AfterFunc(ctx, func() { str.Reset() })
	touch = func() {
		t.Reset(idle)
		str.SetDeadline(time.Now().Add(idle))
	}
	stop = func() {
		t.Stop()
		unhook()
	}
	touch()
	return touch, stop
}

// WriteMsg writes v as one DAG-CBOR frame.
func WriteMsg(str network.Stream, v any) error {
	b, err := spec.Marshal(v)
	if err != nil {
		return err
	}
	return spec.WriteFrame(str, b)
}

// Group runs goroutines and stream handlers that Close waits for. Its
// context ends at Close.
type Group struct {
	ctx    context.Context
	cancel context.CancelFunc
	// mu guards, with ctx, the adding to wg.
	mu sync.Mutex
	wg sync.WaitGroup
}

// NewGroup returns a running group.
func NewGroup() *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{ctx: ctx, cancel: cancel}
}

// Context ends when the group closes.
func (g *Group) Context() context.Context { return g.ctx }

// Enter counts a stream handler in, so that Close waits for it; it
// reports false once the group is closing. Call Exit when done.
func (g *Group) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ctx.Err() != nil {
		return false
	}
	g.wg.Add(1)
	return true
}

// Exit counts a handler out.
func (g *Group) Exit() { g.wg.Done() }

// Go runs f in a goroutine that Close waits for; it reports false (and
// runs nothing) once the group is closing.
func (g *Group) Go(f func()) bool {
	if !g.Enter() {
		return false
	}
	go func() {
		defer g.Exit()
		f()
	}()
	return true
}

// Handler wraps serve as a stream handler of the group's service: the
// stream is counted in (Close waits for it), joins the service's resource
// scope (its limits in the resource manager), and is reset when the group
// is closing or the scope is full; serve gets it otherwise.
func (g *Group) Handler(service string, log *slog.Logger, serve func(network.Stream)) network.StreamHandler {
	return func(str network.Stream) {
		if !g.Enter() {
			str.Reset()
			return
		}
		defer g.Exit()
		if err := str.Scope().SetService(service); err != nil {
			log.Debug("stream over the service's limits", "service", service, "err", err)
			str.Reset()
			return
		}
		serve(str)
	}
}

// Close cancels the context and waits for every goroutine and handler.
func (g *Group) Close() {
	g.mu.Lock()
	g.cancel() // under mu: nothing can be added to wg after this
	g.mu.Unlock()
	g.wg.Wait()
}

// Limiter rate-limits inbound streams per peer, across the protocols that
// share it.
type Limiter struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[peer.ID]*rate.Limiter
}

// NewLimiter allows each peer perSecond streams a second, in bursts of up
// to burst.
func NewLimiter(perSecond float64, burst int) *Limiter {
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, m: map[peer.ID]*rate.Limiter{}}
}

// Allow reports whether p may open another inbound stream now.
func (l *Limiter) Allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[p]
	if !ok {
		r = rate.NewLimiter(l.rate, l.burst)
		l.m[p] = r
	}
	return r.Allow()
}

// Delay returns how long until p may open another inbound stream (0 when
// it may now).
func (l *Limiter) Delay(p peer.ID) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	r, ok := l.m[p]
	if !ok {
		return 0
	}
	res := r.Reserve()
	defer res.Cancel()
	return res.Delay()
}

// Forget drops p's limiter once p has no connection left. It goes only
// once full again: reconnecting must not buy a peer a fresh burst.
func (l *Limiter) Forget(p peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.m[p]; ok && refilled(r) {
		delete(l.m, p)
	}
}

// Sweep drops the limiters of peers without a connection that are full
// again (Forget kept them while they were not).
func (l *Limiter) Sweep(connected func(peer.ID) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for p, r := range l.m {
		if !connected(p) && refilled(r) {
			delete(l.m, p)
		}
	}
}

// Len returns how many peers have a limiter.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// refilled reports whether r is back to a full burst: forgetting it then
// gives its peer nothing it would not have anyway.
func refilled(r *rate.Limiter) bool { return r.Tokens() >= float64(r.Burst()) }

// Online reports whether p can be reached over h's network now: a direct
// connection, or a relayed one (limited, but the Kith protocols run over
// it).
func Online(n network.Network, p peer.ID) bool {
	c := n.Connectedness(p)
	return c == network.Connected || c == network.Limited
}
