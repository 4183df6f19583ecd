package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
)

// Connect protocol tuning.
var (
	connectTimeout   = 30 * time.Second
	maxConnectFrame  = 4 << 10
	maxPendingIn     = 100 // incoming requests kept at most
	defaultInviteTTL = 24 * time.Hour
)

// isConnection reports whether p is an accepted connection.
func (n *Node) isConnection(ctx context.Context, p peer.ID) bool {
	_, err := n.liveRecord(ctx, graph.KindConnection, p.String())
	return err == nil
}

// connections returns my live connections.
func (n *Node) connections(ctx context.Context) ([]peer.ID, error) {
	rs, err := n.store.Records(ctx, n.id.PeerID(), graph.KindConnection)
	if err != nil {
		return nil, err
	}
	out := make([]peer.ID, 0, len(rs))
	for _, r := range rs {
		if p, err := peer.Decode(r.Key); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// droppedBy reports whether my connection p disconnected me (told me so
// with a signed message): I stop syncing with and redialing it.
func (n *Node) droppedBy(p peer.ID) bool {
	_, ok := n.droppedAt(p)
	return ok
}

// droppedAt returns when p disconnected me, if it did.
func (n *Node) droppedAt(p peer.ID) (time.Time, bool) {
	n.droppedMu.Lock()
	defer n.droppedMu.Unlock()
	t, ok := n.dropped[p]
	return t, ok
}

// markDropped records that p disconnected me.
func (n *Node) markDropped(ctx context.Context, p peer.ID) error {
	now := n.now()
	if err := n.store.DroppedBy(ctx, p, now); err != nil {
		return err
	}
	n.droppedMu.Lock()
	defer n.droppedMu.Unlock()
	if _, ok := n.dropped[p]; !ok {
		n.dropped[p] = now
	}
	return nil
}

// forgetDropped forgets that p disconnected me: we are connected again, or
// I disconnected it too.
func (n *Node) forgetDropped(ctx context.Context, p peer.ID) error {
	if !n.droppedBy(p) {
		return nil
	}
	if err := n.store.ForgetDropped(ctx, p); err != nil {
		return err
	}
	n.droppedMu.Lock()
	defer n.droppedMu.Unlock()
	delete(n.dropped, p)
	return nil
}

// syncsWith reports whether p is a connection that has not disconnected
// me: one to sync with, announce to and redial.
func (n *Node) syncsWith(ctx context.Context, p peer.ID) bool {
	return n.isConnection(ctx, p) && !n.droppedBy(p)
}

// activeConnections returns my connections that have not disconnected me.
func (n *Node) activeConnections(ctx context.Context) ([]peer.ID, error) {
	cs, err := n.connections(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(cs, func(p peer.ID) bool { return n.droppedBy(p) }), nil
}

func (n *Node) onlineConnections() []peer.ID {
	cs, err := n.activeConnections(n.sync.ctx)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(cs, func(p peer.ID) bool { return !n.online(p) })
}

// disconnectedMe reports whether I ended the connection with p: my log
// holds a tombstone for it.
func (n *Node) disconnectedMe(ctx context.Context, p peer.ID) bool {
	r, err := n.store.Record(ctx, n.id.PeerID(), graph.KindConnection, p.String())
	return err == nil && r.Body.Del
}

// tellDisconnected tells p, if it can be reached now, that I ended our
// connection, then closes the connections to it. It runs in the background.
func (n *Node) tellDisconnected(p peer.ID) {
	n.sync.goTracked(func() {
		ctx, cancel := context.WithTimeout(n.sync.ctx, connectTimeout)
		defer cancel()
		if n.online(p) && n.disconnectedMe(ctx, p) {
			if _, err := n.sendConnect(ctx, p, spec.ConnectDisconnected, "", nil); err != nil {
				n.log.Debug("telling a peer I disconnected it", "peer", p, "err", err)
			}
		}
		if !n.isConnection(ctx, p) {
			n.host.Network().ClosePeer(p)
		}
	})
}

// online reports whether p can be reached now: a direct connection, or a
// relayed one (limited, but the Kith protocols run over it).
func (n *Node) online(p peer.ID) bool {
	c := n.host.Network().Connectedness(p)
	return c == network.Connected || c == network.Limited
}

// Invite implements api.API: a one-time code, valid for ttl (0 = a day;
// else from api.MinInviteTTL to api.MaxInviteTTL), whose bearer is connected
// without a prompt and put in circles.
func (n *Node) Invite(ctx context.Context, req api.InviteRequest) (*api.InviteCode, error) {
	if n.restoring() {
		return nil, errNoLog
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = defaultInviteTTL
	}
	if ttl < api.MinInviteTTL || ttl > api.MaxInviteTTL {
		return nil, fmt.Errorf("%w: an invite's time to live must be from %s to %s (30 days), not %s", api.ErrInvalid, api.MinInviteTTL, api.MaxInviteTTL, req.TTL)
	}
	circles, err := n.checkCircles(ctx, req.Circles)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	expires := n.now().Add(ttl)
	if err := n.store.PutInvite(ctx, secret, expires, circles); err != nil {
		return nil, err
	}
	inv := &spec.Invite{Peer: []byte(n.id.PeerID()), Secret: secret, Expires: expires.Unix()}
	for _, a := range n.shareableAddrs() {
		if len(inv.Addrs) < spec.MaxInviteAddrs {
			inv.Addrs = append(inv.Addrs, a.Bytes())
		}
	}
	return &api.InviteCode{Code: inv.String(), PeerID: n.id.PeerID().String(), Expires: expires.UTC(), Circles: circles}, nil
}

// shareableAddrs are my listen addresses minus unspecified ones.
func (n *Node) shareableAddrs() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range n.host.Addrs() {
		if s := a.String(); strings.Contains(s, "/ip4/0.0.0.0/") || strings.Contains(s, "/ip6/::/") {
			continue
		}
		out = append(out, a)
	}
	return out
}

// checkCircles defaults to friends and checks that each circle exists.
func (n *Node) checkCircles(ctx context.Context, circles []string) ([]string, error) {
	if len(circles) == 0 {
		circles = []string{"friends"}
	}
	circles = dedupe(circles)
	for _, c := range circles {
		if _, err := n.liveRecord(ctx, graph.KindCircle, c); err != nil {
			return nil, notFound(err, "no circle %q; create it with `kith circles add %s`", c, c)
		}
	}
	return circles, nil
}

// parseTarget reads an invite code (returned too), a multiaddr ending in
// /p2p/<id>, or a bare peer ID.
func parseTarget(target string) (peer.AddrInfo, *spec.Invite, error) {
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

// Connect implements api.API.
func (n *Node) Connect(ctx context.Context, req api.ConnectRequest) (*api.ConnectResult, error) {
	ai, inv, err := parseTarget(req.Target)
	if err != nil {
		return nil, err
	}
	if ai.ID == n.id.PeerID() {
		return nil, fmt.Errorf("%w: that is this node's own peer ID", api.ErrInvalid)
	}
	var secret []byte
	if inv != nil {
		if exp := time.Unix(inv.Expires, 0); !n.now().Before(exp) {
			return nil, fmt.Errorf("%w: this code from %s expired on %s; ask them for a new one", api.ErrInviteInvalid, ai.ID, exp.UTC().Format(time.RFC1123))
		}
		secret = inv.Secret
	}
	if len(req.Note) > spec.MaxNoteLen {
		return nil, fmt.Errorf("%w: note over %d bytes", api.ErrInvalid, spec.MaxNoteLen)
	}
	if n.restoring() {
		return n.restoreFrom(ctx, ai)
	}
	circles, err := n.checkCircles(ctx, req.Circles)
	if err != nil {
		return nil, err
	}
	defer n.sync.beginAsking(ai.ID)()
	if err := n.dial(ctx, ai); err != nil {
		return nil, err
	}
	if err := n.store.ForgetDeclined(ctx, ai.ID); err != nil { // I changed my mind
		return nil, err
	}
	if err := n.store.PutRequest(ctx, store.Request{Peer: ai.ID, Outgoing: true, Note: req.Note, Circles: circles, Time: n.now()}); err != nil {
		return nil, err
	}
	status, err := n.sendConnect(ctx, ai.ID, "", req.Note, secret)
	if err != nil {
		return nil, err
	}
	switch status {
	case spec.ConnectAccepted:
		if err := n.establish(ctx, ai.ID, circles); err != nil {
			return nil, err
		}
	case spec.ConnectDeclined:
		n.store.DeleteRequest(ctx, ai.ID)
		return nil, fmt.Errorf("%w: %s declined your request to connect", api.ErrDeclined, ai.ID)
	case spec.ConnectInviteInvalid:
		n.store.DeleteRequest(ctx, ai.ID)
		return nil, fmt.Errorf("%w: %s says this code was used already or has expired; ask them for a new one, or connect by peer ID for them to accept by hand", api.ErrInviteInvalid, ai.ID)
	}
	return &api.ConnectResult{PeerID: ai.ID.String(), Status: status}, nil
}

// restoreFrom is Connect on a home holding the key alone: it takes my log
// back from ai (a connection of mine serves it) and asks nothing else.
func (n *Node) restoreFrom(ctx context.Context, ai peer.AddrInfo) (*api.ConnectResult, error) {
	if err := n.dial(ctx, ai); err != nil {
		return nil, err
	}
	if err := n.pull(ctx, ai.ID); err != nil {
		return nil, fmt.Errorf("restoring my log from %s: %w", ai.ID, err)
	}
	if n.restoring() {
		return nil, fmt.Errorf("%w (%s does not hold it)", errNoLog, ai.ID)
	}
	if !n.isConnection(ctx, ai.ID) {
		return nil, fmt.Errorf("%w: my log is back from %s, which is not a connection of mine; connect again to ask them", api.ErrInvalid, ai.ID)
	}
	return &api.ConnectResult{PeerID: ai.ID.String(), Status: spec.ConnectAccepted}, nil
}

// dial connects to ai, finding addresses in the peerstore (mDNS, earlier
// runs) or through the DHT when none are given.
func (n *Node) dial(ctx context.Context, ai peer.AddrInfo) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if len(ai.Addrs) > 0 {
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
	}
	if len(n.host.Peerstore().Addrs(ai.ID)) == 0 && n.routing != nil {
		found, err := n.routing.FindPeer(ctx, ai.ID)
		if err == nil {
			ai = found
		}
	}
	if err := n.host.Connect(ctx, ai); err != nil {
		return fmt.Errorf("%w: reaching %s: %v (is their daemon running? an invite code or full multiaddr carries addresses)", api.ErrUnreachable, ai.ID, err)
	}
	var addrs []string
	for _, a := range n.host.Peerstore().Addrs(ai.ID) {
		addrs = append(addrs, a.String())
	}
	n.store.PutPeerAddrs(ctx, ai.ID, addrs)
	return nil
}

// sendConnect sends one connect message to p and returns p's answer.
func (n *Node) sendConnect(ctx context.Context, p peer.ID, status, note string, secret []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	str, err := n.host.NewStream(network.WithAllowLimitedConn(ctx, "kith-connect"), p, spec.ProtoConnect)
	if err != nil {
		return "", fmt.Errorf("%w: opening connect stream to %s: %v", api.ErrUnreachable, p, err)
	}
	defer str.Close()
	_, stop := watchdog(ctx, str, connectTimeout)
	defer stop()
	if err := n.writeConnect(str, p, status, note, secret); err != nil {
		str.Reset()
		return "", err
	}
	frame, err := spec.ReadFrame(bufio.NewReader(str), maxConnectFrame)
	if err != nil {
		str.Reset()
		return "", fmt.Errorf("reading %s's answer: %w", p, err)
	}
	m, err := spec.DecodeConnectMsg(frame)
	if err != nil || peer.ID(m.From) != p || peer.ID(m.To) != n.id.PeerID() || m.Status == "" {
		str.Reset()
		return "", fmt.Errorf("%s answered with a bad message: %v", p, err)
	}
	return m.Status, nil
}

func (n *Node) writeConnect(str network.Stream, to peer.ID, status, note string, secret []byte) error {
	m := &spec.ConnectMsg{From: []byte(n.id.PeerID()), To: []byte(to), Status: status, Note: note, Invite: secret, Time: n.now().UnixMilli()}
	if m.Invite == nil {
		m.Invite = []byte{}
	}
	if err := m.Sign(n.id.Sign); err != nil {
		return err
	}
	return writeMsg(str, m)
}

// handleConnect serves /kith/connect/1.0.0.
func (n *Node) handleConnect(str network.Stream) {
	if !n.sync.enter() {
		str.Reset()
		return
	}
	defer n.sync.exit()
	remote := str.Conn().RemotePeer()
	if !n.sync.allow(remote) {
		str.Reset()
		return
	}
	ctx, cancel := context.WithTimeout(n.sync.ctx, connectTimeout)
	defer cancel()
	_, stop := watchdog(ctx, str, connectTimeout)
	defer stop()
	frame, err := spec.ReadFrame(bufio.NewReader(str), maxConnectFrame)
	if err != nil {
		str.Reset()
		return
	}
	m, err := spec.DecodeConnectMsg(frame)
	if err != nil || peer.ID(m.From) != remote || peer.ID(m.To) != n.id.PeerID() {
		n.log.Debug("bad connect message", "peer", remote, "err", err)
		str.Reset()
		return
	}
	answer, err := n.onConnect(ctx, remote, m)
	if err != nil {
		n.log.Warn("handling connect", "peer", remote, "err", err)
		str.Reset()
		return
	}
	if err := n.writeConnect(str, remote, answer, "", nil); err != nil {
		str.Reset()
		return
	}
	str.Close()
	switch answer {
	case spec.ConnectAccepted:
		n.sync.schedule(remote)
	case spec.ConnectDisconnected:
		if n.droppedBy(remote) {
			n.host.Network().ClosePeer(remote)
		}
	}
}

// onConnect decides the answer to a connect message from remote.
func (n *Node) onConnect(ctx context.Context, remote peer.ID, m *spec.ConnectMsg) (string, error) {
	switch m.Status {
	case spec.ConnectAccepted:
		// They accepted my earlier request.
		req, err := n.store.GetRequest(ctx, remote)
		if err != nil || !req.Outgoing {
			if n.isConnection(ctx, remote) {
				return spec.ConnectAccepted, nil
			}
			return "", fmt.Errorf("acceptance from %s without a request", remote)
		}
		return spec.ConnectAccepted, n.establish(ctx, remote, req.Circles)
	case spec.ConnectDeclined, spec.ConnectInviteInvalid:
		if req, err := n.store.GetRequest(ctx, remote); err == nil && req.Outgoing {
			n.store.DeleteRequest(ctx, remote)
		}
		return spec.ConnectDeclined, nil
	case spec.ConnectDisconnected:
		// Signed by remote (checked by the caller). A notice racing my own
		// Connect to them (a new invite) is stale: that call decides.
		if n.isConnection(ctx, remote) && !n.sync.isAsking(remote) {
			if err := n.markDropped(ctx, remote); err != nil {
				return "", err
			}
			n.log.Info("a connection disconnected me; no more syncing with it", "peer", remote)
		}
		return spec.ConnectDisconnected, nil
	}
	// A request.
	if n.isConnection(ctx, remote) {
		// They disconnected me and now ask again: I never ended it on my
		// side, so we are connected again.
		if n.droppedBy(remote) {
			if err := n.forgetDropped(ctx, remote); err != nil {
				return "", err
			}
		}
		return spec.ConnectAccepted, nil
	}
	badInvite := false
	if len(m.Invite) > 0 {
		circles, err := n.store.UseInvite(ctx, m.Invite, n.now())
		if err == nil {
			return spec.ConnectAccepted, n.establish(ctx, remote, circles)
		}
		n.log.Info("connect with an unknown, used or expired invite", "peer", remote)
		badInvite = true
	}
	if req, err := n.store.GetRequest(ctx, remote); err == nil && req.Outgoing {
		// We asked each other: that is mutual consent.
		return spec.ConnectAccepted, n.establish(ctx, remote, req.Circles)
	}
	if declined, err := n.store.Declined(ctx, remote); err == nil && declined {
		return spec.ConnectDeclined, nil // asked again; the answer stands
	}
	if badInvite {
		// They meant to use a code, not to ask me: say it did not work
		// rather than keep a request they do not know they made.
		return spec.ConnectInviteInvalid, nil
	}
	if c, err := n.store.CountRequests(ctx); err == nil && c >= maxPendingIn {
		// Full (perhaps of requests from throwaway identities): do not
		// store this one, but do not say no on the person's behalf either.
		// Their node asks again when it next connects.
		n.log.Warn("connection request not kept: too many pending requests (see `kith requests`)", "peer", remote, "limit", maxPendingIn)
		return spec.ConnectPending, nil
	}
	if err := n.store.PutRequest(ctx, store.Request{Peer: remote, Note: m.Note, Time: n.now()}); err != nil {
		return "", err
	}
	n.log.Info("connection request", "peer", remote, "note", m.Note)
	return spec.ConnectPending, nil
}

// establish records the connection with p, puts p in circles and re-issues
// those circles' cards so that p can read them.
func (n *Node) establish(ctx context.Context, p peer.ID, circles []string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	drafts := []graph.Draft{{Body: graph.Body{Kind: graph.KindConnection, Key: p.String()}, To: graph.Audience{Self: true}}}
	more, err := n.setCirclesLocked(ctx, p, circles)
	if err != nil {
		return err
	}
	if _, err := n.append(ctx, append(drafts, more...)...); err != nil {
		return err
	}
	n.store.DeleteRequest(ctx, p)
	n.store.ForgetDeclined(ctx, p)
	n.forgetDropped(ctx, p)
	n.log.Info("connected", "peer", p, "circles", circles)
	return nil
}

// setCirclesLocked returns the entries that make p's circles exactly
// circles: circle membership updates and the re-issued cards of every
// circle whose audience changes. n.mu must be held.
func (n *Node) setCirclesLocked(ctx context.Context, p peer.ID, circles []string) ([]graph.Draft, error) {
	rs, err := n.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	cards, err := n.cards(ctx)
	if err != nil {
		return nil, err
	}
	var drafts []graph.Draft
	for _, r := range rs {
		in := slices.Contains(r.Body.Members, p.String())
		want := slices.Contains(circles, r.Key)
		if in == want {
			continue
		}
		members := slices.DeleteFunc(slices.Clone(r.Body.Members), func(m string) bool { return m == p.String() })
		if want {
			members = append(members, p.String())
			slices.Sort(members)
		}
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: r.Key, Members: members}, To: graph.Audience{Self: true}})
		if card, ok := cards[r.Key]; ok {
			d, err := n.cardDraftFor(ctx, r.Key, card, members)
			if err != nil {
				return nil, err
			}
			drafts = append(drafts, d)
		}
	}
	return drafts, nil
}

