package spec

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

// audienceVector is one case of testdata/audience.json (SPEC.md "Audience
// and body"). graph's tests prove the code seals exactly these; this test
// checks them from the primitives alone.
type audienceVector struct {
	Name       string           `json:"name"`
	Author     audienceIdentity `json:"author"`
	Readers    []audienceReader `json:"readers"`
	Outsider   audienceReader   `json:"outsider"`
	Nonce      string           `json:"nonce_hex"`
	ContentKey string           `json:"content_key_hex"`
	Eph        string           `json:"ephemeral_public_hex"`
	Dummies    []string         `json:"dummy_slots_hex"`
	Body       string           `json:"body_hex"`
	Padded     int              `json:"padded_len"`
	CBOR       string           `json:"cbor_b64"`
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
	Tag  string `json:"tag_hex"`
	Slot string `json:"slot_hex"`
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// x25519Of derives an identity's X25519 key from its data key D, by "Keys".
func x25519Of(t *testing.T, a audienceIdentity) *ecdh.PrivateKey {
	t.Helper()
	seed, err := hkdf.Key(sha256.New, unhex(t, a.DataKey), nil, "kith/x25519/v2", 32)
	require.NoError(t, err)
	k, err := ecdh.X25519().NewPrivateKey(seed)
	require.NoError(t, err)
	require.Equal(t, a.Public, hex.EncodeToString(k.PublicKey().Bytes()), "X25519 key of %s", a.PeerID)
	pk, err := crypto.UnmarshalEd25519PublicKey(ed25519.NewKeyFromSeed(unhex(t, a.Seed)).Public().(ed25519.PublicKey))
	require.NoError(t, err)
	id, err := peer.IDFromPublicKey(pk)
	require.NoError(t, err)
	require.Equal(t, a.PeerID, id.String())
	return k
}

// readerTag is what a reader computes: its tag and slot key for an entry
// whose audience key is eph.
func readerTag(t *testing.T, k *ecdh.PrivateKey, eph []byte) (tag, kek []byte) {
	t.Helper()
	e, err := ecdh.X25519().NewPublicKey(eph)
	require.NoError(t, err)
	z, err := k.ECDH(e)
	require.NoError(t, err)
	info := slices.Concat([]byte("kith/aud/slot/v3"), eph, k.PublicKey().Bytes())
	okm, err := hkdf.Key(sha256.New, z, nil, string(info), TagSize+32)
	require.NoError(t, err)
	return okm[:TagSize], okm[TagSize:]
}

func TestAudienceVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "audience.json"))
	require.NoError(t, err)
	var vs []audienceVector
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs)
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			data, err := base64.StdEncoding.DecodeString(v.CBOR)
			require.NoError(t, err)
			e, err := Decode(data)
			require.NoError(t, err)
			require.NoError(t, e.Verify())
			require.Equal(t, v.CID, CIDOf(data).String())
			nonce := unhex(t, v.Nonce)
			require.Equal(t, nonce, e.Body[:24], "the body starts with its nonce")

			// Nothing in the entry names a reader: neither a peer ID nor an
			// X25519 key.
			for _, r := range append(v.Readers, v.Outsider) {
				if r.PeerID == v.Author.PeerID {
					continue
				}
				id, err := peer.Decode(r.PeerID)
				require.NoError(t, err)
				for _, b := range [][]byte{[]byte(id), []byte(r.PeerID), unhex(t, r.Public)} {
					if bytes.Contains(data, b) {
						t.Errorf("the entry holds %x, of reader %s", b, r.PeerID)
					}
				}
			}

			var key []byte
			if e.Aud.Self {
				key, err = hkdf.Key(sha256.New, unhex(t, v.Author.DataKey), nil, "kith/self/v2", 32)
				require.NoError(t, err)
			} else {
				key = v.checkSlots(t, e)
			}
			aead, err := chacha20poly1305.NewX(key)
			require.NoError(t, err)
			padded, err := aead.Open(nil, nonce, e.Body[24:], e.Author)
			require.NoError(t, err)
			require.Equal(t, v.Padded, len(padded))
			body := unhex(t, v.Body)
			require.Equal(t, PaddedSize(len(body)), len(padded), "padded to the bucket")
			want := append(append(slices.Clone(body), 0x80), make([]byte, len(padded)-len(body)-1)...)
			require.Equal(t, want, padded, "body || 0x80 || zeros")
		})
	}
}

