package vcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
)

func f(name, value string, types ...string) graph.Field {
	return graph.Field{Name: name, Value: value, Types: types}
}

func card(fields ...graph.Field) graph.Card { return graph.Card{Fields: fields} }

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return b
}

// requireCardsEqual compares cards field by field.
func requireCardsEqual(tb testing.TB, got, want []graph.Card) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d cards, want %d:\ngot  %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i].Fields, want[i].Fields
		for j := range max(len(g), len(w)) {
			switch {
			case j >= len(g):
				tb.Errorf("card %d field %d: missing, want %+v", i+1, j+1, w[j])
			case j >= len(w):
				tb.Errorf("card %d field %d: got extra %+v", i+1, j+1, g[j])
			case g[j].Name != w[j].Name || g[j].Value != w[j].Value || !slices.Equal(g[j].Types, w[j].Types):
				tb.Errorf("card %d field %d: got %+v, want %+v", i+1, j+1, g[j], w[j])
			}
		}
	}
}

const photo = "data:image/jpeg;base64,/9j/4EQggjz95vHCazD5DsfdAeSIdTSiDwsNBMNu2A5x4P13sHZw65QL1TNflz2q2GGbkf/JEfV8ztRYu78s4DdTyb36D/AWnclXVnQGZnbPsLTriQLEQmnaHPa6ZtP4ttSxAKnqDnVaXC6CECQqCOcH"

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []graph.Card
		dropped map[string]int
	}{
		{
			name: "Apple 3.0 export",
			in:   string(readTestdata(t, "apple.vcf")),
			want: []graph.Card{
				card(
					f("n", "Rao;Asha;;Dr.;"),
					f("fn", "Dr. Asha Rao"),
					f("org", "Umbrella Health;Oncology"),
					f("title", "Head of Research"),
					f("email", "asha.rao@umbrella.example", "work"),
					f("email", "asha@example.com", "home"),
					f("tel", "+1 (555) 010-0199", "cell", "voice"),
					f("tel", "+1 555 010 0100", "work", "voice"),
					f("adr", ";;1 Infinite Loop, Building 2;Cupertino;CA;95014;United States", "home"),
					f("note", "Met at the conference, Boston.\nLikes tea; hates coffee."),
					f("url", "http://www.umbrella.example/~asha"),
					f("bday", "--03-15"),
					f("photo", photo),
				),
				card(
					f("fn", "Acme Corp"),
					f("org", "Acme Corp;"),
					f("tel", "030 1234 5678", "work", "voice"),
				),
			},
			dropped: map[string]int{"X-ABADR": 1, "X-ABLABEL": 1, "X-SOCIALPROFILE": 1, "X-ABSHOWAS": 1},
		},
		{
			name: "Google 3.0 export",
			in:   string(readTestdata(t, "google.vcf")),
			want: []graph.Card{
				card(
					f("fn", "Bob Baker"),
					f("n", "Baker;Bob;;;"),
					f("nickname", "Bobby"),
					f("email", "bob@example.com", "home"),
					f("email", "bob.baker@work.example"),
					f("tel", "+44 20 7946 0958", "cell"),
					f("adr", ";;221B Baker Street;London;;NW1 6XE;United Kingdom", "work"),
					f("org", "Globex"),
					f("title", "Engineer"),
					f("bday", "1985-07-04"),
					f("url", "https://bob.example"),
					f("note", "Plays bass, drums and the occasional very long folded note that goes on and on."),
					f("categories", "myContacts,Friends"),
				),
				card(
					f("fn", "Zoë Wójcik"),
					f("n", "Wójcik;Zoë;;;"),
					f("email", "zoe@example.org"),
					f("geo", "geo:52.2297,21.0122"),
					f("tz", "+01:00"),
				),
			},
			dropped: map[string]int{"X-ABLABEL": 1},
		},
		{
			name: "RFC 6350 4.0 example, LF line endings",
			in:   string(readTestdata(t, "rfc6350.vcf")),
			want: []graph.Card{card(
				f("fn", "Simon Perreault"),
				f("n", "Perreault;Simon;;;ing. jr,M.Sc."),
				f("bday", "--02-03"),
				f("anniversary", "2009-08-08"),
				f("gender", "M"),
				f("lang", "fr"),
				f("lang", "en"),
				f("org", "Viagenie", "work"),
				f("adr", ";Suite D2-630;2875 Laurier;Quebec;QC;G1V 2M2;Canada", "work"),
				f("tel", "+1-418-656-9254", "work", "voice"),
				f("tel", "+1-418-262-6501", "work", "cell", "voice", "video", "text"),
				f("email", "simon.perreault@viagenie.ca", "work"),
				f("geo", "geo:46.772673,-71.282945"),
				f("tz", "-05:00"),
				f("url", "http://nomis80.org", "home"),
			)},
			dropped: map[string]int{"KEY": 1},
		},
		{
			name: "type parameter spellings",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:T\r\n" +
				"TEL;TYPE=HOME,WORK:1\r\n" +
				"TEL;type=home;type=work:2\r\n" +
				"TEL;TYPE=\"home,work\":3\r\n" +
				"TEL;TYPE=pref;TYPE=My Label;TYPE=cell:5\r\n" +
				"END:VCARD\r\n",
			want: []graph.Card{card(
				f("fn", "T"),
				f("tel", "1", "home", "work"),
				f("tel", "2", "home", "work"),
				f("tel", "3", "home", "work"),
				f("tel", "5", "cell"),
			)},
		},
		{
			name: "folding, blank lines, lower case, BOM, no final newline",
			in: "\ufeff\r\nbegin:vcard\r\nversion:4.0\r\nfn:Jo\r\n hn\r\n\tDoe\r\n" +
				"email;type=work:john.doe@exa\r\n mple.com\r\n\r\n" +
				"note:multi\\nline\\, escaped\\; text \\\\o/ C:\\Users\r\nend:vcard",
			want: []graph.Card{card(
				f("fn", "JohnDoe"),
				f("email", "john.doe@example.com", "work"),
				f("note", "multi\nline, escaped; text \\o/ C:\\Users"),
			)},
		},
		{
			name: "dates in every form",
			in: "BEGIN:VCARD\nFN:D\nBDAY;VALUE=date:1990-01-02\nANNIVERSARY:20100612\nEND:VCARD\n" +
				"BEGIN:VCARD\nFN:E\nBDAY:--0229\nANNIVERSARY:2010-06-12T10:00:00Z\nEND:VCARD\n" +
				"BEGIN:VCARD\nFN:F\nBDAY:--12-24\nEND:VCARD\n",
			want: []graph.Card{
				card(f("fn", "D"), f("bday", "1990-01-02"), f("anniversary", "2010-06-12")),
				card(f("fn", "E"), f("bday", "--02-29"), f("anniversary", "2010-06-12")),
				card(f("fn", "F"), f("bday", "--12-24")),
			},
		},
		{
			name: "empty properties skipped, structural ignored, grouped dropped",
			in: "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:individual\r\nUID:urn:uuid:1\r\nREV:20240101T000000Z\r\nPRODID:x\r\n" +
				"FN:Empty\r\nNOTE:\r\nN:;;;;\r\nTITLE: \r\nitem1.X-FOO:bar\r\nX-FOO:baz\r\nLABEL:x\r\nEND:VCARD\r\n",
			want:    []graph.Card{card(f("fn", "Empty"))},
			dropped: map[string]int{"X-FOO": 2, "LABEL": 1},
		},
		{
			name: "lenient values",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:L\r\nURL:www.example.com/x\r\nTEL;VALUE=uri:tel:+49-30-1234;ext=5\r\n" +
				"ADR:;;Flat 2\\n1 High St;Leeds;;;UK\r\nBDAY;VALUE=date-time:1990-01-02T03:04:05Z\r\nNOTE;ENCODING=8BIT:ok\r\nEND:VCARD\r\n",
			want: []graph.Card{card(
				f("fn", "L"),
				f("url", "http://www.example.com/x"),
				f("tel", "+49-30-1234"),
				f("adr", ";;Flat 2, 1 High St;Leeds;;;UK"),
				f("bday", "1990-01-02"),
				f("note", "ok"),
			)},
		},
		{
			name: "quoted parameter with a colon",
			in:   "BEGIN:VCARD\r\nVERSION:4.0\r\nFN;ALTID=\"a:b\";LANGUAGE=en:Ann\\, Lee\r\nEND:VCARD\r\n",
			want: []graph.Card{card(f("fn", "Ann, Lee"))},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := vcard.Decode(strings.NewReader(tc.in), vcard.Options{})
			require.NoError(t, err)
			requireCardsEqual(t, res.Cards, tc.want)
			if tc.dropped == nil {
				tc.dropped = map[string]int{}
			}
			if !maps.Equal(res.Dropped, tc.dropped) {
				t.Errorf("Dropped = %v, want %v", res.Dropped, tc.dropped)
			}
			if len(res.Skipped) != 0 {
				t.Errorf("Skipped = %v, want none", res.Skipped)
			}
		})
	}
}

