package graph_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

var updateAudience = flag.Bool("update-audience", false, "rewrite spec/testdata/audience.json")

const audienceVectorsPath = "../spec/testdata/audience.json"

// audienceVector is one case of spec/testdata/audience.json (SPEC.md
// "Audience and body"): an entry sealed with fixed randomness, the keys of
// those who read it, and one who holds it and cannot.
type audienceVector struct {
	Name       string           `json:"name"`
	Author     audienceIdentity `json:"author"`
	Readers    []audienceReader `json:"readers"` // the author first when sealed to readers; empty for "self"
	Outsider   audienceReader   `json:"outsider"`
	Nonce      string           `json:"nonce_hex"`
	ContentKey string           `json:"content_key_hex,omitempty"`
	Eph        string           `json:"ephemeral_public_hex,omitempty"`
	Dummies    []string         `json:"dummy_slots_hex,omitempty"`
	Body       string           `json:"body_hex"` // the plaintext body, DAG-CBOR
	Padded     int              `json:"padded_len"`
	CBOR       string           `json:"cbor_b64"` // the entry: seq 1, signed by the author
	CID        string           `json:"cid"`
}

type audienceIdentity struct {
	Seed    string `json:"identity_seed_hex"`
	DataKey string `json:"data_key_hex"`
	PeerID  string `json:"peer_id"`
	Public  string `json:"x25519_public_hex"`
}

type audienceReader struct {
	audienceIdentity
	Tag  string `json:"tag_hex"`            // the tag this identity computes
	Slot string `json:"slot_hex,omitempty"` // the slot carrying it (none for the outsider)
}

// vectorIdentity is the identity with seed i… and data key 0x40+i….
func vectorIdentity(t *testing.T, i byte) *identity.Identity {
	id, err := identity.FromKeys(bytes.Repeat([]byte{i}, 32), bytes.Repeat([]byte{0x40 + i}, 32), nil)
	require.NoError(t, err)
	return id
}

func describe(id *identity.Identity) audienceIdentity {
	return audienceIdentity{Seed: hex.EncodeToString(id.Seed()), DataKey: hex.EncodeToString(id.DataKey()),
		PeerID: id.PeerID().String(), Public: hex.EncodeToString(id.EncryptionKey())}
}

func seq(n, from int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(from + i)
	}
	return b
}

func makeAudienceVectors(t *testing.T) []audienceVector {
	author := vectorIdentity(t, 1)
	card := func(fields ...graph.Field) []byte {
		b, err := spec.Marshal(&graph.Body{Kind: graph.KindCard, Key: "family", Card: &graph.Card{Fields: fields}})
		require.NoError(t, err)
		return b
	}
	entry := func(aud spec.Audience, body []byte) (string, string, *spec.Entry) {
		e := &spec.Entry{V: spec.Version, Author: []byte(author.PeerID()), Seq: 1, Time: 1_767_225_600_000, Aud: aud, Body: body}
		require.NoError(t, e.Sign(author.Sign))
		raw, err := e.Encode()
		require.NoError(t, err)
		return base64.StdEncoding.EncodeToString(raw), spec.CIDOf(raw).String(), e
	}
	nonce, cek := seq(24, 0x10), seq(32, 0x80)

	var vs []audienceVector
	for _, c := range []struct {
		name    string
		readers int
		body    []byte
	}{
		{"the author and two readers: eight slots", 2, card(graph.Field{Name: "fn", Value: "Ann Example"}, graph.Field{Name: "tel", Value: "+1 555 0100"})},
		{"the author and nine readers: sixteen slots", 9, card(graph.Field{Name: "fn", Value: "Ann Example"},
			graph.Field{Name: "note", Value: string(bytes.Repeat([]byte("a long note "), 30))})},
	} {
		readers := []graph.Reader{{ID: author.PeerID(), EncKey: author.EncryptionKey()}}
		ids := []*identity.Identity{author}
		for i := range c.readers {
			id := vectorIdentity(t, byte(2+i))
			ids = append(ids, id)
			readers = append(readers, graph.Reader{ID: id.PeerID(), EncKey: id.EncryptionKey()})
		}
		outsider := vectorIdentity(t, byte(2+c.readers))
		var dummies [][]byte
		for i := range spec.SlotCount(len(readers)) - len(readers) {
			a := sha256.Sum256([]byte{'d', byte(i), 0})
			b := sha256.Sum256([]byte{'d', byte(i), 1})
			dummies = append(dummies, append(a[:], b[:]...))
		}
		aud, body, err := graph.SealReadersWith(author, readers, c.body, nonce, cek, bytes.NewReader(bytes.Join(dummies, nil)))
		require.NoError(t, err)
		v := audienceVector{Name: c.name, Author: describe(author), Nonce: hex.EncodeToString(nonce), ContentKey: hex.EncodeToString(cek),
			Eph: hex.EncodeToString(aud.Sealed.Eph), Body: hex.EncodeToString(c.body), Padded: len(body) - 40}
		for _, d := range dummies {
			v.Dummies = append(v.Dummies, hex.EncodeToString(d))
		}
		var e *spec.Entry
		v.CBOR, v.CID, e = entry(aud, body)
		for _, id := range ids {
			tag, slot := graph.SlotOf(id, e)
			v.Readers = append(v.Readers, audienceReader{describe(id), hex.EncodeToString(tag), hex.EncodeToString(slot)})
		}
		tag, _ := graph.SlotOf(outsider, e)
		v.Outsider = audienceReader{audienceIdentity: describe(outsider), Tag: hex.EncodeToString(tag)}
		vs = append(vs, v)
	}

	plain := card(graph.Field{Name: "fn", Value: "Dr. Dentist"})
	body, err := graph.SealSelfWith(author, plain, nonce)
	require.NoError(t, err)
	v := audienceVector{Name: "self", Author: describe(author), Outsider: audienceReader{audienceIdentity: describe(vectorIdentity(t, 2))},
		Nonce: hex.EncodeToString(nonce), Body: hex.EncodeToString(plain), Padded: len(body) - 40}
	v.CBOR, v.CID, _ = entry(spec.SelfAudience, body)
	return append(vs, v)
}

