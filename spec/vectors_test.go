package spec

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipld/go-ipld-prime/codec/dagcbor"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite spec/testdata/entries.json and connect.json")

// vector is one case in testdata/entries.json.
type vector struct {
	Name  string          `json:"name"`
	JSON  json.RawMessage `json:"json,omitempty"`          // the entry in JSON form (valid cases)
	CBOR  string          `json:"cbor_b64"`                // encoded bytes under test
	CID   string          `json:"cid,omitempty"`           // CID of cbor_b64 (valid cases)
	Prev  string          `json:"prev_cbor_b64,omitempty"` // predecessor, for link checks
	Error string          `json:"error,omitempty"`         // expected sentinel, empty if valid
}

var sentinels = map[string]error{
	"too_large":       ErrTooLarge,
	"malformed":       ErrMalformed,
	"non_canonical":   ErrNonCanonical,
	"unknown_version": ErrUnknownVersion,
	"bad_signature":   ErrBadSignature,
	"bad_seq":         ErrBadSeq,
	"bad_prev":        ErrBadPrev,
}

func testKey(tb testing.TB, b byte) (ed25519.PrivateKey, []byte) {
	tb.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, 32))
	pk, err := crypto.UnmarshalEd25519PublicKey(priv.Public().(ed25519.PublicKey))
	require.NoError(tb, err)
	id, err := peer.IDFromPublicKey(pk)
	require.NoError(tb, err)
	return priv, []byte(id)
}

func signed(tb testing.TB, priv ed25519.PrivateKey, e *Entry) []byte {
	tb.Helper()
	require.NoError(tb, e.Sign(func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil }))
	b, err := e.Encode()
	require.NoError(tb, err)
	return b
}

