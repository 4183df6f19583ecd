package cli

import (
	"strings"
	"testing"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
)

// TestRotate: kith rotate moves the home to its next generation and the
// running daemon goes on as it at once; a second rotation moves it on
// again; a restarted daemon runs as the newest.
func TestRotate(t *testing.T) {
	home := testHome(t)
	var created initJSON
	decodeJSON(t, kithOK(t, home, "init", "--no-passphrase", "--json"), &created)
	d := startDaemonOn(t, home)

	r := kithIn(t, home, strings.NewReader(created.RecoveryPhrase), "rotate", "--json")
	if r.code != exitOK {
		t.Fatalf("kith rotate = exit %d, stderr %q", r.code, r.stderr)
	}
	var res api.RotateResult
	decodeJSON(t, r.stdout, &res)
	if res.OldPeerID.String() != created.PeerID || res.PeerID == res.OldPeerID || res.Generation != 1 || res.Mode != "planned" || !res.Restarted {
		t.Fatalf("kith rotate --json = %+v, want %s rotated to generation 1, planned, the daemon restarted", res, created.PeerID)
	}
	var id api.Identity
	decodeJSON(t, d.ok(t, "id", "--json"), &id)
	if id.PeerID != res.PeerID {
		t.Errorf("the daemon runs as %s after kith rotate, want %s", id.PeerID, res.PeerID)
	}
	if out := d.ok(t, "circles", "list"); !strings.Contains(out, "friends") {
		t.Errorf("the new identity lost its circles:\n%s", out)
	}

	r = kithIn(t, home, strings.NewReader(created.RecoveryPhrase), "rotate", "--recover")
	if r.code != exitOK || !strings.Contains(r.stdout, "generation 2") || !strings.Contains(r.stdout, "now runs as the new identity") {
		t.Errorf("second kith rotate = exit %d, stdout %q, stderr %q; want generation 2, running", r.code, r.stdout, r.stderr)
	}

	d.stop()
	d = startDaemonOn(t, home)
	decodeJSON(t, d.ok(t, "id", "--json"), &id)
	root, err := identity.ParsePhrase(created.RecoveryPhrase)
	if err != nil {
		t.Fatal(err)
	}
	gen2, err := root.IdentityAt(2)
	if err != nil {
		t.Fatal(err)
	}
	if id.PeerID != gen2.PeerID() {
		t.Errorf("restarted daemon runs as %s, want %s (generation 2)", id.PeerID, gen2.PeerID())
	}
}

func TestRotateErrors(t *testing.T) {
	words := strings.Fields(strings.Repeat("abandon ", 23) + "art")
	home := testHome(t)
	kithOK(t, home, "init", "--no-passphrase")
	idle := testHome(t)
	kithOK(t, idle, "init", "--no-passphrase")
	startDaemonOn(t, home)
	tests := []struct {
		name     string
		home     string
		stdin    string
		args     []string
		wantCode int
		want     string
	}{
		{"misspelled word", home, strings.Join(append(append([]string{}, words[:5]...), append([]string{"abandn"}, words[6:]...)...), " "),
			nil, exitBadPhrase, `word 6 "abandn"`},
		{"too few words", home, strings.Join(words[:12], " "), nil, exitBadPhrase, "got 12 words, want 24"},
		{"another person's phrase", home, strings.Join(words, " "), nil, exitWrongPhrase, "not this identity's"},
		{"an argument", home, strings.Join(words, " "), []string{"now"}, exitUsage, "unexpected argument"},
		{"no daemon", idle, strings.Join(words, " "), nil, exitNotRunning, "not running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := kithIn(t, tc.home, strings.NewReader(tc.stdin), append([]string{"rotate"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("kith rotate = exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.wantCode, tc.want)
			}
		})
	}
}
