package book_test

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
)

func card(fields ...string) graph.Card {
	var c graph.Card
	for i := 0; i+1 < len(fields); i += 2 {
		c.Fields = append(c.Fields, graph.Field{Name: fields[i], Value: fields[i+1]})
	}
	return c
}

func TestUIDs(t *testing.T) {
	// The derived UID of a contact made before UIDs is fixed for good:
	// exports made by every version must keep matching.
	if got, want := book.LegacyUID("3kq9x2m7ab"), book.LegacyUID("3kq9x2m7ab"); got != want {
		t.Errorf("LegacyUID is not deterministic: %s, %s", got, want)
	}
	if got, want := book.LegacyUID("3kq9x2m7ab"), "urn:uuid:42dbcd1e-0ff8-574e-bb38-cd929aa839fd"; got != want {
		t.Errorf("LegacyUID(3kq9x2m7ab) = %s, want %s", got, want)
	}
	if a, b := book.NewUID(), book.NewUID(); a == b || len(a) != len("urn:uuid:")+36 || a[9+14] != '4' {
		t.Errorf("NewUID() = %s, %s: want two different version-4 UUID URNs", a, b)
	}
	p, err := peer.Decode("12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := book.ParsePeerUID(book.PeerUID(p)); !ok || got != p {
		t.Errorf("ParsePeerUID(PeerUID(p)) = %s, %v", got, ok)
	}
	for _, uid := range []string{"urn:uuid:1", "urn:kith:peer:garbage", "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"} {
		if _, ok := book.ParsePeerUID(uid); ok {
			t.Errorf("ParsePeerUID(%q) ok", uid)
		}
	}
	if got := book.ContactUIDs("abc", card("fn", "A")); len(got) != 1 || got[0] != book.LegacyUID("abc") {
		t.Errorf("ContactUIDs without a uid = %v", got)
	}
	if got := book.ContactUIDs("abc", card("uid", "urn:uuid:x", "fn", "A")); len(got) != 1 || got[0] != "urn:uuid:x" {
		t.Errorf("ContactUIDs with a uid = %v", got)
	}
	if got := book.ContactUIDs(p.String(), card("note", "x")); got != nil {
		t.Errorf("ContactUIDs of notes = %v, want none", got)
	}
}

func TestKeys(t *testing.T) {
	tests := []struct{ a, b string }{
		{"Émile Müller", "emile MULLER"},
		{"Rao, Priya", "priya  rao"},
		{"Zoë  van der Berg", "van der berg zoe"},
		{"Søren Ørsted", "soren orsted"},
	}
	for _, tc := range tests {
		if ka, kb := book.NameKey(tc.a), book.NameKey(tc.b); ka != kb || ka == "" {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q, want equal", tc.a, ka, tc.b, kb)
		}
	}
	if book.NameKey("Ann Lee") == book.NameKey("Ann Leed") {
		t.Error("NameKey: different names compare equal")
	}
	if a, b := book.TelKey("+1 (555) 010-0123"), book.TelKey("0015550100123"); a != b || a == "" {
		t.Errorf("TelKey: %q, %q, want equal", a, b)
	}
	if got := book.TelKey("112"); got != "" {
		t.Errorf("TelKey(112) = %q, want too short", got)
	}
	if book.EmailKey(" Ann@Example.ORG") != book.EmailKey("ann@example.org") {
		t.Error("EmailKey is case-sensitive")
	}
	if got := book.NameKeys(card("fn", "Priya Rao", "n", "Rao;Priya;;Dr.;")); len(got) != 2 || got[0] != "priya rao" || got[1] != "dr priya rao" {
		t.Errorf("NameKeys = %q", got)
	}
}

func TestBestName(t *testing.T) {
	tests := []struct {
		card graph.Card
		want string
	}{
		{card("fn", "Ann", "email", "a@x.example"), "Ann"},
		{card("n", "Lee;Ann;;;"), "Ann Lee"},
		{card("tel", "+1 555 0100", "nickname", "Annie"), "Annie"},
		{card("tel", "+1 555 0100", "email", "a@x.example"), "a@x.example"},
		{card("tel", "+1 555 0100", "org", "Acme"), "Acme"},
		{card("org", "Acme;Plumbing"), "Acme, Plumbing"},
		{card("note", "only a note"), ""},
	}
	for _, tc := range tests {
		if got := book.BestName(tc.card); got != tc.want {
			t.Errorf("BestName(%v) = %q, want %q", tc.card, got, tc.want)
		}
	}
}

