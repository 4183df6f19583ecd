package connect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestGuardShares: my peers always get in; strangers hold at most their
// share, a newcomer displaces only a stranger past its grace, and dials
// out are never refused.
func TestGuardShares(t *testing.T) {
	friend := peer.ID("friend")
	g := NewGuard(func(_ context.Context, p peer.ID) bool { return p == friend },
		GuardTuning{MaxStrangers: 2, StrangerGrace: time.Second, StrangerIdle: 10 * time.Second}, nil)
	defer g.Close()
	now := time.Unix(1_700_000_000, 0)
	g.now = func() time.Time { return now }
	in := func(p string) bool { return g.InterceptSecured(network.DirInbound, peer.ID(p), nil) }
	for i, tc := range []struct {
		step string
		p    string
		want bool
	}{
		{"a stranger", "s1", true},
		{"another", "s2", true},
		{"one over the share, within the others' grace", "s3", false},
		{"a friend, whatever strangers hold", "friend", true},
		{"a stranger let in, again (a second connection)", "s1", true},
	} {
		if got := in(tc.p); got != tc.want {
			t.Errorf("%d. %s: InterceptSecured(%s) = %v, want %v", i, tc.step, tc.p, got, tc.want)
		}
	}
	if !g.InterceptSecured(network.DirOutbound, "s9", nil) {
		t.Error("a dial out to a stranger was refused")
	}
	now = now.Add(2 * time.Second)
	if in("s3") {
		t.Error("a newcomer displaced strangers still upgrading (their connections not up yet)")
	}
	g.mu.Lock()
	for p, st := range g.strangers {
		st.up = true // their connections reached the swarm
		g.strangers[p] = st
	}
	g.mu.Unlock()
	if !in("s3") {
		t.Error("a newcomer was refused though idle strangers are past their grace")
	}
	if n := g.Strangers(); n != 2 {
		t.Errorf("Strangers() = %d after a newcomer took an idle one's place, want 2", n)
	}
	g.mu.Lock()
	for p, st := range g.strangers {
		st.up = true
		g.strangers[p] = st
	}
	g.mu.Unlock()
	for i := range 3 {
		if in(fmt.Sprintf("late%d", i)) && i > 0 {
			t.Errorf("late%d got in: the one it could displace is within its grace", i)
		}
	}
}
