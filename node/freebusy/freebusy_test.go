package freebusy_test

import (
	"bufio"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/freebusy"
	"github.com/kith-p2p/kith/node/internal/p2putil"
	"github.com/kith-p2p/kith/spec"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// source allows everyone and is busy each day 09:00-10:00 UTC.
type source struct{ allow bool }

func (s source) Allowed(context.Context, peer.ID) (bool, error) { return s.allow, nil }
func (s source) Busy(_ context.Context, from, to time.Time) ([]spec.Busy, error) {
	var out []spec.Busy
	for d := from.Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
		s, e := d.Add(9*time.Hour), d.Add(10*time.Hour)
		if s.Before(from) || e.After(to) {
			continue
		}
		out = append(out, spec.Busy{Start: s.Unix(), End: e.Unix()})
	}
	return out, nil
}

func hosts(t *testing.T) (host.Host, host.Host) {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	var hs []host.Host
	for i, label := range []string{"a", "b"} {
		h, err := mn.AddPeer(identity.NewTest(t, label).PrivKey(), ma.StringCast(fmt.Sprintf("/ip6/100::%x/tcp/4242", i+1)))
		require.NoError(t, err)
		hs = append(hs, h)
	}
	require.NoError(t, mn.LinkAll())
	require.NoError(t, mn.ConnectAllButSelf())
	return hs[0], hs[1]
}

// TestQueryAndHostileRequests: an answer arrives bounded and checked; a
// request with a length over the limit, garbage, or a window too long
// gets no blocks; Close waits for every handler.
func TestQueryAndHostileRequests(t *testing.T) {
	ha, hb := hosts(t)
	a := freebusy.New(freebusy.Config{Host: ha, Source: source{allow: true}, Limiter: p2putil.NewLimiter(100, 100)})
	defer a.Close()
	b := freebusy.New(freebusy.Config{Host: hb, Source: source{}})
	defer b.Close()
	ctx := t.Context()
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	got, err := b.Query(ctx, ha.ID(), from, from.AddDate(0, 0, 3))
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, from.Add(9*time.Hour).Unix(), got[0].Start)

	_, err = a.Query(ctx, hb.ID(), from, from.AddDate(0, 0, 1))
	require.ErrorIs(t, err, api.ErrForbidden, "b allows nobody")
	_, err = b.Query(ctx, ha.ID(), from, from.AddDate(0, 0, 70))
	require.ErrorIs(t, err, api.ErrInvalid)

	raw := func(payload []byte) ([]byte, error) {
		str, err := hb.NewStream(ctx, ha.ID(), spec.ProtoFreeBusy)
		require.NoError(t, err)
		defer str.Close()
		str.Write(payload)
		str.CloseWrite()
		return spec.ReadFrame(bufio.NewReader(str), spec.MaxFreeBusyResponse)
	}
	// A length prefix of 1 GiB: reset without reading it.
	_, err = raw([]byte{0x80, 0x80, 0x80, 0x80, 0x04})
	require.Error(t, err)
	// Garbage in a small frame: "range", no blocks.
	var frame []byte
	frame = append(frame, 3, 0xff, 0xff, 0xff)
	resp, err := raw(frame)
	require.NoError(t, err)
	m, err := spec.DecodeFreeBusyResponse(resp, spec.FreeBusyRequest{From: 0, To: 1})
	require.NoError(t, err)
	require.Equal(t, spec.FreeBusyRange, m.Status)
	// A window of 100 days: "range".
	body, err := spec.Marshal(spec.FreeBusyRequest{From: from.Unix(), To: from.AddDate(0, 0, 100).Unix()})
	require.NoError(t, err)
	resp, err = raw(append([]byte{byte(len(body))}, body...))
	require.NoError(t, err)
	m, err = spec.DecodeFreeBusyResponse(resp, spec.FreeBusyRequest{From: 0, To: 1})
	require.NoError(t, err)
	require.Equal(t, spec.FreeBusyRange, m.Status)
}
