package identity_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/identity"
)

func TestIdentityAtGenerations(t *testing.T) {
	root, err := identity.NewRoot(bytes.NewReader(bytes.Repeat([]byte{7}, identity.RootSize)))
	require.NoError(t, err)
	base, err := root.Identity()
	require.NoError(t, err)
	seen := map[string]uint32{}
	for g := uint32(0); g < 4; g++ {
		id, err := root.IdentityAt(g)
		require.NoError(t, err)
		if g == 0 && id.PeerID() != base.PeerID() {
			t.Fatalf("IdentityAt(0) = %s, want Identity() %s", id.PeerID(), base.PeerID())
		}
		if prev, dup := seen[id.PeerID().String()]; dup {
			t.Fatalf("generations %d and %d share peer ID %s", prev, g, id.PeerID())
		}
		seen[id.PeerID().String()] = g
		if g > 0 && bytes.Equal(id.DataKey(), base.DataKey()) {
			t.Errorf("generation %d reuses the data key of generation 0", g)
		}
		if !bytes.Equal(id.RecoveryCommitment(), base.RecoveryCommitment()) {
			t.Errorf("generation %d commits to another recovery key", g)
		}
		got, ok := root.GenerationOf(id.PeerID())
		if !ok || got != g {
			t.Errorf("GenerationOf(gen %d) = %d, %v", g, got, ok)
		}
	}
	if _, ok := root.GenerationOf(identity.NewTest(t, "someone else").PeerID()); ok {
		t.Error("GenerationOf found a generation for another person's peer ID")
	}
	if _, err := root.IdentityAt(identity.MaxGeneration + 1); err == nil {
		t.Error("IdentityAt past MaxGeneration succeeded")
	}
}
