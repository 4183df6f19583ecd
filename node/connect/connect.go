package connect

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/routing"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/spec"
)

// ServiceName names the service to the resource manager.
const ServiceName = "kith.connect"

// Tuning holds the service's limits and timers.
type Tuning struct {
	// Timeout bounds one exchange, and a dial.
	Timeout time.Duration
	// MaxFrame bounds a connect message.
	MaxFrame int
	// MaxPendingIn bounds the incoming requests kept.
	MaxPendingIn int
	// MaxPendingPerSource bounds the incoming requests kept from one
	// source address (IP): throwaway identities are free, addresses less.
	MaxPendingPerSource int
	// RequestTTL is how long an incoming request is kept unanswered.
	RequestTTL time.Duration
	// InviteTTL is an invite code's time to live when none is asked for.
	InviteTTL time.Duration
	// RepeatAfter: a pending request of mine is sent again on connection
	// only if it is older than this (Connect itself has just sent a newer).
	RepeatAfter time.Duration
}

// DefaultTuning is what a daemon runs with.
var DefaultTuning = Tuning{
	Timeout:      30 * time.Second,
	MaxFrame:     4 << 10,
	MaxPendingIn: 100,
	// A household or an office shares an address; a flood from one
	// address fills 8 places, not the queue.
	MaxPendingPerSource: 8,
	RequestTTL:          7 * 24 * time.Hour,
	InviteTTL:           24 * time.Hour,
	RepeatAfter:         10 * time.Second,
}

// Store is the node-local state of connecting: requests, invites, declined
// peers, who disconnected me, where peers were reached.
type Store interface {
	PutRequest(ctx context.Context, r store.Request) error
	GetRequest(ctx context.Context, p peer.ID) (*store.Request, error)
	Requests(ctx context.Context) ([]store.Request, error)
	// AddIncomingRequest keeps a request within limits, atomically
	// (store.ErrRequestsFull, store.ErrRequestsFromSource when not kept).
	AddIncomingRequest(ctx context.Context, r store.Request, source string, lim store.RequestLimits) error
	ExpireRequests(ctx context.Context, before time.Time) (int, error)
	DeleteRequest(ctx context.Context, p peer.ID) error
	Decline(ctx context.Context, p peer.ID, t time.Time) error
	Declined(ctx context.Context, p peer.ID) (bool, error)
	ForgetDeclined(ctx context.Context, p peer.ID) error
	DroppedBy(ctx context.Context, p peer.ID, t time.Time) error
	DroppedPeers(ctx context.Context) (map[peer.ID]time.Time, error)
	ForgetDropped(ctx context.Context, p peer.ID) error
	PutInvite(ctx context.Context, secret []byte, expires time.Time, circles []string) error
	UseInvite(ctx context.Context, secret []byte, now time.Time) ([]string, error)
	PutPeerAddrs(ctx context.Context, p peer.ID, addrs []string) error
}

// Book is what the service needs of the address book: my connections in
// my log, and the circles they go in.
type Book interface {
	IsConnection(ctx context.Context, p peer.ID) (bool, error)
	Connections(ctx context.Context) ([]peer.ID, error)
	// Disconnected reports whether my log ended the connection with p.
	Disconnected(ctx context.Context, p peer.ID) (bool, error)
	CheckCircles(ctx context.Context, circles []string) ([]string, error)
	// Establish records the connection with p in circles.
	Establish(ctx context.Context, p peer.ID, circles []string) error
}

// Sync is what the service needs of the sync service.
type Sync interface {
	// Schedule pulls from p in the background.
	Schedule(p peer.ID)
	// Pull pulls from p now.
	Pull(ctx context.Context, p peer.ID) error
}

// Config is what New needs.
type Config struct {
	Host    host.Host
	Routing routing.PeerRouting // finds peers by ID (the DHT); may be nil
	ID      *identity.Identity
	Store   Store
	Book    Book
	Sync    Sync
	// Restoring reports whether my log is still to be restored (the home
	// held the key alone): Connect then takes it back from the peer.
	Restoring func() bool
	// NoLog is the error for a write while restoring.
	NoLog   error
	Limiter *p2putil.Limiter // inbound streams per peer, shared with the other protocols
	Tuning  Tuning
	Now     func() time.Time // default time.Now
	Log     *slog.Logger     // default: discard
}

