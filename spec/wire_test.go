package spec

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFrames(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteFrame(&buf, []byte("hello")))
	require.NoError(t, WriteFrame(&buf, nil))
	r := bufio.NewReader(&buf)
	got, err := ReadFrame(r, 10)
	require.NoError(t, err)
	require.Equal(t, "hello", string(got))
	got, err = ReadFrame(r, 10)
	require.NoError(t, err)
	require.Empty(t, got)

	buf.Reset()
	require.NoError(t, WriteFrame(&buf, make([]byte, 100)))
	if _, err := ReadFrame(bufio.NewReader(&buf), 99); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("ReadFrame over limit: err = %v, want ErrFrameTooLarge", err)
	}
	// A huge length prefix must not allocate: it is refused up front.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(huge)), MaxFrameSize); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("ReadFrame huge prefix: err = %v, want ErrFrameTooLarge", err)
	}
	if _, err := ReadFrame(bufio.NewReader(bytes.NewReader([]byte{5, 1, 2})), 10); !errors.Is(err, ErrBadMessage) {
		t.Errorf("ReadFrame short: err = %v, want ErrBadMessage", err)
	}
}

func TestConnectMsg(t *testing.T) {
	priv, from := testKey(t, 1)
	_, to := testKey(t, 2)
	m := &ConnectMsg{From: from, To: to, Note: "hi, it's Alice", Invite: []byte{}, Time: 1}
	require.NoError(t, m.Sign(func(b []byte) ([]byte, error) { return ed25519.Sign(priv, b), nil }))
	b, err := Marshal(m)
	require.NoError(t, err)
	got, err := DecodeConnectMsg(b)
	require.NoError(t, err)
	require.Equal(t, m, got)

	tampered := *m
	tampered.Note = "hi, it's Mallory"
	b, err = Marshal(&tampered)
	require.NoError(t, err)
	if _, err := DecodeConnectMsg(b); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered note: err = %v, want ErrBadSignature", err)
	}
	forged := *m
	forged.From = to // claims to be someone else
	b, _ = Marshal(&forged)
	if _, err := DecodeConnectMsg(b); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged from: err = %v, want ErrBadSignature", err)
	}
}

func TestInvite(t *testing.T) {
	_, p := testKey(t, 1)
	inv := &Invite{Peer: p, Secret: bytes.Repeat([]byte{9}, 16), Expires: 1800000000}
	s := inv.String()
	got, err := ParseInvite("  " + s + "\n")
	require.NoError(t, err)
	require.Equal(t, inv.Peer, got.Peer)
	require.Equal(t, inv.Secret, got.Secret)
	for _, bad := range []string{"", "kith1", "hello", s[:len(s)-3], "kith1!!!!", s + "aa"} {
		if _, err := ParseInvite(bad); !errors.Is(err, ErrBadInvite) {
			t.Errorf("ParseInvite(%q): err = %v, want ErrBadInvite", bad, err)
		}
	}
}

func TestSyncRequest(t *testing.T) {
	_, a := testKey(t, 1)
	c := CIDOf([]byte("an entry")).Bytes()
	good := &SyncRequest{Want: []LogPos{{Author: a, Seq: 3, CID: c}}, Have: []LogPos{{Author: a, Seq: 0}}}
	b, err := Marshal(good)
	require.NoError(t, err)
	got, err := DecodeSyncRequest(b)
	require.NoError(t, err)
	require.Equal(t, good, got)

	many := make([]LogPos, MaxWants+1)
	for i := range many {
		many[i] = LogPos{Author: a}
	}
	for name, bad := range map[string]*SyncRequest{
		"bad author":     {Want: []LogPos{{Author: []byte("nope"), Seq: 1}}, Have: []LogPos{}},
		"bad cid":        {Want: []LogPos{{Author: a, Seq: 1, CID: []byte{1, 2, 3}}}, Have: []LogPos{}},
		"too many wants": {Want: many, Have: []LogPos{}},
		"too many haves": {Want: []LogPos{}, Have: many},
	} {
		b, err := Marshal(bad)
		require.NoError(t, err)
		if _, err := DecodeSyncRequest(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: err = %v, want ErrBadMessage", name, err)
		}
	}
	// An empty "c" would not survive a round trip: it must be left out.
	b, err = Marshal(map[string]any{"want": []any{map[string]any{"a": a, "s": 1, "c": []byte{}}}, "have": []any{}})
	require.NoError(t, err)
	if _, err := DecodeSyncRequest(b); !errors.Is(err, ErrBadMessage) {
		t.Errorf("empty cid: err = %v, want ErrBadMessage", err)
	}
}

func FuzzDecodeSyncRequest(f *testing.F) {
	_, a := testKey(f, 1)
	b, _ := Marshal(&SyncRequest{Want: []LogPos{{Author: a, Seq: 3}}, Have: []LogPos{{Author: a, Seq: 9}}})
	f.Add(b)
	b, _ = Marshal(&SyncRequest{Want: []LogPos{{Author: a, Seq: 3, CID: CIDOf([]byte("e")).Bytes()}}, Have: []LogPos{}})
	f.Add(b)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeSyncRequest(data)
		if err != nil {
			return
		}
		again, err := Marshal(m)
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted bytes that do not round-trip: %x", data)
		}
	})
}

func FuzzDecodeConnectMsg(f *testing.F) {
	priv, from := testKey(f, 1)
	_, to := testKey(f, 2)
	m := &ConnectMsg{From: from, To: to, Note: "hi", Time: 1}
	m.Sign(func(b []byte) ([]byte, error) { return ed25519.Sign(priv, b), nil })
	b, _ := Marshal(m)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		if m, err := DecodeConnectMsg(data); err == nil {
			if again, _ := Marshal(m); !bytes.Equal(again, data) {
				t.Fatalf("accepted bytes that do not round-trip: %x", data)
			}
		}
	})
}

func FuzzParseInvite(f *testing.F) {
	_, p := testKey(f, 1)
	f.Add((&Invite{Peer: p, Secret: make([]byte, 16)}).String())
	f.Add("kith1aaaa")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvite(s)
		if err != nil {
			return
		}
		if _, err := ParseInvite(inv.String()); err != nil {
			t.Fatalf("re-parsing %q: %v", inv.String(), err)
		}
		_ = inv.Multiaddrs()
	})
}
