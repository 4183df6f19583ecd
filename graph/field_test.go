package graph_test

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/spec"
)

func TestFieldNames(t *testing.T) {
	names := graph.FieldNames()
	if !slices.IsSorted(names) {
		t.Errorf("FieldNames() = %v, not sorted", names)
	}
	for _, want := range []string{"fn", "n", "nickname", "email", "tel", "adr", "bday", "anniversary", "gender", "org", "title", "role", "url", "note", "photo", "impp", "categories", "tz", "geo", "lang"} {
		spec, ok := graph.LookupField(want)
		if !ok || spec.Name != want || spec.Doc == "" {
			t.Errorf("LookupField(%q) = %+v, %v; want a documented entry", want, spec, ok)
		}
	}
	names[0] = "changed"
	if graph.FieldNames()[0] == "changed" {
		t.Error("FieldNames returns the registry's own slice")
	}
	if _, ok := graph.LookupField("FN"); ok {
		t.Error(`LookupField("FN") found an upper-case name`)
	}
	for name, multi := range map[string]bool{"fn": false, "n": false, "bday": false, "photo": false, "email": true, "tel": true, "adr": true} {
		if spec, _ := graph.LookupField(name); spec.Multi != multi {
			t.Errorf("LookupField(%q).Multi = %v, want %v", name, spec.Multi, multi)
		}
	}
}

