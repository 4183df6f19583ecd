package e2e

import (
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/kith-p2p/kith/node/api"
)

// rsPair starts two daemons, A and B, connected by an invite from B (so
// A knows where B listens, and dials it after a restart).
func rsPair(t *testing.T) (a, b *Home) {
	t.Helper()
	a, b = NewHome(t), NewHome(t)
	a.Start()
	b.Start()
	var inv api.InviteCode
	b.JSON(&inv, "invite", "--no-qr")
	require.Contains(t, a.MustRun("connect", inv.Code), "connected")
	rsSynced(t, a, b)
	return a, b
}

// rsRestart starts h's daemon again on the TCP port it had, as a daemon
// keeps its port, so that friends redial it.
func rsRestart(t *testing.T, h *Home, port string) {
	t.Helper()
	h.StartWith("--listen", "/ip4/127.0.0.1/tcp/"+port)
}

// rsSynced waits until A and B hold the same entries: each other's log
// whole (each store holds both logs).
func rsSynced(t *testing.T, a, b *Home) {
	t.Helper()
	var sa, sb api.Status
	deadline := time.Now().Add(45 * time.Second)
	for {
		a.JSON(&sa, "status")
		b.JSON(&sb, "status")
		if sa.Entries == sb.Entries && sa.Logs == 2 && sb.Logs == 2 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("A and B do not hold the same entries: A %+v, B %+v\nA's log:\n%s\nB's log:\n%s", sa, sb, a.DaemonLog(), b.DaemonLog())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func rsEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// rsAddr is a full multiaddr of h's daemon.
func rsAddr(t *testing.T, h *Home) string {
	var id api.Identity
	h.JSON(&id, "id")
	require.NotEmpty(t, id.Addrs)
	return id.Addrs[0].String()
}

// rsCopy copies the store files of home (daemon stopped) to dir, or back.
func rsCopy(t *testing.T, from, to string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(to, "kith.db"+suffix))
		in, err := os.Open(filepath.Join(from, "kith.db"+suffix))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		out, err := os.Create(filepath.Join(to, "kith.db"+suffix))
		require.NoError(t, err)
		_, err = io.Copy(out, in)
		require.NoError(t, err)
		require.NoError(t, out.Close())
		in.Close()
	}
}

func rsPeer(t *testing.T, h *Home, who string) *api.Peer {
	var ps []api.Peer
	h.JSON(&ps, "peers")
	for i := range ps {
		if ps[i].PeerID.String() == who {
			return &ps[i]
		}
	}
	return nil
}

func rsNoForks(t *testing.T, h *Home) {
	t.Helper()
	var st api.Status
	h.JSON(&st, "status")
	require.Zero(t, st.Forks, "fork evidence on record against %v", st.Forked)
	h.MustRun("check")
}

// rsExitKey is the exit code of a key problem, a log not back yet among them.
const rsExitKey = 8

var rsThree = []string{"Ada Lovelace", "Grace Hopper", "Katherine Johnson"}

