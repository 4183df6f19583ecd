package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

// The drills of a replaced or lost device (README, "If you lose a
// device"): what a person sees before and after is the same.

// views is what a person sees of their graph: their contacts as vCards,
// their card, their circles and their connections (without what changes
// by the minute: online, last sync).
func views(t *testing.T, h *Home) map[string]string {
	t.Helper()
	var peers []api.Peer
	h.JSON(&peers, "peers")
	for i := range peers {
		peers[i].Online, peers[i].LastSync = false, nil
	}
	slices.SortFunc(peers, func(a, b api.Peer) int { return strings.Compare(a.PeerID.String(), b.PeerID.String()) })
	pj, err := json.MarshalIndent(peers, "", "  ")
	require.NoError(t, err)
	return map[string]string{
		"contacts export":     h.MustRun("contacts", "export"),
		"me show --json":      h.MustRun("me", "show", "--json"),
		"circles list --json": h.MustRun("circles", "list", "--json"),
		"peers --json":        string(pj),
	}
}

// someone builds a graph in a (connected to b): a card in two circles,
// contacts, a circle of its own, notes on b.
func someone(t *testing.T, a, b *Home) (aid, bid api.Identity) {
	t.Helper()
	a.JSON(&aid, "id")
	b.JSON(&bid, "id")
	var inv api.InviteCode
	a.JSON(&inv, "invite", "--no-qr")
	require.Contains(t, b.MustRun("connect", inv.Code), "connected")
	a.MustRun("me", "set", "fn", "Ada Lovelace")
	a.MustRun("me", "set", "email", "ada@example.org", "--circle", "friends")
	a.MustRun("circles", "add", "climbing")
	a.MustRun("contacts", "add", "--name", "Grace Hopper", "--email", "grace@example.org", "--tel", "+1 555 0100")
	a.MustRun("contacts", "add", "--name", "Dr. Rao", "--note", "met at the lab")
	b.MustRun("me", "set", "fn", "Babbage")
	waitFor(t, "a to see b's name", 30*time.Second, func() bool {
		return slices.Equal(sharedBy(t, a, bid.PeerID.String(), "fn"), []string{"Babbage"})
	})
	waitFor(t, "b to see a's email", 30*time.Second, func() bool {
		return slices.Equal(sharedBy(t, b, aid.PeerID.String(), "email"), []string{"ada@example.org"})
	})
	a.MustRun("contacts", "edit", "Babbage", "--note", "owes me a difference engine")
	return aid, bid
}

func requireSameViews(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("kith %s differs after the move:\nbefore:\n%s\nafter:\n%s", k, v, after[k])
		}
	}
}

// TestDrillNewLaptop: A exports with its key; a fresh home imports it and
// starts as A, same peer ID and same graph; friend B goes on syncing.
func TestDrillNewLaptop(t *testing.T) {
	a, b := NewHome(t), NewHome(t)
	a.Start()
	b.Start()
	aid, bid := someone(t, a, b)
	before := views(t, a)

	file := filepath.Join(t.TempDir(), "graph.car")
	a.Env = []string{"KITH_EXPORT_PASSPHRASE=new laptop"}
	a.MustRun("export", file, "--with-key")
	a.Stop()

	laptop := NewBareHome(t)
	laptop.Env = []string{"KITH_PASSPHRASE=new laptop"}
	laptop.MustRun("import", file)
	laptop.Start()
	var lid api.Identity
	laptop.JSON(&lid, "id")
	require.Equal(t, aid.PeerID, lid.PeerID, "the new laptop is A")
	// No `kith connect`: no LAN (mDNS is off) and no DHT here, and the
	// new laptop's daemon listens on another port than A's did, so B
	// cannot find it at the address it remembers; the laptop dials B at
	// start from where the export says A last saw B (its hints).
	require.NotEqual(t, aid.Addrs, lid.Addrs, "the new laptop listens elsewhere than A did")
	waitFor(t, "the new laptop to reach B", 30*time.Second, func() bool {
		var ps []api.Peer
		laptop.JSON(&ps, "peers")
		return len(ps) == 1 && ps[0].PeerID == bid.PeerID && ps[0].Online
	})
	requireSameViews(t, before, views(t, laptop))

	laptop.MustRun("me", "set", "note", "writing from the new laptop", "--circle", "friends")
	waitFor(t, "B to see what the new laptop wrote", 30*time.Second, func() bool {
		return slices.Equal(sharedBy(t, b, aid.PeerID.String(), "note"), []string{"writing from the new laptop"})
	})
	laptop.MustRun("check")
	b.MustRun("check")
	if out := b.MustRun("forks"); strings.Contains(out, aid.PeerID.String()) {
		t.Errorf("B lists A under forks after the move:\n%s", out)
	}
}