// checkSlots checks a sealed audience from the primitives and returns the
// content key.
func (v audienceVector) checkSlots(t *testing.T, e *Entry) []byte {
	s := e.Aud.Sealed
	require.NotNil(t, s)
	cek := unhex(t, v.ContentKey)

	// The ephemeral key: from the author's D and the body nonce.
	x, err := hkdf.Key(sha256.New, unhex(t, v.Author.DataKey), unhex(t, v.Nonce), "kith/aud/eph/v3", 32)
	require.NoError(t, err)
	xk, err := ecdh.X25519().NewPrivateKey(x)
	require.NoError(t, err)
	require.Equal(t, v.Eph, hex.EncodeToString(xk.PublicKey().Bytes()))
	require.Equal(t, v.Eph, hex.EncodeToString(s.Eph))

	// Every slot is a reader's or a dummy; as many as SlotCount says.
	require.Len(t, s.Slots, SlotCount(len(v.Readers)))
	want := map[string]bool{}
	for _, d := range v.Dummies {
		want[string(unhex(t, d))] = true
	}
	for _, r := range v.Readers {
		k := x25519Of(t, r.audienceIdentity)
		tag, kek := readerTag(t, k, s.Eph)
		require.Equal(t, r.Tag, hex.EncodeToString(tag), "tag of %s", r.PeerID)
		// The author computes the same tag from the reader's public key.
		pub, err := ecdh.X25519().NewPublicKey(unhex(t, r.Public))
		require.NoError(t, err)
		z, err := xk.ECDH(pub)
		require.NoError(t, err)
		okm, err := hkdf.Key(sha256.New, z, nil, string(slices.Concat([]byte("kith/aud/slot/v3"), s.Eph, unhex(t, r.Public))), TagSize+32)
		require.NoError(t, err)
		require.Equal(t, tag, okm[:TagSize])

		slot := unhex(t, r.Slot)
		require.Equal(t, tag, slot[:TagSize])
		aead, err := chacha20poly1305.New(kek)
		require.NoError(t, err)
		got, err := aead.Open(nil, make([]byte, 12), slot[TagSize:], nil)
		require.NoError(t, err)
		require.Equal(t, cek, got, "content key in the slot of %s", r.PeerID)
		want[string(slot)] = true
	}
	for _, sl := range s.Slots {
		if !want[string(sl)] {
			t.Errorf("slot %x is neither a reader's nor a dummy", sl)
		}
	}
	require.True(t, slices.IsSortedFunc(s.Slots, bytes.Compare))

	// The outsider's tag is in no slot.
	tag, _ := readerTag(t, x25519Of(t, v.Outsider.audienceIdentity), s.Eph)
	require.Equal(t, v.Outsider.Tag, hex.EncodeToString(tag))
	for _, sl := range s.Slots {
		require.NotEqual(t, tag, sl[:TagSize], "the outsider's tag is in a slot")
	}
	return cek
}

func TestSlotCountAndPaddedSize(t *testing.T) {
	for _, c := range []struct{ readers, slots int }{{1, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {257, 512}, {512, 512}, {513, 0}} {
		if got := SlotCount(c.readers); got != c.slots {
			t.Errorf("SlotCount(%d) = %d, want %d", c.readers, got, c.slots)
		}
	}
	for _, c := range []struct{ n, padded int }{
		{0, 256}, {255, 256}, {256, 512}, {1000, 1024}, {16383, 16384}, {16384, 24576}, {24575, 24576}, {40000, 40960}, {60000, 65536},
	} {
		if got := PaddedSize(c.n); got != c.padded {
			t.Errorf("PaddedSize(%d) = %d, want %d", c.n, got, c.padded)
		}
	}
}

func TestPadUnpad(t *testing.T) {
	for _, c := range []struct {
		name   string
		padded []byte
		want   []byte
	}{
		{"marker at the end", []byte{1, 2, 0x80}, []byte{1, 2}},
		{"zeros after the marker", []byte{1, 0x80, 0, 0}, []byte{1}},
		{"empty body", []byte{0x80, 0}, []byte{}},
		{"a zero byte in the body", []byte{0, 0x80, 0}, []byte{0}},
		{"no marker", []byte{1, 2, 0}, nil},
		{"all zeros", []byte{0, 0, 0}, nil},
		{"nothing", nil, nil},
	} {
		got, err := Unpad(c.padded)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s: Unpad(%x) = %x, want ErrBadPadding", c.name, c.padded, got)
			}
			continue
		}
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: Unpad(%x) = %x, %v; want %x", c.name, c.padded, got, err, c.want)
		}
	}
}