// Service is the connect protocol of one node.
type Service struct {
	host      host.Host
	routing   routing.PeerRouting
	id        *identity.Identity
	store     Store
	book      Book
	sync      Sync
	restoring func() bool
	noLog     error
	limiter   *p2putil.Limiter
	t         Tuning
	now       func() time.Time
	log       *slog.Logger

	g *p2putil.Group

	// mu guards dropped and asking.
	mu sync.Mutex
	// dropped holds the connections that disconnected me, and when: a
	// copy of the store's, as every sync step and redial asks.
	dropped map[peer.ID]time.Time
	// asking holds peers a Connect call is sending a request to right now:
	// the repeat on connection must not send a second one, which could
	// arrive after the person on the other side already declined the first.
	asking map[peer.ID]int
}

// New starts the service: it serves /kith/connect/1.0.0 on c.Host until
// Close.
func New(ctx context.Context, c Config) (*Service, error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	dropped, err := c.Store.DroppedPeers(ctx)
	if err != nil {
		return nil, err
	}
	s := &Service{host: c.Host, routing: c.Routing, id: c.ID, store: c.Store, book: c.Book, sync: c.Sync,
		restoring: c.Restoring, noLog: c.NoLog, limiter: c.Limiter, t: c.Tuning, now: c.Now, log: c.Log,
		g: p2putil.NewGroup(), dropped: dropped, asking: map[peer.ID]int{}}
	c.Host.SetStreamHandler(spec.ProtoConnect, s.g.Handler(ServiceName, s.log, s.handle))
	return s, nil
}

// Close stops serving and waits for every handler and background send.
func (s *Service) Close() error {
	s.host.RemoveStreamHandler(spec.ProtoConnect)
	s.g.Close()
	return nil
}

// isConnection reports whether p is a connection; a store failure counts
// as no (and is logged): nothing is sent or accepted on it.
func (s *Service) isConnection(ctx context.Context, p peer.ID) bool {
	ok, err := s.book.IsConnection(ctx, p)
	if err != nil {
		s.log.Warn("reading my connections", "err", err)
	}
	return ok
}

// disconnectedMe reports whether I ended the connection with p.
func (s *Service) disconnectedMe(ctx context.Context, p peer.ID) bool {
	ok, err := s.book.Disconnected(ctx, p)
	if err != nil {
		s.log.Warn("reading my connections", "err", err)
	}
	return ok
}

// SyncsWith reports whether p is a connection that has not disconnected
// me: one to sync with, announce to and redial.
func (s *Service) SyncsWith(ctx context.Context, p peer.ID) bool {
	return s.isConnection(ctx, p) && !s.droppedBy(p)
}