// reissueFor re-issues the cards of p's circles (after p's key arrived).
func (n *Node) reissueFor(ctx context.Context, p peer.ID) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	rs, err := n.circleRecords(ctx)
	if err != nil {
		return err
	}
	cards, err := n.cards(ctx)
	if err != nil {
		return err
	}
	var drafts []graph.Draft
	for _, r := range rs {
		card, ok := cards[r.Key]
		if !ok || !slices.Contains(r.Body.Members, p.String()) {
			continue
		}
		d, err := n.cardDraftFor(ctx, r.Key, card, r.Body.Members)
		if err != nil {
			return err
		}
		drafts = append(drafts, d)
	}
	if len(drafts) == 0 {
		return nil
	}
	_, err = n.append(ctx, drafts...)
	return err
}

// Requests implements api.API.
func (n *Node) Requests(ctx context.Context) ([]api.Request, error) {
	rs, err := n.store.Requests(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Request, 0, len(rs))
	for _, r := range rs {
		out = append(out, api.Request{PeerID: r.Peer.String(), Outgoing: r.Outgoing, Note: r.Note, Time: r.Time.UTC()})
	}
	return out, nil
}

func (n *Node) incoming(ctx context.Context, ref string) (peer.ID, error) {
	p, err := peer.Decode(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a peer ID", api.ErrInvalid, ref)
	}
	r, err := n.store.GetRequest(ctx, p)
	if err != nil || r.Outgoing {
		return "", fmt.Errorf("%w: no pending request from %s (see `kith requests`)", api.ErrNotFound, p)
	}
	return p, nil
}