func TestMerge(t *testing.T) {
	a := graph.Card{Fields: []graph.Field{
		{Name: "uid", Value: "urn:uuid:a"},
		{Name: "fn", Value: "Priya Rao"},
		{Name: "email", Value: "priya@example.org", Types: []string{"home"}},
		{Name: "tel", Value: "+1 555 0100"},
		{Name: "bday", Value: "1980-01-02"},
	}}
	b := graph.Card{Fields: []graph.Field{
		{Name: "uid", Value: "urn:uuid:b"},
		{Name: "fn", Value: "Dr. Rao"},
		{Name: "email", Value: "PRIYA@example.org", Types: []string{"work"}},
		{Name: "tel", Value: "+1-555-0100", Types: []string{"cell"}},
		{Name: "tel", Value: "+1-555-0199"},
		{Name: "bday", Value: "1980-02-01"},
	}}
	got, dropped := book.Merge(a, b)
	want := graph.Card{Fields: []graph.Field{
		{Name: "uid", Value: "urn:uuid:a"},
		{Name: "fn", Value: "Priya Rao"},
		{Name: "email", Value: "priya@example.org", Types: []string{"home", "work"}},
		{Name: "tel", Value: "+1 555 0100", Types: []string{"cell"}},
		{Name: "bday", Value: "1980-01-02"},
		{Name: "nickname", Value: "Dr. Rao"},
		{Name: "tel", Value: "+1-555-0199"},
	}}
	if !book.Same(got, want) || len(got.Fields) != len(want.Fields) {
		t.Errorf("Merge = %+v\nwant %+v", got.Fields, want.Fields)
	}
	if len(dropped) != 1 || dropped[0].Name != "bday" {
		t.Errorf("Merge dropped %+v, want b's bday", dropped)
	}
	if again, _ := book.Merge(got, b); !book.Same(again, got) {
		t.Errorf("merging twice changed the card: %+v", again.Fields)
	}
}

func TestCombineSubtract(t *testing.T) {
	shared := card("fn", "Alice", "email", "alice@example.org")
	notes := card("fn", "Al", "note", "met at the gym", "email", "alice@example.org")
	c := book.Combine(shared, notes)
	if got := c.Values("fn"); len(got) != 1 || got[0] != "Al" {
		t.Errorf("Combine fn = %v, want my name for them only", got)
	}
	if got := c.Values("email"); len(got) != 1 {
		t.Errorf("Combine email = %v, want once", got)
	}
	if got := book.Subtract(c, shared); !book.Same(got, card("fn", "Al", "note", "met at the gym")) {
		t.Errorf("Subtract = %+v", got.Fields)
	}
}

func TestSame(t *testing.T) {
	a := graph.Card{Fields: []graph.Field{{Name: "uid", Value: "x"}, {Name: "fn", Value: "A"}, {Name: "tel", Value: "1", Types: []string{"cell", "home"}}}}
	b := graph.Card{Fields: []graph.Field{{Name: "tel", Value: "1", Types: []string{"home", "cell"}}, {Name: "fn", Value: "A"}}}
	if !book.Same(a, b) {
		t.Error("Same: order or UID made a difference")
	}
	b.Fields[0].Pref = 1
	if book.Same(a, b) {
		t.Error("Same: a preference made no difference")
	}
	if book.Same(card("fn", "A", "tel", "1"), card("fn", "A", "tel", "1", "tel", "1")) {
		t.Error("Same: a repeated field made no difference")
	}
}

func TestDropExportedFN(t *testing.T) {
	stored := card("email", "a@x.example", "tel", "1")
	imported := card("fn", "a@x.example", "email", "a@x.example", "tel", "1")
	if got := book.DropExportedFN(imported, stored); !book.Same(got, stored) {
		t.Errorf("DropExportedFN = %+v", got.Fields)
	}
	renamed := card("fn", "Ann", "email", "a@x.example", "tel", "1")
	if got := book.DropExportedFN(renamed, stored); !book.Same(got, renamed) {
		t.Errorf("DropExportedFN dropped a real name: %+v", got.Fields)
	}
}
