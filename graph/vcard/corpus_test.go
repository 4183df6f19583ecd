package vcard

import (
	"bytes"
	"errors"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
)

// TestCorpus reads every real-world file in corpus/vcard/valid: each must
// be accepted whole, and export (4.0 and 3.0) then import must give back
// every property the file had, with its group, parameters, types,
// preference and text.
func TestCorpus(t *testing.T) {
	files := vcardtest.CorpusFiles(t, "valid", 100)
	accepted, lossless := 0, 0
	eachFile(t, files, func(t *testing.T, data []byte) {
		res, err := Decode(bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatalf("Decode = %v", err)
		}
		if len(res.Cards) == 0 {
			t.Fatal("Decode returned no cards")
		}
		accepted++
		for _, w := range res.Warnings {
			t.Logf("warning: %s", w)
			// Nothing is left out of a real file but comment lines.
			if strings.Contains(w.Msg, "left out") && !strings.Contains(w.Msg, `"#`) {
				t.Errorf("lost: %s", w)
			}
		}
		checkImages(t, data, res)
		before := t.Failed()
		for _, opts := range []EncodeOptions{{}, {VCard3: true}} {
			checkLossless(t, data, res, opts)
		}
		if !t.Failed() && !before {
			lossless++
		}
	})
	t.Logf("%d of %d files accepted, %d lossless", accepted, len(files), lossless)
}

// TestCorpusInvalid: each broken file is refused with an error that says
// what is wrong, and no card.
func TestCorpusInvalid(t *testing.T) {
	eachFile(t, vcardtest.CorpusFiles(t, "invalid", 1), func(t *testing.T, data []byte) {
		res, err := Decode(bytes.NewReader(data), Options{})
		if err == nil {
			t.Fatalf("Decode = %d cards, nil; want an error", len(res.Cards))
		}
		if !errors.Is(err, ErrInvalidCard) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrNotVCard) {
			t.Fatalf("Decode = %v; want ErrInvalidCard, ErrEmpty or ErrNotVCard", err)
		}
		t.Logf("refused: %v", err)
		res, err = Decode(bytes.NewReader(data), Options{SkipInvalid: true})
		if err == nil && len(res.Cards) > 0 {
			t.Fatalf("Decode(SkipInvalid) = %d cards; want none", len(res.Cards))
		}
	})
}

// eachFile runs check on each file's bytes, in a subtest named by the file.
func eachFile(t *testing.T, files []string, check func(t *testing.T, data []byte)) {
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			check(t, data)
		})
	}
}

// prop is what a property of a file holds, for comparing.
type prop struct {
	key    string   // GROUP.NAME
	params []string // parameter names but TYPE, PREF, ENCODING, CHARSET
	types  []string // lower case, without pref and internet
	pref   bool
	text   string // letters and digits of the decoded value
	binary bool   // inline data or a data: URI: compared by presence
	line   int
}

// checkLossless exports res's cards, imports them again, and checks that
// each card has every property of the original file.
func checkLossless(t *testing.T, data []byte, res *Result, opts EncodeOptions) {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, res.Cards, opts); err != nil {
		t.Fatalf("Encode(%+v) = %v", opts, err)
	}
	again, err := Decode(bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatalf("Decode(Encode(%+v)) = %v\n%s", opts, err, buf.Bytes())
	}
	if len(again.Cards) != len(res.Cards) {
		t.Fatalf("Decode(Encode(%+v)) = %d cards, want %d", opts, len(again.Cards), len(res.Cards))
	}
	// A second round trip changes nothing.
	var buf2 bytes.Buffer
	if err := Encode(&buf2, again.Cards, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		a, b := strings.Split(buf.String(), "\n"), strings.Split(buf2.String(), "\n")
		i := 0
		for i < min(len(a), len(b)) && a[i] == b[i] {
			i++
		}
		t.Errorf("export → import → export is not stable (%+v): line %d:\nfirst:  %q\nsecond: %q", opts, i+1, a[min(i, len(a)-1)], b[min(i, len(b)-1)])
	}
	tx, _ := toText(data)
	raw, err := split(tx.data)
	if err != nil {
		t.Fatal(err)
	}
	warned := map[int]bool{}
	for _, w := range res.Warnings {
		warned[w.Line] = true
	}
	for i, rc := range raw {
		want := originalProps(&tx, rc, warned)
		got := cardProps(again.Cards[i])
		for _, w := range want {
			j := slices.IndexFunc(got, func(g prop) bool { return g.key == w.key && matches(g, w) })
			if j < 0 {
				t.Errorf("%+v: card %d: line %d: %s lost or changed; want %+v; card has %+v", opts, i+1, w.line, w.key, w, propsNamed(got, w.key))
				continue
			}
			got = slices.Delete(got, j, j+1)
		}
	}
}