// Accept implements api.API.
func (n *Node) Accept(ctx context.Context, req api.AcceptRequest) error {
	if n.restoring() {
		return errNoLog
	}
	p, err := n.incoming(ctx, req.PeerID)
	if err != nil {
		return err
	}
	circles, err := n.checkCircles(ctx, req.Circles)
	if err != nil {
		return err
	}
	if err := n.establish(ctx, p, circles); err != nil {
		return err
	}
	// Tell them now if they are online; if not, their node repeats its
	// request when it next reaches me and gets "accepted".
	n.sync.goTracked(func() {
		ctx, cancel := context.WithTimeout(n.sync.ctx, connectTimeout)
		defer cancel()
		if _, err := n.sendConnect(ctx, p, spec.ConnectAccepted, "", nil); err == nil {
			n.sync.schedule(p)
		}
	})
	return nil
}

// Decline implements api.API.
func (n *Node) Decline(ctx context.Context, ref string) error {
	p, err := n.incoming(ctx, ref)
	if err != nil {
		return err
	}
	if err := n.store.Decline(ctx, p, n.now()); err != nil {
		return err
	}
	n.sync.goTracked(func() {
		ctx, cancel := context.WithTimeout(n.sync.ctx, connectTimeout)
		defer cancel()
		n.sendConnect(ctx, p, spec.ConnectDeclined, "", nil)
	})
	return nil
}

