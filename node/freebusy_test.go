package node_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestFreeBusy: a connection in an allowed circle gets my busy blocks,
// merged, without titles, cancelled events and declined invitations left
// out; another circle, or after deny, is refused; windows and rates are
// bounded.
func TestFreeBusy(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		a := tn.add("alice", node.WithFreeBusyRate(60, 5))
		b, c := tn.add("bob"), tn.add("carol")
		connect(t, a, b)
		connect(t, a, c, "work")
		connect(t, b, c)

		add := func(n *node.Node, summary, at, dur string) *api.Event {
			ev, err := n.AddEvent(ctx, api.EventInput{Summary: ptrTo(summary), Start: at, Duration: dur, TZ: "UTC"})
			require.NoError(t, err)
			return ev
		}
		add(a, "Dentist", "2026-12-03 10:00", "1h")
		add(a, "Standup", "2026-12-03 10:30", "1h")
		add(a, "Lunch", "2026-12-03 12:00", "1h")
		gone := add(a, "Cancelled", "2026-12-03 15:00", "1h")
		_, err := a.CancelEvent(ctx, gone.UID)
		require.NoError(t, err)
		// An invitation a declines does not make a busy; one a accepts does.
		declined, accepted := add(b, "Party", "2026-12-03 18:00", "2h"), add(b, "Dinner", "2026-12-03 20:00", "1h")
		eventually(t, "bob invites alice", func() bool {
			_, e1 := b.InviteEvent(ctx, declined.UID, []string{a.Host().ID().String()})
			_, e2 := b.InviteEvent(ctx, accepted.UID, []string{a.Host().ID().String()})
			return e1 == nil && e2 == nil
		})
		eventually(t, "alice has both invitations", func() bool {
			_, e1 := a.Event(ctx, declined.UID)
			_, e2 := a.Event(ctx, accepted.UID)
			return e1 == nil && e2 == nil
		})
		_, err = a.RSVPEvent(ctx, declined.UID, "decline")
		require.NoError(t, err)
		_, err = a.RSVPEvent(ctx, accepted.UID, "accept")
		require.NoError(t, err)

		from := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 1)
		aid := a.Host().ID().String()
		_, err = b.FreeBusy(ctx, aid, from, to)
		require.ErrorIs(t, err, api.ErrForbidden, "nobody is allowed yet")

		pol, err := a.SetFreeBusy(ctx, "friends", true)
		require.NoError(t, err)
		require.Equal(t, []string{"friends"}, pol.Circles)
		_, err = a.SetFreeBusy(ctx, "nosuch", true)
		require.ErrorIs(t, err, api.ErrNotFound)

		fb, err := b.FreeBusy(ctx, aid, from, to)
		require.NoError(t, err)
		at := func(h, m int) time.Time { return time.Date(2026, 12, 3, h, m, 0, 0, time.UTC) }
		want := []api.BusyBlock{{Start: at(10, 0), End: at(11, 30)}, {Start: at(12, 0), End: at(13, 0)}, {Start: at(20, 0), End: at(21, 0)}}
		require.Equal(t, want, fb.Busy)

		_, err = c.FreeBusy(ctx, aid, from, to)
		require.ErrorIs(t, err, api.ErrForbidden, "carol is in work, which is not allowed")

		_, err = b.FreeBusy(ctx, aid, from, from.AddDate(0, 0, 63))
		require.ErrorIs(t, err, api.ErrInvalid, "over 62 days")

		limited := false
		for range 10 {
			if _, err := b.FreeBusy(ctx, aid, from, to); err != nil {
				require.ErrorIs(t, err, api.ErrForbidden)
				require.Contains(t, err.Error(), "a few free/busy requests a minute")
				limited = true
				break
			}
		}
		require.True(t, limited, "the rate is bounded")

		pol, err = a.SetFreeBusy(ctx, "friends", false)
		require.NoError(t, err)
		require.Empty(t, pol.Circles)
		// Refused before the rate is counted: the answer says why.
		_, err = b.FreeBusy(ctx, aid, from, to)
		require.ErrorIs(t, err, api.ErrForbidden)
		require.Contains(t, err.Error(), "does not share")
	})
}
