package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/graph/ical/icaltest"
)

// TestEvents drives the calendar as a person does: add a weekly meeting in
// Berlin, see it in the agenda across the DST change with the offset in
// force, move it, export, remove, import back; a broken file is refused
// whole, naming the event and its line, unless --skip-invalid.
func TestEvents(t *testing.T) {
	d := startDaemon(t)
	out := d.ok(t, "events", "add", "Standup", "--at", "2026-03-23 09:00", "--for", "30m", "--tz", "Europe/Berlin", "--rrule", "FREQ=WEEKLY;COUNT=3", "--where", "Room 1")
	if !strings.HasPrefix(out, "added ") || !strings.Contains(out, `"Standup" at Mon 2026-03-23 09:00 CET`) {
		t.Fatalf("kith events add = %q", out)
	}
	uid := strings.TrimSuffix(strings.Fields(out)[1], ":")

	var list []struct {
		UID     string `json:"uid"`
		Summary string `json:"summary"`
		Start   string `json:"start"`
		End     string `json:"end"`
		AllDay  bool   `json:"all_day"`
	}
	decodeJSON(t, d.ok(t, "events", "list", "--from", "2026-03-20", "--to", "2026-05-01", "--tz", "Europe/Berlin", "--json"), &list)
	want := []string{"2026-03-23T09:00:00+01:00", "2026-03-30T09:00:00+02:00", "2026-04-06T09:00:00+02:00"}
	if len(list) != 3 {
		t.Fatalf("kith events list --json = %+v, want 3 instances", list)
	}
	for i, in := range list {
		if in.Start != want[i] || in.UID != uid || in.Summary != "Standup" || in.AllDay {
			t.Errorf("instance %d = %+v, want start %s", i, in, want[i])
		}
	}
	if list[1].End != "2026-03-30T09:30:00+02:00" {
		t.Errorf("instance 2 ends %s", list[1].End)
	}
	table := d.ok(t, "events", "list", "--from", "2026-03-20", "--to", "2026-04-01", "--tz", "Europe/Berlin")
	if !strings.Contains(table, "Mon 2026-03-30 09:00–09:30") || !strings.Contains(table, "Room 1") {
		t.Errorf("kith events list =\n%s", table)
	}

	d.ok(t, "events", "edit", uid, "--at", "2026-03-23 10:00", "--tz", "Europe/Berlin")
	var ev struct {
		Sequence int    `json:"sequence"`
		Location string `json:"location"`
		ICS      string `json:"ics"`
	}
	decodeJSON(t, d.ok(t, "events", "show", uid, "--json"), &ev)
	if ev.Sequence != 1 || ev.Location != "Room 1" || !strings.Contains(ev.ICS, "DTSTART;TZID=Europe/Berlin:20260323T100000") {
		t.Errorf("after edit: %+v", ev)
	}

	file := filepath.Join(t.TempDir(), "cal.ics")
	d.ok(t, "events", "export", "-o", file)
	d.ok(t, "events", "rm", uid)
	if r := kith(t, d.home, "events", "show", uid); r.code != exitNotFound {
		t.Errorf("kith events show (removed) = exit %d, want %d; %s", r.code, exitNotFound, r.stderr)
	}
	if out := d.ok(t, "events", "import", file); !strings.Contains(out, "1 added") {
		t.Errorf("kith events import = %q", out)
	}

	broken := filepath.Join(t.TempDir(), "broken.ics")
	os.WriteFile(broken, []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:Fine\nDTSTART:20261201T100000Z\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nSUMMARY:Broken\nDTSTART:20261201T100000Z\nRRULE:FREQ=WEEKLY;COUNT=x\nEND:VEVENT\nEND:VCALENDAR\n"), 0o600)
	r := kith(t, d.home, "events", "import", broken)
	if r.code != exitInvalid || !strings.Contains(r.stderr, `line 11: event "b" ("Broken"): RRULE`) {
		t.Errorf("kith events import (broken) = exit %d, stderr %q; want %d naming the event and line", r.code, r.stderr, exitInvalid)
	}
	if out := d.ok(t, "events", "import", broken, "--skip-invalid"); !strings.Contains(out, "1 added") || !strings.Contains(out, "1 skipped") {
		t.Errorf("kith events import --skip-invalid = %q", out)
	}
	// A file of more events than one request carries goes in batches.
	many := filepath.Join(t.TempDir(), "many.ics")
	os.WriteFile(many, icaltest.Generate(1200, 100, 7), 0o600)
	if out := d.ok(t, "events", "import", many); !strings.Contains(out, "1200 added") {
		t.Errorf("kith events import (1200 events) = %q", out)
	}
	if out := d.ok(t, "events", "import", many); !strings.Contains(out, "0 added, 0 updated, 1200 unchanged") {
		t.Errorf("kith events import (the same again) = %q", out)
	}
	if r := kith(t, d.home, "events", "add", "x"); r.code != exitUsage || !strings.Contains(r.stderr, "--at") {
		t.Errorf("kith events add without --at = exit %d, %q", r.code, r.stderr)
	}
	if r := kith(t, d.home, "events", "add", "x", "--at", "2026-12-01 10:00", "--tz", "Mars/Base"); r.code != exitInvalid {
		t.Errorf("kith events add --tz Mars/Base = exit %d, %q", r.code, r.stderr)
	}
}

// TestEventsCancelInviteRSVP: a cancelled event leaves the agenda and
// show says so; invite and rsvp name what is wrong with their arguments.
func TestEventsCancelInviteRSVP(t *testing.T) {
	d := startDaemon(t)
	out := d.ok(t, "events", "add", "Lunch", "--at", "2026-12-03 12:30", "--tz", "UTC")
	uid := strings.TrimSuffix(strings.Fields(out)[1], ":")
	if out := d.ok(t, "events", "list", "--from", "2026-12-01", "--to", "2026-12-08", "--tz", "UTC"); !strings.Contains(out, "FROM") || !strings.Contains(out, uid) {
		t.Fatalf("kith events list =\n%s", out)
	}
	if r := kith(t, d.home, "events", "invite", uid); r.code != exitUsage {
		t.Errorf("kith events invite UID (no peer) = exit %d, want %d", r.code, exitUsage)
	}
	if r := kith(t, d.home, "events", "invite", uid, "Nobody"); r.code != exitNotFound || !strings.Contains(r.stderr, "Nobody") {
		t.Errorf("kith events invite UID Nobody = exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
	}
	if r := kith(t, d.home, "events", "rsvp", uid, "maybe"); r.code != exitInvalid || !strings.Contains(r.stderr, "accept, decline or tentative") {
		t.Errorf("kith events rsvp UID maybe = exit %d, %q; want %d", r.code, r.stderr, exitInvalid)
	}
	if r := kith(t, d.home, "events", "rsvp", uid, "accept"); r.code != exitNotFound {
		t.Errorf("kith events rsvp (my own event, no invitation) = exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
	}
	if out := d.ok(t, "events", "cancel", uid); !strings.HasPrefix(out, "cancelled "+uid) {
		t.Errorf("kith events cancel = %q", out)
	}
	if out := d.ok(t, "events", "list", "--from", "2026-12-01", "--to", "2026-12-08", "--tz", "UTC"); strings.Contains(out, uid) {
		t.Errorf("a cancelled event is in the agenda:\n%s", out)
	}
	if out := d.ok(t, "events", "show", uid); !strings.Contains(out, "CANCELLED") {
		t.Errorf("kith events show (cancelled) =\n%s", out)
	}
}

// TestFreeBusyCommands: allow, deny and circles persist in the log and
// name what is wrong; a query names an unknown peer.
func TestFreeBusyCommands(t *testing.T) {
	d := startDaemon(t)
	if out := d.ok(t, "freebusy", "circles"); !strings.Contains(out, "no circle") {
		t.Errorf("kith freebusy circles = %q", out)
	}
	if out := d.ok(t, "freebusy", "allow", "friends"); !strings.Contains(out, "friends may now ask") {
		t.Errorf("kith freebusy allow friends = %q", out)
	}
	var pol struct {
		Circles []string `json:"circles"`
	}
	decodeJSON(t, d.ok(t, "freebusy", "circles", "--json"), &pol)
	if len(pol.Circles) != 1 || pol.Circles[0] != "friends" {
		t.Errorf("kith freebusy circles --json = %+v", pol)
	}
	if r := kith(t, d.home, "freebusy", "allow", "nosuch"); r.code != exitNotFound {
		t.Errorf("kith freebusy allow nosuch = exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
	}
	if r := kith(t, d.home, "freebusy", "Nobody"); r.code != exitNotFound {
		t.Errorf("kith freebusy Nobody = exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
	}
	if r := kith(t, d.home, "freebusy"); r.code != exitUsage {
		t.Errorf("kith freebusy = exit %d; want %d", r.code, exitUsage)
	}
	if out := d.ok(t, "freebusy", "deny", "friends"); !strings.Contains(out, "allowed: none") {
		t.Errorf("kith freebusy deny friends = %q", out)
	}
}
