package vcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	govcard "github.com/emersion/go-vcard"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
)

func f(name, value string, types ...string) graph.Field {
	return graph.Field{Name: name, Value: value, Types: types}
}

func card(fields ...graph.Field) graph.Card { return graph.Card{Fields: fields} }

const photo = "data:image/jpeg;base64,/9j/4EQggjz95vHCazD5DsfdAeSIdTSiDwsNBMNu2A5x4P13sHZw65QL1TNflz2q2GGbkf/JEfV8ztRYu78s4DdTyb36D/AWnclXVnQGZnbPsLTriQLEQmnaHPa6ZtP4ttSxAKnqDnVaXC6CECQqCOcH"

// roundTripCards use every field with the values that are hard to escape.
var roundTripCards = []graph.Card{
	card(
		f("fn", "Dr. Asha Rao, PhD; \"Ash\" \\o/"),
		f("n", "Rao;Asha;Kumari, Devi;Dr.;PhD\\"),
		f("nickname", "Ash,Ashi"),
		f("email", "asha.rao+kith@umbrella.example", "work", "pref-1"),
		f("email", "zoë@bücher.example"),
		f("tel", "+1 (555) 010-0199", "cell", "voice"),
		f("adr", ";Floor 3, Room 12;1 Main St\\Rear;Springfield;IL;62701;USA", "home"),
		f("bday", "1996-04-15"),
		f("anniversary", "--06-12"),
		f("gender", "O;non-binary, mostly"),
		f("org", "Initech, Inc.;R&D;Lab: 3"),
		f("title", "CTO; co-founder"),
		f("role", "treasurer"),
		f("url", "https://example.com/a,b;c?x=1&y=2#frag", "home"),
		f("note", "Line one, with comma; and semicolon\nLine two\twith a tab and a C:\\Users\\path and \\n literally\n"+strings.Repeat("A long line of text that will have to be folded — with ünïcödé — ", 8)),
		f("photo", photo),
		f("impp", "xmpp:asha@umbrella.example", "work"),
		f("categories", "friends,climbing,café"),
		f("tz", "-05:30"),
		f("geo", "geo:52.52,-13.405"),
		f("lang", "pt-BR"),
	),
	card(f("fn", "Bo"), f("tz", "Europe/Berlin"), f("email", "bo@example.com")),
	card(f("fn", strings.Repeat("日本語", 60))),
	card(
		f("uid", "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"),
		f("fn", "Extras"),
		graph.Field{Name: "email", Value: "a@example.org", Pref: 1, Group: "item1"},
		graph.Field{Name: "x-ablabel", Value: "_$!<Other>!$_", Group: "item1", Raw: true},
		graph.Field{Name: "n", Value: "Mann;Anna;;;", Params: []graph.Param{{Name: "SORT-AS", Values: []string{"Mann", "Anna"}}}},
		graph.Field{Name: "adr", Value: ";;1 Main St\nBack;Town;;;", Types: []string{"home"}, Params: []graph.Param{{Name: "LABEL", Values: []string{"1 Main St\\nTown: ^ 'x'"}}}},
		graph.Field{Name: "categories", Value: `Smith\, Jones,Friends`, Raw: true},
		graph.Field{Name: "key", Value: "data:application/pgp-keys;base64,aGk=", Raw: true},
		graph.Field{Name: "member", Value: "urn:uuid:x", Raw: true},
		graph.Field{Name: "tel", Value: "tel:+1-555-0100;ext=7", Pref: 3},
		graph.Field{Name: "bday", Value: "--04-12", Params: []graph.Param{{Name: "X-APPLE-OMIT-YEAR", Values: []string{"1604"}}}},
		graph.Field{Name: "x-ms-cardpicture", Value: "aGk=", Types: []string{"jpeg"}, Params: []graph.Param{{Name: "ENCODING", Values: []string{"b"}}}, Raw: true},
	),
}

func fieldsOf(tb testing.TB, cards []graph.Card) [][]string {
	tb.Helper()
	out := [][]string{}
	for _, c := range cards {
		nc, err := graph.NormalizeCard(c)
		require.NoError(tb, err)
		fs := []string{}
		for _, f := range nc.Fields {
			fs = append(fs, show(f))
		}
		out = append(out, fs)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, opts := range []vcard.EncodeOptions{{}, {VCard3: true}} {
		var buf bytes.Buffer
		require.NoError(t, vcard.Encode(&buf, roundTripCards, opts))
		res, err := vcard.Decode(bytes.NewReader(buf.Bytes()), vcard.Options{})
		require.NoError(t, err, "decoding:\n%s", buf.String())
		cards := roundTripCards
		if opts.VCard3 {
			// vCard 3.0 has no rank: TYPE=pref is PREF=1.
			cards = slices.Clone(roundTripCards)
			for i := range cards {
				cards[i].Fields = slices.Clone(cards[i].Fields)
				for j := range cards[i].Fields {
					cards[i].Fields[j].Pref = min(cards[i].Fields[j].Pref, 1)
				}
			}
		}
		got, want := showCards(res.Cards), fieldsOf(t, cards)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("Decode(Encode(%+v)):\n got %q\nwant %q\nencoded:\n%s", opts, got, want, buf.String())
		}
		if len(res.Warnings) != 0 {
			t.Errorf("Warnings = %v, want none", res.Warnings)
		}
	}
}

