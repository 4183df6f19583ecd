package node_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestConvergence runs 20 nodes with random connections and circles and
// random profile edits, partitions the network and heals it, and checks
// that every node converges: it holds every log of its connections up to
// the author's head, and sees exactly the fields the author shares with
// the circles it is in.
//
// It runs on the wall clock, not in a synctest bubble: with twenty nodes
// writing and pulling at once, a node's write (holding graph.Writer's and
// book.Book's lock) that waits in SQLite's busy handler for another
// connection's transaction, while another goroutine waits for that lock,
// froze fake time (a goroutine waiting for a sync.Mutex is not durably
// blocked, so time never moves on; see inBubble).
func TestConvergence(t *testing.T) {
	noLeaks(t)
	if testing.Short() {
		t.Skip("20-node convergence in -short mode")
	}
	const nodes = 20
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ctx := t.Context()
	tn := newNet(t)
	var ns []*node.Node
	for i := range nodes {
		ns = append(ns, tn.add(fmt.Sprintf("n%02d", i)))
	}
	circles := []string{"friends", "family", "work"}
	type pair struct{ a, b int }
	linked := map[pair]bool{}
	for i := range ns {
		for range 3 {
			j := rng.IntN(nodes)
			if j == i || linked[pair{i, j}] || linked[pair{j, i}] {
				continue
			}
			connect(t, ns[i], ns[j], circles[rng.IntN(len(circles))])
			linked[pair{i, j}] = true
		}
	}

	edit := func(round int) {
		for k := range 30 {
			i := rng.IntN(nodes)
			var cs []string
			for _, c := range circles {
				if rng.IntN(2) == 0 {
					cs = append(cs, c)
				}
			}
			if len(cs) == 0 {
				cs = []string{"friends"}
			}
			field, value := "note", fmt.Sprintf("round %d edit %d", round, k)
			if rng.IntN(3) == 0 {
				field, value = "email", fmt.Sprintf("n%d-r%d-%d@example.org", i, round, k)
			}
			_, err := ns[i].SetMe(ctx, api.SetMeRequest{Field: field, Values: []string{value}, Circles: cs})
			require.NoError(t, err)
		}
	}
	edit(0)

	// Partition: the first half cannot reach the second.
	for i := range nodes / 2 {
		for j := nodes / 2; j < nodes; j++ {
			tn.mn.UnlinkPeers(ns[i].Host().ID(), ns[j].Host().ID())
			tn.mn.DisconnectPeers(ns[i].Host().ID(), ns[j].Host().ID())
		}
	}
	edit(1)
	// A random circle reshuffle while partitioned.
	for p := range linked {
		if rng.IntN(4) == 0 {
			require.NoError(t, ns[p.a].AssignCircles(ctx, api.AssignRequest{PeerID: ns[p.b].Host().ID().String(), Circles: []string{circles[rng.IntN(3)]}}))
		}
	}
	edit(2)
	// Heal.
	require.NoError(t, tn.mn.LinkAll())

	healed := time.Now()
	deadline := healed.Add(60 * time.Second)
	for {
		problems := convergenceProblems(t, ns)
		if len(problems) == 0 {
			t.Logf("converged %v after the partition healed", time.Since(healed).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not converged after 60s; %d problems, first: %s", len(problems), strings.Join(problems[:min(5, len(problems))], "; "))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// convergenceProblems lists every way the nodes disagree.
func convergenceProblems(t *testing.T, ns []*node.Node) []string {
	ctx := t.Context()
	byID := map[string]*node.Node{}
	for _, n := range ns {
		byID[n.Host().ID().String()] = n
	}
	var problems []string
	for _, n := range ns {
		peers, err := n.Peers(ctx)
		require.NoError(t, err)
		for _, p := range peers {
			author := byID[p.PeerID.String()]
			if got, want := head(t, n, author), head(t, author, author); got != want {
				problems = append(problems, fmt.Sprintf("%s holds %s's log to %d of %d", n.Host().ID().ShortString(), p.PeerID[len(p.PeerID)-6:], got, want))
				continue
			}
			// What author shares with n: the fields of n's circles there.
			var theirCircles []string
			aps, err := author.Peers(ctx)
			require.NoError(t, err)
			for _, ap := range aps {
				if ap.PeerID == n.Host().ID() {
					theirCircles = ap.Circles
				}
			}
			prof, err := author.Me(ctx, "")
			require.NoError(t, err)
			var want []string
			for _, f := range prof.Fields {
				if slices.ContainsFunc(f.Circles, func(c string) bool { return slices.Contains(theirCircles, c) }) {
					want = append(want, f.Name+"="+f.Value)
				}
			}
			var got []string
			for _, f := range p.Card.Fields {
				got = append(got, f.Name+"="+f.Value)
			}
			slices.Sort(want)
			want = slices.Compact(want)
			slices.Sort(got)
			if !slices.Equal(got, want) && !staleAllowed(got, want) {
				problems = append(problems, fmt.Sprintf("%s sees %v of %s, want %v", n.Host().ID().ShortString(), got, p.PeerID[len(p.PeerID)-6:], want))
			}
		}
	}
	return problems
}

// staleAllowed: a peer moved out of a circle keeps the last card of that
// circle it could read (see the README), so it may see more than it is
// shared now, never less.
func staleAllowed(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}
