package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestKeyOnlyHome: a home holding only identity.key (copied from a backup)
// starts; the daemon rebuilds the store and takes the log back from a
// friend instead of forking it, and refuses writes until then.
func TestKeyOnlyHome(t *testing.T) {
	friend := startDaemon(t)
	home := testHome(t)
	if _, err := node.Init(t.Context(), home, nil); err != nil {
		t.Fatal(err)
	}
	a := startDaemonOn(t, home)
	var inv api.InviteCode
	if err := json.Unmarshal([]byte(friend.ok(t, "invite", "--json")), &inv); err != nil {
		t.Fatal(err)
	}
	a.ok(t, "connect", inv.Code)
	a.ok(t, "me", "set", "fn", "Ada Lovelace")
	before := settled(t, a, friend)
	a.stop()

	// Only the key is left.
	files, err := filepath.Glob(filepath.Join(home, node.DBName+"*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no store files to remove in %s: %v", home, err)
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	r := kith(t, home, "init", "--no-passphrase")
	if r.code != exitConflict || !strings.Contains(r.stderr, "kith daemon") || !strings.Contains(r.stderr, "--new-log") {
		t.Errorf("kith init on a key-only home = exit %d, stderr %q; want %d explaining the daemon and --new-log", r.code, r.stderr, exitConflict)
	}

	a = startDaemonOn(t, home) // before the fix: "not initialized; run kith init"
	r = kith(t, home, "me", "set", "email", "ada@example.org", "--circle", "friends")
	if r.code != exitKey || !strings.Contains(r.stderr, "kith connect") {
		t.Errorf("kith me set before the log is back = exit %d, stderr %q; want %d and how to get it back", r.code, r.stderr, exitKey)
	}
	if out := a.ok(t, "connect", friend.id.Addrs[0].String()); !strings.Contains(out, "connected") {
		t.Errorf("kith connect to the friend = %q, want connected", out)
	}
	var after []api.LogEntry
	decodeJSON(t, a.ok(t, "log", "--json"), &after)
	// The same log, not a new one (a fork); the node may have gone on
	// since (re-issuing cards once the friend's key is back).
	if len(after) < len(before) {
		t.Fatalf("log after the restore = %d entries, want the %d of before", len(after), len(before))
	}
	for i := range before {
		if after[i].CID != before[i].CID {
			t.Errorf("entry %d after the restore = %s, want %s (the log was forked)", i+1, after[i].CID, before[i].CID)
		}
	}
	if out := a.ok(t, "me", "show"); !strings.Contains(out, "Ada Lovelace") {
		t.Errorf("kith me show after the restore =\n%s\nwant the name back", out)
	}
	var peers []api.Peer
	decodeJSON(t, a.ok(t, "peers", "--json"), &peers)
	if len(peers) != 1 || peers[0].PeerID != friend.id.PeerID {
		t.Errorf("kith peers after the restore = %+v, want the friend", peers)
	}
	a.ok(t, "me", "set", "email", "ada@example.org", "--circle", "friends")
	settled(t, a, friend) // check reads while nothing is written
	a.ok(t, "check")
	friend.ok(t, "check")
}

// settled waits until a and b, connected, hold each other's whole log and
// neither log grew over one more look (a node re-issues cards by itself once
// a friend's key arrives), and returns a's log.
func settled(t *testing.T, a, b *testDaemon) []api.LogEntry {
	t.Helper()
	held := func(d, of *testDaemon) int64 {
		var ps []api.Peer
		decodeJSON(t, d.ok(t, "peers", "--json"), &ps)
		for _, p := range ps {
			if p.PeerID == of.id.PeerID {
				return p.Entries
			}
		}
		return -1
	}
	var aLog, bLog []api.LogEntry
	last := [2]int{-1, -1}
	deadline := time.Now().Add(20 * time.Second)
	for {
		decodeJSON(t, a.ok(t, "log", "--json"), &aLog)
		decodeJSON(t, b.ok(t, "log", "--json"), &bLog)
		now := [2]int{len(aLog), len(bLog)}
		if now == last && held(b, a) == int64(now[0]) && held(a, b) == int64(now[1]) {
			return aLog
		}
		last = now
		if time.Now().After(deadline) {
			t.Fatalf("a (%d entries) and b (%d) did not settle in 20s", now[0], now[1])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNewLog: with no friend holding the log, `kith init --new-log` starts
// a new one for the key, with a new recovery phrase.
func TestNewLog(t *testing.T) {
	home := testHome(t)
	if r := kith(t, home, "init", "--no-passphrase"); r.code != exitOK {
		t.Fatalf("kith init = exit %d: %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(home, node.DBName)); err != nil {
		t.Fatal(err)
	}
	r := kith(t, home, "init", "--new-log")
	if r.code != exitOK || !strings.Contains(r.stdout, "recovery phrase") || !strings.Contains(r.stdout, "fork") {
		t.Fatalf("kith init --new-log = exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := kith(t, home, "init", "--new-log"); r.code != exitConflict {
		t.Errorf("kith init --new-log on a home with a log = exit %d, want %d", r.code, exitConflict)
	}
	d := startDaemonOn(t, home)
	var log []api.LogEntry
	decodeJSON(t, d.ok(t, "log", "--json"), &log)
	if len(log) < 2 || log[0].Kind != "genesis" || log[1].Kind != "keys" {
		t.Errorf("new log = %+v, want genesis and keys first", log)
	}
	d.ok(t, "check")
}