// threeCards has a broken second card starting on line 5.
const threeCards = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. Rao\r\nEMAIL;TYPE=INTERNET:x@\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy\r\nEND:VCARD\r\n"

func TestDecodeInvalidCards(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		err     string   // the first CardError's message
		sentry  error    // a cause it wraps, if any
		skipped []string // with SkipInvalid: every CardError's message
		valid   []string // with SkipInvalid: the FN of every valid card
	}{
		{
			name:    "broken card in the middle",
			in:      threeCards,
			err:     `card 2 (line 5, "Dr. Rao"): email "x@": missing domain`,
			sentry:  graph.ErrInvalidField,
			skipped: []string{`card 2 (line 5, "Dr. Rao"): email "x@": missing domain`},
			valid:   []string{"Ann", "Cy"},
		},
		{
			name:    "missing END at the end",
			in:      "BEGIN:VCARD\nFN:Ann\nEND:VCARD\n\nBEGIN:VCARD\nFN:Bob\nEMAIL:bob@example.com\n",
			err:     `card 2 (line 5, "Bob"): no END:VCARD`,
			skipped: []string{`card 2 (line 5, "Bob"): no END:VCARD`},
			valid:   []string{"Ann"},
		},
		{
			name:    "missing END before the next card",
			in:      "BEGIN:VCARD\nFN:Ann\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): no END:VCARD before the BEGIN:VCARD on line 3`,
			skipped: []string{`card 1 (line 1, "Ann"): no END:VCARD before the BEGIN:VCARD on line 3`},
			valid:   []string{"Bob"},
		},
		{
			name:    "malformed line",
			in:      "BEGIN:VCARD\nFN:Ann\ngarbage here\nEND:VCARD\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 3: malformed property "garbage here"`,
			skipped: []string{`card 1 (line 1, "Ann"): line 3: malformed property "garbage here"`},
			valid:   []string{"Bob"},
		},
		{
			name:    "malformed parameter",
			in:      "BEGIN:VCARD\nFN:Ann\nEMAIL;TYPE=\"work:a@b.c\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 3: malformed property "EMAIL;TYPE=\"work:a@b.c"`,
			skipped: []string{`card 1 (line 1, "Ann"): line 3: malformed property "EMAIL;TYPE=\"work:a@b.c"`},
		},
		{
			name:    "vCard 2.1 parameter without TYPE=",
			in:      "BEGIN:VCARD\nFN:Ann\nTEL;HOME;VOICE:123\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 3: malformed property "TEL;HOME;VOICE:123"`,
			skipped: []string{`card 1 (line 1, "Ann"): line 3: malformed property "TEL;HOME;VOICE:123"`},
		},
		{
			name:    "parameters without a value",
			in:      "BEGIN:VCARD\nFN:Ann\nTEL;TYPE=cell\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 3: malformed property "TEL;TYPE=cell"`,
			skipped: []string{`card 1 (line 1, "Ann"): line 3: malformed property "TEL;TYPE=cell"`},
		},
		{
			name:    "END of something else",
			in:      "BEGIN:VCARD\nFN:Ann\nEND:VCALENDAR\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 3: malformed property "END:VCALENDAR"`,
			skipped: []string{`card 1 (line 1, "Ann"): line 3: malformed property "END:VCALENDAR"`},
		},
		{
			name:    "line numbers count folded lines",
			in:      "BEGIN:VCARD\r\nNOTE:a\r\n b\r\n c\r\nFN:Ann\r\nEND:VCARD\r\n\r\nBEGIN:VCARD\r\nFN:\r\n Folded Name\r\nBDAY:2024-13-40\r\nEND:VCARD\r\n",
			err:     `card 2 (line 8, "Folded Name"): bday "2024-13-40": want YYYY-MM-DD, --MM-DD or YYYYMMDD`,
			skipped: []string{`card 2 (line 8, "Folded Name"): bday "2024-13-40": want YYYY-MM-DD, --MM-DD or YYYYMMDD`},
			valid:   []string{"Ann"},
		},
		{
			name:    "no name",
			in:      "BEGIN:VCARD\nVERSION:4.0\nNOTE:who?\nEND:VCARD\n",
			err:     "card 1 (line 1): a card needs a name (fn or n), an email, a phone or an org",
			sentry:  graph.ErrInvalidField,
			skipped: []string{"card 1 (line 1): a card needs a name (fn or n), an email, a phone or an org"},
		},
		{
			name:    "two FN",
			in:      "BEGIN:VCARD\nFN:Ann\nFN:Anne\nEND:VCARD\n",
			err:     `card 1 (line 1, "Anne"): fn "Anne": a card has at most one fn`,
			skipped: []string{`card 1 (line 1, "Anne"): fn "Anne": a card has at most one fn`},
		},
		{
			name:    "quoted-printable",
			in:      "BEGIN:VCARD\nVERSION:2.1\nFN:Ann\nNOTE;ENCODING=QUOTED-PRINTABLE:caf=C3=A9\nEND:VCARD\n",
			err:     `card 1 (line 1, "Ann"): line 4: NOTE: quoted-printable is not supported; export as vCard 3.0 or 4.0`,
			skipped: []string{`card 1 (line 1, "Ann"): line 4: NOTE: quoted-printable is not supported; export as vCard 3.0 or 4.0`},
		},
		{
			name:    "card over 1 MiB",
			in:      "BEGIN:VCARD\nFN:Big\n" + strings.Repeat("NOTE:"+strings.Repeat("x", 1000)+"\n", 1100) + "END:VCARD\nBEGIN:VCARD\nFN:Small\nEND:VCARD\n",
			err:     `card 1 (line 1, "Big"): the card is over 1 MiB`,
			skipped: []string{`card 1 (line 1, "Big"): the card is over 1 MiB`},
			valid:   []string{"Small"},
		},
		{
			name:    "one line over 1 MiB",
			in:      "BEGIN:VCARD\nFN:Big\nPHOTO:" + strings.Repeat("x", 2<<20) + "\n " + strings.Repeat("y", 100) + "\nEND:VCARD\n",
			err:     `card 1 (line 1, "Big"): the card is over 1 MiB`,
			skipped: []string{`card 1 (line 1, "Big"): the card is over 1 MiB`},
		},
		{
			name:    "photo over 48 KiB",
			in:      "BEGIN:VCARD\nFN:Pic\nPHOTO;ENCODING=b;TYPE=PNG:" + strings.Repeat("AAAA", 13<<10) + "\nEND:VCARD\n",
			err:     `card 1 (line 1, "Pic"): photo "data:image/png;base64,AAAAAAAAAA…": 53270 bytes is over the 48 KiB limit`,
			skipped: []string{`card 1 (line 1, "Pic"): photo "data:image/png;base64,AAAAAAAAAA…": 53270 bytes is over the 48 KiB limit`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := vcard.Decode(strings.NewReader(tc.in), vcard.Options{})
			if err == nil || err.Error() != tc.err {
				t.Fatalf("Decode() error = %v, want %q", err, tc.err)
			}
			if res != nil {
				t.Errorf("Decode() result = %+v, want nil on error", res)
			}
			var ce *vcard.CardError
			if !errors.As(err, &ce) || !errors.Is(err, vcard.ErrInvalidCard) {
				t.Errorf("Decode() error = %#v, want a *CardError matching ErrInvalidCard", err)
			}
			if tc.sentry != nil && !errors.Is(err, tc.sentry) {
				t.Errorf("Decode() error = %v, want it to wrap %v", err, tc.sentry)
			}

			res, err = vcard.Decode(strings.NewReader(tc.in), vcard.Options{SkipInvalid: true})
			require.NoError(t, err)
			var skipped, valid []string
			for _, ce := range res.Skipped {
				skipped = append(skipped, ce.Error())
			}
			for _, c := range res.Cards {
				valid = append(valid, c.First("fn"))
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("Skipped = %q, want %q", skipped, tc.skipped)
			}
			if !slices.Equal(valid, tc.valid) {
				t.Errorf("valid cards = %q, want %q", valid, tc.valid)
			}
		})
	}
}