func (n *Node) connection(ctx context.Context, ref string) (peer.ID, error) {
	p, err := peer.Decode(strings.TrimSpace(ref))
	if err != nil {
		for _, c := range must(n.connections(ctx)) {
			if strings.EqualFold(n.peerName(ctx, c), strings.TrimSpace(ref)) {
				return c, nil
			}
		}
		return "", fmt.Errorf("%w: %q is neither a peer ID nor the name of a connection", api.ErrNotFound, ref)
	}
	if !n.isConnection(ctx, p) {
		return "", fmt.Errorf("%w: %s is not a connection (see `kith peers`)", api.ErrNotFound, p)
	}
	return p, nil
}

func must[T any](v T, _ error) T { return v }

// AssignCircles implements api.API: p's circles become exactly circles.
func (n *Node) AssignCircles(ctx context.Context, req api.AssignRequest) error {
	if n.restoring() {
		return errNoLog
	}
	p, err := n.connection(ctx, req.PeerID)
	if err != nil {
		return err
	}
	for _, c := range req.Circles {
		if _, err := n.liveRecord(ctx, graph.KindCircle, c); err != nil {
			return notFound(err, "no circle %q; create it with `kith circles add %s`", c, c)
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	drafts, err := n.setCirclesLocked(ctx, p, dedupe(req.Circles))
	if err != nil || len(drafts) == 0 {
		return err
	}
	_, err = n.append(ctx, drafts...)
	return err
}

// ResolveFork implements api.API.
func (n *Node) ResolveFork(ctx context.Context, ref string) (int, error) {
	p, err := peer.Decode(strings.TrimSpace(ref))
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a peer ID", api.ErrInvalid, ref)
	}
	if p == n.id.PeerID() {
		return 0, fmt.Errorf("%w: that is this node's own log, whose history always wins here", api.ErrInvalid)
	}
	dropped, err := n.store.ResolveFork(ctx, p)
	if errors.Is(err, graph.ErrNotFound) {
		return 0, fmt.Errorf("%w: no fork on record for %s (see `kith status`)", api.ErrNotFound, p)
	}
	if err != nil {
		return 0, err
	}
	n.log.Info("fork resolved: their log is taken again from them", "peer", p, "dropped", dropped)
	if n.isConnection(ctx, p) {
		n.sync.schedule(p)
	}
	return dropped, nil
}

// Disconnect implements api.API: p leaves every circle, the cards are
// re-issued without p, and the connection is ended. p keeps what it held.
func (n *Node) Disconnect(ctx context.Context, ref string) error {
	if n.restoring() {
		return errNoLog
	}
	p, err := n.connection(ctx, ref)
	if err != nil {
		return err
	}
	n.mu.Lock()
	drafts, err := n.setCirclesLocked(ctx, p, nil)
	if err == nil {
		drafts = append(drafts, graph.Draft{Body: graph.Body{Kind: graph.KindConnection, Key: p.String(), Del: true}, To: graph.Audience{Self: true}})
		_, err = n.append(ctx, drafts...)
	}
	n.mu.Unlock()
	if err != nil {
		return err
	}
	n.forgetDropped(ctx, p)
	// Tell them, so that they stop syncing with and redialing me; if they
	// are offline now, they are told when they next ask to sync.
	n.tellDisconnected(p)
	return nil
}

// peerCards returns the union of the cards p shares with me.
func (n *Node) peerCard(ctx context.Context, p peer.ID) graph.Card {
	rs, err := n.store.Records(ctx, p, graph.KindCard)
	if err != nil {
		return graph.Card{}
	}
	var out graph.Card
	seen := map[string]bool{}
	for _, r := range rs {
		for _, f := range r.Body.Card.Fields {
			k := f.Name + "\x00" + f.Value
			if !seen[k] {
				seen[k] = true
				out.Fields = append(out.Fields, f)
			}
		}
	}
	return out
}

func (n *Node) peerName(ctx context.Context, p peer.ID) string {
	return book.BestName(n.peerCard(ctx, p))
}

// Peers implements api.API.
func (n *Node) Peers(ctx context.Context) ([]api.Peer, error) {
	cs, err := n.connections(ctx)
	if err != nil {
		return nil, err
	}
	circles, err := n.circleRecords(ctx)
	if err != nil {
		return nil, err
	}
	forked, err := n.store.Forks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Peer, 0, len(cs))
	for _, p := range cs {
		pe := api.Peer{PeerID: p.String(), Circles: []string{}, Online: n.online(p),
			Forked: slices.Contains(forked, p)}
		if t, ok := n.droppedAt(p); ok {
			t = t.UTC()
			pe.DisconnectedByThem, pe.DisconnectedAt = true, &t
		}
		card := n.peerCard(ctx, p)
		pe.Name, pe.Card = book.BestName(card), card
		for _, c := range circles {
			if slices.Contains(c.Body.Members, p.String()) {
				pe.Circles = append(pe.Circles, c.Key)
			}
		}
		if pi, err := n.store.PeerInfo(ctx, p); err == nil && !pi.LastSync.IsZero() {
			t := pi.LastSync.UTC()
			pe.LastSync = &t
		}
		pe.Entries, _ = n.store.CountEntries(ctx, p)
		out = append(out, pe)
	}
	return out, nil
}