func propsNamed(ps []prop, key string) []prop {
	var out []prop
	for _, p := range ps {
		if p.key == key {
			out = append(out, p)
		}
	}
	return out
}

func matches(got, want prop) bool {
	if want.pref && !got.pref {
		return false
	}
	for _, p := range want.params {
		if !slices.Contains(got.params, p) {
			return false
		}
	}
	for _, ty := range want.types {
		if !slices.Contains(got.types, ty) {
			return false
		}
	}
	if want.binary || got.binary {
		return want.binary == got.binary || want.text == ""
	}
	return strings.Contains(got.text, want.text)
}

func originalProps(tx *text, rc *rawCard, warned map[int]bool) []prop {
	var out []prop
	d := &cardDecoder{t: tx, c: rc}
	for i, s := range rc.lines {
		l, ok := parseLine(s, rc.nos[i])
		if !ok || structural(l.name) {
			continue
		}
		value, bin, err := d.value(l)
		if err != nil {
			continue
		}
		p := prop{key: strings.ToUpper(l.group + "." + l.name), line: l.no, binary: bin != nil || hasPrefixFold(strings.TrimSpace(value), "data:")}
		if bp, ok := byName[l.name]; ok && emptyValue(bp, value) || strings.TrimSpace(value) == "" && bin == nil {
			continue
		}
		for _, pa := range l.params {
			switch pa.name {
			case "TYPE":
				for _, v := range pa.values {
					for _, ty := range strings.Split(v, ",") {
						ty = strings.ToLower(strings.TrimSpace(ty))
						_, media := binaryMedia[ty]
						switch {
						case ty == "pref":
							p.pref = true
						case ty == "" || ty == "internet" || p.binary && (media || strings.Contains(ty, "/")):
						default:
							p.types = append(p.types, ty)
						}
					}
				}
			case "PREF":
				p.pref = true
			case "ENCODING", "CHARSET":
			case "VALUE":
				v := strings.TrimSpace(value)
				implied := len(pa.values) == 1 && (l.name == "TZ" && strings.EqualFold(pa.values[0], "utc-offset") && v != "" && (v[0] == '+' || v[0] == '-') ||
					l.name == "TEL" && strings.EqualFold(pa.values[0], "uri") && hasPrefixFold(v, "tel:"))
				if !implied { // by the value: Encode writes it
					p.params = append(p.params, pa.name)
				}
			default:
				p.params = append(p.params, pa.name)
			}
		}
		if !warned[l.no] && !p.binary && firstOf(paramValues(l, "X-APPLE-OMIT-YEAR")) == "" {
			p.text = alnum(unescapeText(value))
		}
		out = append(out, p)
	}
	return out
}

func paramValues(l contentLine, name string) []string {
	for _, p := range l.params {
		if p.name == name {
			return p.values
		}
	}
	return nil
}

func cardProps(c graph.Card) []prop {
	var out []prop
	for _, f := range c.Fields {
		p := prop{key: strings.ToUpper(f.Group + "." + f.Name), types: f.Types, pref: f.Pref > 0,
			binary: hasPrefixFold(f.Value, "data:") || f.Param("ENCODING") != nil}
		for _, pa := range f.Params {
			p.params = append(p.params, pa.Name)
		}
		p.text = alnum(unescapeText(f.Value))
		out = append(out, p)
	}
	return out
}

// alnum keeps the letters and digits of s, lower-cased.
func alnum(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// checkImages: every photo or logo that was an image in the file is still
// one (whole, not cut off), perhaps scaled down.
func checkImages(t *testing.T, data []byte, res *Result) {
	t.Helper()
	tx, _ := toText(data)
	raw, _ := split(tx.data)
	for i, rc := range raw {
		d := &cardDecoder{t: &tx, c: rc}
		wasImage := map[string]int{}
		for j, s := range rc.lines {
			l, ok := parseLine(s, rc.nos[j])
			if !ok || l.name != "PHOTO" && l.name != "LOGO" {
				continue
			}
			_, bin, err := d.value(l)
			if err == nil && bin != nil && isImage(bin) {
				wasImage[strings.ToLower(l.name)]++
			}
		}
		for _, f := range res.Cards[i].Fields {
			if wasImage[f.Name] == 0 || !hasPrefixFold(f.Value, "data:image/") {
				continue
			}
			_, b64, _ := strings.Cut(f.Value, ",")
			b, err := decodeBase64(b64)
			if err != nil || !isImage(b) {
				t.Errorf("card %d: %s is no longer a readable image", i+1, f.Name)
			}
			wasImage[f.Name]--
		}
	}
}

func isImage(b []byte) bool {
	_, _, err := image.Decode(bytes.NewReader(b))
	return err == nil
}
