package book_test

import (
	"slices"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
)

func TestIndexSearchText(t *testing.T) {
	c := card("fn", "Ann Lee", "n", "Lee;Ann;;;", "email", "ann@example.org", "tel", "+44 20 7946 0958",
		"org", "Acme;Labs", "note", "met at FOSDEM", "uid", "urn:uuid:x")
	got := book.Index{}.SearchText(graph.KindContact, "k1", &graph.Body{Kind: graph.KindContact, Key: "k1", Card: &c})
	want := []string{
		"Ann Lee Lee Ann   ",
		"ann@example.org ann example org",
		"+44 20 7946 0958 442079460958 42079460958 2079460958 079460958 79460958 9460958 460958 60958 0958",
		"Acme Labs",
		"met at FOSDEM",
	}
	if !slices.Equal(got, want) {
		t.Errorf("SearchText(contact) = %q, want %q", got, want)
	}
	if len(got) != book.SearchColumns {
		t.Errorf("SearchText gave %d columns, want %d", len(got), book.SearchColumns)
	}
	if got := (book.Index{}).SearchText(graph.KindCard, "friends", &graph.Body{Card: &c}); len(got) != book.SearchColumns {
		t.Errorf("SearchText(card) = %q, want it searchable", got)
	}
	for _, tc := range []struct {
		name string
		kind string
		body *graph.Body
	}{
		{"circle", graph.KindCircle, &graph.Body{Card: &c}},
		{"contact without card", graph.KindContact, &graph.Body{}},
	} {
		if got := (book.Index{}).SearchText(tc.kind, "k", tc.body); got != nil {
			t.Errorf("SearchText(%s) = %q, want nil", tc.name, got)
		}
	}
}

func TestIndexUIDs(t *testing.T) {
	withUID := card("fn", "Ann", "uid", "urn:uuid:ann")
	plain := card("fn", "Old")
	const notesKey = "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	for _, tc := range []struct {
		name, kind, key string
		card            *graph.Card
		want            []string
	}{
		{"contact with UID", graph.KindContact, "ann", &withUID, []string{"urn:uuid:ann"}},
		{"contact before UIDs", graph.KindContact, "old", &plain, []string{book.LegacyUID("old")}},
		{"notes on a connection", graph.KindContact, notesKey, &withUID, nil},
		{"card", graph.KindCard, "friends", &withUID, nil},
		{"contact without card", graph.KindContact, "x", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := book.Index{}.UIDs(tc.kind, tc.key, &graph.Body{Kind: tc.kind, Key: tc.key, Card: tc.card})
			if !slices.Equal(got, tc.want) {
				t.Errorf("UIDs(%s, %s) = %q, want %q", tc.kind, tc.key, got, tc.want)
			}
		})
	}
}
