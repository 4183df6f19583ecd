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

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/connect"
	"github.com/kith-p2p/kith/node/freebusy"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/node/logsync"
	"github.com/kith-p2p/kith/spec"
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
	tuning       tuning
	// ownStore: New closes store (RunDaemon opened it); damaged is where a
	// damaged store was moved aside.
	ownStore bool
	damaged  string
}

// Option configures New.
type Option func(*config) error

// Quota bounds what the log of each author other than me may take in the
// store (entries and encoded bytes); entries past it are refused, logged
// and listed by Status. Zero fields mean the defaults.
type Quota = logsync.Quota

// DefaultQuota is generous for a person's real use over decades (see
// logsync.DefaultQuota for the reckoning).
var DefaultQuota = logsync.DefaultQuota

// WithQuota sets the storage quota of each other author's log.
func WithQuota(q Quota) Option {
	return func(c *config) error {
		if q.Entries < 0 || q.Bytes < 0 {
			return fmt.Errorf("node: a negative quota (%d entries, %d bytes)", q.Entries, q.Bytes)
		}
		if q.Entries > 0 {
			c.tuning.sync.Quota.Entries = q.Entries
		}
		if q.Bytes > 0 {
			c.tuning.sync.Quota.Bytes = q.Bytes
		}
		return nil
	}
}

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

// WithClock sets the node's clock: entry times, invite expiry, request
// and sync times. Timers (timeouts, redials) run on the runtime's clock,
// which tests bubble with testing/synctest.
func WithClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

// tuning is every limit and timer of a node, in one place. Daemons run
// with defaultTuning; tests change it through a test-only option
// (export_test.go), never through package variables.
type tuning struct {
	sync    logsync.Tuning
	connect connect.Tuning
	// guard bounds strangers' inbound connections (a host New starts).
	guard connect.GuardTuning
	// freebusy: the free/busy service's limits
	freebusy freebusy.Tuning
	// inboundRate and inboundBurst limit the inbound streams per peer,
	// both protocols together.
	inboundRate  float64
	inboundBurst int
	// reconnectTick is how often offline connections are considered for a
	// redial, with a backoff per peer from backoffMin to backoffMax.
	reconnectTick, backoffMin, backoffMax time.Duration
	// dialTimeout bounds one redial.
	dialTimeout time.Duration
	// resyncEvery is how often online connections are pulled from even
	// without an announcement: a lost announcement costs at most this.
	resyncEvery time.Duration
	// sweepEvery is how often the rate limiters of gone peers are dropped.
	sweepEvery time.Duration
	// relayBootDelay is how long autorelay waits for candidates before it
	// makes do with fewer; relayBackoff how long it leaves a failed relay.
	relayBootDelay, relayBackoff time.Duration
	// readerVersion is graph.ReaderVersion; tests raise it to act out an
	// upgrade.
	readerVersion int
	// writeHold bounds how long writes wait after start for a connection
	// to tell my log's head (see package doc, "An old copy of the store"):
	// a dial (dialTimeout) and a pull fit in it.
	writeHold time.Duration
}

func defaultTuning() tuning {
	return tuning{
		sync:           logsync.DefaultTuning,
		connect:        connect.DefaultTuning,
		guard:          connect.DefaultGuardTuning,
		freebusy:       freebusy.DefaultTuning,
		inboundRate:    20,
		inboundBurst:   40,
		reconnectTick:  5 * time.Second,
		backoffMin:     2 * time.Second,
		backoffMax:     5 * time.Minute,
		dialTimeout:    10 * time.Second,
		resyncEvery:    time.Minute,
		sweepEvery:     time.Minute,
		relayBootDelay: 20 * time.Second,
		relayBackoff:   5 * time.Minute,
		readerVersion:  graph.ReaderVersion,
		writeHold:      15 * time.Second,
	}
}