func TestDecodeCardError(t *testing.T) {
	_, err := vcard.Decode(strings.NewReader(threeCards), vcard.Options{})
	var ce *vcard.CardError
	require.ErrorAs(t, err, &ce)
	if ce.Index != 2 || ce.Line != 5 || ce.Name != "Dr. Rao" {
		t.Errorf("CardError = %+v, want card 2, line 5, Dr. Rao", ce)
	}
}

func TestDecodeNotVCard(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"empty", "", vcard.ErrEmpty, "vcard: empty input"},
		{"white space", "\r\n  \n\t\n", vcard.ErrEmpty, "vcard: empty input"},
		{"byte order mark only", "\ufeff", vcard.ErrEmpty, "vcard: empty input"},
		{"binary", "PK\x03\x04\x14\x00\x00\x00\x08\x00\xff\xfe\x00\x01", vcard.ErrNotVCard, `vcard: not a vCard file: line 1: want BEGIN:VCARD, got "PK\x03\x04\x14\x00\x00\x00\b\x00\xff\xfe\x00\x01"`},
		{"JPEG", "\xff\xd8\xff\xe0\x00\x10JFIF", vcard.ErrNotVCard, "line 1: want BEGIN:VCARD"},
		{"UTF-16", "\xff\xfeB\x00E\x00G\x00", vcard.ErrNotVCard, "vcard: not a vCard file: line 1: the text is UTF-16; save it as UTF-8"},
		{"CSV", "\n\nName,Email\nAnn,ann@example.com\n", vcard.ErrNotVCard, `line 3: want BEGIN:VCARD, got "Name,Email"`},
		{"line between cards", "BEGIN:VCARD\nFN:A\nEND:VCARD\nFN:B\n", vcard.ErrNotVCard, `line 4: want BEGIN:VCARD, got "FN:B"`},
		{"continuation first", " BEGIN:VCARD\nFN:A\nEND:VCARD\n", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []vcard.Options{{}, {SkipInvalid: true}} {
				res, err := vcard.Decode(strings.NewReader(tc.in), opts)
				if tc.want == nil {
					require.NoError(t, err)
					continue
				}
				if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("Decode(%q, %+v) = %v, want %v containing %q", tc.in, opts, err, tc.want, tc.msg)
				}
				if res != nil {
					t.Errorf("Decode(%q) result = %+v, want nil", tc.in, res)
				}
			}
		})
	}
}