func TestNormalizeField(t *testing.T) {
	photo := "data:image/png;base64," + strings.Repeat("AAAA", 12<<10-6)
	tests := []struct {
		name string
		in   graph.Field
		want graph.Field // when err is empty
		err  string      // substring of the error message; "" for success
	}{
		// Name, trimming, types.
		{"name lower-cased", graph.Field{Name: "FN", Value: "  Asha Rao "}, graph.Field{Name: "fn", Value: "Asha Rao"}, ""},
		{"unknown field", graph.Field{Name: "foo", Value: "x"}, graph.Field{}, `unknown field "foo"; known fields: adr, anniversary, bday`},
		{"name with spaces", graph.Field{Name: " fn", Value: "x"}, graph.Field{}, `unknown field " fn"`},
		{"empty value", graph.Field{Name: "fn", Value: "  "}, graph.Field{}, `fn "": empty value`},
		{"types lower-cased and deduplicated", graph.Field{Name: "tel", Value: "+1 555", Types: []string{"CELL", " cell", "Work", ""}}, graph.Field{Name: "tel", Value: "+1 555", Types: []string{"cell", "work"}}, ""},
		{"no types kept nil", graph.Field{Name: "email", Value: "a@b.c", Types: []string{}}, graph.Field{Name: "email", Value: "a@b.c"}, ""},
		{"bad type", graph.Field{Name: "tel", Value: "123", Types: []string{"home;work"}}, graph.Field{}, `tel "123": type "home;work": want a label of at most 32 bytes without , ; : or "`},
		{"too many types", graph.Field{Name: "tel", Value: "123", Types: strings.Fields("a b c d e f g h i")}, graph.Field{}, "9 types is over the limit of 8"},
		{"untyped field", graph.Field{Name: "bday", Value: "2000-01-02", Types: []string{"work"}}, graph.Field{}, `bday takes no types`},

		// Size, encoding and control characters.
		{"value at the limit", graph.Field{Name: "title", Value: strings.Repeat("é", 2<<10)}, graph.Field{Name: "title", Value: strings.Repeat("é", 2<<10)}, ""},
		{"value over the limit", graph.Field{Name: "note", Value: strings.Repeat("x", 4<<10+1)}, graph.Field{}, "4097 bytes is over the 4 KiB limit"},
		{"invalid UTF-8", graph.Field{Name: "fn", Value: "Bob \xff"}, graph.Field{}, "not valid UTF-8"},
		{"control character", graph.Field{Name: "fn", Value: "Bob\x07"}, graph.Field{}, "control character U+0007 is not allowed"},
		{"newline outside note", graph.Field{Name: "title", Value: "a\nb"}, graph.Field{}, "control character U+000A"},
		{"note with newlines and tabs", graph.Field{Name: "note", Value: "line 1\r\n\tline 2\n"}, graph.Field{Name: "note", Value: "line 1\n\tline 2"}, ""},
		{"note with a bell", graph.Field{Name: "note", Value: "a\x07"}, graph.Field{}, "control character U+0007"},
		{"C1 control", graph.Field{Name: "org", Value: "A\u0085B"}, graph.Field{}, "control character U+0085"},

		// email
		{"email", graph.Field{Name: "email", Value: "Alice.Smith+kith@Example.COM"}, graph.Field{Name: "email", Value: "Alice.Smith+kith@Example.COM"}, ""},
		{"email IDN", graph.Field{Name: "email", Value: "zoë@bücher.example"}, graph.Field{Name: "email", Value: "zoë@bücher.example"}, ""},
		{"email local host", graph.Field{Name: "email", Value: "root@localhost"}, graph.Field{Name: "email", Value: "root@localhost"}, ""},
		{"email missing domain", graph.Field{Name: "email", Value: "alice@"}, graph.Field{}, `email "alice@": missing domain`},
		{"email missing @", graph.Field{Name: "email", Value: "alice"}, graph.Field{}, `email "alice": missing @`},
		{"email missing local part", graph.Field{Name: "email", Value: "@example.com"}, graph.Field{}, "missing the part before @"},
		{"email with display name", graph.Field{Name: "email", Value: "Alice <alice@example.com>"}, graph.Field{}, "want a bare address"},
		{"email with space", graph.Field{Name: "email", Value: "al ice@example.com"}, graph.Field{}, "want a bare address"},
		{"email two @", graph.Field{Name: "email", Value: "a@b@example.com"}, graph.Field{}, "want a bare address"},

		// tel
		{"tel", graph.Field{Name: "tel", Value: "+1 (555) 010-0123"}, graph.Field{Name: "tel", Value: "+1 (555) 010-0123"}, ""},
		{"tel dots", graph.Field{Name: "tel", Value: "030.1234.5678"}, graph.Field{Name: "tel", Value: "030.1234.5678"}, ""},
		{"tel letters", graph.Field{Name: "tel", Value: "abc"}, graph.Field{}, `tel "abc": a phone number needs digits`},
		{"tel no digits", graph.Field{Name: "tel", Value: "+()"}, graph.Field{}, "a phone number needs digits"},

		// bday, anniversary
		{"bday extended", graph.Field{Name: "bday", Value: "1996-04-15"}, graph.Field{Name: "bday", Value: "1996-04-15"}, ""},
		{"bday basic", graph.Field{Name: "bday", Value: "19960415"}, graph.Field{Name: "bday", Value: "1996-04-15"}, ""},
		{"bday no year", graph.Field{Name: "bday", Value: "--04-15"}, graph.Field{Name: "bday", Value: "--04-15"}, ""},
		{"bday no year basic", graph.Field{Name: "bday", Value: "--0415"}, graph.Field{Name: "bday", Value: "--04-15"}, ""},
		{"bday 29 February without year", graph.Field{Name: "bday", Value: "--02-29"}, graph.Field{Name: "bday", Value: "--02-29"}, ""},
		{"bday 29 February of a leap year", graph.Field{Name: "bday", Value: "2024-02-29"}, graph.Field{Name: "bday", Value: "2024-02-29"}, ""},
		{"bday 29 February of another year", graph.Field{Name: "bday", Value: "2023-02-29"}, graph.Field{}, "want YYYY-MM-DD, --MM-DD or YYYYMMDD"},
		{"bday bad month and day", graph.Field{Name: "bday", Value: "2024-13-40"}, graph.Field{}, `bday "2024-13-40": want YYYY-MM-DD, --MM-DD or YYYYMMDD`},
		{"bday text", graph.Field{Name: "bday", Value: "April 15"}, graph.Field{}, "want YYYY-MM-DD"},
		{"bday signs", graph.Field{Name: "bday", Value: "+996-04-15"}, graph.Field{}, "want YYYY-MM-DD"},
		{"bday year zero", graph.Field{Name: "bday", Value: "0000-01-01"}, graph.Field{}, "want YYYY-MM-DD"},
		{"anniversary", graph.Field{Name: "anniversary", Value: "20100612"}, graph.Field{Name: "anniversary", Value: "2010-06-12"}, ""},
		{"anniversary bad", graph.Field{Name: "anniversary", Value: "2010-06-31"}, graph.Field{}, "want YYYY-MM-DD"},

		// url
		{"url https", graph.Field{Name: "url", Value: "https://example.com/~alice?x=1#y"}, graph.Field{Name: "url", Value: "https://example.com/~alice?x=1#y"}, ""},
		{"url relative", graph.Field{Name: "url", Value: "x"}, graph.Field{}, `url "x": want an absolute http(s) URL`},
		{"url no scheme", graph.Field{Name: "url", Value: "www.example.com"}, graph.Field{}, "want an absolute http(s) URL"},
		{"url ftp", graph.Field{Name: "url", Value: "ftp://example.com/"}, graph.Field{}, "want an absolute http(s) URL"},
		{"url javascript", graph.Field{Name: "url", Value: "javascript:alert(1)"}, graph.Field{}, "want an absolute http(s) URL"},
		{"url space", graph.Field{Name: "url", Value: "https://exa mple.com"}, graph.Field{}, "want an absolute http(s) URL"},

		// photo
		{"photo URL", graph.Field{Name: "photo", Value: "https://example.com/a.jpg"}, graph.Field{Name: "photo", Value: "https://example.com/a.jpg"}, ""},
		{"photo data URI", graph.Field{Name: "photo", Value: "data:image/png;base64,iVBORw0KGgo="}, graph.Field{Name: "photo", Value: "data:image/png;base64,iVBORw0KGgo="}, ""},
		{"photo data URI near 48 KiB", graph.Field{Name: "photo", Value: photo}, graph.Field{Name: "photo", Value: photo}, ""},
		{"photo data URI over 48 KiB", graph.Field{Name: "photo", Value: photo + "AAAAAAAA"}, graph.Field{}, "over the 48 KiB limit"},
		{"photo bad base64", graph.Field{Name: "photo", Value: "data:image/png;base64,!!!"}, graph.Field{}, "no valid base64"},
		{"photo not an image", graph.Field{Name: "photo", Value: "data:text/html;base64,PGI+"}, graph.Field{}, "want an http(s) URL or a data:image/"},
		{"photo file URI", graph.Field{Name: "photo", Value: "file:///etc/passwd"}, graph.Field{}, "want an http(s) URL or a data:image/"},
		{"photo long URL", graph.Field{Name: "photo", Value: "https://example.com/" + strings.Repeat("a", 4<<10)}, graph.Field{}, "over the 4 KiB limit for a URL"},

		// n, adr, org
		{"n", graph.Field{Name: "n", Value: "Rao ; Asha;;Dr.;"}, graph.Field{Name: "n", Value: "Rao;Asha;;Dr.;"}, ""},
		{"n too many components", graph.Field{Name: "n", Value: "a;b;c;d;e;f"}, graph.Field{}, "6 components is over 5: want family;given;additional;prefix;suffix"},
		{"n all empty", graph.Field{Name: "n", Value: ";;;;"}, graph.Field{}, "every component is empty"},
		{"adr", graph.Field{Name: "adr", Value: ";;1 Main St, Apt 4;Springfield;IL;62701;USA", Types: []string{"HOME"}}, graph.Field{Name: "adr", Value: ";;1 Main St, Apt 4;Springfield;IL;62701;USA", Types: []string{"home"}}, ""},
		{"adr too many components", graph.Field{Name: "adr", Value: "a;b;c;d;e;f;g;h"}, graph.Field{}, "8 components is over 7"},
		{"org with units", graph.Field{Name: "org", Value: "Acme;R&D;Lab 3"}, graph.Field{Name: "org", Value: "Acme;R&D;Lab 3"}, ""},
		{"org empty components", graph.Field{Name: "org", Value: ";"}, graph.Field{}, "every component is empty"},

		// gender
		{"gender", graph.Field{Name: "gender", Value: "f"}, graph.Field{Name: "gender", Value: "F"}, ""},
		{"gender with identity", graph.Field{Name: "gender", Value: "O; non-binary"}, graph.Field{Name: "gender", Value: "O;non-binary"}, ""},
		{"gender identity only", graph.Field{Name: "gender", Value: ";it's complicated"}, graph.Field{Name: "gender", Value: ";it's complicated"}, ""},
		{"gender empty identity", graph.Field{Name: "gender", Value: "M;"}, graph.Field{Name: "gender", Value: "M"}, ""},
		{"gender word", graph.Field{Name: "gender", Value: "female"}, graph.Field{}, "want M, F, O, N or U"},
		{"gender three parts", graph.Field{Name: "gender", Value: "F;a;b"}, graph.Field{}, "want M, F, O, N or U"},

		// geo
		{"geo", graph.Field{Name: "geo", Value: "GEO:52.52,-13.405"}, graph.Field{Name: "geo", Value: "geo:52.52,-13.405"}, ""},
		{"geo poles", graph.Field{Name: "geo", Value: "geo:-90,180"}, graph.Field{Name: "geo", Value: "geo:-90,180"}, ""},
		{"geo 3.0 form", graph.Field{Name: "geo", Value: "52.52;13.405"}, graph.Field{}, "want geo:latitude,longitude"},
		{"geo out of range", graph.Field{Name: "geo", Value: "geo:91,0"}, graph.Field{}, "latitude must be within ±90"},
		{"geo NaN", graph.Field{Name: "geo", Value: "geo:NaN,0"}, graph.Field{}, "want geo:latitude,longitude"},
		{"geo three numbers", graph.Field{Name: "geo", Value: "geo:1,2,3"}, graph.Field{}, "want geo:latitude,longitude"},
		{"geo hex", graph.Field{Name: "geo", Value: "geo:0x1p-2,0"}, graph.Field{}, "want geo:latitude,longitude"},

		// impp
		{"impp xmpp", graph.Field{Name: "impp", Value: "xmpp:alice@example.com", Types: []string{"Home"}}, graph.Field{Name: "impp", Value: "xmpp:alice@example.com", Types: []string{"home"}}, ""},
		{"impp sip", graph.Field{Name: "impp", Value: "sip:alice@example.com"}, graph.Field{Name: "impp", Value: "sip:alice@example.com"}, ""},
		{"impp no scheme", graph.Field{Name: "impp", Value: "alice@example.com"}, graph.Field{}, "want a URI such as xmpp:alice@example.com"},
		{"impp empty", graph.Field{Name: "impp", Value: "xmpp:"}, graph.Field{}, "want a URI"},

		// categories, nickname, title, role
		{"categories", graph.Field{Name: "categories", Value: "friends, climbing ,work"}, graph.Field{Name: "categories", Value: "friends,climbing,work"}, ""},
		{"categories empty item", graph.Field{Name: "categories", Value: "a,,b"}, graph.Field{}, "empty category"},
		{"nickname", graph.Field{Name: "nickname", Value: "Ash"}, graph.Field{Name: "nickname", Value: "Ash"}, ""},
		{"title", graph.Field{Name: "title", Value: "CTO; co-founder"}, graph.Field{Name: "title", Value: "CTO; co-founder"}, ""},
		{"role", graph.Field{Name: "role", Value: "treasurer"}, graph.Field{Name: "role", Value: "treasurer"}, ""},

		// tz
		{"tz name", graph.Field{Name: "tz", Value: "America/Argentina/Buenos_Aires"}, graph.Field{Name: "tz", Value: "America/Argentina/Buenos_Aires"}, ""},
		{"tz UTC", graph.Field{Name: "tz", Value: "UTC"}, graph.Field{Name: "tz", Value: "UTC"}, ""},
		{"tz Etc", graph.Field{Name: "tz", Value: "Etc/GMT+5"}, graph.Field{Name: "tz", Value: "Etc/GMT+5"}, ""},
		{"tz offset", graph.Field{Name: "tz", Value: "+01:00"}, graph.Field{Name: "tz", Value: "+01:00"}, ""},
		{"tz basic offset", graph.Field{Name: "tz", Value: "-0530"}, graph.Field{Name: "tz", Value: "-05:30"}, ""},
		{"tz hour offset", graph.Field{Name: "tz", Value: "+09"}, graph.Field{Name: "tz", Value: "+09:00"}, ""},
		{"tz bad offset", graph.Field{Name: "tz", Value: "+25:00"}, graph.Field{}, "want an IANA zone like Europe/Berlin or an offset like +01:00"},
		{"tz bad colon", graph.Field{Name: "tz", Value: "+:01"}, graph.Field{}, "want an IANA zone"},
		{"tz spaces", graph.Field{Name: "tz", Value: "Central European Time"}, graph.Field{}, "want an IANA zone"},
		{"tz empty part", graph.Field{Name: "tz", Value: "Europe//Berlin"}, graph.Field{}, "want an IANA zone"},

		// lang
		{"lang", graph.Field{Name: "lang", Value: "pt-BR"}, graph.Field{Name: "lang", Value: "pt-BR"}, ""},
		{"lang script", graph.Field{Name: "lang", Value: "zh-Hant-TW"}, graph.Field{Name: "lang", Value: "zh-Hant-TW"}, ""},
		{"lang name", graph.Field{Name: "lang", Value: "English"}, graph.Field{Name: "lang", Value: "English"}, ""}, // 7 letters: a valid tag shape
		{"lang bad", graph.Field{Name: "lang", Value: "en_US"}, graph.Field{}, "want a language tag like en or pt-BR"},
		{"lang single letter", graph.Field{Name: "lang", Value: "e"}, graph.Field{}, "want a language tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := graph.NormalizeField(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NormalizeField(%+v) = %v, want error containing %q", tc.in, err, tc.err)
				}
				want := graph.ErrInvalidField
				if strings.HasPrefix(tc.err, "unknown field") {
					want = graph.ErrUnknownField
				}
				if !errors.Is(err, want) {
					t.Errorf("NormalizeField(%+v) = %v, want errors.Is %v", tc.in, err, want)
				}
				return
			}
			require.NoError(t, err)
			if !fieldsEqual(got, tc.want) {
				t.Errorf("NormalizeField(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
			again, err := graph.NormalizeField(got)
			if err != nil || !fieldsEqual(again, got) {
				t.Errorf("NormalizeField(%+v) = %+v, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func fieldsEqual(a, b graph.Field) bool {
	return a.Name == b.Name && a.Value == b.Value && slices.Equal(a.Types, b.Types) && (a.Types == nil) == (b.Types == nil)
}

func TestNormalizeCard(t *testing.T) {
	fields := func(kv ...string) graph.Card {
		var c graph.Card
		for i := 0; i < len(kv); i += 2 {
			c.Fields = append(c.Fields, graph.Field{Name: kv[i], Value: kv[i+1]})
		}
		return c
	}
	tests := []struct {
		name string
		in   graph.Card
		want graph.Card
		err  string
	}{
		{"fn only", fields("FN", " Asha "), fields("fn", "Asha"), ""},
		{"n only", fields("n", "Rao;Asha;;;"), fields("n", "Rao;Asha;;;"), ""},
		{"email only", fields("email", "a@example.com"), fields("email", "a@example.com"), ""},
		{"tel only", fields("tel", "+49 30 1234"), fields("tel", "+49 30 1234"), ""},
		{"org only", fields("org", "Acme"), fields("org", "Acme"), ""},
		{"order kept, many emails", fields("note", "hi", "email", "a@x.org", "fn", "A", "email", "b@x.org"), fields("note", "hi", "email", "a@x.org", "fn", "A", "email", "b@x.org"), ""},
		{"empty card", graph.Card{}, graph.Card{}, "a card needs at least one field"},
		{"two fn", fields("fn", "A", "fn", "B"), graph.Card{}, `fn "B": a card has at most one fn`},
		{"two bday", fields("fn", "A", "bday", "2000-01-01", "BDAY", "20000101"), graph.Card{}, "a card has at most one bday"},
		{"invalid field", fields("fn", "A", "email", "x@"), graph.Card{}, `email "x@": missing domain`},
		{"unknown field", fields("fn", "A", "x-foo", "bar"), graph.Card{}, `unknown field "x-foo"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := graph.NormalizeCard(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NormalizeCard(%+v) = %v, want error containing %q", tc.in, err, tc.err)
				}
				if !errors.Is(err, graph.ErrInvalidField) && !errors.Is(err, graph.ErrUnknownField) {
					t.Errorf("NormalizeCard(%+v) = %v, want a graph field error", tc.in, err)
				}
				return
			}
			require.NoError(t, err)
			if !slices.EqualFunc(got.Fields, tc.want.Fields, fieldsEqual) {
				t.Errorf("NormalizeCard(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeCardDoesNotModifyInput(t *testing.T) {
	in := graph.Card{Fields: []graph.Field{{Name: "FN", Value: " A ", Types: nil}, {Name: "TEL", Value: "1", Types: []string{"CELL"}}}}
	_, err := graph.NormalizeCard(in)
	require.NoError(t, err)
	if in.Fields[0].Name != "FN" || in.Fields[1].Types[0] != "CELL" {
		t.Errorf("NormalizeCard modified its input: %+v", in)
	}
}

// FuzzNormalizeField checks that a normalised field is its own normal form.
func FuzzNormalizeField(f *testing.F) {
	for _, name := range graph.FieldNames() {
		f.Add(name, "x", "")
	}
	f.Add("bday", "--0229", "")
	f.Add("n", " Rao ; Asha;;;", "")
	f.Add("tz", "-0530", "")
	f.Add("gender", "o; x ", "")
	f.Add("tel", "+1 555", "CELL")
	f.Add("email", "a@b.c", "Work")
	f.Add("photo", "data:image/png;base64,AAAA", "")
	f.Add("categories", "a , b", "")
	f.Add("geo", "GEO:1,2", "")
	f.Fuzz(func(t *testing.T, name, value, typ string) {
		in := graph.Field{Name: name, Value: value}
		if typ != "" {
			in.Types = strings.Split(typ, ",")
		}
		got, err := graph.NormalizeField(in)
		if err != nil {
			if !errors.Is(err, graph.ErrInvalidField) && !errors.Is(err, graph.ErrUnknownField) {
				t.Fatalf("NormalizeField(%+v) = %v, want a graph field error", in, err)
			}
			return
		}
		again, err := graph.NormalizeField(got)
		if err != nil || !fieldsEqual(again, got) {
			t.Fatalf("NormalizeField(%+v) = %+v, %v; want %+v unchanged", got, again, err, got)
		}
	})
}

func ExampleNormalizeField() {
	f, err := graph.NormalizeField(graph.Field{Name: "BDAY", Value: "19960415"})
	fmt.Println(f.Name, f.Value, err)
	_, err = graph.NormalizeField(graph.Field{Name: "email", Value: "alice@"})
	fmt.Println(err)
	// Output:
	// bday 1996-04-15 <nil>
	// email "alice@": missing domain
}

// TestCheckReceived: a friend's card is checked as local input is; what
// fails is kept as sent, marked Raw and Invalid with a reason, and never
// used as a valid value.
func TestCheckReceived(t *testing.T) {
	hostile := "Mal\x1b[2J\x1b[31mORY\x1b]0;owned\x07"
	in := graph.Card{Fields: []graph.Field{
		{Name: "fn", Value: hostile},
		{Name: "note", Value: "nul\x00byte"},
		{Name: "email", Value: "not-an-email"},
		{Name: "x-evil", Value: "what"},
		{Name: "EMAIL", Value: " ok@example.org "},
		{Name: "bday", Value: "2000-01-02"},
		{Name: "bday", Value: "2001-01-02"},
	}}
	got := graph.CheckReceived(in)
	require.Len(t, got.Fields, len(in.Fields), "nothing is dropped")
	for i, want := range []struct {
		value   string
		invalid bool
	}{{hostile, true}, {"nul\x00byte", true}, {"not-an-email", true}, {"what", true}, {"ok@example.org", false}, {"2000-01-02", false}, {"2001-01-02", true}} {
		f := got.Fields[i]
		if f.Value != want.value || (f.Invalid != "") != want.invalid || f.Raw != want.invalid {
			t.Errorf("CheckReceived field %d = %+v, want value %q, invalid %v", i, f, want.value, want.invalid)
		}
	}
	if fn := got.First("fn"); fn != "" {
		t.Errorf("First(fn) = %q: an invalid name is used as if valid", fn)
	}
	if !strings.Contains(got.Fields[0].Invalid, "control character") {
		t.Errorf("fn's reason = %q, want it to name the control character", got.Fields[0].Invalid)
	}
	b, err := spec.Marshal(got)
	require.NoError(t, err)
	if bytes.Contains(b, []byte("control character")) {
		t.Error("the reason went into the encoded card; it must stay out of entries")
	}
}
