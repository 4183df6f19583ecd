package vcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	govcard "github.com/emersion/go-vcard"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
)

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
}

func TestRoundTrip(t *testing.T) {
	want := make([]graph.Card, len(roundTripCards))
	for i, c := range roundTripCards {
		var err error
		want[i], err = graph.NormalizeCard(c)
		require.NoError(t, err)
	}
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards))
	res, err := vcard.Decode(bytes.NewReader(buf.Bytes()), vcard.Options{})
	require.NoError(t, err, "decoding:\n%s", buf.String())
	requireCardsEqual(t, res.Cards, want)
	if len(res.Dropped) != 0 {
		t.Errorf("Dropped = %v, want none", res.Dropped)
	}
}

func TestEncodeFormat(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards))
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
		uid  string
		want string
		err  string
	}{
		{
			name: "with UID",
			card: card(f("fn", "Ann")),
			uid:  "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
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
			name: "part of a profile without a name",
			card: card(f("note", "hi")),
			want: "BEGIN:VCARD\r\nVERSION:4.0\r\nNOTE:hi\r\nEND:VCARD\r\n",
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
		{name: "bad UID", card: card(f("fn", "Ann")), uid: "a\rb", err: "encoding card: the UID holds control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := vcard.EncodeCard(&buf, tc.card, tc.uid)
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
	err := vcard.Encode(&bytes.Buffer{}, []graph.Card{card(f("fn", "A")), card(f("x-foo", "bar"))})
	if !errors.Is(err, graph.ErrUnknownField) || !strings.HasPrefix(err.Error(), "encoding card 2: ") {
		t.Errorf("Encode() = %v, want ErrUnknownField for card 2", err)
	}
	err = vcard.Encode(failingWriter{}, roundTripCards)
	if !errors.Is(err, os.ErrClosed) {
		t.Errorf("Encode(failing writer) = %v, want the writer's error", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

// TestEncodeInterop checks that go-vcard's own decoder reads our output.
func TestEncodeInterop(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, vcard.Encode(&buf, roundTripCards[:1]))
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
	if err := vcard.Encode(&buf, cards); err != nil {
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
