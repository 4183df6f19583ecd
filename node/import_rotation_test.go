package node_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/archive"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// testRecoveryKey is the recovery key identity.NewTest(label) commits to.
func testRecoveryKey(label string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("kith/test/recovery/" + label))
	return ed25519.NewKeyFromSeed(seed[:])
}

// TestImportChecksRotations: an export whose log ends with a rotate entry
// imports when the rotation is valid, and is refused, naming what is
// wrong and leaving the home empty, when the rotation is forged (by a
// recovery key the genesis does not commit to, or with a recovery
// signature that does not verify), replayed onto a later state of the
// log, or followed by another entry. The entries themselves are soundly
// signed and chained: only the rotation checks can refuse them.
func TestImportChecksRotations(t *testing.T) {
	ctx := t.Context()
	me, next := identity.NewTest(t, "alice"), identity.NewTest(t, "alice gen 1")
	contact := func(name string) graph.Draft {
		return graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: name,
			Card: &graph.Card{Fields: []graph.Field{{Name: "fn", Value: name}}}}, To: graph.Audience{Self: true}}
	}
	// rotation drafts the rotation of me to next that ends head h, signed
	// by the recovery key of label, and altered by tamper when not nil.
	rotation := func(t *testing.T, h graph.Head, label string, tamper func(*graph.Rotation)) graph.Draft {
		d, err := graph.RotationDraft(me.PeerID(), h, graph.RotatePlanned, next, 1, testRecoveryKey(label))
		require.NoError(t, err)
		if tamper != nil {
			tamper(d.Body.Rotate)
		}
		return d
	}
	cases := []struct {
		name string
		// tail returns what follows the log's first entries, whose head
		// is h (it may append more itself).
		tail    func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft
		want    error
		wantMsg string
	}{
		{"valid", func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft {
			return []graph.Draft{rotation(t, h, "alice", nil)}
		}, nil, ""},
		{"forged: a recovery key the genesis does not commit to", func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft {
			return []graph.Draft{rotation(t, h, "mallory", nil)}
		}, graph.ErrBadRotation, "not the one the genesis committed to"},
		{"forged: the recovery signature does not verify", func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft {
			return []graph.Draft{rotation(t, h, "alice", func(r *graph.Rotation) { r.RSig[0] ^= 0x01 })}
		}, graph.ErrBadRotation, "recovery signature does not verify"},
		{"replayed onto a later state of the log", func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft {
			_, err := w.Append(ctx, contact("Grace Hopper"))
			require.NoError(t, err)
			return []graph.Draft{rotation(t, h, "alice", nil)} // signed for the head before Grace
		}, graph.ErrBadRotation, "replayed or misplaced"},
		{"an entry after the rotation", func(t *testing.T, w *graph.Writer, h graph.Head) []graph.Draft {
			return []graph.Draft{rotation(t, h, "alice", nil), contact("Too Late")}
		}, graph.ErrRotated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := store.NewTest(t, book.Index{})
			w, err := graph.NewWriter(ctx, me, st, nil)
			require.NoError(t, err)
			_, err = w.Append(ctx,
				graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: me.RecoveryCommitment()}, To: graph.Audience{Public: true}},
				graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: me.EncryptionKey()}, To: graph.Audience{Public: true}},
				contact("Ada Lovelace"))
			require.NoError(t, err)
			// Each draft on its own: a rotation names the head it ends.
			for _, d := range tc.tail(t, w, w.Head()) {
				_, err := w.Append(ctx, d)
				require.NoError(t, err)
			}
			log, err := st.Log(ctx, me.PeerID(), 0, 0)
			require.NoError(t, err)
			raws := make([][]byte, len(log))
			for i, le := range log {
				raws[i] = le.Raw
			}
			key, err := identity.MarshalKey(me, []byte("pw"))
			require.NoError(t, err)
			var buf bytes.Buffer
			_, err = archive.Write(ctx, &buf, oneLog{me.PeerID(), raws}, archive.WriteOptions{Signer: me, Key: key, Now: time.UnixMilli(1_700_000_000_000)})
			require.NoError(t, err)

			home := filepath.Join(t.TempDir(), "home")
			_, err = node.Import(ctx, home, &buf, api.ImportOptions{KeyPassphrase: passphrase("pw")})
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			if !errors.Is(err, tc.want) || !errors.Is(err, archive.ErrBadEntry) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Import = %v, want %v (%q) and %v", err, tc.want, tc.wantMsg, archive.ErrBadEntry)
			}
			if files := homeFiles(t, home); len(files) != 0 {
				t.Errorf("Import left %v in the home", files)
			}
		})
	}
}
