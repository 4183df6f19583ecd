package vcard_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
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

// show renders a field compactly: name=value, then [types], pref=n,
// group, parameters and "raw" where set.
func show(f graph.Field) string {
	s := f.Name + "=" + f.Value
	if len(f.Types) > 0 {
		s += " [" + strings.Join(f.Types, ",") + "]"
	}
	if f.Pref > 0 {
		s += fmt.Sprintf(" pref=%d", f.Pref)
	}
	if f.Group != "" {
		s += " group=" + f.Group
	}
	for _, p := range f.Params {
		s += " " + p.Name + "=" + strings.Join(p.Values, ",")
	}
	if f.Raw {
		s += " raw"
	}
	return s
}

func showCards(cards []graph.Card) [][]string {
	out := [][]string{}
	for _, c := range cards {
		fs := []string{}
		for _, f := range c.Fields {
			fs = append(fs, show(f))
		}
		out = append(out, fs)
	}
	return out
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(tb, err)
	return b
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     [][]string
		warnings []string
		charset  string
	}{
		{
			name: "Apple 3.0 export",
			in:   string(readTestdata(t, "apple.vcf")),
		},
		{
			name: "Google 3.0 export",
			in:   string(readTestdata(t, "google.vcf")),
		},
		{
			name: "RFC 6350 4.0 example, LF line endings",
			in:   string(readTestdata(t, "rfc6350.vcf")),
		},
		{
			name: "type parameter spellings and preference",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:T\r\n" +
				"TEL;TYPE=HOME,WORK:1\r\n" +
				"TEL;type=home;type=work:2\r\n" +
				"TEL;TYPE=\"home,work\":3\r\n" +
				"TEL;TYPE=pref;TYPE=My Label;TYPE=cell:5\r\n" +
				"EMAIL;PREF=2:a@example.org\r\n" +
				"END:VCARD\r\n",
			want: [][]string{{"fn=T", "tel=1 [home,work]", "tel=2 [home,work]", "tel=3 [home,work]",
				"tel=5 [my label,cell] pref=1", "email=a@example.org pref=2"}},
		},
		{
			name: "vCard 2.1: bare parameters, quoted-printable with soft line breaks, charset",
			in: "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n" +
				"TEL;WORK;PREF;VOICE:+49 30 1234\r\n" +
				"NOTE;QUOTED-PRINTABLE:Now's the time =\r\nfor all folk to come=\r\n to the aid.=0D=0ASecond line\r\n" +
				"ADR;HOME;CHARSET=ISO-8859-1:;;Stra\xdfe 1;K\xf6ln;;;\r\n" +
				"END:VCARD\r\n",
			want: [][]string{{"n=Müller;Jürgen;;;", "tel=+49 30 1234 [work,voice] pref=1",
				"note=Now's the time for all folk to come to the aid.\nSecond line", "adr=;;Straße 1;Köln;;; [home]"}},
			charset: "ISO-8859-1",
		},
		{
			name: "folding, blank lines, lower case, BOM, no final newline",
			in: "\ufeff\r\nbegin:vcard\r\nversion:4.0\r\nfn:Jo\r\n hn\r\n\tDoe\r\n" +
				"email;type=work:john.doe@exa\r\n mple.com\r\n\r\n" +
				"note:multi\\nline\\, escaped\\; text \\\\o/ C:\\Users\r\nend:vcard",
			want: [][]string{{"fn=JohnDoe", "email=john.doe@example.com [work]", "note=multi\nline, escaped; text \\o/ C:\\Users"}},
		},
		{
			name: "dates in every form",
			in: "BEGIN:VCARD\nFN:D\nBDAY;VALUE=date:1990-01-02\nANNIVERSARY:20100612\nEND:VCARD\n" +
				"BEGIN:VCARD\nFN:E\nBDAY:--0229\nANNIVERSARY:2010-06-12T10:00:00Z\nEND:VCARD\n" +
				"BEGIN:VCARD\nFN:F\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-12-24\nEND:VCARD\n" +
				"BEGIN:VCARD\nFN:G\nBDAY;VALUE=text:circa 1800\nEND:VCARD\n",
			want: [][]string{
				{"fn=D", "bday=1990-01-02 VALUE=date", "anniversary=2010-06-12"},
				{"fn=E", "bday=--02-29", "anniversary=2010-06-12T10:00:00Z"},
				{"fn=F", "bday=--12-24 X-APPLE-OMIT-YEAR=1604"},
				{"fn=G", "bday=circa 1800 VALUE=text raw"},
			},
			warnings: []string{`card 4 (line 17, "G"): bday "circa 1800": want YYYY-MM-DD, --MM-DD or YYYYMMDD; kept as written`},
		},
		{
			name: "structural dropped, empty skipped, the rest kept",
			in: "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:individual\r\nUID:urn:uuid:1\r\nREV:20240101T000000Z\r\nPRODID:x\r\nPROFILE:VCARD\r\n" +
				"FN:Empty\r\nNOTE:\r\nN:;;;;\r\nTITLE: \r\nitem1.X-FOO:bar\r\nX-FOO:baz\r\nLABEL:x\r\nEND:VCARD\r\n",
			want: [][]string{{"kind=individual raw", "uid=urn:uuid:1", "fn=Empty", "x-foo=bar group=item1 raw", "x-foo=baz raw", "label=x raw"}},
		},
		{
			name: "lenient values",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:L\r\nURL:www.example.com/x\r\nTEL;VALUE=uri:tel:+49-30-1234;ext=5\r\n" +
				"ADR:;;Flat 2\\n1 High St;Leeds;;;UK\r\nBDAY;VALUE=date-time:1990-01-02T03:04:05Z\r\nNOTE;ENCODING=8BIT:ok\r\n" +
				"EMAIL;INTERNET:\"Omega\"\r\n  <omega@example.com>\r\nTEL:p1234p5678w9\r\n# a comment line\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=L", "url=http://www.example.com/x", "tel=tel:+49-30-1234;ext=5",
				"adr=;;Flat 2\n1 High St;Leeds;;;UK", "bday=1990-01-02T03:04:05Z VALUE=date-time", "note=ok",
				"email=omega@example.com", "tel=p1234p5678w9"}},
			warnings: []string{
				`card 1 (line 9, "L"): EMAIL "\"Omega\" <omega@example.com>": kept the address omega@example.com`,
				`card 1 (line 12, "L"): left out a line (not a property): "# a comment line"`,
			},
		},
		{
			name: "values that fail a check are kept as written, a second FN too",
			in:   "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ann\r\nFN;ALTID=1;LANGUAGE=ja:アン\r\nFN:Anne\r\nEMAIL:x@\r\nN:a;b;c;d;e;f\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=Ann", "fn=アン ALTID=1 LANGUAGE=ja raw", "fn=Anne raw", "email=x@ raw", "n=a;b;c;d;e;f raw"}},
			warnings: []string{
				`card 1 (line 5, "Ann"): a second FN kept as written: "Anne"`,
				`card 1 (line 6, "Ann"): email "x@": missing domain; kept as written`,
				`card 1 (line 7, "Ann"): n "a;b;c;d;e;f": 6 components is over 5: want family;given;additional;prefix;suffix; kept as written`,
			},
		},
		{
			name: "Apple labels, groups, escaped commas, SORT-AS, IMPP service, ADR label",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nN;SORT-AS=\"Mann,Anna\":Mann;Anna;;;\r\nitem1.EMAIL;type=INTERNET;type=pref:a@example.org\r\n" +
				"item1.X-ABLabel:_$!<Other>!$_\r\nitem2.X-ABDATE;type=pref:2004-01-01\r\nitem2.X-ABLabel:_$!<Anniversary>!$_\r\n" +
				"X-ABRELATEDNAMES;type=pref:Jane\r\nCATEGORIES:Smith\\, Jones,Friends\r\nIMPP;X-SERVICE-TYPE=Skype:skype:anna\r\n" +
				"ADR;TYPE=home;LABEL=\"1 Main St\\nTown\":;;1 Main St;Town;;;\r\nRELATED;TYPE=friend:urn:uuid:x\r\nEND:VCARD\r\n",
			want: [][]string{{"n=Mann;Anna;;; SORT-AS=Mann,Anna", "email=a@example.org pref=1 group=item1",
				"x-ablabel=_$!<Other>!$_ group=item1 raw", "x-abdate=2004-01-01 pref=1 group=item2 raw",
				"x-ablabel=_$!<Anniversary>!$_ group=item2 raw", "x-abrelatednames=Jane pref=1 raw",
				"categories=Smith\\, Jones,Friends raw", "impp=skype:anna X-SERVICE-TYPE=Skype",
				"adr=;;1 Main St;Town;;; [home] LABEL=1 Main St\\nTown", "related=urn:uuid:x [friend] raw"}},
		},
		{
			name: "vCard 2.1 continuations: unindented base64, a backslash at the end, a soft break before END",
			in: "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:C\r\nKEY;ENCODING=BASE64:aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n\r\n" +
				"ADR;HOME:;;Hermann v. Brevern\\\r\n9999999\\\r\nPackstation 999;Hamburg;;99999;Deutschland\r\n" +
				"NOTE;ENCODING=QUOTED-PRINTABLE:abc=\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=C", "key=data:text/plain;base64,aGVsbG8gd29ybGQ= raw",
				"adr=;;Hermann v. Brevern\n9999999\nPackstation 999;Hamburg;;99999;Deutschland [home]", "note=abc="}},
		},
		{
			name: "charsets: 8-bit quoted-printable in a UTF-8 file, UTF-8 labelled Latin-1, an unusable label",
			in: "BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n" +
				"FN;CHARSET=ISO-8859-1:Jürgen Müller\r\nNOTE;CHARSET=ISO-2022-KR:plain\r\nEND:VCARD\r\n",
			want:    [][]string{{"n=Müller;Jürgen", "fn=Jürgen Müller", "note=plain"}},
			charset: "Windows-1252",
		},
		{
			name: "bad parameters are left out, not the field",
			in: "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:P\r\nTEL;X-FOO BAR=1;TYPE=a,b,c,d,e,f,g,h,i;X-OK=1:+1 555 0100\r\n" +
				"NOTE;X-A=\" b \":x\r\nX-TAB:a\tb\r\nTITLE:a\tb\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=P", "tel=+1 555 0100 [a,b,c,d,e,f,g,h] X-OK=1", "note=x X-A= b ", "x-tab=a b raw", "title=a b"}},
			warnings: []string{
				`card 1 (line 4, "P"): TEL: left out the parameter "X-FOO BAR" (a bad name, too many, or values over 1 KiB)`,
				`card 1 (line 4, "P"): TEL: left out the type "i" (at most 8 types of at most 32 characters)`,
			},
		},
		{
			name:     "a line with too many parameters is left out",
			in:       "BEGIN:VCARD\r\nFN:M\r\nX-MANY" + strings.Repeat(";A=1", 100) + ":x\r\nEND:VCARD\r\n",
			want:     [][]string{{"fn=M"}},
			warnings: []string{`card 1 (line 3, "M"): left out a line (65 parameters is over the limit of 64): "X-MANY;A=1;A=1;A=1;A=1;A=1;A=1;A=1;A=1;A…"`},
		},
		{
			name: "UTF-16 with a byte order mark",
			in:   string(utf16le("\ufeffBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë\r\nEND:VCARD\r\n")),
			want: [][]string{{"fn=Zoë"}}, charset: "UTF-16LE",
		},
		{
			name: "Windows-1251 without a CHARSET",
			in:   "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:\xc2\xb3\xf2\xe0\xeb\xb3\xe9\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=Віталій"}}, charset: "Windows-1251",
		},
		{
			name: "inline data: KEY, LOGO and an unknown property",
			in: "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:K\r\nKEY;ENCODING=b;TYPE=PGP:aGk=\r\nLOGO;ENCODING=b;TYPE=GIF:R0lGODlh\r\n" +
				"X-MS-CARDPICTURE;ENCODING=BASE64;TYPE=X:aGk=\r\nEND:VCARD\r\n",
			want: [][]string{{"fn=K", "key=data:application/pgp-keys;base64,aGk= raw", "logo=data:image/gif;base64,R0lGODlh raw",
				"x-ms-cardpicture=aGk= [x] ENCODING=b raw"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := vcard.Decode(strings.NewReader(tc.in), vcard.Options{})
			require.NoError(t, err)
			if len(res.Skipped) != 0 {
				t.Errorf("Skipped = %v, want none", res.Skipped)
			}
			got := showCards(res.Cards)
			if tc.want == nil {
				// A whole file: golden in testdata.
				golden := filepath.Join("testdata", strings.Fields(tc.name)[0]+".fields")
				checkGolden(t, golden, got)
			} else if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("Decode cards:\n got %q\nwant %q", got, tc.want)
			}
			var warnings []string
			for _, w := range res.Warnings {
				warnings = append(warnings, w.String())
			}
			if tc.want != nil && !slices.Equal(warnings, tc.warnings) {
				t.Errorf("Warnings:\n got %q\nwant %q", warnings, tc.warnings)
			}
			if res.Charset != tc.charset {
				t.Errorf("Charset = %q, want %q", res.Charset, tc.charset)
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func checkGolden(t *testing.T, path string, got [][]string) {
	t.Helper()
	var b strings.Builder
	for i, c := range got {
		fmt.Fprintf(&b, "card %d\n", i+1)
		for _, f := range c {
			fmt.Fprintf(&b, "  %q\n", f)
		}
	}
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	if b.String() != string(want) {
		t.Errorf("decoded fields differ from %s (go test -update rewrites it):\n got:\n%s\nwant:\n%s", path, b.String(), want)
	}
}

func utf16le(s string) []byte {
	var out []byte
	for _, r := range s {
		out = append(out, byte(r), byte(r>>8))
	}
	return append([]byte{}, out...)
}

func TestDecodePhoto(t *testing.T) {
	// A 800×600 photo of noise, far over what an entry holds.
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}))
	if buf.Len() < 512<<10 {
		t.Fatalf("test photo is %d bytes, want over 512 KiB", buf.Len())
	}
	b64 := base64.StdEncoding.EncodeToString(buf.Bytes())
	in := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Pic\r\nPHOTO;ENCODING=b;TYPE=JPEG:" + b64 + "\r\nEND:VCARD\r\n"
	res, err := vcard.Decode(strings.NewReader(in), vcard.Options{})
	require.NoError(t, err)
	p := res.Cards[0].First("photo")
	if !strings.HasPrefix(p, "data:image/jpeg;base64,") || len(p) > 48<<10 {
		t.Fatalf("photo = %d bytes %.40q…, want a data:image/jpeg URI within 48 KiB", len(p), p)
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(p, "data:image/jpeg;base64,"))
	require.NoError(t, err)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	require.NoError(t, err)
	if cfg.Width*3 != cfg.Height*4 {
		t.Errorf("scaled photo is %d×%d, want the 4:3 aspect ratio kept", cfg.Width, cfg.Height)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "PHOTO scaled down from") {
		t.Errorf("Warnings = %v, want one saying the photo was scaled down", res.Warnings)
	}

	// Over 10 MB: left out, said.
	huge := "BEGIN:VCARD\r\nFN:Huge\r\nPHOTO;ENCODING=b:" + strings.Repeat("AAAA", (vcard.MaxPhotoSize/3)+10) + "\r\nEND:VCARD\r\n"
	res, err = vcard.Decode(strings.NewReader(huge), vcard.Options{})
	require.NoError(t, err)
	if res.Cards[0].First("photo") != "" || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Msg, "over the 10.0 MB limit") {
		t.Errorf("photo over 10 MB: fields %v, warnings %v; want it left out with a warning", showCards(res.Cards), res.Warnings)
	}
}

