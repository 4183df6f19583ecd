package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// Version is the running Kith version.
var Version = "0.1.0-dev"

// Errors from New, Init and RunDaemon.
var (
	// ErrNotInitialized: the home has no identity; run `kith init`.
	ErrNotInitialized = errors.New("node: not initialized; run `kith init` first")
	// ErrAlreadyInitialized: the home already has an identity key.
	ErrAlreadyInitialized = errors.New("node: already initialized")
	// ErrLocked: another daemon holds the home's lock file.
	ErrLocked = errors.New("node: another kith daemon is running on this home")
)

// DBName is the store's file name inside the home directory.
const DBName = "kith.db"

// DefaultListen are the listen addresses of a daemon without --listen.
var DefaultListen = []string{
	"/ip4/0.0.0.0/tcp/4747",
	"/ip4/0.0.0.0/udp/4747/quic-v1",
	"/ip6/::/tcp/4747",
	"/ip6/::/udp/4747/quic-v1",
}

type config struct {
	id        *identity.Identity
	home      string
	store     *store.Store
	host      host.Host
	listen    []string
	mdns      bool
	bootstrap []string
	dhtServer bool
	relays    []string
	// reachability forces what AutoNAT would find (tests on loopback).
	reachability network.Reachability
	log          *slog.Logger
	now          func() time.Time
}

// Option configures New.
type Option func(*config) error

// WithIdentity sets the node's identity (required).
func WithIdentity(id *identity.Identity) Option {
	return func(c *config) error { c.id = id; return nil }
}

// WithHome opens the store in dir (unless WithStore is given).
func WithHome(dir string) Option {
	return func(c *config) error { c.home = dir; return nil }
}

// WithStore uses s instead of opening one; the caller closes it.
func WithStore(s *store.Store) Option {
	return func(c *config) error { c.store = s; return nil }
}

// WithHost uses h instead of creating a libp2p host; the caller closes it.
func WithHost(h host.Host) Option {
	return func(c *config) error { c.host = h; return nil }
}

// WithListenAddrs sets the libp2p listen multiaddrs; none means the host
// does not listen (it can still dial).
func WithListenAddrs(addrs ...string) Option {
	return func(c *config) error { c.listen = addrs; return nil }
}

// WithMDNS turns LAN discovery on or off (off by default; the daemon turns
// it on unless --no-mdns). It applies only to a host New creates.
func WithMDNS(on bool) Option {
	return func(c *config) error { c.mdns = on; return nil }
}

// WithBootstrap sets the DHT's bootstrap peers (full multiaddrs). None is
// fine: the DHT then only knows peers met otherwise.
func WithBootstrap(addrs ...string) Option {
	return func(c *config) error { c.bootstrap = addrs; return nil }
}

// WithDHTServer makes the node a DHT server from the start, answering other
// nodes' lookups: for an always-on node with a reachable address (a home
// server) that friends use as their bootstrap peer. Without it the node
// serves the DHT only once AutoNAT finds it publicly reachable.
func WithDHTServer(on bool) Option {
	return func(c *config) error { c.dhtServer = on; return nil }
}

// WithRelays names circuit-relay v2 relays (full multiaddrs) to reserve a
// slot on when this node is not reachable directly (behind a NAT, as a
// phone is): peers then reach it through the relay, and hole punching
// (DCUtR) upgrades to a direct connection where the NATs allow. Without
// any, the node tries its online connections that run a relay.
func WithRelays(addrs ...string) Option {
	return func(c *config) error { c.relays = addrs; return nil }
}

// WithReachability overrides AutoNAT's finding (for tests on loopback,
// where everything looks private).
func WithReachability(r network.Reachability) Option {
	return func(c *config) error { c.reachability = r; return nil }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error { c.log = l; return nil }
}

