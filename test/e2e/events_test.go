package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

// agenda returns h's December 2026 agenda (UTC).
func agenda(t *testing.T, h *Home) []api.Instance {
	t.Helper()
	var list []api.Instance
	h.JSON(&list, "events", "list", "--from", "2026-12-01", "--to", "2027-01-01", "--tz", "UTC", "--json")
	return list
}

func instanceOf(list []api.Instance, uid string) (api.Instance, bool) {
	for _, in := range list {
		if in.UID == uid {
			return in, true
		}
	}
	return api.Instance{}, false
}

// TestEventInvitations: A invites B and C; B accepts, C declines; A sees
// both answers; A moves the event; B and C see the new time; A cancels;
// it leaves both agendas. B asks A's free/busy once A allows friends.
// Three real daemons, the CLI, sync and free/busy on loopback.
func TestEventInvitations(t *testing.T) {
	a, b, c := NewHome(t), NewHome(t), NewHome(t)
	a.Start()
	b.Start()
	c.Start()
	var aid, bid, cid api.Identity
	a.JSON(&aid, "id")
	b.JSON(&bid, "id")
	c.JSON(&cid, "id")
	for _, h := range []*Home{b, c} {
		var inv api.InviteCode
		a.JSON(&inv, "invite", "--no-qr")
		require.Contains(t, h.MustRun("connect", inv.Code), "connected")
	}

	out := a.MustRun("events", "add", "Planning", "--at", "2026-12-03 10:00", "--for", "1h", "--tz", "UTC")
	uid := strings.TrimSuffix(strings.Fields(out)[1], ":")
	// The invite needs B's and C's encryption keys, which arrive with the
	// first sync after the connection.
	waitFor(t, "A to invite B and C", 30*time.Second, func() bool {
		return a.Run("events", "invite", uid, bid.PeerID.String(), cid.PeerID.String()).Code == 0
	})
	for _, h := range []*Home{b, c} {
		waitFor(t, "the invitation in the attendee's agenda", 30*time.Second, func() bool {
			in, ok := instanceOf(agenda(t, h), uid)
			return ok && in.From == aid.PeerID.String()
		})
	}

	b.MustRun("events", "rsvp", uid, "accept")
	c.MustRun("events", "rsvp", uid, "decline")
	want := map[string]string{bid.PeerID.String(): "ACCEPTED", cid.PeerID.String(): "DECLINED"}
	waitFor(t, "A to see both answers", 30*time.Second, func() bool {
		var ev api.Event
		a.JSON(&ev, "events", "show", uid, "--json")
		got := map[string]string{}
		for _, at := range ev.Attendees {
			got[at.Peer] = at.PartStat
		}
		return got[bid.PeerID.String()] == want[bid.PeerID.String()] && got[cid.PeerID.String()] == want[cid.PeerID.String()]
	})
	show := a.MustRun("events", "show", uid)
	require.Contains(t, show, "ACCEPTED")
	require.Contains(t, show, "DECLINED")

	// Free/busy: refused until A allows a circle B is in, then blocks
	// without titles.
	fbArgs := []string{"freebusy", aid.PeerID.String(), "--from", "2026-12-01", "--to", "2026-12-08", "--tz", "UTC", "--json"}
	if r := b.Run(fbArgs...); r.Code == 0 {
		t.Fatalf("kith freebusy before allow = %s; want a refusal", r.Stdout)
	}
	a.MustRun("freebusy", "allow", "friends")
	var fb api.FreeBusy
	b.JSON(&fb, fbArgs...)
	require.Equal(t, []api.BusyBlock{{Start: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 3, 11, 0, 0, 0, time.UTC)}}, fb.Busy)
	require.NotContains(t, b.MustRun(fbArgs[:len(fbArgs)-1]...), "Planning")

	a.MustRun("events", "edit", uid, "--at", "2026-12-04 15:00", "--tz", "UTC")
	moved := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	for _, h := range []*Home{b, c} {
		waitFor(t, "the attendee to see the new time", 30*time.Second, func() bool {
			in, ok := instanceOf(agenda(t, h), uid)
			return ok && in.Start.Equal(moved)
		})
	}

	a.MustRun("events", "cancel", uid)
	for _, h := range []*Home{a, b, c} {
		waitFor(t, "the cancelled event to leave the agenda", 30*time.Second, func() bool {
			_, ok := instanceOf(agenda(t, h), uid)
			return !ok
		})
	}
	require.Contains(t, b.MustRun("events", "show", uid), "CANCELLED")
	a.MustRun("check")
	b.MustRun("check")
	c.MustRun("check")
}