// threeCards has a broken second card starting on line 5.
const threeCards = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dr. Rao\r\nPHOTO;ENCODING=b:ab:cd\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cy\r\nEND:VCARD\r\n"

func TestDecodeInvalidCards(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		err     string   // the first CardError's message
		skipped []string // with SkipInvalid: every CardError's message
		valid   []string // with SkipInvalid: the FN of every valid card
	}{
		{
			name:    "damaged base64 in the middle",
			in:      threeCards,
			err:     `card 2 (line 5, "Dr. Rao"): line 8: PHOTO: the base64 data is damaged (illegal base64 data at input byte 2)`,
			skipped: []string{`card 2 (line 5, "Dr. Rao"): line 8: PHOTO: the base64 data is damaged (illegal base64 data at input byte 2)`},
			valid:   []string{"Ann", "Cy"},
		},
		{
			name:    "missing END at the end",
			in:      "BEGIN:VCARD\nFN:Ann\nEND:VCARD\n\nBEGIN:VCARD\nFN:Bob\nEMAIL:bob@example.com\n",
			err:     `card 2 (line 5, "Bob"): the file ends before END:VCARD`,
			skipped: []string{`card 2 (line 5, "Bob"): the file ends before END:VCARD`},
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
			name:    "nothing in it",
			in:      "BEGIN:VCARD\nVERSION:4.0\nEND:VCARD\nBEGIN:VCARD\nFN:Bob\nEND:VCARD\n",
			err:     "card 1 (line 1): a card needs at least one field",
			skipped: []string{"card 1 (line 1): a card needs at least one field"},
			valid:   []string{"Bob"},
		},
		{
			name:    "card over 16 MiB",
			in:      "BEGIN:VCARD\nFN:Big\n" + strings.Repeat("NOTE:"+strings.Repeat("x", 1<<20)+"\n", 17) + "END:VCARD\nBEGIN:VCARD\nFN:Small\nEND:VCARD\n",
			err:     `card 1 (line 1, "Big"): the card is over 16 MiB`,
			skipped: []string{`card 1 (line 1, "Big"): the card is over 16 MiB`},
			valid:   []string{"Small"},
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

var filler = bytes.Repeat([]byte{'a'}, 64<<10)

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
	for k < len(p) {
		k += copy(p[k:], filler) // copy, not a loop: fast under -race
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
		if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Error(), "over 16 MiB") {
			t.Errorf("Skipped = %v, want the one card over 16 MiB", res.Skipped)
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
	if len(res.Warnings) != 0 {
		t.Errorf("Warnings = %v, want none", res.Warnings[:min(3, len(res.Warnings))])
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
	in := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Lee\r\nitem1.EMAIL;TYPE=INTERNET,HOME,pref:ann@example.com\r\nitem1.X-ABLABEL:private\r\nEND:VCARD\r\n" +
		"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nEMAIL:bob@\r\nEND:VCARD\r\n"
	res, err := vcard.Decode(strings.NewReader(in), vcard.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range res.Cards {
		for _, f := range c.Fields {
			fmt.Printf("%s %q types=%v pref=%d group=%q raw=%v\n", f.Name, f.Value, f.Types, f.Pref, f.Group, f.Raw)
		}
	}
	fmt.Println(res.Warnings[0])
	// Output:
	// fn "Ann Lee" types=[] pref=0 group="" raw=false
	// email "ann@example.com" types=[home] pref=1 group="item1" raw=false
	// x-ablabel "private" types=[] pref=0 group="item1" raw=true
	// fn "Bob" types=[] pref=0 group="" raw=false
	// email "bob@" types=[] pref=0 group="" raw=true
	// card 2 (line 10, "Bob"): email "bob@": missing domain; kept as written
}

// noiseJPEG returns a JPEG of random pixels, which compresses badly.
func noiseJPEG(tb testing.TB, w, h, quality int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		img.Pix[i] = byte(rng.Uint32())
	}
	var buf bytes.Buffer
	require.NoError(tb, jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}))
	return buf.Bytes()
}

// TestDecodeFitsEntry: a photo and a logo that each fit, but not together,
// are scaled down until the card fits an entry.
func TestDecodeFitsEntry(t *testing.T) {
	pic := noiseJPEG(t, 160, 120, 95)
	b64 := base64.StdEncoding.EncodeToString(pic)
	if n := len(b64); n < 30<<10 || n > 39<<10 {
		t.Fatalf("test image is %d bytes in base64, want 30 to 39 KiB", n)
	}
	in := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Two\r\nPHOTO;ENCODING=b;TYPE=JPEG:" + b64 + "\r\nLOGO;ENCODING=b;TYPE=JPEG:" + b64 + "\r\nEND:VCARD\r\n"
	res, err := vcard.Decode(strings.NewReader(in), vcard.Options{})
	require.NoError(t, err)
	total := 0
	for _, f := range res.Cards[0].Fields {
		total += len(f.Value)
	}
	if total > 60<<10 {
		t.Errorf("card holds %d bytes of values, want at most 60 KiB", total)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0].Msg, "so that the card fits an entry") {
		t.Errorf("Warnings = %v, want one saying an image was scaled down to fit", res.Warnings)
	}

	// Data that is no image cannot be scaled: the card is refused, saying why.
	key := strings.Repeat("QUFB", 9<<10)
	in = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Keys\r\nKEY;ENCODING=b:" + key + "\r\nKEY;ENCODING=b:" + key + "\r\nEND:VCARD\r\n"
	_, err = vcard.Decode(strings.NewReader(in), vcard.Options{})
	if !errors.Is(err, vcard.ErrInvalidCard) || !strings.Contains(err.Error(), "over the 60 KB one entry holds") {
		t.Errorf("Decode(two 36 KiB keys) = %v, want ErrInvalidCard saying the card is over what an entry holds", err)
	}
}