// makeVectors builds the vector set deterministically.
func makeVectors(tb testing.TB) []vector {
	priv, author := testKey(tb, 1)
	b64 := base64.StdEncoding.EncodeToString

	genesis := &Entry{V: Version, Author: author, Seq: 1, Time: 1764000000000, Aud: PublicAudience, Body: []byte{0xa2, 0x63, 'k', 'e', 'y', 0x60, 0x64, 'k', 'i', 'n', 'd', 0x67, 'g', 'e', 'n', 'e', 's', 'i', 's'}}
	gBytes := signed(tb, priv, genesis)
	gCID := CIDOf(gBytes)

	second := &Entry{V: Version, Author: author, Seq: 2, Prev: LinkTo(gCID), Time: 1764000000001, Aud: SelfAudience, Body: bytes.Repeat([]byte{0x42}, 40)}
	sBytes := signed(tb, priv, second)

	// A sealed audience: an ephemeral key and MinSlots slots, sorted, none
	// naming a reader (testdata/audience.json holds ones that open).
	slots := make([][]byte, MinSlots)
	for i := range slots {
		slots[i] = bytes.Repeat([]byte{byte(7 + i)}, SlotSize)
	}
	third := &Entry{V: Version, Author: author, Seq: 3, Prev: LinkTo(CIDOf(sBytes)), Time: 1764000000002,
		Aud: Audience{Sealed: &Sealed{Eph: bytes.Repeat([]byte{9}, EphSize), Slots: slots}}, Body: bytes.Repeat([]byte{0x43}, 40)}
	tBytes := signed(tb, priv, third)

	jsonOf := func(e *Entry) json.RawMessage {
		b, err := json.Marshal(e)
		require.NoError(tb, err)
		return b
	}
	vs := []vector{
		{Name: "genesis public", JSON: jsonOf(genesis), CBOR: b64(gBytes), CID: gCID.String()},
		{Name: "second self", JSON: jsonOf(second), CBOR: b64(sBytes), CID: CIDOf(sBytes).String(), Prev: b64(gBytes)},
		{Name: "third sealed", JSON: jsonOf(third), CBOR: b64(tBytes), CID: CIDOf(tBytes).String(), Prev: b64(sBytes)},
	}

	// Invalid cases, each from a valid entry with one thing wrong.
	bad := *second
	bad.Sig = append([]byte(nil), second.Sig...)
	bad.Sig[0] ^= 0xff
	badSig, _ := bad.Encode()
	vs = append(vs, vector{Name: "bad signature", CBOR: b64(badSig), Prev: b64(gBytes), Error: "bad_signature"})

	wrongSeq := *second
	wrongSeq.Seq = 3
	vs = append(vs, vector{Name: "wrong seq", CBOR: b64(signed(tb, priv, &wrongSeq)), Prev: b64(gBytes), Error: "bad_seq"})

	wrongPrev := *second
	wrongPrev.Prev = LinkTo(CIDOf([]byte("not the genesis")))
	vs = append(vs, vector{Name: "wrong prev", CBOR: b64(signed(tb, priv, &wrongPrev)), Prev: b64(gBytes), Error: "bad_prev"})

	genesisWithPrev := *genesis
	genesisWithPrev.Prev = LinkTo(gCID)
	vs = append(vs, vector{Name: "genesis with prev", CBOR: b64(signed(tb, priv, &genesisWithPrev)), Error: "bad_prev"})

	unknown := *genesis
	unknown.V = Version + 1
	vs = append(vs, vector{Name: "unknown version", CBOR: b64(signed(tb, priv, &unknown)), Error: "unknown_version"})

	// v=1: the pre-release format, whose keys no recovery phrase restores.
	preRelease := *genesis
	preRelease.V = 1
	vs = append(vs, vector{Name: "pre-release version 1", CBOR: b64(signed(tb, priv, &preRelease)), Error: "unknown_version"})

	// v=2: the pre-release format whose audience listed every reader's
	// peer ID (its "third recipients" vector, as it was).
	vs = append(vs, vector{Name: "pre-release version 2", CBOR: v2Recipients, Error: "unknown_version"})

	// Sealed audiences that break a rule: each signed, so only the rule
	// refuses it.
	sealedAud := func(eph []byte, slots ...[]byte) cbor.RawMessage {
		b, err := encMode.Marshal(map[string]any{"e": eph, "r": slots})
		require.NoError(tb, err)
		return b
	}
	eph := bytes.Repeat([]byte{9}, EphSize)
	sevenSlots := sealedAud(eph, slots[:7]...)
	unsortedSlots := sealedAud(eph, append([][]byte{slots[7]}, slots[:7]...)...)
	repeated := sealedAud(eph, append([][]byte{slots[0]}, slots[:7]...)...)
	shortSlot := sealedAud(eph, append(slots[:7:7], slots[7][:SlotSize-1])...)
	shortEph := sealedAud(eph[:EphSize-1], slots...)
	unknownKey, err := encMode.Marshal(map[string]any{"e": eph, "r": slots, "x": 1})
	require.NoError(tb, err)
	for _, c := range []struct {
		name string
		aud  cbor.RawMessage
	}{
		{"seven slots", sevenSlots},
		{"slots not sorted", unsortedSlots},
		{"slot repeated", repeated},
		{"slot of 63 bytes", shortSlot},
		{"audience key of 31 bytes", shortEph},
		{"audience with an unknown key", unknownKey},
	} {
		vs = append(vs, vector{Name: c.name, CBOR: b64(signedWithAud(tb, priv, third, c.aud)), Prev: b64(sBytes), Error: "malformed"})
	}

	big := *genesis
	big.Body = make([]byte, MaxEntrySize)
	require.NoError(tb, big.Sign(func(m []byte) ([]byte, error) { return ed25519.Sign(priv, m), nil }))
	bigBytes, err := encMode.Marshal(&big)
	require.NoError(tb, err)
	vs = append(vs, vector{Name: "oversized", CBOR: b64(bigBytes), Error: "too_large"})

	// Non-canonical: the same genesis map with a non-minimal integer for seq
	// (0x18 0x01 instead of 0x01).
	nc := bytes.Replace(gBytes, []byte{0x63, 's', 'e', 'q', 0x01}, []byte{0x63, 's', 'e', 'q', 0x18, 0x01}, 1)
	require.NotEqual(tb, gBytes, nc)
	vs = append(vs, vector{Name: "non-minimal integer", CBOR: b64(nc), Error: "non_canonical"})

	// Non-canonical: keys in the wrong order ("v" moved after "seq").
	unsorted := reorderFirstKeyLast(tb, gBytes)
	vs = append(vs, vector{Name: "unsorted keys", CBOR: b64(unsorted), Error: "non_canonical"})

	vs = append(vs,
		vector{Name: "garbage", CBOR: b64([]byte("not cbor at all")), Error: "malformed"},
		vector{Name: "missing signature", CBOR: b64(mustMarshalNoSig(tb, genesis)), Error: "malformed"},
		vector{Name: "unknown field", CBOR: b64(withExtraField(tb, gBytes)), Error: "malformed"},
	)
	return vs
}

// v2Recipients is a v=2 entry whose audience named its reader by peer ID.
const v2Recipients = "qGF2AmNhdWSBomJpZFgmACQIARIggTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Rja2V5WFAHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHB2NzZXEDY3NpZ1hA7Bm3gLrvnjdDbXRhsv9j+1xOld6GJZTrCpMkYcwzLvyjTFiII2KGwP5bFXusFi+2Il6cwriWG7P4XkSz5fFUCGRib2R5WChDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDZHByZXbYKlglAAFxEiDPSkwCY6oNfc97u1JMsCLVrONXOgx0iIj/T/nJNzjrPWR0aW1lGwAAAZq2l+gCZmF1dGhvclgmACQIARIgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w="