func rsNames(t *testing.T, h *Home) []string {
	var cs []api.Contact
	h.JSON(&cs, "contacts", "list")
	var names []string
	for _, c := range cs {
		if slices.Contains(rsThree, c.Name) {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

// TestOldBackupDoesNotFork is issue 9's story: stop A, copy kith.db
// aside, start A and add 3 contacts (B holds them), stop, put the old db
// back, start, `kith me set note …` at once. A shows the contacts and
// the note, B takes the note and holds no fork evidence.
func TestOldBackupDoesNotFork(t *testing.T) {
	a, b := rsPair(t)
	var id api.Identity
	a.JSON(&id, "id")
	aID := id.PeerID.String()
	port := tcpPort(t, a)
	a.Stop()
	backup := t.TempDir()
	rsCopy(t, a.Dir, backup)
	rsRestart(t, a, port)
	for _, n := range rsThree {
		a.MustRun("contacts", "add", "--name", n)
	}
	rsSynced(t, a, b)
	a.Stop()
	rsCopy(t, backup, a.Dir)
	rsRestart(t, a, port)
	a.MustRun("me", "set", "note", "back from holiday", "--circle", "friends")

	require.Equal(t, rsThree, rsNames(t, a), "A's contacts after the old backup")
	rsEventually(t, "B sees A's note", func() bool {
		p := rsPeer(t, b, aID)
		return p != nil && slices.Equal(p.Card.Values("note"), []string{"back from holiday"})
	})
	rsSynced(t, a, b)
	rsNoForks(t, a)
	rsNoForks(t, b)
}

// TestRestoreKeyOnlyHome: A's home keeps the key alone. The daemon starts,
// writes are refused until `kith restore --from B` brings A's log back:
// contacts, card, circles and the connection, as they were.
func TestRestoreKeyOnlyHome(t *testing.T) {
	a, b := rsPair(t)
	for _, n := range rsThree {
		a.MustRun("contacts", "add", "--name", n)
	}
	a.MustRun("me", "set", "fn", "Alice")
	a.MustRun("circles", "add", "climbing")
	rsSynced(t, a, b)
	before := rsSnapshot(t, a)
	a.Stop()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(filepath.Join(a.Dir, "kith.db"+suffix))
	}
	a.Start()
	if r := a.Run("me", "set", "note", "too early"); r.Code != rsExitKey {
		t.Fatalf("a write before the restore: exit %d (%s), want %d", r.Code, r.Stderr, rsExitKey)
	}
	var res api.RestoreResult
	a.JSON(&res, "restore", "--from", rsAddr(t, b))
	require.True(t, res.Connection)
	require.Len(t, res.Logs, 2)
	require.True(t, res.Logs[0].Mine)
	require.Positive(t, res.Logs[0].Entries)
	out := a.MustRun("restore", "--from", rsAddr(t, b))
	require.Contains(t, out, "restored from")
	require.Equal(t, before, rsSnapshot(t, a))
	a.MustRun("me", "set", "note", "new phone", "--circle", "friends")
	rsSynced(t, a, b)
	rsNoForks(t, a)
	rsNoForks(t, b)
}

// rsSnapshot is what a person sees of their graph: contacts, card,
// circles, connections (peer IDs and the cards they share).
func rsSnapshot(t *testing.T, h *Home) []string {
	var ps []api.Peer
	h.JSON(&ps, "peers")
	var peers []string
	for _, p := range ps {
		c, _ := json.Marshal(p.Card)
		peers = append(peers, p.PeerID.String()+" "+string(c))
	}
	return []string{
		h.MustRun("contacts", "export"),
		h.MustRun("me", "show", "--json"),
		h.MustRun("circles", "list", "--json"),
		strings.Join(peers, "\n"),
	}
}

// TestRestoreDamagedStore: a kith.db that does not open is moved aside
// when the daemon starts; one that opens but fails its check is moved
// aside by restore. Both times the graph comes back from B.
func TestRestoreDamagedStore(t *testing.T) {
	a, b := rsPair(t)
	for _, n := range rsThree {
		a.MustRun("contacts", "add", "--name", n)
	}
	rsSynced(t, a, b)
	before := rsSnapshot(t, a)
	from := rsAddr(t, b)

	t.Run("does not open", func(t *testing.T) {
		a.Stop()
		for _, suffix := range []string{"-wal", "-shm"} {
			os.Remove(filepath.Join(a.Dir, "kith.db"+suffix))
		}
		require.NoError(t, os.WriteFile(filepath.Join(a.Dir, "kith.db"), []byte(strings.Repeat("not a database ", 300)), 0o600))
		a.Start()
		require.Contains(t, a.DaemonLog(), "moved the damaged store aside")
		var res api.RestoreResult
		a.JSON(&res, "restore", "--from", from)
		require.Contains(t, res.DamagedStore, "kith.db.damaged-")
		_, err := os.Stat(res.DamagedStore)
		require.NoError(t, err)
		require.Equal(t, before, rsSnapshot(t, a))
		rsNoForks(t, a)
	})
	t.Run("fails its check", func(t *testing.T) {
		a.Stop()
		db, err := sql.Open("sqlite", filepath.Join(a.Dir, "kith.db"))
		require.NoError(t, err)
		_, err = db.Exec("DELETE FROM records WHERE kind = 'contact'")
		require.NoError(t, err)
		require.NoError(t, db.Close())
		a.Start()
		if r := a.Run("check"); r.Code == 0 {
			t.Fatalf("kith check passes on a damaged store: %s", r.Stdout)
		}
		out := a.MustRun("restore", "--from", from)
		require.Contains(t, out, "moved aside to")
		require.Equal(t, before, rsSnapshot(t, a))
		rsNoForks(t, a)
		rsNoForks(t, b)
	})
}
