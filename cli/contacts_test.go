package cli

import (
	"context"
	"net"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// fail runs kith, wants exit code want and stderr holding every of inErr.
func (d *testDaemon) fail(tb testing.TB, want int, inErr []string, args ...string) {
	tb.Helper()
	r := kith(tb, d.home, args...)
	if r.code != want {
		tb.Errorf("kith %s = exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	for _, w := range inErr {
		if !strings.Contains(r.stderr, w) {
			tb.Errorf("kith %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, w)
		}
	}
}

func wantIn(tb testing.TB, what, out string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			tb.Errorf("%s: %q does not contain %q", what, out, w)
		}
	}
}

// TestContactsDashDash: after "--" every argument of a contacts
// subcommand is an argument, even one that starts with '-'.
func TestContactsDashDash(t *testing.T) {
	d := startDaemon(t)
	d.ok(t, "contacts", "add", "--name", "-weird-name", "--email", "weird@example.org")
	wantIn(t, "show", d.ok(t, "contacts", "show", "--", "-weird-name"), "weird@example.org")
	wantIn(t, "show --json", d.ok(t, "contacts", "show", "--json", "--", "-weird-name"), `"value": "weird@example.org"`)
	wantIn(t, "search", d.ok(t, "contacts", "search", "--", "-weird"), "-weird-name")
	wantIn(t, "edit", d.ok(t, "contacts", "edit", "--note", "odd", "--", "-weird-name"), "updated")
	wantIn(t, "show after edit", d.ok(t, "contacts", "show", "--", "-weird-name"), "odd")
	d.fail(t, exitUsage, []string{"unexpected argument"}, "contacts", "show", "--", "-weird-name", "extra")
	// Without "--" it is an unknown flag.
	d.fail(t, exitUsage, []string{"-weird-name"}, "contacts", "show", "-weird-name")
	wantIn(t, "rm", d.ok(t, "contacts", "rm", "--", "-weird-name"), "removed")
	d.fail(t, exitNotFound, []string{"no file -x.vcf"}, "contacts", "import", "--", "-x.vcf")
}

// TestContactsReferences: show, edit and rm find a contact by a word of
// its name, email or phone; an ambiguous one lists the candidates and
// exits 6.
func TestContactsReferences(t *testing.T) {
	d := startDaemon(t)
	d.ok(t, "contacts", "add", "--name", "Dr. Rao", "--tel", "+1-555-0100", "--email", "rao@clinic.example")
	d.ok(t, "contacts", "add", "--name", "Ann Lee", "--email", "ann@example.org")
	d.ok(t, "contacts", "add", "--name", "Ann Müller")
	wantIn(t, "show rao", d.ok(t, "contacts", "show", "rao"), "rao@clinic.example")
	wantIn(t, "show muller", d.ok(t, "contacts", "show", "muller"), "Ann Müller")
	d.ok(t, "contacts", "edit", "0100", "--org", "Clinic")
	wantIn(t, "show after edit", d.ok(t, "contacts", "show", "clinic"), "Clinic")

	var cs []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	var lee, muller string
	for _, c := range cs {
		switch c.Name {
		case "Ann Lee":
			lee = c.ID
		case "Ann Müller":
			muller = c.ID
		}
	}
	d.fail(t, exitConflict, []string{"matches 2 contacts", lee + " (Ann Lee)", muller + " (Ann Müller)", "by its id"}, "contacts", "show", "ann")
	d.fail(t, exitConflict, []string{"matches 2 contacts"}, "contacts", "rm", "ann")
	wantIn(t, "rm by id", d.ok(t, "contacts", "rm", lee), "removed", "Ann Lee")
	wantIn(t, "rm ann", d.ok(t, "contacts", "rm", "ann"), "removed", "Ann Müller")
}

// TestContactsDuplicatesMerge: duplicates groups likely duplicates; merge
// folds one into the other and prints the result.
func TestContactsDuplicatesMerge(t *testing.T) {
	d := startDaemon(t)
	if out := kith(t, d.home, "contacts", "duplicates"); out.code != 0 || !strings.Contains(out.stderr, "no likely duplicates") {
		t.Errorf("duplicates with none: %+v", out)
	}
	d.ok(t, "contacts", "add", "--name", "Priya Rao", "--email", "priya@example.org", "--bday", "1980-01-02")
	d.ok(t, "contacts", "add", "--name", "Dr. P. Rao", "--email", "PRIYA@example.org", "--tel", "+1 555 0100", "--bday", "1980-02-01")
	d.ok(t, "contacts", "add", "--name", "Someone Else", "--tel", "+1 555 0199")
	out := d.ok(t, "contacts", "duplicates")
	wantIn(t, "duplicates", out, "same email priya@example.org", "Priya Rao", "Dr. P. Rao")
	if strings.Contains(out, "Someone Else") {
		t.Errorf("duplicates lists a contact with no duplicate:\n%s", out)
	}
	var gs []api.DuplicateGroup
	decodeJSON(t, d.ok(t, "contacts", "duplicates", "--json"), &gs)
	if len(gs) != 1 || len(gs[0].Contacts) != 2 {
		t.Fatalf("duplicates --json = %+v, want one group of two", gs)
	}
	r := kith(t, d.home, "contacts", "merge", "priya rao", "dr. p. rao")
	if r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	wantIn(t, "merge stdout", r.stdout, "Priya Rao", "priya@example.org", "+1 555 0100", "nickname", "Dr. P. Rao", "1980-01-02")
	wantIn(t, "merge stderr", r.stderr, "merged", "dropped bday 1980-02-01")
	if strings.Count(strings.ToLower(r.stdout), "priya@example.org") != 1 {
		t.Errorf("merge shows the email more than once:\n%s", r.stdout)
	}
	var cs []api.Contact
	decodeJSON(t, d.ok(t, "contacts", "list", "--json"), &cs)
	if len(cs) != 2 {
		t.Errorf("after the merge: %d contacts, want 2", len(cs))
	}
	if out := kith(t, d.home, "contacts", "duplicates"); !strings.Contains(out.stderr, "no likely duplicates") {
		t.Errorf("duplicates after the merge: %+v", out)
	}
	d.fail(t, exitUsage, []string{"missing OTHER"}, "contacts", "merge", "priya")
}

// TestContactsLinked: a connection's card, edited and removed through the
// CLI: an edit shows each of their fields once plus my note; rm removes
// my note and says how to end the connection.
func TestContactsLinked(t *testing.T) {
	alice, bob := startDaemon(t), startDaemon(t)
	bob.ok(t, "me", "set", "fn", "Bob Builder", "--circle", "friends")
	bob.ok(t, "me", "set", "email", "bob@example.org", "--circle", "friends")
	code := strings.TrimSpace(strings.Split(alice.ok(t, "invite", "--no-qr"), "\n")[0])
	bob.ok(t, "connect", code)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(alice.ok(t, "contacts", "list"), "Bob Builder") {
		if time.Now().After(deadline) {
			t.Fatal("alice does not list bob's card after 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	bobID := bob.id.PeerID

	alice.ok(t, "contacts", "edit", "builder", "--note", "climbing on Tuesdays")
	out := alice.ok(t, "contacts", "show", bobID.String())
	for _, w := range []string{"Bob Builder", "bob@example.org", "climbing on Tuesdays"} {
		if n := strings.Count(out, w); n != 1 {
			t.Errorf("show after edit: %q appears %d times, want once:\n%s", w, n, out)
		}
	}
	wantIn(t, "show", out, "[your note]")
	alice.fail(t, exitInvalid, []string{"their own card"}, "contacts", "edit", bobID.String(), "--remove", "email")

	r := kith(t, alice.home, "contacts", "rm", bobID.String())
	if r.code != 0 {
		t.Fatalf("rm %s: exit %d: %s", bobID, r.code, r.stderr)
	}
	wantIn(t, "rm stdout", r.stdout, "removed your notes on "+bobID.String())
	wantIn(t, "rm stderr", r.stderr, "kith disconnect "+bobID.String())
	out = alice.ok(t, "contacts", "show", "bob")
	wantIn(t, "show after rm", out, "bob@example.org")
	if strings.Contains(out, "climbing") {
		t.Errorf("show after rm still has the note:\n%s", out)
	}
	r = kith(t, alice.home, "contacts", "rm", bobID.String())
	if r.code != 0 || !strings.Contains(r.stdout, "no notes") || !strings.Contains(r.stderr, "kith disconnect") {
		t.Errorf("rm with no notes: %+v", r)
	}
}

// recordingAPI passes calls on to a node and records those that read or
// change a contact.
type recordingAPI struct {
	api.API
	mu      sync.Mutex
	calls   []string
	patches []api.ContactPatch
}

func (r *recordingAPI) record(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recordingAPI) Contact(ctx context.Context, ref string) (*api.Contact, error) {
	r.record("Contact")
	return r.API.Contact(ctx, ref)
}

func (r *recordingAPI) EditContact(ctx context.Context, ref string, card graph.Card) (*api.Contact, error) {
	r.record("EditContact")
	return r.API.EditContact(ctx, ref, card)
}

func (r *recordingAPI) PatchContact(ctx context.Context, ref string, p api.ContactPatch) (*api.Contact, error) {
	r.record("PatchContact")
	r.mu.Lock()
	r.patches = append(r.patches, p)
	r.mu.Unlock()
	return r.API.PatchContact(ctx, ref, p)
}

// serveAPI serves impl on home's API socket until the test ends.
func serveAPI(t *testing.T, home string, impl api.API) {
	t.Helper()
	require.NoError(t, os.MkdirAll(home, 0o700))
	ln, err := net.Listen("unix", api.SocketPath(home))
	require.NoError(t, err)
	srv := &http.Server{Handler: api.Handler(impl, nil)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// TestContactsEditPatches: `contacts edit` sends the daemon one
// PatchContact naming only what its flags change, and reads nothing
// first: the daemon applies it to the card as it is then, so a change
// made meanwhile is kept.
func TestContactsEditPatches(t *testing.T) {
	n := node.NewTest(t, "alice")
	rec := &recordingAPI{API: n}
	home := testHome(t)
	serveAPI(t, home, rec)
	added, err := n.AddContacts(t.Context(), []graph.Card{{Fields: []graph.Field{
		{Name: "fn", Value: "Grace Hopper"}, {Name: "email", Value: "old@example.org"}, {Name: "email", Value: "grace@example.org"},
		{Name: "tel", Value: "+1-555-0100"}, {Name: "note", Value: "admiral"},
	}}})
	require.NoError(t, err)

	r := kith(t, home, "contacts", "edit", "grace", "--org", "US Navy", "--adr", "1 Main St", "--note", "",
		"--remove", "tel", "--remove", "email=old@example.org")
	require.Equal(t, exitOK, r.code, r.stderr)
	wantIn(t, "edit stdout", r.stdout, "updated "+added[0].ID+" Grace Hopper")
	want := api.ContactPatch{
		Set: []api.FieldValues{
			{Name: "adr", Values: []string{";;1 Main St;;;;"}},
			{Name: "org", Values: []string{"US Navy"}},
			{Name: "note", Values: []string{}},
		},
		Remove: []api.FieldRef{{Name: "tel"}, {Name: "email", Value: "old@example.org"}},
	}
	if !slices.Equal(rec.calls, []string{"PatchContact"}) || !reflect.DeepEqual(rec.patches, []api.ContactPatch{want}) {
		t.Errorf("contacts edit called %v with %+v, want one PatchContact with %+v", rec.calls, rec.patches, want)
	}
	c, err := n.Contact(t.Context(), added[0].ID)
	require.NoError(t, err)
	got := map[string][]string{}
	for _, f := range c.Card.Fields {
		got[f.Name] = append(got[f.Name], f.Value)
	}
	delete(got, "uid")
	require.Equal(t, map[string][]string{"fn": {"Grace Hopper"}, "email": {"grace@example.org"}, "adr": {";;1 Main St;;;;"}, "org": {"US Navy"}}, got)

	// The daemon's errors come back as they are.
	r = kith(t, home, "contacts", "edit", "grace", "--remove", "tel")
	if r.code != exitNotFound || !strings.Contains(r.stderr, "has no tel to remove") {
		t.Errorf("edit --remove a field it lacks = exit %d, stderr %q; want %d", r.code, r.stderr, exitNotFound)
	}
	r = kith(t, home, "contacts", "edit", "grace", "--org", "x", "--remove", "ORG")
	if r.code != exitUsage || !strings.Contains(r.stderr, "choose one") {
		t.Errorf("edit --org and --remove org = exit %d, stderr %q; want %d", r.code, r.stderr, exitUsage)
	}
}
