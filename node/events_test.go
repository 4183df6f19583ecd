package node_test

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

func ptrTo[T any](v T) *T { return &v }

// agendaHas reports whether n's agenda in December 2026 holds uid, and
// the instance it holds.
func agendaHas(t testing.TB, n *node.Node, uid string) (api.Instance, bool) {
	t.Helper()
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	ins, err := n.Agenda(t.Context(), from, from.AddDate(0, 1, 0), "UTC")
	require.NoError(t, err)
	for _, in := range ins {
		if in.UID == uid {
			return in, true
		}
	}
	return api.Instance{}, false
}

func partstats(ev *api.Event) map[string]string {
	out := map[string]string{}
	for _, r := range ev.Replies {
		out[r.Peer] = r.PartStat
	}
	return out
}

// An invitation reaches the attendees through sync, their answers reach
// the organizer, and so do a move and a cancellation.
func TestInviteRSVPMoveCancel(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		a, b, c := tn.add("alice"), tn.add("bob"), tn.add("carol")
		connect(t, a, b)
		connect(t, a, c)
		ev, err := a.AddEvent(ctx, api.EventInput{Summary: ptrTo("Planning"), Start: "2026-12-03 10:00", Duration: "1h", TZ: "Europe/Berlin"})
		require.NoError(t, err)

		_, err = b.InviteEvent(ctx, ev.UID, []string{a.Host().ID().String()})
		require.ErrorIs(t, err, graph.ErrNotFound, "an event bob does not have")

		var inv *api.Event
		eventually(t, "alice holds both keys and invites", func() bool {
			inv, err = a.InviteEvent(ctx, ev.UID, []string{b.Host().ID().String(), c.Host().ID().String()})
			return err == nil
		})
		require.Len(t, inv.Attendees, 2)
		require.Equal(t, a.Host().ID().String(), inv.Organizer.Peer)
		for _, at := range inv.Attendees {
			require.Equal(t, "NEEDS-ACTION", at.PartStat)
		}

		for _, n := range []*node.Node{b, c} {
			eventually(t, "the invitation is in the attendee's agenda", func() bool {
				in, ok := agendaHas(t, n, ev.UID)
				return ok && in.From == a.Host().ID().String()
			})
		}
		shown, err := b.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.Equal(t, a.Host().ID().String(), shown.From)

		_, err = b.RSVPEvent(ctx, ev.UID, "maybe")
		require.ErrorIs(t, err, graph.ErrInvalid)
		_, err = b.RSVPEvent(ctx, "nope@kith", "accept")
		require.ErrorIs(t, err, graph.ErrNotFound)
		_, err = b.RSVPEvent(ctx, ev.UID, "accept")
		require.NoError(t, err)
		_, err = c.RSVPEvent(ctx, ev.UID, "decline")
		require.NoError(t, err)
		want := map[string]string{b.Host().ID().String(): "ACCEPTED", c.Host().ID().String(): "DECLINED"}
		eventually(t, "alice sees both answers", func() bool {
			got, err := a.Event(ctx, ev.UID)
			require.NoError(t, err)
			return len(got.Replies) == 2 && maps.Equal(partstats(got), want)
		})
		// Carol holds her own log, not bob's (they are not connected).
		got, err := c.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.Equal(t, map[string]string{c.Host().ID().String(): "DECLINED"}, partstats(got))

		_, err = b.EditEvent(ctx, ev.UID, api.EventInput{Start: "2026-12-04 10:00"})
		require.ErrorIs(t, err, graph.ErrNotFound, "bob cannot edit alice's event")
		moved, err := a.EditEvent(ctx, ev.UID, api.EventInput{Start: "2026-12-04 11:00", TZ: "Europe/Berlin"})
		require.NoError(t, err)
		require.Equal(t, 1, moved.Sequence)
		for _, n := range []*node.Node{b, c} {
			eventually(t, "the attendee sees the new time", func() bool {
				in, ok := agendaHas(t, n, ev.UID)
				return ok && in.Start.Equal(*moved.Start)
			})
		}
		got, err = a.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.False(t, slices.ContainsFunc(got.Replies, func(r api.Reply) bool { return r.Current }), "answers to SEQUENCE 0 are not current after the move: %+v", got.Replies)

		_, err = a.CancelEvent(ctx, ev.UID)
		require.NoError(t, err)
		for _, n := range []*node.Node{a, b, c} {
			eventually(t, "the cancelled event leaves the agenda", func() bool {
				_, ok := agendaHas(t, n, ev.UID)
				return !ok
			})
		}
		got, err = b.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.Equal(t, "CANCELLED", got.Status)
	})
}

// A removal of an event with attendees reaches them.
func TestInviteRemove(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		a, b := tn.add("alice"), tn.add("bob")
		connect(t, a, b)
		ev, err := a.AddEvent(ctx, api.EventInput{Summary: ptrTo("Coffee"), Start: "2026-12-05 09:00"})
		require.NoError(t, err)
		eventually(t, "alice invites bob", func() bool {
			_, err = a.InviteEvent(ctx, ev.UID, []string{b.Host().ID().String()})
			return err == nil
		})
		eventually(t, "bob has the invitation", func() bool { _, ok := agendaHas(t, b, ev.UID); return ok })
		require.NoError(t, a.RemoveEvent(ctx, ev.UID))
		eventually(t, "the removal reaches bob", func() bool { _, ok := agendaHas(t, b, ev.UID); return !ok })
		_, err = b.Event(ctx, ev.UID)
		require.ErrorIs(t, err, graph.ErrNotFound)
	})
}