// TestAudienceVectors: the code seals exactly spec/testdata/audience.json
// (spec's own test checks the file from the primitives), every reader
// opens it, the outsider does not, and the author alone tells who the
// readers are.
func TestAudienceVectors(t *testing.T) {
	got := makeAudienceVectors(t)
	if *updateAudience {
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.FromSlash(audienceVectorsPath), append(b, '\n'), 0o644))
	}
	b, err := os.ReadFile(filepath.FromSlash(audienceVectorsPath))
	require.NoError(t, err)
	var want []audienceVector
	require.NoError(t, json.Unmarshal(b, &want))
	require.Len(t, want, len(got))
	for i, v := range want {
		t.Run(v.Name, func(t *testing.T) {
			if got[i].CBOR != v.CBOR || got[i].CID != v.CID {
				t.Errorf("the code seals %q differently from the vector", v.Name)
			}
			raw, err := base64.StdEncoding.DecodeString(v.CBOR)
			require.NoError(t, err)
			e, err := graph.Verify(raw, nil)
			require.NoError(t, err)
			plain, err := hex.DecodeString(v.Body)
			require.NoError(t, err)
			wantBody, err := graph.DecodeBody(plain)
			require.NoError(t, err)
			author := identityOf(t, v.Author)
			readers := []*identity.Identity{author} // a self body's one reader
			if len(v.Readers) > 0 {
				readers = nil
			}
			for _, r := range v.Readers {
				readers = append(readers, identityOf(t, r.audienceIdentity))
			}
			for _, id := range readers {
				b, err := graph.Open(id, e.Entry)
				require.NoError(t, err, "Open as %s", id.PeerID())
				require.Equal(t, wantBody, b)
			}
			if _, err := graph.Open(identityOf(t, v.Outsider.audienceIdentity), e.Entry); !errors.Is(err, graph.ErrNotForMe) {
				t.Errorf("Open as the outsider: err = %v, want ErrNotForMe", err)
			}
			if e.Aud.Sealed == nil {
				return
			}
			var candidates []graph.Reader
			for _, id := range append(readers[1:], identityOf(t, v.Outsider.audienceIdentity)) {
				candidates = append(candidates, graph.Reader{ID: id.PeerID(), EncKey: id.EncryptionKey()})
			}
			rs, err := graph.Recipients(author, e.Entry, candidates)
			require.NoError(t, err)
			require.Equal(t, candidates[:len(candidates)-1], rs, "the author tells its readers apart from the outsider")
			if _, err := graph.Recipients(readers[1], e.Entry, candidates); err == nil {
				t.Errorf("a reader told the other readers of an entry")
			}
		})
	}
}

func identityOf(t *testing.T, a audienceIdentity) *identity.Identity {
	seed, err := hex.DecodeString(a.Seed)
	require.NoError(t, err)
	d, err := hex.DecodeString(a.DataKey)
	require.NoError(t, err)
	id, err := identity.FromKeys(seed, d, nil)
	require.NoError(t, err)
	require.Equal(t, a.PeerID, id.PeerID().String())
	return id
}
