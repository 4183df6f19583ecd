package spec

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

// rotationVectorFile is testdata/rotation.json (SPEC.md "Rotation"): the
// generations of a root's keys, and rotate entries to accept and refuse.
// This test checks them from the primitives alone; graph's tests prove the
// code builds and judges the same.
type rotationVectorFile struct {
	Generations []struct {
		Root         string `json:"root_hex"`
		Generation   uint32 `json:"generation"`
		IdentitySeed string `json:"identity_seed_hex"`
		DataKey      string `json:"data_key_hex"`
		PeerID       string `json:"peer_id"`
	} `json:"generations"`
	Valid   []rotationVec `json:"valid"`
	Invalid []rotationVec `json:"invalid"`
}

type rotationVec struct {
	Name       string `json:"name"`
	Commitment string `json:"genesis_commitment_hex"`
	Signing    string `json:"signing_bytes_hex"`
	CBOR       string `json:"cbor_b64"`
	CID        string `json:"cid"`
}

// rotateBody is a rotate entry's plaintext body, by SPEC.md.
type rotateBody struct {
	Kind string `cbor:"kind"`
	Key  string `cbor:"key"`
	Rot  struct {
		Mode string `cbor:"mode"`
		New  []byte `cbor:"new"`
		Gen  uint64 `cbor:"gen"`
		Seq  uint64 `cbor:"seq"`
		Head Link   `cbor:"head"`
		Next []byte `cbor:"next"`
		RPub []byte `cbor:"rpub"`
		RSig []byte `cbor:"rsig"`
		NSig []byte `cbor:"nsig"`
	} `cbor:"rot"`
}

// judgeRotation applies SPEC.md's reader rules to a rotate entry and
// returns its signing bytes, or why it is refused.
func judgeRotation(raw, commitment []byte) ([]byte, error) {
	e, err := Decode(raw)
	if err != nil {
		return nil, err
	}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	if !e.Aud.Public {
		return nil, fmt.Errorf("not public")
	}
	var b rotateBody
	if err := Unmarshal(e.Body, &b); err != nil {
		return nil, err
	}
	r := b.Rot
	if b.Kind != "rotate" || (r.Mode != "planned" && r.Mode != "recover") {
		return nil, fmt.Errorf("kind %q, mode %q", b.Kind, r.Mode)
	}
	msg, err := Marshal(struct {
		Old  []byte `cbor:"old"`
		Mode string `cbor:"mode"`
		New  []byte `cbor:"new"`
		Gen  uint64 `cbor:"gen"`
		Seq  uint64 `cbor:"seq"`
		Head Link   `cbor:"head"`
		Next []byte `cbor:"next"`
		RPub []byte `cbor:"rpub"`
	}{e.Author, r.Mode, r.New, r.Gen, r.Seq, r.Head, r.Next, r.RPub})
	if err != nil {
		return nil, err
	}
	msg = append([]byte("kith/rotate/v1\n"), msg...)
	if e.Seq != r.Seq+1 || !e.Prev.Defined() || !e.Prev.Equals(r.Head.Cid) {
		return msg, fmt.Errorf("placed at seq %d, ends seq %d", e.Seq, r.Seq)
	}
	if c := sha256.Sum256(append([]byte("kith/recovery/v1"), r.RPub...)); !bytes.Equal(c[:], commitment) {
		return msg, fmt.Errorf("recovery key not committed to")
	}
	if len(r.RPub) != ed25519.PublicKeySize || !ed25519.Verify(r.RPub, msg, r.RSig) {
		return msg, fmt.Errorf("recovery signature")
	}
	np, err := peer.IDFromBytes(r.New)
	if err != nil {
		return msg, err
	}
	pk, err := np.ExtractPublicKey()
	if err != nil || pk.Type() != crypto.Ed25519 {
		return msg, fmt.Errorf("new key")
	}
	if ok, err := pk.Verify(msg, r.NSig); err != nil || !ok {
		return msg, fmt.Errorf("new identity's signature")
	}
	return msg, nil
}

func TestRotationVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/rotation.json")
	require.NoError(t, err)
	var vs rotationVectorFile
	require.NoError(t, json.Unmarshal(b, &vs))
	require.NotEmpty(t, vs.Generations)
	for _, g := range vs.Generations {
		t.Run(fmt.Sprintf("generation %d of %.8s", g.Generation, g.Root), func(t *testing.T) {
			root, err := hex.DecodeString(g.Root)
			require.NoError(t, err)
			suffix := ""
			if g.Generation > 0 {
				suffix = fmt.Sprintf("/g%d", g.Generation)
			}
			seed := hkdf32(t, root, "kith/identity/v2"+suffix)
			data := hkdf32(t, root, "kith/data/v2"+suffix)
			lp, err := crypto.UnmarshalEd25519PublicKey(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
			require.NoError(t, err)
			pid, err := peer.IDFromPublicKey(lp)
			require.NoError(t, err)
			if hex.EncodeToString(seed) != g.IdentitySeed || hex.EncodeToString(data) != g.DataKey || pid.String() != g.PeerID {
				t.Errorf("derived %x, %x, %s; want %s, %s, %s", seed, data, pid, g.IdentitySeed, g.DataKey, g.PeerID)
			}
		})
	}
	for _, set := range []struct {
		vs    []rotationVec
		valid bool
	}{{vs.Valid, true}, {vs.Invalid, false}} {
		require.NotEmpty(t, set.vs)
		for _, v := range set.vs {
			t.Run(v.Name, func(t *testing.T) {
				raw, err := base64.StdEncoding.DecodeString(v.CBOR)
				require.NoError(t, err)
				if c := CIDOf(raw).String(); c != v.CID {
					t.Errorf("CID = %s, want %s", c, v.CID)
				}
				commit, err := hex.DecodeString(v.Commitment)
				require.NoError(t, err)
				msg, err := judgeRotation(raw, commit)
				if set.valid {
					require.NoError(t, err)
					if hex.EncodeToString(msg) != v.Signing {
						t.Errorf("signing bytes = %x, want %s", msg, v.Signing)
					}
				} else if err == nil {
					t.Errorf("a reader accepts %q", v.Name)
				}
			})
		}
	}
}
