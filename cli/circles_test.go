package cli

import (
	"strings"
	"testing"
)

// TestCirclesRemove: removing a circle that sees fields (or has members)
// needs --force, says what it holds, and removes nothing without it.
func TestCirclesRemove(t *testing.T) {
	d := startDaemon(t)
	d.ok(t, "me", "set", "email", "ada@example.org", "--circle", "family")
	d.ok(t, "me", "set", "fn", "Ada", "--circle", "family", "--circle", "friends")

	r := kith(t, d.home, "circles", "rm", "family")
	if r.code != exitConflict {
		t.Errorf("kith circles rm family (2 fields) = exit %d, want %d\nstdout: %s\nstderr: %s", r.code, exitConflict, r.stdout, r.stderr)
	}
	for _, w := range []string{"0 members", "2 fields", "email", "fn", "--force"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("kith circles rm family: stderr %q does not say %q", r.stderr, w)
		}
	}
	if out := d.ok(t, "circles", "list"); !strings.Contains(out, "family") {
		t.Errorf("a refused rm removed the circle:\n%s", out)
	}

	out := d.ok(t, "circles", "rm", "family", "--force")
	for _, w := range []string{"removed circle family", "2 fields (email, fn)"} {
		if !strings.Contains(out, w) {
			t.Errorf("kith circles rm family --force: stdout %q does not say %q", out, w)
		}
	}
	if out := d.ok(t, "me", "show"); strings.Contains(out, "email") || !strings.Contains(out, "friends") {
		t.Errorf("after removing family, kith me show =\n%s\nwant fn in friends only", out)
	}
	// A circle whose fields other circles see too loses nothing: no --force.
	d.ok(t, "circles", "add", "club")
	d.ok(t, "me", "set", "fn", "Ada", "--circle", "club", "--circle", "friends")
	if out := d.ok(t, "circles", "rm", "club"); !strings.Contains(out, "removed circle club") {
		t.Errorf("kith circles rm club (its only field, fn, is in friends too) = %q", out)
	}
	// An empty circle goes without --force.
	if out := d.ok(t, "circles", "rm", "work"); strings.TrimSpace(out) != "removed circle work" {
		t.Errorf("kith circles rm work = %q", out)
	}
}
