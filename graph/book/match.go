package book

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/kith-p2p/kith/graph"
)

// letters that do not decompose into a base letter and a mark.
var foldLetters = strings.NewReplacer("ß", "ss", "ø", "o", "æ", "ae", "œ", "oe", "ł", "l", "đ", "d", "ð", "d", "þ", "th", "ı", "i")

// Fold returns s lower-cased and without diacritics ("Émile Müller" →
// "emile muller").
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return foldLetters.Replace(b.String())
}

// Words returns the folded words of s: runs of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Digits returns the ASCII digits of s.
func Digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// minTelDigits is the fewest digits a phone number needs to count as the
// same number as another: shorter ones (extensions, short codes) say
// little about who it is.
const minTelDigits = 5

// TelKey returns the number by its digits alone, an international "00"
// written as "+" would be; "" for a number too short to compare.
func TelKey(v string) string {
	d := Digits(v)
	if strings.HasPrefix(strings.TrimSpace(v), "00") {
		d = strings.TrimPrefix(d, "00")
	}
	if len(d) < minTelDigits {
		return ""
	}
	return d
}

// EmailKey returns an address compared case-insensitively.
func EmailKey(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// NameKey returns a name compared case-, diacritics-, whitespace- and
// order-insensitively: its folded words, sorted ("Rao, Priya" and "priya
// rao" give "priya rao"); "" when it has no words.
func NameKey(name string) string {
	w := Words(name)
	slices.Sort(w)
	return strings.Join(w, " ")
}

// renderN renders a structured name (family;given;additional;prefix;suffix)
// as "prefix given additional family suffix".
func renderN(v string) string {
	p := strings.Split(v, ";")
	for len(p) < 5 {
		p = append(p, "")
	}
	return strings.Join(strings.Fields(strings.Join([]string{p[3], p[1], p[2], p[0], p[4]}, " ")), " ")
}

// NameKeys returns the [NameKey]s of a card's names: its fn and its n.
func NameKeys(c graph.Card) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Raw || f.Name != "fn" && f.Name != "n" {
			continue
		}
		v := f.Value
		if f.Name == "n" {
			v = renderN(v)
		}
		if k := NameKey(v); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// BestName returns what to call a card: its fn, else its n, nickname,
// email, organisation, phone, messaging address or web address, else "".
// A contact is never named by its id or peer ID.
func BestName(c graph.Card) string {
	for _, name := range []string{"fn", "n", "nickname", "email", "org", "tel", "impp", "url"} {
		for _, f := range c.Fields {
			if f.Raw || f.Name != name {
				continue
			}
			v := strings.TrimSpace(f.Value)
			switch name {
			case "n":
				v = renderN(v)
			case "org":
				v = strings.Join(slices.DeleteFunc(strings.Split(v, ";"), func(s string) bool { return strings.TrimSpace(s) == "" }), ", ")
			}
			if v != "" {
				return v
			}
		}
	}
	return ""
}
