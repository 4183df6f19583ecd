package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/graph/store"
	"github.com/kith-p2p/kith/identity"
	"github.com/kith-p2p/kith/spec"
)

func card(fields ...string) *graph.Card {
	c := &graph.Card{}
	for i := 0; i+1 < len(fields); i += 2 {
		c.Fields = append(c.Fields, graph.Field{Name: fields[i], Value: fields[i+1]})
	}
	return c
}

func TestSearch(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	add := func(key string, c *graph.Card) {
		_, err := w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: key, Card: c}, To: graph.Audience{Self: true}})
		require.NoError(t, err)
	}
	add("rao", card("fn", "Dr. Rao", "tel", "+1-555-0100", "email", "rao@clinic.example", "org", "Clinic"))
	add("ann", card("fn", "Ann Müller", "email", "ann@example.org", "note", "met at the dojo"))
	add("bob", card("fn", "Bob", "org", "Acme Clinic Supplies"))

	tests := []struct {
		q    string
		want []string
	}{
		{"rao", []string{"rao"}},
		{"clinic", []string{"rao", "bob"}},
		{"5550100", []string{"rao"}},
		{"muller", []string{"ann"}}, // diacritics folded
		{"dojo", []string{"ann"}},
		{"ann@example", []string{"ann"}},
		{"an", []string{"ann"}}, // prefix
		{`"); DROP TABLE records; --`, nil},
		{"nobody", nil},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			rs, err := st.Search(ctx, me.PeerID(), graph.KindContact, tc.q, 0)
			require.NoError(t, err)
			var got []string
			for _, r := range rs {
				got = append(got, r.Key)
			}
			require.ElementsMatch(t, tc.want, got, "Search(%q)", tc.q)
		})
	}

	// Edits re-index; deletes unindex.
	add("rao", card("fn", "Dr. Rao", "org", "Hospital"))
	_, err = w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "bob", Del: true}, To: graph.Audience{Self: true}})
	require.NoError(t, err)
	rs, err := st.Search(ctx, me.PeerID(), graph.KindContact, "clinic", 0)
	require.NoError(t, err)
	require.Empty(t, rs)
}

func TestCheckFindsDamage(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	dir := t.TempDir()
	st, err := store.Open(ctx, dir+"/kith.db", book.Index{})
	require.NoError(t, err)
	defer st.Close()
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	for i := range 5 {
		_, err := w.Append(ctx, graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: fmt.Sprint(i), Card: card("fn", fmt.Sprint("n", i))}, To: graph.Audience{Self: true}})
		require.NoError(t, err)
	}
	rep, err := st.Check(ctx, graph.Opener(me))
	require.NoError(t, err)
	require.True(t, rep.OK(), "fresh store: %v", rep.Problems)
	if rep.Entries != 5 || rep.Records != 5 || rep.Indexed != 5 {
		t.Errorf("report = %+v, want 5 entries, records, indexed", rep)
	}

	tests := []struct {
		name, sql string
	}{
		{"flipped signature byte", "UPDATE entries SET raw = substr(raw, 1, length(raw)-1) || x'00' WHERE seq = 3"},
		{"record points elsewhere", "UPDATE records SET cid = (SELECT cid FROM entries WHERE seq = 1) WHERE key = '4'"},
		{"index row lost", "DELETE FROM cards_fts WHERE rowid = (SELECT min(rowid) FROM cards_fts)"},
		{"head behind", "UPDATE heads SET seq = 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st2 := store.CopyStore(t, dir)
			_, err := st2.DB().ExecContext(ctx, tc.sql)
			require.NoError(t, err)
			rep, err := st2.Check(ctx, graph.Opener(me))
			require.NoError(t, err)
			if rep.OK() {
				t.Errorf("Check after %s: no problem found", tc.name)
			}
		})
	}
}

// TestSameRecordTwiceInOneBatch: the index keeps only the last version when
// one transaction sets a record twice, and Check (at cleanup) agrees.
func TestSameRecordTwiceInOneBatch(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	d := func(name string, del bool) graph.Draft {
		b := graph.Body{Kind: graph.KindContact, Key: "k", Del: del}
		if !del {
			b.Card = card("fn", name)
		}
		return graph.Draft{Body: b, To: graph.Audience{Self: true}}
	}
	_, err = w.Append(ctx, d("First", false), d("Second", false))
	require.NoError(t, err)
	_, err = w.Append(ctx, d("Third", false), d("", true), d("Fourth", false))
	require.NoError(t, err)
	for q, want := range map[string]int{"first": 0, "second": 0, "third": 0, "fourth": 1} {
		rs, err := st.Search(ctx, me.PeerID(), graph.KindContact, q, 0)
		require.NoError(t, err)
		if len(rs) != want {
			t.Errorf("Search(%q) = %d hits, want %d", q, len(rs), want)
		}
	}
}