// Active returns my connections that have not disconnected me.
func (s *Service) Active(ctx context.Context) ([]peer.ID, error) {
	cs, err := s.book.Connections(ctx)
	if err != nil {
		return nil, err
	}
	out := cs[:0]
	for _, p := range cs {
		if !s.droppedBy(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// droppedBy reports whether my connection p disconnected me (told me so
// with a signed message): I stop syncing with and redialing it.
func (s *Service) droppedBy(p peer.ID) bool {
	_, ok := s.DroppedAt(p)
	return ok
}

// DroppedAt returns when p disconnected me, if it did.
func (s *Service) DroppedAt(p peer.ID) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.dropped[p]
	return t, ok
}

// markDropped records that p disconnected me.
func (s *Service) markDropped(ctx context.Context, p peer.ID) error {
	now := s.now()
	if err := s.store.DroppedBy(ctx, p, now); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.dropped[p]; !ok {
		s.dropped[p] = now
	}
	return nil
}

// forgetDropped forgets that p disconnected me: we are connected again, or
// I disconnected it too.
func (s *Service) forgetDropped(ctx context.Context, p peer.ID) error {
	if !s.droppedBy(p) {
		return nil
	}
	if err := s.store.ForgetDropped(ctx, p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dropped, p)
	return nil
}

// beginAsking marks p as being sent a request by Connect; the returned
// func unmarks it.
func (s *Service) beginAsking(p peer.ID) func() {
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
func (s *Service) isAsking(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asking[p] > 0
}

// establish records the connection with p in circles (the book's part)
// and clears what was pending with p (mine).
func (s *Service) establish(ctx context.Context, p peer.ID, circles []string) error {
	if err := s.book.Establish(ctx, p, circles); err != nil {
		return err
	}
	if err := s.store.DeleteRequest(ctx, p); err != nil {
		return err
	}
	if err := s.store.ForgetDeclined(ctx, p); err != nil {
		return err
	}
	if err := s.forgetDropped(ctx, p); err != nil {
		return err
	}
	s.log.Info("connected", "peer", p, "circles", circles)
	return nil
}

// Ended is told that I disconnected p (the book wrote it in my log): I
// forget that p disconnected me, if it did, and tell p.
func (s *Service) Ended(ctx context.Context, p peer.ID) error {
	if err := s.forgetDropped(ctx, p); err != nil {
		return err
	}
	// Tell them, so that they stop syncing with and redialing me; if they
	// are offline now, they are told when they next ask to sync.
	s.TellDisconnected(p)
	return nil
}

// RepeatRequest repeats my pending request to p, which has just come
// online: its answer may have been lost while I was offline.
func (s *Service) RepeatRequest(p peer.ID) {
	ctx := s.g.Context()
	if s.isAsking(p) {
		return // Connect is sending it right now
	}
	req, err := s.store.GetRequest(ctx, p)
	if err != nil || !req.Outgoing || s.now().Sub(req.Time) < s.t.RepeatAfter {
		return // none, or Connect has just sent it
	}
	status, err := s.send(ctx, p, "", req.Note, nil)
	switch {
	case err != nil:
	case status == spec.ConnectAccepted:
		if err := s.establish(ctx, p, req.Circles); err == nil {
			s.sync.Schedule(p)
		}
	case status == spec.ConnectDeclined:
		if err := s.store.DeleteRequest(ctx, p); err != nil {
			s.log.Warn("forgetting a declined request", "peer", p, "err", err)
		}
	}
}

// tellDisconnected tells p, if it can be reached now, that I ended our
// connection, then closes the connections to it. It runs in the background.
func (s *Service) TellDisconnected(p peer.ID) {
	s.g.Go(func() {
		ctx, cancel := context.WithTimeout(s.g.Context(), s.t.Timeout)
		defer cancel()
		if s.online(p) && s.disconnectedMe(ctx, p) {
			if _, err := s.send(ctx, p, spec.ConnectDisconnected, "", nil); err != nil {
				s.log.Debug("telling a peer I disconnected it", "peer", p, "err", err)
			}
		}
		if !s.isConnection(ctx, p) {
			s.host.Network().ClosePeer(p)
		}
	})
}

// online reports whether p can be reached now: a direct connection, or a
// relayed one (limited, but the Kith protocols run over it).
func (s *Service) online(p peer.ID) bool { return p2putil.Online(s.host.Network(), p) }

// Invite is api.API.Invite: a one-time code, valid for ttl (0 = a day;
// else from api.MinInviteTTL to api.MaxInviteTTL), whose bearer is connected
// without a prompt and put in circles.
func (s *Service) Invite(ctx context.Context, req api.InviteRequest) (*api.InviteCode, error) {
	if s.restoring() {
		return nil, s.noLog
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = s.t.InviteTTL
	}
	if ttl < api.MinInviteTTL || ttl > api.MaxInviteTTL {
		return nil, fmt.Errorf("%w: an invite's time to live must be from %s to %s (30 days), not %s", api.ErrInvalid, api.MinInviteTTL, api.MaxInviteTTL, req.TTL)
	}
	circles, err := s.book.CheckCircles(ctx, req.Circles)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("making an invite secret: %w", err)
	}
	expires := s.now().Add(ttl)
	if err := s.store.PutInvite(ctx, secret, expires, circles); err != nil {
		return nil, err
	}
	inv := &spec.Invite{Peer: []byte(s.id.PeerID()), Secret: secret, Expires: expires.Unix()}
	for _, a := range s.shareableAddrs() {
		if len(inv.Addrs) < spec.MaxInviteAddrs {
			inv.Addrs = append(inv.Addrs, a.Bytes())
		}
	}
	return &api.InviteCode{Code: inv.String(), PeerID: s.id.PeerID(), Expires: expires.UTC(), Circles: circles}, nil
}

// shareableAddrs are my listen addresses minus unspecified ones.
func (s *Service) shareableAddrs() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range s.host.Addrs() {
		if s := a.String(); strings.Contains(s, "/ip4/0.0.0.0/") || strings.Contains(s, "/ip6/::/") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ParseTarget reads an invite code (returned too), a multiaddr ending in
// /p2p/<id>, or a bare peer ID; anything else is api.ErrInvalid.
func ParseTarget(target string) (peer.AddrInfo, *spec.Invite, error) {
	target = strings.TrimSpace(target)
	switch {
	case strings.HasPrefix(target, spec.InvitePrefix):
		inv, err := spec.ParseInvite(target)
		if err != nil {
			return peer.AddrInfo{}, nil, fmt.Errorf("%w: %w", api.ErrInvalid, err)
		}
		return peer.AddrInfo{ID: inv.PeerID(), Addrs: inv.Multiaddrs()}, inv, nil
	case strings.HasPrefix(target, "/"):
		m, err := ma.NewMultiaddr(target)
		if err != nil {
			return peer.AddrInfo{}, nil, fmt.Errorf("%w: %q is not a multiaddr: %v", api.ErrInvalid, target, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(m)
		if err != nil {
			return peer.AddrInfo{}, nil, fmt.Errorf("%w: %q must end in /p2p/<peer id>: %v", api.ErrInvalid, target, err)
		}
		return *ai, nil, nil
	default:
		p, err := peer.Decode(target)
		if err != nil {
			return peer.AddrInfo{}, nil, fmt.Errorf("%w: %q is neither an invite code, a multiaddr nor a peer ID", api.ErrInvalid, target)
		}
		return peer.AddrInfo{ID: p}, nil, nil
	}
}

// Connect is api.API.Connect.
func (s *Service) Connect(ctx context.Context, req api.ConnectRequest) (*api.ConnectResult, error) {
	ai, inv, err := ParseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if ai.ID == s.id.PeerID() {
		return nil, fmt.Errorf("%w: that is this node's own peer ID", api.ErrInvalid)
	}
	var secret []byte
	if inv != nil {
		if exp := time.Unix(inv.Expires, 0); !s.now().Before(exp) {
			return nil, fmt.Errorf("%w: this code from %s expired on %s; ask them for a new one", api.ErrInviteInvalid, ai.ID, exp.UTC().Format(time.RFC1123))
		}
		secret = inv.Secret
	}
	if len(req.Note) > spec.MaxNoteLen {
		return nil, fmt.Errorf("%w: note over %d bytes", api.ErrInvalid, spec.MaxNoteLen)
	}
	if s.restoring() {
		return s.restoreFrom(ctx, ai)
	}
	circles, err := s.book.CheckCircles(ctx, req.Circles)
	if err != nil {
		return nil, err
	}
	defer s.beginAsking(ai.ID)()
	if err := s.Dial(ctx, ai); err != nil {
		return nil, err
	}
	if err := s.store.ForgetDeclined(ctx, ai.ID); err != nil { // I changed my mind
		return nil, err
	}
	if err := s.store.PutRequest(ctx, store.Request{Peer: ai.ID, Outgoing: true, Note: req.Note, Circles: circles, Time: s.now()}); err != nil {
		return nil, err
	}
	status, err := s.send(ctx, ai.ID, "", req.Note, secret)
	if err != nil {
		return nil, err
	}
	switch status {
	case spec.ConnectAccepted:
		if err := s.establish(ctx, ai.ID, circles); err != nil {
			return nil, err
		}
	case spec.ConnectDeclined:
		if err := s.store.DeleteRequest(ctx, ai.ID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s declined your request to connect", api.ErrDeclined, ai.ID)
	case spec.ConnectInviteInvalid:
		if err := s.store.DeleteRequest(ctx, ai.ID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s says this code was used already or has expired; ask them for a new one, or connect by peer ID for them to accept by hand", api.ErrInviteInvalid, ai.ID)
	case spec.ConnectBusy:
		if err := s.store.DeleteRequest(ctx, ai.ID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s did not keep your request: it holds too many pending requests (from your address, or in all); ask again later, or ask them for an invite code", api.ErrBusy, ai.ID)
	}
	return &api.ConnectResult{PeerID: ai.ID, Status: status}, nil
}

// restoreFrom is Connect on a home holding the key alone: it takes my log
// back from ai (a connection of mine serves it) and asks nothing else.
func (s *Service) restoreFrom(ctx context.Context, ai peer.AddrInfo) (*api.ConnectResult, error) {
	if err := s.Dial(ctx, ai); err != nil {
		return nil, err
	}
	if err := s.sync.Pull(ctx, ai.ID); err != nil {
		return nil, fmt.Errorf("restoring my log from %s: %w", ai.ID, err)
	}
	if s.restoring() {
		return nil, fmt.Errorf("%w (%s does not hold it)", s.noLog, ai.ID)
	}
	if !s.isConnection(ctx, ai.ID) {
		return nil, fmt.Errorf("%w: my log is back from %s, which is not a connection of mine; connect again to ask them", api.ErrInvalid, ai.ID)
	}
	return &api.ConnectResult{PeerID: ai.ID, Status: spec.ConnectAccepted}, nil
}

// dial connects to ai, finding addresses in the peerstore (mDNS, earlier
// runs) or through the DHT when none are given.
func (s *Service) Dial(ctx context.Context, ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	if len(ai.Addrs) > 0 {
		s.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
	}
	if len(s.host.Peerstore().Addrs(ai.ID)) == 0 && s.routing != nil {
		found, err := s.routing.FindPeer(ctx, ai.ID)
		if err == nil {
			ai = found
		}
	}
	if err := s.host.Connect(ctx, ai); err != nil {
		return fmt.Errorf("%w: reaching %s: %v (is their daemon running? an invite code or full multiaddr carries addresses)", api.ErrUnreachable, ai.ID, err)
	}
	var addrs []string
	for _, a := range s.host.Peerstore().Addrs(ai.ID) {
		addrs = append(addrs, a.String())
	}
	if err := s.store.PutPeerAddrs(ctx, ai.ID, addrs); err != nil {
		s.log.Warn("remembering a peer's addresses", "peer", ai.ID, "err", err)
	}
	return nil
}

// send sends one connect message to p and returns p's answer.
func (s *Service) send(ctx context.Context, p peer.ID, status, note string, secret []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.t.Timeout)
	defer cancel()
	str, err := s.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-connect"), p, spec.ProtoConnect)
	if err != nil {
		return "", fmt.Errorf("%w: opening connect stream to %s: %v", api.ErrUnreachable, p, err)
	}
	if err := str.Scope().SetService(ServiceName); err != nil {
		str.Reset()
		return "", fmt.Errorf("connect stream to %s: %w", p, err)
	}
	defer str.Close()
	_, stop := p2putil.Watchdog(ctx, str, s.t.Timeout)
	defer stop()
	if err := s.write(str, p, status, note, secret); err != nil {
		str.Reset()
		return "", err
	}
	frame, err := spec.ReadFrame(bufio.NewReader(str), s.t.MaxFrame)
	if err != nil {
		str.Reset()
		return "", fmt.Errorf("reading %s's answer: %w", p, err)
	}
	m, err := spec.DecodeConnectMsg(frame)
	if err != nil || peer.ID(m.From) != p || peer.ID(m.To) != s.id.PeerID() || m.Status == "" {
		str.Reset()
		return "", fmt.Errorf("%s answered with a bad message: %v", p, err)
	}
	return m.Status, nil
}

func (s *Service) write(str network.Stream, to peer.ID, status, note string, secret []byte) error {
	m := &spec.ConnectMsg{From: []byte(s.id.PeerID()), To: []byte(to), Status: status, Note: note, Invite: secret, Time: s.now().UnixMilli()}
	if m.Invite == nil {
		m.Invite = []byte{}
	}
	if err := m.Sign(s.id.Sign); err != nil {
		return err
	}
	return p2putil.WriteMsg(str, m)
}

// handle serves /kith/connect/1.0.0.
// It runs inside the group's Handler: counted in, in the service's scope.
func (s *Service) handle(str network.Stream) {
	remote := str.Conn().RemotePeer()
	if !s.limiter.Allow(remote) {
		str.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(s.g.Context(), s.t.Timeout)
	defer cancel()
	_, stop := p2putil.Watchdog(ctx, str, s.t.Timeout)
	defer stop()
	frame, err := spec.ReadFrame(bufio.NewReader(str), s.t.MaxFrame)
	if err != nil {
		str.Reset()
		return
	}
	m, err := spec.DecodeConnectMsg(frame)
	if err != nil || peer.ID(m.From) != remote || peer.ID(m.To) != s.id.PeerID() {
		s.log.Debug("bad connect message", "peer", remote, "err", err)
		str.Reset()
		return
	}
	answer, err := s.decide(ctx, remote, sourceOf(str.Conn().RemoteMultiaddr()), m)
	if err != nil {
		s.log.Warn("handling connect", "peer", remote, "err", err)
		str.Reset()
		return
	}
	if err := s.write(str, remote, answer, "", nil); err != nil {
		str.Reset()
		return
	}
	str.Close()
	switch answer {
	case spec.ConnectAccepted:
		s.sync.Schedule(remote)
	case spec.ConnectDisconnected:
		if s.droppedBy(remote) {
			s.host.Network().ClosePeer(remote)
		}
	}
}

// decide decides the answer to a connect message from remote, which came
// from source (an IP address, or "").
func (s *Service) decide(ctx context.Context, remote peer.ID, source string, m *spec.ConnectMsg) (string, error) {
	switch m.Status {
	case spec.ConnectAccepted:
		// They accepted my earlier request.
		req, err := s.store.GetRequest(ctx, remote)
		if err != nil || !req.Outgoing {
			if s.isConnection(ctx, remote) {
				return spec.ConnectAccepted, nil
			}
			return "", fmt.Errorf("acceptance from %s without a request", remote)
		}
		return spec.ConnectAccepted, s.establish(ctx, remote, req.Circles)
	case spec.ConnectDeclined, spec.ConnectInviteInvalid:
		if req, err := s.store.GetRequest(ctx, remote); err == nil && req.Outgoing {
			if err := s.store.DeleteRequest(ctx, remote); err != nil {
				return "", err
			}
		}
		return spec.ConnectDeclined, nil
	case spec.ConnectDisconnected:
		// Signed by remote (checked by the caller). A notice racing my own
		// Connect to them (a new invite) is stale: that call decides.
		if s.isConnection(ctx, remote) && !s.isAsking(remote) {
			if err := s.markDropped(ctx, remote); err != nil {
				return "", err
			}
			s.log.Info("a connection disconnected me; no more syncing with it", "peer", remote)
		}
		return spec.ConnectDisconnected, nil
	}
	// A request.
	if s.isConnection(ctx, remote) {
		// They disconnected me and now ask again: I never ended it on my
		// side, so we are connected again.
		if s.droppedBy(remote) {
			if err := s.forgetDropped(ctx, remote); err != nil {
				return "", err
			}
		}
		return spec.ConnectAccepted, nil
	}
	badInvite := false
	if len(m.Invite) > 0 {
		circles, err := s.store.UseInvite(ctx, m.Invite, s.now())
		if err == nil {
			return spec.ConnectAccepted, s.establish(ctx, remote, circles)
		}
		s.log.Info("connect with an unknown, used or expired invite", "peer", remote)
		badInvite = true
	}
	if req, err := s.store.GetRequest(ctx, remote); err == nil && req.Outgoing {
		// We asked each other: that is mutual consent.
		return spec.ConnectAccepted, s.establish(ctx, remote, req.Circles)
	}
	if declined, err := s.store.Declined(ctx, remote); err == nil && declined {
		return spec.ConnectDeclined, nil // asked again; the answer stands
	}
	if badInvite {
		// They meant to use a code, not to ask me: say it did not work
		// rather than keep a request they do not know they made.
		return spec.ConnectInviteInvalid, nil
	}
	now := s.now()
	err := s.store.AddIncomingRequest(ctx, store.Request{Peer: remote, Note: m.Note, Time: now}, source,
		store.RequestLimits{Max: s.t.MaxPendingIn, PerSource: s.t.MaxPendingPerSource, Expired: now.Add(-s.t.RequestTTL)})
	switch {
	case errors.Is(err, store.ErrRequestsFull), errors.Is(err, store.ErrRequestsFromSource):
		// Full (perhaps of requests from throwaway identities): the
		// request is not kept, and the requester is told so; it is not
		// told "pending" for a request nobody will see.
		s.log.Warn("connection request not kept (see `kith requests`)", "peer", remote, "source", source, "reason", err,
			"limit", s.t.MaxPendingIn, "per_source", s.t.MaxPendingPerSource)
		return spec.ConnectBusy, nil
	case err != nil:
		return "", err
	}
	s.log.Info("connection request", "peer", remote, "note", m.Note)
	return spec.ConnectPending, nil
}

// Requests is api.API.Requests.
func (s *Service) Requests(ctx context.Context) ([]api.Request, error) {
	if err := s.expire(ctx); err != nil {
		return nil, err
	}
	rs, err := s.store.Requests(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Request, 0, len(rs))
	for _, r := range rs {
		out = append(out, api.Request{PeerID: r.Peer, Outgoing: r.Outgoing, Note: r.Note, Time: r.Time.UTC()})
	}
	return out, nil
}

// expire drops the incoming requests older than the tuning's RequestTTL.
func (s *Service) expire(ctx context.Context) error {
	n, err := s.store.ExpireRequests(ctx, s.now().Add(-s.t.RequestTTL))
	if n > 0 {
		s.log.Info("dropped expired connection requests", "requests", n, "ttl", s.t.RequestTTL)
	}
	return err
}

// sourceOf is the IP address a connection comes from ("" if it has none):
// the relay's, for a relayed connection.
func sourceOf(a ma.Multiaddr) string {
	for _, c := range a {
		switch c.Code() {
		case ma.P_IP4, ma.P_IP6:
			return c.Value()
		}
	}
	return ""
}

func (s *Service) incoming(ctx context.Context, ref string) (peer.ID, error) {
	p, err := peer.Decode(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a peer ID", api.ErrInvalid, ref)
	}
	if err := s.expire(ctx); err != nil {
		return "", err
	}
	r, err := s.store.GetRequest(ctx, p)
	if err != nil || r.Outgoing {
		return "", fmt.Errorf("%w: no pending request from %s (see `kith requests`)", api.ErrNotFound, p)
	}
	return p, nil
}

// Accept is api.API.Accept.
func (s *Service) Accept(ctx context.Context, req api.AcceptRequest) error {
	if s.restoring() {
		return s.noLog
	}
	p, err := s.incoming(ctx, req.PeerID)
	if err != nil {
		return err
	}
	circles, err := s.book.CheckCircles(ctx, req.Circles)
	if err != nil {
		return err
	}
	if err := s.establish(ctx, p, circles); err != nil {
		return err
	}
	// Tell them now if they are online; if not, their node repeats its
	// request when it next reaches me and gets "accepted".
	s.g.Go(func() {
		ctx, cancel := context.WithTimeout(s.g.Context(), s.t.Timeout)
		defer cancel()
		if _, err := s.send(ctx, p, spec.ConnectAccepted, "", nil); err == nil {
			s.sync.Schedule(p)
		}
	})
	return nil
}

// Decline is api.API.Decline.
func (s *Service) Decline(ctx context.Context, ref string) error {
	p, err := s.incoming(ctx, ref)
	if err != nil {
		return err
	}
	if err := s.store.Decline(ctx, p, s.now()); err != nil {
		return err
	}
	s.g.Go(func() {
		ctx, cancel := context.WithTimeout(s.g.Context(), s.t.Timeout)
		defer cancel()
		if _, err := s.send(ctx, p, spec.ConnectDeclined, "", nil); err != nil {
			s.log.Debug("telling a peer I declined", "peer", p, "err", err)
		}
	})
	return nil
}

// Refused is told that p asked to sync and was refused: if I disconnected
// p and it missed my word, it is told again.
func (s *Service) Refused(p peer.ID) {
	if s.disconnectedMe(s.g.Context(), p) {
		s.TellDisconnected(p)
	}
}