func TestEncodeVCard3(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards[3:], vcard.EncodeOptions{VCard3: true}))
	out := buf.String()
	for _, want := range []string{
		"BEGIN:VCARD\r\nVERSION:3.0\r\n",
		"\r\nitem1.EMAIL;TYPE=pref:a@example.org\r\n",
		"\r\nitem1.X-ABLABEL:_$!<Other>!$_\r\n",
		"\r\nN;SORT-AS=Mann,Anna:Mann;Anna;;;\r\n",
		"\r\nKEY;TYPE=PGP;ENCODING=b:aGk=\r\n",
		"\r\nTEL;TYPE=pref;VALUE=uri:tel:+1-555-0100;ext=7\r\n",
		"\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12\r\n",
		"\r\nX-MS-CARDPICTURE;TYPE=jpeg;ENCODING=b:aGk=\r\n",
		"\r\nCATEGORIES:Smith\\, Jones,Friends\r\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Encode(vCard 3.0) output lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	require.NoError(t, vcard.Encode(&buf, roundTripCards[3:], vcard.EncodeOptions{}))
	for _, want := range []string{
		"\r\nitem1.EMAIL;PREF=1:a@example.org\r\n",
		"\r\nKEY:data:application/pgp-keys;base64,aGk=\r\n",
		"\r\nTEL;PREF=3;VALUE=uri:tel:+1-555-0100;ext=7\r\n",
		"\r\nBDAY;X-APPLE-OMIT-YEAR=1604:--0412\r\n",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("Encode(vCard 4.0) output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestEncodeFormat(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards, vcard.EncodeOptions{}))
	out := buf.String()
	if !strings.HasPrefix(out, "BEGIN:VCARD\r\nVERSION:4.0\r\n") || !strings.HasSuffix(out, "END:VCARD\r\n") {
		t.Errorf("Encode() = %q..., want BEGIN:VCARD, VERSION:4.0 ... END:VCARD", out[:min(40, len(out))])
	}
	if strings.Count(out, "\n") != strings.Count(out, "\r\n") {
		t.Error("Encode() wrote a bare LF")
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line %d is %d octets, want at most 75: %q", i+1, len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, line)
		}
	}
	for _, want := range []string{
		"\r\nFN:Dr. Asha Rao\\, PhD; \"Ash\" \\\\o/\r\n",
		"\r\nN:Rao;Asha;Kumari\\, Devi;Dr.;PhD\\\\\r\n",
		"\r\nNICKNAME:Ash,Ashi\r\n",
		"\r\nEMAIL;TYPE=work,pref-1:asha.rao+kith@umbrella.example\r\n",
		"\r\nBDAY:19960415\r\n",
		"\r\nANNIVERSARY:--0612\r\n",
		"\r\nTZ;VALUE=utc-offset:-0530\r\n",
		"\r\nURL;TYPE=home:https://example.com/a,b;c?x=1&y=2#frag\r\n",
		"\r\nCATEGORIES:friends,climbing,café\r\n",
		"\r\nNOTE:Line one\\, with comma; and semicolon\\nLine two\twith a tab and a C:\\\\U",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Encode() output lacks %q:\n%s", want, out)
		}
	}
}

