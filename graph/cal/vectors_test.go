package cal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/graph/ical"
	"github.com/kith-p2p/kith/spec"
)

// eventVectors is spec/testdata/events.json.
type eventVectors struct {
	Bodies []struct {
		Name    string     `json:"name"`
		JSON    graph.Body `json:"json"`
		CBORB64 string     `json:"cbor_b64"`
	} `json:"bodies"`
	Sequence []struct {
		Name     string  `json:"name"`
		Held     version `json:"held"`
		Incoming version `json:"incoming"`
		Wins     string  `json:"wins"` // "held" or "incoming"
	} `json:"sequence"`
	RSVPs []struct {
		Name      string     `json:"name"`
		Organizer string     `json:"organizer"`
		Author    string     `json:"author"`
		UID       string     `json:"uid"`
		PartStat  string     `json:"partstat"`
		Sequence  int        `json:"sequence"`
		JSON      graph.Body `json:"json"`
		CBORB64   string     `json:"cbor_b64"`
	} `json:"rsvps"`
}

type version struct {
	Sq     uint64 `json:"sq"`
	Time   int64  `json:"time"`
	Author string `json:"author"`
	Seq    uint64 `json:"seq"`
}

func (v version) graph() graph.Version {
	return graph.Version{Time: v.Time, Author: peer.ID(v.Author), Seq: v.Seq}
}

// TestEventVectors: event bodies encode to the vectors' bytes and back,
// their text reads as the event; the SEQUENCE rule picks the vectors'
// winners.
func TestEventVectors(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "spec", "testdata", "events.json"))
	require.NoError(t, err)
	var vs eventVectors
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs.Bodies)
	for _, v := range vs.Bodies {
		t.Run(v.Name, func(t *testing.T) {
			require.NoError(t, v.JSON.Check())
			got, err := spec.Marshal(v.JSON)
			require.NoError(t, err)
			want, err := base64.StdEncoding.DecodeString(v.CBORB64)
			require.NoError(t, err)
			require.True(t, bytes.Equal(got, want), "encoding = %s", base64.StdEncoding.EncodeToString(got))
			b, err := graph.DecodeBody(want)
			require.NoError(t, err)
			require.Equal(t, v.JSON, *b)
			if b.Event != nil {
				res, err := ical.Decode(bytes.NewReader([]byte(b.Event.ICS)), ical.Options{})
				require.NoError(t, err)
				require.Len(t, res.Events, 1)
				require.Equal(t, b.Key, res.Events[0].UID)
				require.Equal(t, int(b.Event.Seq), res.Events[0].Sequence())
				again, err := ical.EncodeEvent(res.Events[0])
				require.NoError(t, err)
				require.Equal(t, b.Event.ICS, string(again), "Kith writes the vector's text")
			}
		})
	}
	require.NotEmpty(t, vs.Sequence)
	for _, v := range vs.Sequence {
		got := cal.Wins(v.Incoming.Sq, v.Incoming.graph(), v.Held.Sq, v.Held.graph())
		if want := v.Wins == "incoming"; got != want {
			t.Errorf("%s: Wins = %v, want the %s version", v.Name, got, v.Wins)
		}
		if back := cal.Wins(v.Held.Sq, v.Held.graph(), v.Incoming.Sq, v.Incoming.graph()); back == got {
			t.Errorf("%s: Wins is not antisymmetric", v.Name)
		}
	}
	require.NotEmpty(t, vs.RSVPs)
	for _, v := range vs.RSVPs {
		t.Run(v.Name, func(t *testing.T) {
			got, err := spec.Marshal(v.JSON)
			require.NoError(t, err)
			want, err := base64.StdEncoding.DecodeString(v.CBORB64)
			require.NoError(t, err)
			require.True(t, bytes.Equal(got, want), "encoding = %s", base64.StdEncoding.EncodeToString(got))
			b, err := graph.DecodeBody(want)
			require.NoError(t, err)
			org, err := peer.Decode(v.Organizer)
			require.NoError(t, err)
			author, err := peer.Decode(v.Author)
			require.NoError(t, err)
			ps, seq, err := cal.CheckReply(&graph.Record{Kind: b.Kind, Key: b.Key, Body: b}, author, org, v.UID)
			require.NoError(t, err)
			require.Equal(t, v.PartStat, ps)
			require.Equal(t, v.Sequence, seq)
		})
	}
}
