package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node/api"
)

// The local API: each method hands its work to the part that owns it (the
// address book, the connect service, the store) and adds what only the
// node knows (addresses, who is online).

// ID implements api.API.
func (n *Node) ID(ctx context.Context) (*api.Identity, error) {
	id := &api.Identity{PeerID: n.id.PeerID(), Addrs: []multiaddr.Multiaddr{}}
	p2p, err := multiaddr.NewMultiaddr("/p2p/" + n.id.PeerID().String())
	if err != nil {
		return nil, err
	}
	for _, a := range n.host.Addrs() {
		id.Addrs = append(id.Addrs, a.Encapsulate(p2p))
	}
	return id, nil
}

// Status implements api.API.
func (n *Node) Status(ctx context.Context) (*api.Status, error) {
	id, err := n.ID(ctx)
	if err != nil {
		return nil, err
	}
	st, err := n.store.Stats(ctx)
	if err != nil {
		return nil, err
	}
	contacts, err := n.store.LocalContacts(ctx, n.id.PeerID())
	if err != nil {
		return nil, err
	}
	forked, err := n.store.Forks(ctx)
	if err != nil {
		return nil, err
	}
	s := &api.Status{
		Identity: *id, Home: n.home, Started: n.started.UTC(), Version: Version,
		Entries: st.Entries, Logs: st.Logs, Forks: st.Forks, StoreBytes: st.Bytes, Contacts: contacts,
		Forked: append([]peer.ID{}, forked...), OverQuota: []api.QuotaRefusal{},
	}
	refused, err := n.store.QuotaRefusals(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range refused {
		s.OverQuota = append(s.OverQuota, api.QuotaRefusal{Author: r.Author, Entries: r.Entries(), Bytes: r.Bytes, FromSeq: r.FromSeq,
			Since: r.First.UTC(), Last: r.Last.UTC(), Reason: r.Reason})
	}
	return s, nil
}

// Log implements api.API.
func (n *Node) Log(ctx context.Context, after uint64, limit int) ([]api.LogEntry, error) {
	les, err := n.store.Log(ctx, n.id.PeerID(), after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.LogEntry, 0, len(les))
	for _, le := range les {
		out = append(out, api.LogEntry{Seq: le.Seq, CID: le.CID.String(), Kind: le.Kind, Key: le.Key,
			Time: time.UnixMilli(le.Time).UTC(), Size: len(le.Raw)})
	}
	return out, nil
}

// ---- my card and circles: the address book's ----

// Me implements api.API.
func (n *Node) Me(ctx context.Context, circle string) (*api.Profile, error) {
	return n.book.Me(ctx, circle)
}

// SetMe implements api.API.
func (n *Node) SetMe(ctx context.Context, req api.SetMeRequest) (*api.Profile, error) {
	return n.book.SetMe(ctx, req)
}

// UnsetMe implements api.API.
func (n *Node) UnsetMe(ctx context.Context, req api.UnsetMeRequest) (*api.Profile, error) {
	return n.book.UnsetMe(ctx, req)
}

// Circles implements api.API.
func (n *Node) Circles(ctx context.Context) ([]api.Circle, error) { return n.book.Circles(ctx) }

// AddCircle implements api.API.
func (n *Node) AddCircle(ctx context.Context, name string) (*api.Circle, error) {
	return n.book.AddCircle(ctx, name)
}

// RemoveCircle implements api.API.
func (n *Node) RemoveCircle(ctx context.Context, name string, force bool) (*api.Circle, error) {
	return n.book.RemoveCircle(ctx, name, force)
}

// ---- contacts: the address book's ----

// Contacts implements api.API.
func (n *Node) Contacts(ctx context.Context) ([]api.Contact, error) { return n.book.Contacts(ctx) }

// Contact implements api.API.
func (n *Node) Contact(ctx context.Context, ref string) (*api.Contact, error) {
	return n.book.Contact(ctx, ref)
}

// LookupContacts implements api.API.
func (n *Node) LookupContacts(ctx context.Context, q api.ContactLookup) ([]api.Contact, error) {
	return n.book.LookupContacts(ctx, q.IDs, q.UIDs)
}

// AddContacts implements api.API.
func (n *Node) AddContacts(ctx context.Context, cards []graph.Card) ([]api.ContactRef, error) {
	return n.book.AddContacts(ctx, cards)
}

// CheckContacts implements api.API.
func (n *Node) CheckContacts(ctx context.Context, cards []graph.Card) ([]api.CardProblem, error) {
	return n.book.CheckContacts(ctx, cards)
}

// EditContact implements api.API.
func (n *Node) EditContact(ctx context.Context, ref string, card graph.Card) (*api.Contact, error) {
	return n.book.EditContact(ctx, ref, card)
}

// RemoveContact implements api.API.
func (n *Node) RemoveContact(ctx context.Context, ref string) error {
	return n.book.RemoveContact(ctx, ref)
}

// SearchContacts implements api.API.
func (n *Node) SearchContacts(ctx context.Context, query string) ([]api.Contact, error) {
	return n.book.SearchContacts(ctx, query)
}

// Duplicates implements api.API.
func (n *Node) Duplicates(ctx context.Context) ([]api.DuplicateGroup, error) {
	return n.book.Duplicates(ctx)
}

// MergeContacts implements api.API.
func (n *Node) MergeContacts(ctx context.Context, into, from string) (*api.MergeResult, error) {
	return n.book.MergeContacts(ctx, into, from)
}

// ---- connections: the connect service's and the book's ----

// Invite implements api.API.
func (n *Node) Invite(ctx context.Context, req api.InviteRequest) (*api.InviteCode, error) {
	return n.connect.Load().Invite(ctx, req)
}

// Connect implements api.API.
func (n *Node) Connect(ctx context.Context, req api.ConnectRequest) (*api.ConnectResult, error) {
	return n.connect.Load().Connect(ctx, req)
}

// Requests implements api.API.
func (n *Node) Requests(ctx context.Context) ([]api.Request, error) {
	return n.connect.Load().Requests(ctx)
}

// Accept implements api.API.
func (n *Node) Accept(ctx context.Context, req api.AcceptRequest) error {
	return n.connect.Load().Accept(ctx, req)
}

// Decline implements api.API.
func (n *Node) Decline(ctx context.Context, ref string) error {
	return n.connect.Load().Decline(ctx, ref)
}

// AssignCircles implements api.API: p's circles become exactly circles.
func (n *Node) AssignCircles(ctx context.Context, req api.AssignRequest) error {
	p, err := n.book.Connection(ctx, req.PeerID)
	if err != nil {
		return err
	}
	return n.book.AssignCircles(ctx, p, req.Circles)
}

// Disconnect implements api.API: p leaves every circle, the cards are
// re-issued without p, and the connection is ended. p keeps what it held.
func (n *Node) Disconnect(ctx context.Context, ref string) error {
	p, err := n.book.Connection(ctx, ref)
	if err != nil {
		return err
	}
	if err := n.book.Disconnect(ctx, p); err != nil {
		return err
	}
	return n.connect.Load().Ended(ctx, p)
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
	if ok, err := n.book.IsConnection(ctx, p); err == nil && ok {
		n.sync.Schedule(p)
	}
	return dropped, nil
}

// Peers implements api.API.
func (n *Node) Peers(ctx context.Context) ([]api.Peer, error) {
	cs, err := n.book.Connections(ctx)
	if err != nil {
		return nil, err
	}
	forked, err := n.store.Forks(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Peer, 0, len(cs))
	for _, p := range cs {
		pe := api.Peer{PeerID: p, Online: n.online(p), Forked: slices.Contains(forked, p)}
		if t, ok := n.connect.Load().DroppedAt(p); ok {
			t = t.UTC()
			pe.DisconnectedByThem, pe.DisconnectedAt = true, &t
		}
		if pe.Card, err = n.book.PeerCard(ctx, p); err != nil {
			return nil, err
		}
		pe.Name = book.BestName(pe.Card)
		if pe.Circles, err = n.book.CirclesOf(ctx, p); err != nil {
			return nil, err
		}
		pi, err := n.store.PeerInfo(ctx, p)
		if err != nil {
			return nil, err
		}
		if !pi.LastSync.IsZero() {
			t := pi.LastSync.UTC()
			pe.LastSync = &t
		}
		if pe.Entries, err = n.store.CountEntries(ctx, p); err != nil {
			return nil, err
		}
		out = append(out, pe)
	}
	return out, nil
}

// PatchContact implements api.API.
func (n *Node) PatchContact(ctx context.Context, ref string, p api.ContactPatch) (*api.Contact, error) {
	return n.book.PatchContact(ctx, ref, p)
}
