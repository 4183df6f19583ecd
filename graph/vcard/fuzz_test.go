package vcard

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
)

// FuzzDecode checks that Decode never panics and that every card it returns
// survives Encode and Decode unchanged (but for the FN that Encode adds to
// a card without one).
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.vcf"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(vcardtest.Generate(3, 1))
	f.Add([]byte("BEGIN:VCARD\nFN:A\nNOTE:a\\;b\\\\;c\\,d\\N\\x\nEND:VCARD\nBEGIN:VCARD\nN:x;y\nEND:VCARD\n"))
	f.Add([]byte("BEGIN:VCARD\nFN;X=\"a:b\":c\nEND:VCARD"))
	f.Add([]byte(""))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;QUOTED-PRINTABLE:M=FCller;J=\r\n=FCrgen\r\nTEL;WORK;PREF:1\r\nitem1.X-ABLabel:x\r\nEND:VCARD\r\n"))
	f.Add([]byte("BEGIN:VCARD\nFN:\xc2\xb3\xf2\nADR;LABEL=\"a^nb\";TYPE=home:;;x\\ny;;;;\nKEY;ENCODING=b;TYPE=PGP:aGk=\nEND:VCARD\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Decode(bytes.NewReader(data), Options{SkipInvalid: true})
		if err != nil {
			if res != nil {
				t.Fatalf("Decode() = %+v, %v; want no result with an error", res, err)
			}
			return
		}
		var buf bytes.Buffer
		if err := Encode(&buf, res.Cards, EncodeOptions{}); err != nil {
			t.Fatalf("Encode(decoded cards) = %v\ncards: %+v", err, res.Cards)
		}
		if len(res.Cards) == 0 {
			return
		}
		again, err := Decode(bytes.NewReader(buf.Bytes()), Options{})
		if err != nil {
			t.Fatalf("Decode(Encode(cards)) = %v\nencoded:\n%s", err, buf.Bytes())
		}
		if len(again.Cards) != len(res.Cards) {
			t.Fatalf("Decode(Encode(%d cards)) = %d cards", len(res.Cards), len(again.Cards))
		}
		for i, c := range res.Cards {
			want := c.Fields
			if c.First("fn") == "" && fallbackFN(c) != "" {
				want = append([]graph.Field{{Name: "fn", Value: fallbackFN(c)}}, want...)
			}
			if !slices.EqualFunc(again.Cards[i].Fields, want, func(a, b graph.Field) bool {
				return a.Name == b.Name && a.Value == b.Value && slices.Equal(a.Types, b.Types) &&
					a.Pref == b.Pref && a.Group == b.Group && a.Raw == b.Raw &&
					slices.EqualFunc(a.Params, b.Params, func(p, q graph.Param) bool { return p.Name == q.Name && slices.Equal(p.Values, q.Values) })
			}) {
				t.Fatalf("card %d after a round trip:\n got %+v\nwant %+v\nencoded:\n%s", i+1, again.Cards[i].Fields, want, buf.Bytes())
			}
		}
	})
}