// signedWithAud encodes e with its audience replaced by aud (bytes the
// Audience type would refuse to write), signed.
func signedWithAud(tb testing.TB, priv ed25519.PrivateKey, e *Entry, aud cbor.RawMessage) []byte {
	tb.Helper()
	type rawEntry struct {
		V      uint64          `cbor:"v"`
		Author []byte          `cbor:"author"`
		Seq    uint64          `cbor:"seq"`
		Prev   Link            `cbor:"prev"`
		Time   int64           `cbor:"time"`
		Aud    cbor.RawMessage `cbor:"aud"`
		Body   []byte          `cbor:"body"`
		Sig    []byte          `cbor:"sig,omitempty"`
	}
	r := rawEntry{V: e.V, Author: e.Author, Seq: e.Seq, Prev: e.Prev, Time: e.Time, Aud: aud, Body: e.Body}
	msg, err := encMode.Marshal(&r)
	require.NoError(tb, err)
	r.Sig = ed25519.Sign(priv, msg)
	b, err := encMode.Marshal(&r)
	require.NoError(tb, err)
	return b
}

func mustMarshalNoSig(tb testing.TB, e *Entry) []byte {
	b, err := e.SigningBytes()
	require.NoError(tb, err)
	return b
}

// reorderFirstKeyLast re-encodes a map with its first pair moved last.
func reorderFirstKeyLast(tb testing.TB, enc []byte) []byte {
	var m map[string]any
	require.NoError(tb, decModeLoose(tb).Unmarshal(enc, &m))
	// "v" sorts first (shortest); write it last by hand.
	require.Equal(tb, byte(0xa8), enc[0], "want an 8-pair map")
	vPair := []byte{0x61, 'v', Version}
	require.True(tb, bytes.HasPrefix(enc[1:], vPair))
	out := append([]byte{0xa8}, enc[1+len(vPair):]...)
	return append(out, vPair...)
}

func withExtraField(tb testing.TB, enc []byte) []byte {
	require.Equal(tb, byte(0xa8), enc[0])
	// Add "zz": 0 as a ninth pair at the end (length-first order keeps it after "v" but before "aud"; put it
	// in canonical position so only the unknown key is wrong).
	out := []byte{0xa9}
	out = append(out, 0x61, 'v', Version)
	out = append(out, 0x62, 'z', 'z', 0x00)
	return append(out, enc[4:]...)
}

func TestVectors(t *testing.T) {
	path := filepath.Join("testdata", "entries.json")
	if *update {
		b, err := json.MarshalIndent(makeVectors(t), "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	}
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs)

	// The generator must still produce exactly the stored vectors: vectors
	// only grow, and an encoding change shows up here.
	fresh := makeVectors(t)
	require.Len(t, vs, len(fresh))
	for i := range fresh {
		require.Equal(t, fresh[i].CBOR, vs[i].CBOR, "vector %q changed; vectors only grow", vs[i].Name)
	}

	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			data, err := base64.StdEncoding.DecodeString(v.CBOR)
			require.NoError(t, err)
			err = checkVector(t, data, v.Prev)
			if v.Error == "" {
				require.NoError(t, err)
				e, err := Decode(data)
				require.NoError(t, err)
				if got := CIDOf(data).String(); got != v.CID {
					t.Errorf("CID = %s, want %s", got, v.CID)
				}
				j, err := json.Marshal(e)
				require.NoError(t, err)
				require.JSONEq(t, string(v.JSON), string(j))
				return
			}
			want, ok := sentinels[v.Error]
			require.True(t, ok, "unknown error name %q", v.Error)
			if !errors.Is(err, want) {
				t.Errorf("checking %q: err = %v, want %v", v.Name, err, want)
			}
		})
	}
}

// checkVector runs every check a node runs before storing an entry.
func checkVector(tb testing.TB, data []byte, prevB64 string) error {
	e, err := Decode(data)
	if err != nil {
		return err
	}
	if err := e.Verify(); err != nil {
		return err
	}
	var prev *Entry
	var prevCID = CIDOf(nil)
	if prevB64 != "" {
		pb, err := base64.StdEncoding.DecodeString(prevB64)
		require.NoError(tb, err)
		prev, err = Decode(pb)
		require.NoError(tb, err)
		prevCID = CIDOf(pb)
	}
	return CheckLink(prev, prevCID, e)
}

// TestDagCBORCrossCheck proves our encoder agrees with go-ipld-prime's
// dagcbor codec: decoding our bytes there and re-encoding gives them back.
func TestDagCBORCrossCheck(t *testing.T) {
	for _, v := range makeVectors(t) {
		if v.Error != "" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			data, err := base64.StdEncoding.DecodeString(v.CBOR)
			require.NoError(t, err)
			nb := basicnode.Prototype.Any.NewBuilder()
			require.NoError(t, dagcbor.Decode(nb, bytes.NewReader(data)))
			var out bytes.Buffer
			require.NoError(t, dagcbor.Encode(nb.Build(), &out))
			if !bytes.Equal(out.Bytes(), data) {
				t.Errorf("go-ipld-prime re-encoding differs:\n got %x\nwant %x", out.Bytes(), data)
			}
		})
	}
}