// TestDrillLostPhone: A's home is gone; with nothing but the recovery
// phrase, a fresh home becomes A again and everything comes back from
// friend B alone; B sees the same person, online, with the card she
// shares.
func TestDrillLostPhone(t *testing.T) {
	a, b := NewBareHome(t), NewHome(t)
	var made struct {
		PeerID         string `json:"peer_id"`
		RecoveryPhrase string `json:"recovery_phrase"`
	}
	out := a.MustRun("init", "--no-passphrase", "--json")
	require.NoError(t, json.Unmarshal([]byte(out), &made))
	require.Len(t, strings.Fields(made.RecoveryPhrase), 24)
	a.Start()
	b.Start()
	aid, bid := someone(t, a, b)
	before := views(t, a)
	a.Stop()
	require.NoError(t, os.RemoveAll(a.Dir), "the phone is gone")

	phone := NewBareHome(t)
	r := phone.RunStdin([]byte(made.RecoveryPhrase+"\n"), "init", "--recover", "--no-passphrase")
	require.Zero(t, r.Code, "kith init --recover: %s", r.Stderr)
	phone.Start()
	var pid api.Identity
	phone.JSON(&pid, "id")
	require.Equal(t, aid.PeerID, pid.PeerID, "the phrase gives back A's peer ID")
	phone.MustRun("restore", "--from", bid.Addrs[0].String())
	waitFor(t, "the restored node to reach B", 30*time.Second, func() bool {
		var ps []api.Peer
		phone.JSON(&ps, "peers")
		return len(ps) == 1 && ps[0].Online && len(ps[0].Card.Values("fn")) > 0
	})
	requireSameViews(t, before, views(t, phone))

	waitFor(t, "B to see A online", 30*time.Second, func() bool {
		var ps []api.Peer
		b.JSON(&ps, "peers")
		return len(ps) == 1 && ps[0].PeerID == aid.PeerID && ps[0].Online
	})
	require.Equal(t, []string{"ada@example.org"}, sharedBy(t, b, aid.PeerID.String(), "email"), "B sees the card A shares")
	phone.MustRun("me", "set", "note", "back from the phrase", "--circle", "friends")
	waitFor(t, "B to see what the restored node wrote", 30*time.Second, func() bool {
		return slices.Equal(sharedBy(t, b, aid.PeerID.String(), "note"), []string{"back from the phrase"})
	})
	phone.MustRun("check")
	b.MustRun("check")
	if out := b.MustRun("forks"); strings.Contains(out, aid.PeerID.String()) {
		t.Errorf("B lists A under forks after the restore:\n%s", out)
	}
}

// TestDrillLostPhoneAfterRotation: A rotated (kith rotate) and then lost
// the phone. The phrase alone derives A's first identity, which is
// retired; kith restore finds the rotation in the log friend B gives
// back, moves the home's key to the identity A rotated to, and everything
// comes back as that identity: the same peer ID as after the rotation.
func TestDrillLostPhoneAfterRotation(t *testing.T) {
	a, b := NewBareHome(t), NewHome(t)
	var made struct {
		PeerID         string `json:"peer_id"`
		RecoveryPhrase string `json:"recovery_phrase"`
	}
	require.NoError(t, json.Unmarshal([]byte(a.MustRun("init", "--no-passphrase", "--json")), &made))
	a.Start()
	b.Start()
	aid, bid := someone(t, a, b)
	r := a.RunStdin([]byte(made.RecoveryPhrase+"\n"), "rotate", "--json")
	require.Zero(t, r.Code, "kith rotate: %s", r.Stderr)
	var rot api.RotateResult
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &rot))
	require.True(t, rot.Restarted, "the daemon goes on as the new identity")
	var now api.Identity
	a.JSON(&now, "id")
	require.Equal(t, rot.PeerID, now.PeerID, "the daemon runs as the new identity")
	waitFor(t, "B to follow A to the new identity and read the card", 30*time.Second, func() bool {
		var ps []api.Peer
		b.JSON(&ps, "peers")
		return len(ps) == 1 && ps[0].PeerID == rot.PeerID && slices.Equal(sharedBy(t, b, rot.PeerID.String(), "email"), []string{"ada@example.org"})
	})
	before := views(t, a)
	a.Stop()
	require.NoError(t, os.RemoveAll(a.Dir), "the phone is gone")

	phone := NewBareHome(t)
	r = phone.RunStdin([]byte(made.RecoveryPhrase+"\n"), "init", "--recover", "--no-passphrase")
	require.Zero(t, r.Code, "kith init --recover: %s", r.Stderr)
	phone.Start()
	var pid api.Identity
	phone.JSON(&pid, "id")
	require.Equal(t, aid.PeerID, pid.PeerID, "the phrase alone derives A's first identity")
	r = phone.Run("restore", "--from", bid.Addrs[0].String())
	require.Equal(t, 19, r.Code, "kith restore of a rotated identity without the phrase: stdout %s stderr %s", r.Stdout, r.Stderr)
	require.Contains(t, r.Stderr, "rotated to "+rot.PeerID.String())
	r = phone.RunStdin([]byte(made.RecoveryPhrase+"\n"), "restore", "--from", bid.Addrs[0].String(), "--json")
	require.Zero(t, r.Code, "kith restore with the phrase: %s", r.Stderr)
	var res api.RestoreResult
	require.NoError(t, json.Unmarshal([]byte(r.Stdout), &res))
	require.Equal(t, rot.PeerID, res.PeerID, "restored as the identity A rotated to")
	require.Equal(t, []peer.ID{aid.PeerID}, res.Rotated)
	phone.JSON(&pid, "id")
	require.Equal(t, rot.PeerID, pid.PeerID, "the daemon runs as the identity A rotated to")
	waitFor(t, "the restored node to reach B", 30*time.Second, func() bool {
		var ps []api.Peer
		phone.JSON(&ps, "peers")
		return len(ps) == 1 && ps[0].Online && len(ps[0].Card.Values("fn")) > 0
	})
	requireSameViews(t, before, views(t, phone))

	phone.MustRun("me", "set", "note", "back from the phrase, rotated", "--circle", "friends")
	waitFor(t, "B to see what the restored node wrote", 30*time.Second, func() bool {
		return slices.Equal(sharedBy(t, b, rot.PeerID.String(), "note"), []string{"back from the phrase, rotated"})
	})
	phone.MustRun("check")
	b.MustRun("check")
	if out := b.MustRun("forks"); strings.Contains(out, rot.PeerID.String()) || strings.Contains(out, aid.PeerID.String()) {
		t.Errorf("B lists A under forks after the restore:\n%s", out)
	}
}
