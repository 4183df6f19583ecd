package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/node/api"
)

// TestConnectRefused: a used invite code and a declined request are
// errors with their own exit codes, not "waiting for them to accept".
func TestConnectRefused(t *testing.T) {
	a, b, c := startDaemon(t), startDaemon(t), startDaemon(t)
	var inv api.InviteCode
	if err := json.Unmarshal([]byte(a.ok(t, "invite", "--json")), &inv); err != nil {
		t.Fatal(err)
	}
	if out := b.ok(t, "connect", inv.Code); !strings.Contains(out, "connected") {
		t.Fatalf("kith connect with a fresh code = %q, want connected", out)
	}

	r := kith(t, c.home, "connect", inv.Code)
	if r.code != exitInviteUsed || !strings.Contains(r.stderr, "used") || strings.Contains(r.stdout, "waiting") {
		t.Errorf("kith connect with a used code = exit %d\nstdout: %s\nstderr: %s\nwant exit %d saying it was used", r.code, r.stdout, r.stderr, exitInviteUsed)
	}

	// By address, c's request waits for a; once declined, asking again
	// says so.
	out := c.ok(t, "connect", a.id.Addrs[0].String(), "--note", "it's c")
	if !strings.Contains(out, "waiting for them to accept") {
		t.Errorf("kith connect by address = %q, want it to wait", out)
	}
	a.ok(t, "decline", c.id.PeerID.String())
	r = kith(t, c.home, "connect", a.id.Addrs[0].String())
	if r.code != exitDeclined || !strings.Contains(r.stderr, "declined") {
		t.Errorf("kith connect after a decline = exit %d\nstdout: %s\nstderr: %s\nwant exit %d saying declined", r.code, r.stdout, r.stderr, exitDeclined)
	}
}

// TestPeersDisconnectedByThem: after `kith disconnect` on one side, the
// other side's `kith peers` (and --json) says so.
func TestPeersDisconnectedByThem(t *testing.T) {
	a, b := startDaemon(t), startDaemon(t)
	var inv api.InviteCode
	if err := json.Unmarshal([]byte(a.ok(t, "invite", "--json")), &inv); err != nil {
		t.Fatal(err)
	}
	b.ok(t, "connect", inv.Code)
	a.ok(t, "disconnect", b.id.PeerID.String())
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ps []api.Peer
		if err := json.Unmarshal([]byte(b.ok(t, "peers", "--json")), &ps); err != nil {
			t.Fatal(err)
		}
		if len(ps) == 1 && ps[0].DisconnectedByThem {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b's peers after a disconnected it = %+v, want disconnected_by_them", ps)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := b.ok(t, "peers", "--json"); !strings.Contains(out, `"disconnected_by_them": true`) {
		t.Errorf("kith peers --json =\n%s\nwant \"disconnected_by_them\": true", out)
	}
	if out := b.ok(t, "peers"); !strings.Contains(out, "disconnected by them") {
		t.Errorf("kith peers =\n%s\nwant it to say disconnected by them", out)
	}
}
