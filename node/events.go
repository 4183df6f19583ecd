package node

import (
	"context"
	"time"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/node/api"
)

// The calendar's part of the local API: each method hands its work to
// graph/cal's Calendar, which reads the store and writes through the log
// writer.

// AddEvent implements api.API.
func (n *Node) AddEvent(ctx context.Context, in api.EventInput) (*api.Event, error) {
	return n.cal.Add(ctx, in)
}

// EditEvent implements api.API.
func (n *Node) EditEvent(ctx context.Context, uid string, in api.EventInput) (*api.Event, error) {
	return n.cal.Edit(ctx, uid, in)
}

// RemoveEvent implements api.API.
func (n *Node) RemoveEvent(ctx context.Context, uid string) error {
	return n.cal.Remove(ctx, uid)
}

// Event implements api.API.
func (n *Node) Event(ctx context.Context, uid string) (*api.Event, error) {
	return n.cal.Show(ctx, uid)
}

// Agenda implements api.API.
func (n *Node) Agenda(ctx context.Context, from, to time.Time, tz string) ([]api.Instance, error) {
	ins, err := n.cal.List(ctx, from, to, tz)
	if ins == nil && err == nil {
		ins = []api.Instance{}
	}
	return ins, err
}

// ImportEvents implements api.API.
func (n *Node) ImportEvents(ctx context.Context, req api.ImportEventsRequest) (*api.EventImportResult, error) {
	if len(req.ICS) == 0 {
		return nil, graph.Invalidf("no iCalendar text to import")
	}
	return n.cal.Import(ctx, []byte(req.ICS), req.SkipInvalid, nil)
}

// ExportEvents implements api.API.
func (n *Node) ExportEvents(ctx context.Context, uids []string) (*api.EventExport, error) {
	b, err := n.cal.Export(ctx, uids)
	if err != nil {
		return nil, err
	}
	return &api.EventExport{ICS: string(b)}, nil
}

// InviteEvent implements api.API: each peer is a connection, by peer ID or
// by name, as `kith peers` resolves them.
func (n *Node) InviteEvent(ctx context.Context, uid string, peers []string) (*api.Event, error) {
	var who []cal.Invitee
	for _, ref := range peers {
		p, err := n.book.Connection(ctx, ref)
		if err != nil {
			return nil, err
		}
		card, err := n.book.PeerCard(ctx, p)
		if err != nil {
			return nil, err
		}
		who = append(who, cal.Invitee{Peer: p, Name: book.BestName(card)})
	}
	me := cal.Invitee{Peer: n.id.PeerID()}
	if prof, err := n.book.Me(ctx, ""); err == nil {
		for _, f := range prof.Fields {
			if f.Name == book.SharedField && me.Name == "" {
				me.Name = f.Value
			}
		}
	}
	return n.cal.Invite(ctx, uid, me, who)
}

// CancelEvent implements api.API.
func (n *Node) CancelEvent(ctx context.Context, uid string) (*api.Event, error) {
	return n.cal.Cancel(ctx, uid)
}

// RSVPEvent implements api.API.
func (n *Node) RSVPEvent(ctx context.Context, uid, answer string) (*api.Event, error) {
	return n.cal.RSVP(ctx, uid, answer)
}

// Invitations returns the events my connections invite me to (uids, or
// all), each with its attendees' answers as PARTSTATs (node/dav serves
// them beside my events).
func (n *Node) Invitations(ctx context.Context, uids []string) ([]*api.Event, error) {
	return n.cal.Invitations(ctx, uids)
}