// Node is a running Kith node: the wiring of its parts. The address book
// (graph/book) decides what goes in my log; the writer appends it and
// announces it; the protocol services (node/connect, node/logsync) talk to
// peers; the redialer keeps connections reachable. See the package doc
// for the path of a write and of a sync.
type Node struct {
	id      *identity.Identity
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	home    string
	started time.Time
	t       tuning

	writer  *logWriter
	book    *book.Book
	cal     *cal.Calendar
	host    host.Host
	routing routing.PeerRouting // finds peers by ID (the DHT); nil with an injected host
	inbound *p2putil.Limiter
	guard   *connect.Guard // nil with an injected host
	sync    *logsync.Service
	connect atomic.Pointer[connect.Service] // set once New has built it (see syncPeers)
	rots    rotations                       // the rotations the store holds (rotate_closed.go)
	dav     davState                        // the CardDAV server: dav.go
	fb      *freebusy.Service

	// ready is closed once New has started everything: callbacks that
	// libp2p may run earlier (autorelay's) wait for it.
	ready chan struct{}
	// bg runs the node's own background work (redials, LAN dials).
	bg *p2putil.Group

	// damaged is where a damaged store was moved aside at start ("" if
	// none); reopen, set by RunDaemon, replaces this node with one on a
	// fresh store (Restore of a store that fails its check).
	damaged string
	reopen  func(ctx context.Context) (*Node, error)
	// repair, set by RunDaemon, stops this node, salvages its store and
	// starts a node on the repaired one (see Repair).
	repair func(ctx context.Context) (*api.RepairReport, error)
	// switchKey, set by RunDaemon, replaces this node with one running as
	// id on the same home and store (after a rotation: see rotate.go).
	switchKey func(ctx context.Context, id *identity.Identity) (*Node, error)

	// closers run in reverse order on Close: what New started or opened.
	closers   []func() error
	closeOnce sync.Once
	closeErr  error
}

var _ api.API = (*Node)(nil)

// New starts a node. The identity's log must exist (see [Init]), or be
// restored from a connection (a home that holds the key alone).
func New(ctx context.Context, opts ...Option) (*Node, error) {
	c := &config{tuning: defaultTuning()}
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
	n := &Node{id: c.id, log: c.log.With("subsystem", "node"), now: c.now, home: c.home, started: c.now(), t: c.tuning,
		ready: make(chan struct{}), bg: p2putil.NewGroup(), damaged: c.damaged}
	ok := false
	defer func() {
		if !ok {
			n.Close()
		}
	}()
	if err := n.openStore(ctx, c); err != nil {
		return nil, err
	}
	w, err := graph.NewWriter(ctx, n.id, n.store, n.now)
	if err != nil {
		return nil, err
	}
	if r, err := n.store.Record(ctx, n.id.PeerID(), graph.KindRotate, ""); err == nil && r.Body.Rotate != nil {
		// My log ended with a rotation: this key writes nothing more.
		if np, err := r.Body.Rotate.NewPeer(); err == nil {
			w.EndRotated(np)
		}
	}
	n.writer = newLogWriter(w, n.id, n.store, n.log, func() { n.sync.Announce() })
	if n.writer.restoring() {
		// A home restored from a copy of the key alone. Writing a new log
		// here would fork the one friends hold: get that back first.
		n.log.Warn("this home holds the identity key but not its log: it is restored from the first connection that reaches this node (or `kith connect` to one); until then nothing can be written",
			"peer", n.id.PeerID())
	}
	n.book = book.New(graph.Reader{ID: n.id.PeerID(), EncKey: n.id.EncryptionKey()}, bookStore{n.store}, n.writer, n.log)
	n.cal = cal.New(n.id.PeerID(), n.store, n.writer, n.now)
	n.host = c.host
	if n.host == nil {
		if err := n.startHost(c); err != nil {
			return nil, err
		}
	}
	if err := n.startServices(ctx); err != nil {
		return nil, err
	}
	if err := n.startDAV(); err != nil {
		return nil, err
	}
	close(n.ready)
	ok = true
	n.log.Info("node started", "peer", n.id.PeerID(), "entries", w.Head().Seq)
	return n, nil
}

// checkFormat refuses a home whose log a pre-release kith wrote in an
// older entry format (spec.Decode says which and what to do): appending
// to it would make a log that no friend accepts.
func (n *Node) checkFormat(ctx context.Context) error {
	les, err := n.store.Log(ctx, n.id.PeerID(), 0, 1)
	if err != nil || len(les) == 0 {
		return err
	}
	if _, err := spec.Decode(les[0].Raw); errors.Is(err, spec.ErrUnknownVersion) {
		return fmt.Errorf("node: reading this home's log (%s): %w", filepath.Join(n.home, DBName), err)
	}
	return nil
}