// endlessReader produces a card whose note never ends, n bytes in all,
// without holding them.
type endlessReader struct {
	head string
	n    int64
}

func (r *endlessReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n)]
	k := copy(p, r.head)
	r.head = r.head[k:]
	for i := k; i < len(p); i++ {
		p[i] = 'a'
	}
	r.n -= int64(len(p))
	return len(p), nil
}

// sized claims a length, as bytes.Reader does.
type sized struct {
	io.Reader
	n int
}

func (s sized) Len() int { return s.n }

func TestDecodeTooLarge(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big.vcf")
	require.NoError(t, os.WriteFile(big, []byte("BEGIN:VCARD\n"), 0o600))
	require.NoError(t, os.Truncate(big, vcard.MaxFileSize+1)) // sparse
	file, err := os.Open(big)
	require.NoError(t, err)
	t.Cleanup(func() { file.Close() })

	head := "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nNOTE:"
	tests := []struct {
		name string
		r    func() io.Reader
		msg  string
	}{
		{"stream", func() io.Reader { return &endlessReader{head: head, n: vcard.MaxFileSize + 1} }, "vcard: input too large: the input is over the 64 MiB import limit; split the file"},
		{"stream far over", func() io.Reader { return &endlessReader{head: head, n: 1 << 40} }, "the input is over the 64 MiB import limit"},
		{"known length", func() io.Reader { return sized{strings.NewReader(head), 100 << 20} }, "vcard: input too large: 105 MB is over the 64 MiB import limit; split the file"},
		{"file", func() io.Reader { return file }, "vcard: input too large: 68 MB is over the 64 MiB import limit; split the file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []vcard.Options{{}, {SkipInvalid: true}} {
				res, err := vcard.Decode(tc.r(), opts)
				if !errors.Is(err, vcard.ErrTooLarge) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("Decode() = %v, want ErrTooLarge containing %q", err, tc.msg)
				}
				if res != nil {
					t.Errorf("Decode() result = %+v, want nil", res)
				}
			}
		})
	}

	t.Run("at the limit", func(t *testing.T) {
		r := &endlessReader{head: head, n: vcard.MaxFileSize - int64(len("\r\nEND:VCARD\r\n"))}
		res, err := vcard.Decode(io.MultiReader(r, strings.NewReader("\r\nEND:VCARD\r\n")), vcard.Options{SkipInvalid: true})
		require.NoError(t, err)
		if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Error(), "over 1 MiB") {
			t.Errorf("Skipped = %v, want the one card over 1 MiB", res.Skipped)
		}
	})
}

