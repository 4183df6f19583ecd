package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/node/api"
)

// Exit codes from the README, as the tour expects them.
const (
	exitOK         = 0
	exitUsage      = 2
	exitNotRunning = 3
	exitNotFound   = 4
	exitInvalid    = 5
	exitConflict   = 6
	exitLocked     = 7
	exitPortInUse  = 12
)

// TourStep is one command of the tour and what it must do.
type TourStep struct {
	Args     []string
	Code     int                             // exit code (0 = success)
	Want     []string                        // in stdout
	WantNot  []string                        // not in stdout
	InStderr []string                        // in stderr
	Check    func(tb testing.TB, out string) // more checks of stdout (a --json step)
}

// Runner runs kith with args on a home with a running daemon.
type Runner func(tb testing.TB, args ...string) (code int, stdout, stderr string)

// Tour is what a new user does, step by step, on one initialised home with
// a running daemon; steps depend on the ones before them. The CLI's
// TestTour runs it in process, test/e2e's on the built binary (which adds
// what only a process shows: the socket's mode, the home's lock, SIGTERM).
var Tour = []TourStep{
	{Args: []string{"id"}, Want: []string{"12D3KooW", "/ip4/127.0.0.1/tcp/"}},
	{Args: []string{"id", "--json"}, Check: func(tb testing.TB, out string) {
		var id api.Identity
		decode(tb, out, &id)
		if !strings.HasPrefix(id.PeerID.String(), "12D3KooW") || len(id.Addrs) == 0 {
			tb.Errorf("kith id --json = %+v, want a peer ID and addresses", id)
		}
	}},
	{Args: []string{"status"}, Want: []string{"entries", "contacts", "store"}},

	// My card.
	{Args: []string{"me", "fields"}, Want: []string{"fn", "email", "tel"}},
	{Args: []string{"me", "set", "fn", "Ada Lovelace", "--circle", "friends", "--circle", "work"}, Want: []string{"set fn for friends, work"}},
	{Args: []string{"me", "set", "email", "ada@example.org", "--circle", "work", "--type", "work"}},
	{Args: []string{"me", "set", "tel", "+44 20 7946 0000"}, Want: []string{"private"}},
	{Args: []string{"me", "set", "nickname", "Ada"}, Want: []string{"private"}},
	{Args: []string{"me", "set", "fn", "Ada King"}, Want: []string{"set fn for every circle (family, friends, work)", "name your connections see"}},
	{Args: []string{"me", "show", "--circle", "family"}, Want: []string{"Ada King"}, WantNot: []string{"Ada Lovelace", "nickname"}},
	{Args: []string{"me", "set", "fn", "Ada Lovelace", "--circle", "friends", "--circle", "work"}, Want: []string{"set fn for friends, work"}},
	{Args: []string{"me", "unset", "nickname"}},
	{Args: []string{"me", "show"}, Want: []string{"Ada Lovelace", "friends,work", "ada@example.org", "self"}},
	{Args: []string{"me", "show", "--circle", "work", "--json"}, Check: func(tb testing.TB, out string) {
		var me api.Profile
		decode(tb, out, &me)
		if len(me.Fields) != 2 || me.Fields[0].Value != "Ada Lovelace" || me.Fields[1].Value != "ada@example.org" {
			tb.Errorf("kith me show --circle work --json = %+v, want the name and the email", me.Fields)
		}
	}},
	{Args: []string{"me", "show", "--circle", "friends"}, Want: []string{"Ada Lovelace"}, WantNot: []string{"ada@example.org"}},
	{Args: []string{"me", "unset", "tel"}, Want: []string{"removed tel"}},
	{Args: []string{"me", "show"}, Want: []string{"Ada Lovelace"}, WantNot: []string{"tel"}},
	{Args: []string{"me", "set", "shoe-size", "9"}, Code: exitInvalid, InStderr: []string{"shoe-size"}},
	{Args: []string{"me", "set", "email", "ada@", "--circle", "friends"}, Code: exitInvalid, InStderr: []string{"ada@"}},

	// Circles.
	{Args: []string{"circles", "add", "climbing"}, Want: []string{"added circle climbing"}},
	{Args: []string{"circles", "add", "climbing"}, Code: exitConflict, InStderr: []string{"already exists"}},
	{Args: []string{"circles", "list"}, Want: []string{"NAME", "climbing", "friends", "family", "work"}},
	{Args: []string{"circles", "rm", "climbing"}, Want: []string{"removed circle climbing"}},
	{Args: []string{"circles", "list"}, Want: []string{"friends"}, WantNot: []string{"climbing"}},

	// Contacts.
	{Args: []string{"contacts", "add", "--name", "Grace Hopper", "--email", "grace@example.org", "--tel", "+1-555-0100"}, Want: []string{"added", "Grace Hopper"}},
	{Args: []string{"contacts", "add", "--org", "Acme Plumbing", "--tel", "+1-555-0199", "--note", "fixed the sink"}, Want: []string{"added"}},
	{Args: []string{"contacts", "add", "--name", "X", "--email", "not-an-email"}, Code: exitInvalid, InStderr: []string{"not-an-email"}},
	{Args: []string{"contacts", "list"}, Want: []string{"ID", "Grace Hopper", "grace@example.org", "Acme Plumbing"}},
	{Args: []string{"contacts", "show", "grace hopper"}, Want: []string{"grace@example.org", "+1-555-0100", "updated"}},
	{Args: []string{"contacts", "show", "Grace Hopper", "--json"}, Want: []string{`"name": "Grace Hopper"`, `"value": "grace@example.org"`}},
	{Args: []string{"contacts", "edit", "Grace Hopper", "--org", "US Navy", "--remove", "tel"}, Want: []string{"updated", "Grace Hopper"}},
	{Args: []string{"contacts", "show", "Grace Hopper"}, Want: []string{"US Navy", "grace@example.org"}, WantNot: []string{"+1-555-0100"}},
	{Args: []string{"contacts", "search", "navy"}, Want: []string{"Grace Hopper"}, WantNot: []string{"Acme"}},
	{Args: []string{"contacts", "search", "sink"}, Want: []string{"Acme Plumbing"}, WantNot: []string{"Grace"}},
	{Args: []string{"contacts", "rm", "Grace Hopper"}, Want: []string{"removed", "Grace Hopper"}},
	{Args: []string{"contacts", "show", "Grace Hopper"}, Code: exitNotFound, InStderr: []string{"no contact"}},
	{Args: []string{"contacts", "list", "--json"}, Check: func(tb testing.TB, out string) {
		var cs []api.Contact
		decode(tb, out, &cs)
		if len(cs) != 1 || cs[0].Card.First("org") != "Acme Plumbing" {
			tb.Errorf("kith contacts list --json = %+v, want Acme Plumbing only", cs)
		}
	}},

	// Connections, on a node that has none yet.
	{Args: []string{"peers"}, Want: []string{"no connections"}},
	{Args: []string{"requests"}, Want: []string{"no pending requests"}},
	{Args: []string{"forks"}, Want: []string{"no forks on record"}},
	{Args: []string{"forks", "--json"}, Want: []string{"[]"}},

	// The log has it all.
	{Args: []string{"log"}, Want: []string{"SEQ", "genesis", "keys", "circle", "card", "contact"}},
	{Args: []string{"log", "--json", "--after", "1", "--limit", "2"}, Check: func(tb testing.TB, out string) {
		var es []api.LogEntry
		decode(tb, out, &es)
		if len(es) != 2 || es[0].Seq != 2 || es[1].Seq != 3 {
			tb.Errorf("kith log --json --after 1 --limit 2 = %+v, want seq 2 and 3", es)
		}
	}},
	{Args: []string{"status", "--json"}, Check: func(tb testing.TB, out string) {
		var st api.Status
		decode(tb, out, &st)
		if st.Contacts != 1 || st.Entries == 0 || st.Logs != 1 {
			tb.Errorf("kith status --json = %+v, want 1 contact, 1 log, some entries", st)
		}
	}},
	{Args: []string{"check"}, Want: []string{"problems", "ok"}},
}

// RunTour runs every step of Tour with run, each as a subtest.
func RunTour(t *testing.T, run Runner) {
	for _, s := range Tour {
		t.Run(strings.Join(s.Args, " "), func(t *testing.T) {
			code, out, errOut := run(t, s.Args...)
			cmd := "kith " + strings.Join(s.Args, " ")
			if code != s.Code {
				t.Fatalf("%s = exit %d, want %d\nstdout: %s\nstderr: %s", cmd, code, s.Code, out, errOut)
			}
			for _, w := range s.Want {
				if !strings.Contains(out, w) {
					t.Errorf("%s: stdout does not contain %q:\n%s", cmd, w, out)
				}
			}
			for _, w := range s.WantNot {
				if strings.Contains(out, w) {
					t.Errorf("%s: stdout contains %q, want not:\n%s", cmd, w, out)
				}
			}
			for _, w := range s.InStderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("%s: stderr does not contain %q:\n%s", cmd, w, errOut)
				}
			}
			if s.Check != nil {
				s.Check(t, out)
			}
		})
	}
}

func decode(tb testing.TB, s string, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		tb.Fatalf("decoding %T from %q: %v", v, s, err)
	}
}