// openStore opens the store (unless one was given) and readies it: fork
// evidence against my own log is dropped, and entries an older version
// kept unread are read.
func (n *Node) openStore(ctx context.Context, c *config) error {
	n.store = c.store
	if c.ownStore {
		n.closers = append(n.closers, n.store.Close)
	}
	if n.store == nil {
		if c.home == "" {
			return errors.New("node: neither WithHome nor WithStore given")
		}
		s, err := store.Open(ctx, filepath.Join(c.home, DBName), book.Index{})
		if err != nil {
			return err
		}
		n.store = s
		n.closers = append(n.closers, s.Close)
	}
	if err := n.checkFormat(ctx); err != nil {
		return err
	}
	if k, err := n.store.ForgetForks(ctx, n.id.PeerID()); err != nil {
		return err
	} else if k > 0 {
		n.log.Warn("dropped fork evidence against my own log: my history wins here", "evidence", k)
	}
	// After an upgrade, read what an older version kept unread.
	// A failure leaves the version unrecorded, so the next start tries again.
	if k, err := n.store.Reread(ctx, graph.Opener(n.id), n.t.readerVersion); err != nil {
		n.log.Warn("could not read entries kept unread; will try at the next start", "err", err)
	} else if k > 0 {
		n.log.Info("read entries an older version could not", "entries", k)
	}
	return nil
}

// startServices starts the protocol services and the background work:
// sync first, so that connect (whose answers schedule pulls) finds it.
func (n *Node) startServices(ctx context.Context) error {
	n.inbound = p2putil.NewLimiter(n.t.inboundRate, n.t.inboundBurst)
	n.sync = logsync.New(logsync.Config{
		Host: n.host, Self: n.id.PeerID(), Open: graph.Opener(n.id), Store: rotationStore{n}, Writer: n.writer,
		Peers: syncPeers{n}, Limiter: n.inbound, Quota: n.store, Tuning: n.t.sync, Now: n.now, Log: n.log.With("service", "sync"),
	})
	n.closers = append(n.closers, n.sync.Close)
	cs, err := connect.New(ctx, connect.Config{
		Host: n.host, Routing: n.routing, ID: n.id, Store: n.store, Book: n.book, Sync: n.sync,
		Restoring: n.writer.restoring, NoLog: errNoLog, Limiter: n.inbound, Tuning: n.t.connect, Now: n.now,
		Log: n.log.With("service", "connect"),
	})
	if err != nil {
		return err
	}
	n.connect.Store(cs)
	n.closers = append(n.closers, cs.Close)
	n.fb = freebusy.New(freebusy.Config{Host: n.host, Source: freeBusySource{n}, Limiter: n.inbound, Tuning: n.t.freebusy, Log: n.log.With("service", "freebusy")})
	n.closers = append(n.closers, n.fb.Close)
	n.startRedial(ctx)
	return nil
}

// Close stops the node and closes what New opened. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.bg.Close() // first: its work uses the services
		for i := len(n.closers) - 1; i >= 0; i-- {
			if err := n.closers[i](); err != nil && n.closeErr == nil {
				n.closeErr = err
			}
		}
	})
	return n.closeErr
}

// Host returns the libp2p host.
func (n *Node) Host() host.Host { return n.host }

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.store }

// bookStore is the store as the address book reads it.
type bookStore struct{ *store.Store }

// LastSync returns when p was last synced with.
func (s bookStore) LastSync(ctx context.Context, p peer.ID) (time.Time, error) {
	pi, err := s.PeerInfo(ctx, p)
	return pi.LastSync, err
}

// syncPeers is what the sync service asks of connections: connect's
// answers once it runs, the safe ones before (sync starts first, and a
// peer refused then asks again).
type syncPeers struct{ n *Node }

func (s syncPeers) SyncsWith(ctx context.Context, p peer.ID) bool {
	c := s.n.connect.Load()
	return c != nil && c.SyncsWith(ctx, p)
}

func (s syncPeers) Active(ctx context.Context) ([]peer.ID, error) {
	c := s.n.connect.Load()
	if c == nil {
		return nil, nil
	}
	return c.Active(ctx)
}

func (s syncPeers) Refused(p peer.ID) {
	if c := s.n.connect.Load(); c != nil {
		c.Refused(p)
	}
}

func (s syncPeers) KeysArrived(ctx context.Context, p peer.ID) error { return s.n.book.Reissue(ctx, p) }

// withOwnedStore makes New close the store given with WithStore; damaged
// is where a damaged store was moved aside for it ("" if none).
func withOwnedStore(damaged string) Option {
	return func(c *config) error { c.ownStore, c.damaged = true, damaged; return nil }
}