// A pull delivers only entries past my head, so a forked branch arrives as
// "seq head+1 whose prev is not my head": that is fork evidence too.
func TestForkPastHead(t *testing.T) {
	ctx := t.Context()
	id := identity.NewTest(t, "author")
	d := func(k string) graph.Draft {
		return graph.Draft{Body: graph.Body{Kind: graph.KindCircle, Key: k}, To: graph.Audience{Self: true}}
	}
	src := store.NewTest(t, book.Index{}) // the author's branch: 1 2 3
	w, err := graph.NewWriter(ctx, id, src, nil)
	require.NoError(t, err)
	common, err := w.Append(ctx, d("a"), d("b"))
	require.NoError(t, err)
	_, err = w.Append(ctx, d("c"))
	require.NoError(t, err)

	other := store.NewTest(t, book.Index{}) // a second branch: 1 2 3' 4'
	require.NoError(t, other.Put(ctx, common))
	w2, err := graph.NewWriter(ctx, id, other, nil)
	require.NoError(t, err)
	forked, err := w2.Append(ctx, d("x"), d("y"))
	require.NoError(t, err)

	require.ErrorIs(t, src.Put(ctx, forked[1:]), graph.ErrFork)
	st, err := src.Stats(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Forks)
	require.EqualValues(t, 3, st.Entries, "nothing of the other branch is stored")
	// A gap (seq head+2) is not evidence: it is refused and not recorded.
	other2 := store.NewTest(t, book.Index{})
	require.ErrorIs(t, other2.Put(ctx, forked[1:]), spec.ErrBadSeq)
}

// TestFoldKeepsNewest: an older version folded after a newer one (an
// entry kept unread, read again after an upgrade) does not replace it;
// with equal times the later seq wins (graph.Version.After).
func TestFoldKeepsNewest(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	at := time.UnixMilli(1_700_000_000_000)
	w, err := graph.NewWriter(ctx, me, store.NewTest(t, book.Index{}), func() time.Time { return at })
	require.NoError(t, err)
	set := func(name string) graph.Draft {
		return graph.Draft{Body: graph.Body{Kind: graph.KindContact, Key: "k", Card: card("fn", name)}, To: graph.Audience{Self: true}}
	}
	es, err := w.Append(ctx, set("Older"), set("Newer"))
	require.NoError(t, err)
	require.Equal(t, es[0].Time, es[1].Time, "both versions have one time: seq decides")

	st := store.NewTest(t, book.Index{})
	unread := *es[0]
	unread.Body = nil
	require.NoError(t, st.Put(ctx, []*graph.Entry{&unread, es[1]}))
	n, err := st.Reread(ctx, graph.Opener(me), 1)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the older entry is read again")
	r, err := st.Record(ctx, me.PeerID(), graph.KindContact, "k")
	require.NoError(t, err)
	require.Equal(t, es[1].CID, r.CID, "the record holds the newer version")
	for q, want := range map[string]int{"older": 0, "newer": 1} {
		rs, err := st.Search(ctx, me.PeerID(), graph.KindContact, q, 0)
		require.NoError(t, err)
		require.Len(t, rs, want, "Search(%q)", q)
	}
}

// TestCheckWhileWriting: Check reads one snapshot, so entries committed
// while it runs never make it report a problem.
func TestCheckWhileWriting(t *testing.T) {
	ctx := t.Context()
	me := identity.NewTest(t, "me")
	st := store.NewTest(t, book.Index{})
	w, err := graph.NewWriter(ctx, me, st, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		defer close(done)
		for b := range 20 {
			var ds []graph.Draft
			for i := range 25 {
				key := fmt.Sprintf("c%d", i*7%25) // many records set again and again
				ds = append(ds, graph.Draft{
					Body: graph.Body{Kind: graph.KindContact, Key: key, Card: card("fn", fmt.Sprintf("Name %d %d", b, i), "email", key+"@example.org")},
					To:   graph.Audience{Self: true},
				})
			}
			if _, err := w.Append(ctx, ds...); err != nil {
				done <- err
				return
			}
		}
	}()
	checks := 0
	for writing := true; writing; checks++ {
		select {
		case err := <-done:
			require.NoError(t, err)
			writing = false
		default:
		}
		rep, err := st.Check(ctx, graph.Opener(me))
		require.NoError(t, err)
		require.True(t, rep.OK(), "Check %d while writing: %v", checks, rep.Problems)
	}
	t.Logf("%d checks while writing", checks)
}