func TestGenerate(t *testing.T) {
	data := vcardtest.Generate(10000, 1)
	if !bytes.Equal(data, vcardtest.Generate(10000, 1)) {
		t.Error("Generate(10000, 1) differs between calls")
	}
	if bytes.Equal(data, vcardtest.Generate(10000, 2)) {
		t.Error("Generate(10000, 1) = Generate(10000, 2)")
	}
	res, err := vcard.Decode(bytes.NewReader(data), vcard.Options{})
	require.NoError(t, err)
	if len(res.Cards) != 10000 {
		t.Fatalf("Decode(Generate(10000, 1)) = %d cards, want 10000", len(res.Cards))
	}
	for name := range res.Dropped {
		if name != "X-ABLABEL" {
			t.Errorf("Dropped %s, want only X-ABLABEL", name)
		}
	}
	counts := map[string]int{}
	for _, c := range res.Cards {
		for _, f := range c.Fields {
			counts[f.Name]++
		}
	}
	for _, name := range []string{"fn", "n", "email", "tel", "adr", "org", "title", "bday", "note", "url"} {
		if counts[name] < 10000 {
			t.Errorf("%d %s fields in 10000 cards, want at least one a card", counts[name], name)
		}
	}
	if len(vcardtest.Generate(0, 1)) != 0 {
		t.Error("Generate(0, 1) is not empty")
	}
}

func BenchmarkDecode10k(b *testing.B) {
	data := vcardtest.Generate(10000, 1)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := vcard.Decode(bytes.NewReader(data), vcard.Options{})
		if err != nil || len(res.Cards) != 10000 {
			b.Fatalf("Decode() = %v cards, %v", len(res.Cards), err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "cards/s")
}

func ExampleDecode() {
	in := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nEMAIL;TYPE=INTERNET,HOME:ann@example.com\r\nX-ABLABEL:x\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEMAIL:bob@\r\nEND:VCARD\r\n"
	res, err := vcard.Decode(strings.NewReader(in), vcard.Options{SkipInvalid: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Cards {
		fmt.Println(c.Fields)
	}
	fmt.Println(res.Skipped[0])
	fmt.Println(res.Dropped)
	// Output:
	// [{fn Ann Lee []} {email ann@example.com [home]}]
	// card 2 (line 7, "Bob"): email "bob@": missing domain
	// map[X-ABLABEL:1]
}
