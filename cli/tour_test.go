package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kith-p2p/kith/node/api"
)

// TestTour walks through what a new user does, step by step, on one daemon.
// Steps depend on the ones before them.
func TestTour(t *testing.T) {
	d := startDaemon(t)
	steps := []struct {
		args    []string
		want    []string // in stdout
		wantNot []string // not in stdout
	}{
		{args: []string{"id"}, want: []string{d.id.PeerID, "/ip4/127.0.0.1/tcp/"}},
		{args: []string{"status"}, want: []string{d.id.PeerID, "entries", "contacts", "store"}},

		// My card.
		{args: []string{"me", "fields"}, want: []string{"fn", "email", "tel"}},
		{args: []string{"me", "set", "fn", "Ada Lovelace", "--circle", "friends", "--circle", "work"}, want: []string{"set fn for friends, work"}},
		{args: []string{"me", "set", "email", "ada@example.org", "--circle", "work", "--type", "work"}},
		{args: []string{"me", "set", "tel", "+44 20 7946 0000"}, want: []string{"private"}},
		{args: []string{"me", "set", "nickname", "Ada"}, want: []string{"private"}},
		{args: []string{"me", "set", "fn", "Ada King"}, want: []string{"set fn for every circle (family, friends, work)", "name your connections see"}},
		{args: []string{"me", "show", "--circle", "family"}, want: []string{"Ada King"}, wantNot: []string{"Ada Lovelace", "nickname"}},
		{args: []string{"me", "set", "fn", "Ada Lovelace", "--circle", "friends", "--circle", "work"}, want: []string{"set fn for friends, work"}},
		{args: []string{"me", "unset", "nickname"}},
		{args: []string{"me", "show"}, want: []string{"Ada Lovelace", "friends,work", "ada@example.org", "self"}},
		{args: []string{"me", "show", "--circle", "friends"}, want: []string{"Ada Lovelace"}, wantNot: []string{"ada@example.org"}},
		{args: []string{"me", "unset", "tel"}, want: []string{"removed tel"}},
		{args: []string{"me", "show"}, want: []string{"Ada Lovelace"}, wantNot: []string{"tel"}},

		// Circles.
		{args: []string{"circles", "add", "climbing"}, want: []string{"added circle climbing"}},
		{args: []string{"circles", "list"}, want: []string{"NAME", "climbing", "friends", "family", "work"}},
		{args: []string{"circles", "rm", "climbing"}, want: []string{"removed circle climbing"}},
		{args: []string{"circles", "list"}, want: []string{"friends"}, wantNot: []string{"climbing"}},

		// Contacts.
		{args: []string{"contacts", "add", "--name", "Grace Hopper", "--email", "grace@example.org", "--tel", "+1-555-0100"}, want: []string{"added", "Grace Hopper"}},
		{args: []string{"contacts", "add", "--org", "Acme Plumbing", "--tel", "+1-555-0199", "--note", "fixed the sink"}, want: []string{"added"}},
		{args: []string{"contacts", "list"}, want: []string{"ID", "Grace Hopper", "grace@example.org", "Acme Plumbing"}},
		{args: []string{"contacts", "show", "grace hopper"}, want: []string{"grace@example.org", "+1-555-0100", "updated"}},
		{args: []string{"contacts", "show", "Grace Hopper", "--json"}, want: []string{`"name": "Grace Hopper"`, `"value": "grace@example.org"`}},
		{args: []string{"contacts", "edit", "Grace Hopper", "--org", "US Navy", "--remove", "tel"}, want: []string{"updated", "Grace Hopper"}},
		{args: []string{"contacts", "show", "Grace Hopper"}, want: []string{"US Navy", "grace@example.org"}, wantNot: []string{"+1-555-0100"}},
		{args: []string{"contacts", "search", "navy"}, want: []string{"Grace Hopper"}, wantNot: []string{"Acme"}},
		{args: []string{"contacts", "search", "sink"}, want: []string{"Acme Plumbing"}, wantNot: []string{"Grace"}},
		{args: []string{"contacts", "rm", "Grace Hopper"}, want: []string{"removed", "Grace Hopper"}},
		{args: []string{"contacts", "list"}, want: []string{"Acme Plumbing"}, wantNot: []string{"Grace"}},

		// Connections, on a node that has none yet.
		{args: []string{"peers"}, want: []string{"no connections"}},
		{args: []string{"requests"}, want: []string{"no pending requests"}},
		{args: []string{"forks"}, want: []string{"no forks on record"}},
		{args: []string{"forks", "--json"}, want: []string{"[]"}},

		// The log has it all.
		{args: []string{"log"}, want: []string{"SEQ", "genesis", "keys", "circle", "card", "contact"}},
		{args: []string{"check"}, want: []string{"problems", "ok"}},
	}
	for _, s := range steps {
		t.Run(strings.Join(s.args, " "), func(t *testing.T) {
			out := d.ok(t, s.args...)
			for _, w := range s.want {
				if !strings.Contains(out, w) {
					t.Errorf("kith %s: stdout does not contain %q:\n%s", strings.Join(s.args, " "), w, out)
				}
			}
			for _, w := range s.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("kith %s: stdout contains %q, want not:\n%s", strings.Join(s.args, " "), w, out)
				}
			}
		})
	}

	// JSON forms decode into the api types.
	var entries []api.LogEntry
	decodeJSON(t, d.ok(t, "log", "--json", "--after", "1", "--limit", "2"), &entries)
	if len(entries) != 2 || entries[0].Seq != 2 || entries[1].Seq != 3 {
		t.Errorf("kith log --json --after 1 --limit 2 = %+v, want seq 2 and 3", entries)
	}
	var st api.Status
	decodeJSON(t, d.ok(t, "status", "--json"), &st)
	if st.PeerID != d.id.PeerID || st.Contacts != 1 || st.Entries == 0 {
		t.Errorf("kith status --json = %+v, want peer %s, 1 contact, some entries", st, d.id.PeerID)
	}
	var contacts []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &contacts)
	if len(contacts) != 1 || contacts[0].Card.First("org") != "Acme Plumbing" {
		t.Errorf("kith contacts list --json = %+v, want Acme Plumbing only", contacts)
	}
	var id api.Identity
	decodeJSON(t, d.ok(t, "id", "--json"), &id)
	if id.PeerID != d.id.PeerID {
		t.Errorf("kith id --json peer = %s, want %s", id.PeerID, d.id.PeerID)
	}
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("decoding %T from %q: %v", v, s, err)
	}
}
