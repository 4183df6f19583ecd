package cli

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/spec"
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
// a new one for the key, committing to the same recovery key, so the phrase
// of the first init still restores it.
func TestNewLog(t *testing.T) {
	home := testHome(t)
	if r := kith(t, home, "init", "--no-passphrase"); r.code != exitOK {
		t.Fatalf("kith init = exit %d: %s", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(home, node.DBName)); err != nil {
		t.Fatal(err)
	}
	r := kith(t, home, "init", "--new-log")
	if r.code != exitOK || !strings.Contains(r.stdout, "recovery phrase stays the same") || !strings.Contains(r.stdout, "fork") {
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

// TestNewLogKeepsRecoveryKey: the genesis --new-log writes commits to the
// recovery key of the first init's phrase.
func TestNewLogKeepsRecoveryKey(t *testing.T) {
	home := testHome(t)
	var out initJSON
	decodeJSON(t, kithOK(t, home, "init", "--no-passphrase", "--json"), &out)
	first := genesisCommitment(t, home)
	if err := os.Remove(filepath.Join(home, node.DBName)); err != nil {
		t.Fatal(err)
	}
	kithOK(t, home, "init", "--new-log")
	rec, err := identity.RecoveryKey(out.RecoveryPhrase)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Commitment(rec.Public().(ed25519.PublicKey))
	if got := genesisCommitment(t, home); !bytes.Equal(got, want) || !bytes.Equal(first, want) {
		t.Errorf("genesis commitment after --new-log = %x (first init %x), want the phrase's %x", got, first, want)
	}
}

// genesisCommitment reads the recovery commitment of home's own genesis.
func genesisCommitment(t *testing.T, home string) []byte {
	t.Helper()
	ks := identity.Keystore{Dir: home}
	id, err := ks.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), filepath.Join(home, node.DBName), book.Index{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log, err := st.Log(t.Context(), id.PeerID(), 0, 1)
	if err != nil || len(log) != 1 {
		t.Fatalf("reading the genesis: %v (%d entries)", err, len(log))
	}
	e, err := spec.Decode(log[0].Raw)
	if err != nil {
		t.Fatal(err)
	}
	b, err := graph.Open(id, e)
	if err != nil {
		t.Fatal(err)
	}
	return b.Recovery
}

// withoutTimes drops the "updated" and "cid" of each contact in a
// `contacts list --json` output.
func withoutTimes(t *testing.T, out string) string {
	t.Helper()
	var cs []map[string]any
	decodeJSON(t, out, &cs)
	for _, c := range cs {
		delete(c, "updated")
		delete(c, "cid")
	}
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// kithOK runs kith and fails the test unless it exits 0; it returns stdout.
func kithOK(t *testing.T, home string, args ...string) string {
	t.Helper()
	r := kith(t, home, args...)
	if r.code != exitOK {
		t.Fatalf("kith %s = exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// TestInitJSON: kith init --json prints the peer ID, the phrase and the
// home, and the phrase derives that peer ID.
func TestInitJSON(t *testing.T) {
	home := testHome(t)
	var out initJSON
	decodeJSON(t, kithOK(t, home, "init", "--no-passphrase", "--json"), &out)
	if out.Home != home || !strings.HasPrefix(out.PeerID, "12D3KooW") || len(strings.Fields(out.RecoveryPhrase)) != identity.RecoveryWords {
		t.Fatalf("kith init --json = %+v, want the home, a peer ID and 24 words", out)
	}
	id, _, err := identity.FromPhrase(out.RecoveryPhrase)
	if err != nil || id.PeerID().String() != out.PeerID {
		t.Errorf("identity.FromPhrase(printed phrase) = %v, %v; want %s", id, err, out.PeerID)
	}
}

// TestInitRecoverErrors: --recover refuses a wrong phrase naming the word
// (writing nothing), a home with a key, and --new-log beside it.
func TestInitRecoverErrors(t *testing.T) {
	words := strings.Fields(strings.Repeat("abandon ", 23) + "art")
	tests := []struct {
		name     string
		stdin    string
		args     []string
		haveKey  bool
		wantCode int
		want     string
	}{
		{"misspelled word", strings.Join(append(append([]string{}, words[:5]...), append([]string{"abandn"}, words[6:]...)...), " "),
			nil, false, exitBadPhrase, `word 6 "abandn" is not in the BIP-39 English word list (did you mean "abandon"?)`},
		{"checksum", strings.Join(words[:23], " ") + " zoo", nil, false, exitBadPhrase, "checksum"},
		{"too few words", strings.Join(words[:12], " "), nil, false, exitBadPhrase, "got 12 words, want 24"},
		{"empty", "", nil, false, exitBadPhrase, "empty"},
		{"a key exists", strings.Join(words, " "), nil, true, exitConflict, "already holds an identity key"},
		{"with --new-log", strings.Join(words, " "), []string{"--new-log"}, false, exitUsage, "--recover and --new-log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := testHome(t)
			if tc.haveKey {
				kithOK(t, home, "init", "--no-passphrase")
			}
			r := kithIn(t, home, strings.NewReader(tc.stdin), append([]string{"init", "--recover", "--no-passphrase"}, tc.args...)...)
			if r.code != tc.wantCode || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("kith init --recover = exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.wantCode, tc.want)
			}
			if !tc.haveKey && (identity.Keystore{Dir: home}).Exists() {
				t.Errorf("a refused --recover wrote a key")
			}
		})
	}
}

// TestRecoverFromPhrase: the phrase alone, typed into a fresh home, gives
// back the same identity; its log comes back from a friend, and the node
// reads what it wrote before: self-sealed contacts, circle-sealed fields
// and its card.
func TestRecoverFromPhrase(t *testing.T) {
	friend := startDaemon(t)
	home := testHome(t)
	var created initJSON
	decodeJSON(t, kithOK(t, home, "init", "--no-passphrase", "--json"), &created)
	a := startDaemonOn(t, home)
	var inv api.InviteCode
	if err := json.Unmarshal([]byte(friend.ok(t, "invite", "--json")), &inv); err != nil {
		t.Fatal(err)
	}
	a.ok(t, "connect", inv.Code)
	a.ok(t, "me", "set", "fn", "Ada Lovelace")
	a.ok(t, "me", "set", "email", "ada@example.org", "--circle", "friends")
	a.ok(t, "contacts", "add", "--name", "Grace Hopper", "--email", "grace@example.org")
	before := settled(t, a, friend)
	meBefore := a.ok(t, "me", "show", "--json")
	contactsBefore := a.ok(t, "contacts", "list", "--json")
	a.stop()

	// A new device: another home, the phrase typed in upper case over
	// several lines.
	words := strings.Fields(created.RecoveryPhrase)
	typed := strings.ToUpper(strings.Join(words[:12], " ") + "\n" + strings.Join(words[12:], "  ") + "\n")
	home2 := testHome(t)
	r := kithIn(t, home2, strings.NewReader(typed), "init", "--recover", "--no-passphrase", "--json")
	if r.code != exitOK {
		t.Fatalf("kith init --recover = exit %d: %s", r.code, r.stderr)
	}
	var recovered initJSON
	decodeJSON(t, r.stdout, &recovered)
	if recovered.PeerID != created.PeerID || recovered.RecoveryPhrase != "" || recovered.Home != home2 {
		t.Fatalf("kith init --recover --json = %+v, want peer ID %s, no phrase, home %s", recovered, created.PeerID, home2)
	}

	b := startDaemonOn(t, home2)
	b.ok(t, "connect", friend.id.Addrs[0].String())
	var after []api.LogEntry
	deadline := time.Now().Add(20 * time.Second)
	for {
		decodeJSON(t, b.ok(t, "log", "--json"), &after)
		if len(after) >= len(before) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(after) < len(before) {
		t.Fatalf("log after the recovery = %d entries, want the %d of before", len(after), len(before))
	}
	for i := range before {
		if after[i].CID != before[i].CID {
			t.Errorf("entry %d after the recovery = %s, want %s (forked)", i+1, after[i].CID, before[i].CID)
		}
	}
	if got := b.ok(t, "me", "show", "--json"); got != meBefore {
		t.Errorf("kith me show --json after the recovery =\n%s\nwant\n%s", got, meBefore)
	}
	// The friend may re-issue its card to the restored node: compare what
	// the contacts say, not when.
	if got, want := withoutTimes(t, b.ok(t, "contacts", "list", "--json")), withoutTimes(t, contactsBefore); got != want {
		t.Errorf("kith contacts list --json after the recovery =\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(contactsBefore, "Grace Hopper") || !strings.Contains(meBefore, "ada@example.org") {
		t.Fatalf("the test did not write what it means to read back:\n%s\n%s", meBefore, contactsBefore)
	}
	b.ok(t, "check")

	// With a passphrase, and without --json: the key is sealed under it.
	t.Setenv(identity.PassphraseEnv, "new device")
	home3 := testHome(t)
	r = kithIn(t, home3, strings.NewReader(created.RecoveryPhrase), "init", "--recover")
	if r.code != exitOK || !strings.Contains(r.stdout, created.PeerID) || !strings.Contains(r.stdout, "kith daemon") {
		t.Fatalf("kith init --recover = exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	ks := identity.Keystore{Dir: home3}
	if enc, err := ks.Encrypted(); err != nil || !enc {
		t.Errorf("recovered key file encrypted = %v, %v; want true", enc, err)
	}
	if id, err := ks.Load([]byte("new device")); err != nil || id.PeerID().String() != created.PeerID {
		t.Errorf("loading the recovered key = %v, %v; want %s", id, err, created.PeerID)
	}
}