func TestEncodeCard(t *testing.T) {
	tests := []struct {
		name string
		card graph.Card
		want string
		err  string
	}{
		{
			name: "with UID",
			card: card(f("uid", "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"), f("fn", "Ann")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\nFN:Ann\r\nEND:VCARD\r\n",
		},
		{
			name: "FN from N",
			card: card(f("n", "Lee;Ann;;;"), f("email", "ann@example.com")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann Lee\r\nN:Lee;Ann;;;\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n",
		},
		{
			name: "FN from email",
			card: card(f("email", "ann@example.com")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:ann@example.com\r\nEMAIL:ann@example.com\r\nEND:VCARD\r\n",
		},
		{
			name: "FN from org",
			card: card(f("org", ";Research"), f("tel", "123")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Research\r\nORG:;Research\r\nTEL:123\r\nEND:VCARD\r\n",
		},
		{
			name: "FN from tel",
			card: card(f("tel", "123")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:123\r\nTEL:123\r\nEND:VCARD\r\n",
		},
		{
			name: "nothing to name it by: an empty FN, as vCard requires one",
			card: card(f("note", "hi")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:\r\nNOTE:hi\r\nEND:VCARD\r\n",
		},
		{
			name: "normalised on the way out",
			card: card(f("FN", " Ann "), f("BDAY", "--0102"), f("tel", "1", "CELL")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nBDAY:--0102\r\nTEL;TYPE=cell:1\r\nEND:VCARD\r\n",
		},
		{
			name: "folding",
			card: card(f("fn", strings.Repeat("x", 80)+strings.Repeat("é", 40))),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:" + strings.Repeat("x", 72) + "\r\n " + strings.Repeat("x", 8) + strings.Repeat("é", 33) + "\r\n " + strings.Repeat("é", 7) + "\r\nEND:VCARD\r\n",
		},
		{name: "invalid field", card: card(f("fn", "Ann"), f("email", "x@")), err: `encoding card: email "x@": missing domain`},
		{name: "unknown field", card: card(f("x-foo", "bar")), err: `encoding card: unknown field "x-foo"`},
		{name: "bad UID", card: card(f("fn", "Ann"), f("uid", "a\rb")), err: `encoding card: uid "a\rb": control character U+000D is not allowed`},
		{name: "raw vCard keyword", card: card(f("fn", "Ann"), graph.Field{Name: "end", Value: "VCARD", Raw: true}), err: `property name "end": vCard's own, not a field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := vcard.EncodeCard(&buf, tc.card, vcard.EncodeOptions{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("EncodeCard() = %v, want error containing %q", err, tc.err)
				}
				return
			}
			require.NoError(t, err)
			if got := buf.String(); got != tc.want {
				t.Errorf("EncodeCard() =\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	err := vcard.Encode(&bytes.Buffer{}, []graph.Card{card(f("fn", "A")), card(f("x-foo", "bar"))}, vcard.EncodeOptions{})
	if !errors.Is(err, graph.ErrUnknownField) || !strings.HasPrefix(err.Error(), "encoding card 2: ") {
		t.Errorf("Encode() = %v, want ErrUnknownField for card 2", err)
	}
	err = vcard.Encode(failingWriter{}, roundTripCards, vcard.EncodeOptions{})
	if !errors.Is(err, os.ErrClosed) {
		t.Errorf("Encode(failing writer) = %v, want the writer's error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestEncodeInterop checks that go-vcard's own decoder reads our output.
func TestEncodeInterop(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards[:1], vcard.EncodeOptions{}))
	vc, err := govcard.NewDecoder(&buf).Decode()
	require.NoError(t, err)
	for _, tc := range []struct{ got, want string }{
		{vc.Value(govcard.FieldVersion), "4.0"},
		{vc.PreferredValue(govcard.FieldFormattedName), "Dr. Asha Rao, PhD; \"Ash\" \\o/"},
		{vc.Name().FamilyName, "Rao"},
		{vc.Name().AdditionalName, "Kumari, Devi"},
		{vc.Address().StreetAddress, "1 Main St\\Rear"},
		{vc.Value(govcard.FieldEmail), "asha.rao+kith@umbrella.example"},
		{vc.Value(govcard.FieldNote)[:34], "Line one, with comma; and semicolo"},
		{strings.Join(vc.Categories(), "|"), "friends|climbing|café"},
		{vc.Value(govcard.FieldPhoto), photo},
	} {
		if tc.got != tc.want {
			t.Errorf("go-vcard read %q, want %q", tc.got, tc.want)
		}
	}
	if types := vc.Get(govcard.FieldEmail).Params.Types(); strings.Join(types, ",") != "work,pref-1" {
		t.Errorf("go-vcard read EMAIL types %q, want work,pref-1", types)
	}
}

func ExampleEncode() {
	cards := []graph.Card{{Fields: []graph.Field{
		{Name: "fn", Value: "Ann Lee"},
		{Name: "email", Value: "ann@example.com", Types: []string{"home"}},
		{Name: "bday", Value: "1990-01-02"},
		{Name: "note", Value: "Met in Lyon, 2019"},
	}}}
	var buf bytes.Buffer
	if err := vcard.Encode(&buf, cards, vcard.EncodeOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(buf.String(), "\r\n", "\n"))
	// Output:
	// BEGIN:VCARD
	// VERSION:4.0
	// FN:Ann Lee
	// EMAIL;TYPE=home:ann@example.com
	// BDAY:19900102
	// NOTE:Met in Lyon\, 2019
	// END:VCARD
}