// WithClock sets the clock used for entry times.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// Node is a running Kith node.
type Node struct {
	id      *identity.Identity
	store   *store.Store
	writer  *graph.Writer
	host    host.Host
	log     *slog.Logger
	now     func() time.Time
	home    string
	started time.Time

	// routing finds peers by ID (the DHT); nil with an injected host.
	routing routing.PeerRouting
	sync    *syncer

	// ready is closed once New has started everything: callbacks that
	// libp2p may run earlier (autorelay's) wait for it.
	ready chan struct{}

	// hasLog caches that my log exists (see restoring); it never goes back.
	hasLog atomic.Bool

	// droppedMu guards dropped: the connections that disconnected me, and
	// when; a copy of the store's, as every sync step and redial asks.
	droppedMu sync.Mutex
	dropped   map[peer.ID]time.Time

	// closers run in reverse order on Close: what New started or opened.
	closers []func() error

	// mu guards the read-modify-write of records (profile cards, circles),
	// so two edits of one card do not lose each other.
	mu sync.Mutex

	// imports holds the UIDs of AddContacts batches between their
	// lookup and their store (see contacts.go).
	imports uidClaims

	closeOnce sync.Once
	closeErr  error
}

var _ api.API = (*Node)(nil)

// readerVersion is graph.ReaderVersion; tests raise it to act out an upgrade.
var readerVersion = graph.ReaderVersion

// New starts a node. The identity's log must exist (see [Init]).
func New(ctx context.Context, opts ...Option) (*Node, error) {
	c := &config{}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.id == nil {
		return nil, errors.New("node: no identity (WithIdentity)")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	n := &Node{id: c.id, log: c.log.With("subsystem", "node"), now: c.now, home: c.home, started: c.now(), ready: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	n.store = c.store
	if n.store == nil {
		if c.home == "" {
			return nil, errors.New("node: neither WithHome nor WithStore given")
		}
		s, err := store.Open(ctx, filepath.Join(c.home, DBName), book.Index{})
		if err != nil {
			return nil, err
		}
		n.store = s
		n.closers = append(n.closers, s.Close)
	}
	dropped, err := n.store.DroppedPeers(ctx)
	if err != nil {
		return nil, err
	}
	n.dropped = dropped
	if k, err := n.store.ForgetForks(ctx, n.id.PeerID()); err != nil {
		return nil, err
	} else if k > 0 {
		n.log.Warn("dropped fork evidence against my own log: my history wins here", "evidence", k)
	}
	// After an upgrade, read what an older version kept unread.
	// A failure leaves the version unrecorded, so the next start tries again.
	if k, err := n.store.Reread(ctx, graph.Opener(n.id), readerVersion); err != nil {
		n.log.Warn("could not read entries kept unread; will try at the next start", "err", err)
	} else if k > 0 {
		n.log.Info("read entries an older version could not", "entries", k)
	}
	w, err := graph.NewWriter(ctx, n.id, n.store, n.now)
	if err != nil {
		return nil, err
	}
	if w.Head().Seq == 0 {
		// A home restored from a copy of the key alone. Writing a new log
		// here would fork the one friends hold: get that back first.
		n.log.Warn("this home holds the identity key but not its log: it is restored from the first connection that reaches this node (or `kith connect` to one); until then nothing can be written",
			"peer", n.id.PeerID())
	}
	n.writer = w
	n.host = c.host
	if n.host == nil {
		if err := n.startHost(c); err != nil {
			return nil, err
		}
	}
	n.startP2P(ctx)
	close(n.ready)
	ok = true
	n.log.Info("node started", "peer", n.id.PeerID(), "entries", w.Head().Seq)
	return n, nil
}

// Close stops the node and closes what New opened. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		for i := len(n.closers) - 1; i >= 0; i-- {
			if err := n.closers[i](); err != nil && n.closeErr == nil {
				n.closeErr = err
			}
		}
	})
	return n.closeErr
}

// append writes drafts to my log and tells online connections.
func (n *Node) append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	es, err := n.writer.Append(ctx, drafts...)
	if err != nil {
		return nil, err
	}
	n.sync.announce()
	return es, nil
}

// errNoLog is the answer to a write while my log is being restored.
var errNoLog = fmt.Errorf("%w: this home holds your identity key but not your log; it comes back from a connection: "+
	"keep the daemon running for one to reach it, or `kith connect` a friend's address or invite code "+
	"(`kith init --new-log` starts a new log instead, which friends holding the old one see as a fork)", api.ErrNoLog)

// restoring reports whether my log is still to be restored: the home
// held the key alone.
func (n *Node) restoring() bool {
	if n.hasLog.Load() {
		return false // the common case, without the writer's lock
	}
	if n.writer.Head().Seq > 0 {
		n.hasLog.Store(true)
		return false
	}
	return true
}

// Host returns the libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.store }
