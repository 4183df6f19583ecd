package graph_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

var updateRotation = flag.Bool("update-rotation", false, "rewrite spec/testdata/rotation.json")

const rotationVectorsPath = "../spec/testdata/rotation.json"

// rotationVectors is spec/testdata/rotation.json (SPEC.md "Rotation").
type rotationVectors struct {
	Generations []generationVector `json:"generations"`
	Valid       []rotationVector   `json:"valid"`
	Invalid     []rotationVector   `json:"invalid"`
}

type generationVector struct {
	Root         string `json:"root_hex"`
	Generation   uint32 `json:"generation"`
	IdentitySeed string `json:"identity_seed_hex"`
	DataKey      string `json:"data_key_hex"`
	PeerID       string `json:"peer_id"`
}

type rotationVector struct {
	Name string `json:"name"`
	// Commitment is the old identity's genesis `recovery`.
	Commitment string `json:"genesis_commitment_hex"`
	// Signing is what rsig and nsig sign (empty for a refused vector).
	Signing string          `json:"signing_bytes_hex,omitempty"`
	Body    json.RawMessage `json:"body"` // the rotate body, for reading
	CBOR    string          `json:"cbor_b64"`
	CID     string          `json:"cid"`
}

// makeRotationVectors builds the vectors from the code: a person from the
// zero root with a log of genesis and keys at a fixed time, rotated to
// generation 1; and rotations to refuse.
func makeRotationVectors(t *testing.T) rotationVectors {
	var vs rotationVectors
	for _, r := range []struct {
		fill byte
		gens []uint32
	}{{0x00, []uint32{0, 1, 2}}, {0xff, []uint32{1}}} {
		root, err := identity.NewRoot(bytes.NewReader(bytes.Repeat([]byte{r.fill}, identity.RootSize)))
		require.NoError(t, err)
		for _, g := range r.gens {
			id, err := root.IdentityAt(g)
			require.NoError(t, err)
			vs.Generations = append(vs.Generations, generationVector{
				Root: hex.EncodeToString(bytes.Repeat([]byte{r.fill}, identity.RootSize)), Generation: g,
				IdentitySeed: hex.EncodeToString(id.Seed()), DataKey: hex.EncodeToString(id.DataKey()), PeerID: id.PeerID().String(),
			})
		}
	}

	root, err := identity.NewRoot(bytes.NewReader(make([]byte, identity.RootSize)))
	require.NoError(t, err)
	id0, err := root.IdentityAt(0)
	require.NoError(t, err)
	id1, err := root.IdentityAt(1)
	require.NoError(t, err)
	rec := root.RecoveryKey()
	clock := func() time.Time { return time.UnixMilli(1_767_225_600_000) } // 2026-01-01
	w, err := graph.NewWriter(t.Context(), id0, store.NewTest(t, book.Index{}), clock)
	require.NoError(t, err)
	es, err := w.Append(t.Context(),
		graph.Draft{Body: graph.Body{Kind: graph.KindGenesis, Recovery: id0.RecoveryCommitment()}, To: graph.Audience{Public: true}},
		graph.Draft{Body: graph.Body{Kind: graph.KindKeys, Enc: id0.EncryptionKey()}, To: graph.Audience{Public: true}})
	require.NoError(t, err)
	genesis, head := es[0], w.Head()
	commit := hex.EncodeToString(id0.RecoveryCommitment())
	vec := func(name string, e *graph.Entry, signed bool) rotationVector {
		body, err := json.Marshal(e.Body)
		require.NoError(t, err)
		v := rotationVector{Name: name, Commitment: commit, Body: body, CBOR: base64.StdEncoding.EncodeToString(e.Raw), CID: e.CID.String()}
		if signed {
			msg, err := e.Body.Rotate.SigningBytes(id0.PeerID())
			require.NoError(t, err)
			v.Signing = hex.EncodeToString(msg)
		}
		return v
	}
	draft := func(mode string, h graph.Head) *graph.Body {
		d, err := graph.RotationDraft(id0.PeerID(), h, mode, id1, 1, rec)
		require.NoError(t, err)
		return &d.Body
	}
	for _, mode := range []string{graph.RotatePlanned, graph.RotateRecover} {
		vs.Valid = append(vs.Valid, vec(mode, entryAt(t, id0, head.Seq+1, head, draft(mode, head)), true))
	}

	forged := draft(graph.RotatePlanned, head)
	forged.Rotate.RSig[0] ^= 0x01
	device := draft(graph.RotatePlanned, head)
	device.Rotate.RPub = id0.PublicKey()
	resign(t, device.Rotate, id0.PeerID(), ed25519.NewKeyFromSeed(id0.Seed()), id1.Sign)
	unsigned := draft(graph.RotatePlanned, head)
	resign(t, unsigned.Rotate, id0.PeerID(), rec, identity.NewTest(t, "stranger").Sign)
	gh := graph.Head{Seq: genesis.Seq, CID: genesis.CID, Time: genesis.Time}
	vs.Invalid = []rotationVector{
		vec("forged recovery signature", entryAt(t, id0, head.Seq+1, head, forged), false),
		vec("signed by the device key alone", entryAt(t, id0, head.Seq+1, head, device), false),
		vec("new identity did not sign", entryAt(t, id0, head.Seq+1, head, unsigned), false),
		vec("replayed onto a later head", entryAt(t, id0, head.Seq+1, head, draft(graph.RotatePlanned, gh)), false),
	}
	return vs
}

func TestRotationVectors(t *testing.T) {
	got := makeRotationVectors(t)
	if *updateRotation {
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.FromSlash(rotationVectorsPath), append(b, '\n'), 0o644))
	}
	b, err := os.ReadFile(filepath.FromSlash(rotationVectorsPath))
	require.NoError(t, err)
	var want rotationVectors
	require.NoError(t, json.Unmarshal(b, &want))
	require.Equal(t, len(want.Generations), len(got.Generations), "generations")
	for i := range want.Generations {
		if got.Generations[i] != want.Generations[i] {
			t.Errorf("generation vector %d = %+v, want %+v", i, got.Generations[i], want.Generations[i])
		}
	}
	check := func(vs, gs []rotationVector, wantErr error) {
		require.Equal(t, len(vs), len(gs))
		for i, v := range vs {
			t.Run(v.Name, func(t *testing.T) {
				if gs[i].CBOR != v.CBOR || gs[i].CID != v.CID || gs[i].Signing != v.Signing {
					t.Errorf("the code builds %s differently from the vector", v.Name)
				}
				raw, err := base64.StdEncoding.DecodeString(v.CBOR)
				require.NoError(t, err)
				e, err := graph.Verify(raw, func(se *spec.Entry) (*graph.Body, error) { return graph.Open(identity.NewTest(t, "anyone"), se) })
				require.NoError(t, err)
				if e.CID.String() != v.CID {
					t.Errorf("CID = %s, want %s", e.CID, v.CID)
				}
				c, err := hex.DecodeString(v.Commitment)
				require.NoError(t, err)
				if _, err := graph.VerifyRotation(e, c); !errors.Is(err, wantErr) {
					t.Errorf("VerifyRotation = %v, want %v", err, wantErr)
				}
			})
		}
	}
	check(want.Valid, got.Valid, nil)
	check(want.Invalid, got.Invalid, graph.ErrBadRotation)
}
