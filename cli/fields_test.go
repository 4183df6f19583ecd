package cli

import (
	"slices"
	"testing"

	"github.com/kith-p2p/kith/graph"
)

func TestFieldRows(t *testing.T) {
	card := graph.Card{Fields: []graph.Field{
		{Name: "fn", Value: "Ann"},
		{Name: "tel", Value: "1", Types: []string{"cell"}, Pref: 1, Group: "item1"},
		{Name: "x-ablabel", Value: "_$!<AssistantPhone>!$_", Group: "item1", Raw: true},
		{Name: "x-ablabel", Value: "lonely", Group: "item9", Raw: true},
		{Name: "email", Value: "ann@", Raw: true},
		{Name: "photo", Value: "data:image/png;base64,AAAA"},
		{Name: "adr", Value: ";;1 Main St\nBack;Town;;;"},
	}}
	var got []string
	for _, r := range fieldRows(card) {
		got = append(got, r.label+" = "+r.value)
	}
	want := []string{
		"fn = Ann",
		"tel (cell,AssistantPhone,pref) = 1",
		"x-ablabel = lonely",
		"email = ann@   [kept as written]",
		"photo = image/png, 3 B",
		"adr = 1 Main St, Back, Town",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fieldRows:\n got %q\nwant %q", got, want)
	}
}
