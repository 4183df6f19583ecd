package vcard

import "strings"

// kind is how a property's value is escaped in vCard text.
type kind uint8

const (
	kindText       kind = iota // text: \\, \n, \, and \; escaped
	kindList                   // comma-separated text list: commas separate
	kindStructured             // ';'-separated components of text
	kindURI                    // a URI, never escaped
	kindTel                    // text, or a tel: URI on input
	kindDate                   // YYYYMMDD or --MMDD on output
	kindTZ                     // a zone name, or a UTC offset on output
)

// property maps a field of the graph registry to its vCard property.
type property struct {
	field string // graph field name
	name  string // vCard property name, upper-case
	kind  kind
}

// properties covers every field of graph.FieldNames (a test checks it).
var properties = []property{
	{"adr", "ADR", kindStructured},
	{"anniversary", "ANNIVERSARY", kindDate},
	{"bday", "BDAY", kindDate},
	{"categories", "CATEGORIES", kindList},
	{"email", "EMAIL", kindText},
	{"fn", "FN", kindText},
	{"gender", "GENDER", kindStructured},
	{"geo", "GEO", kindURI},
	{"impp", "IMPP", kindURI},
	{"lang", "LANG", kindText},
	{"n", "N", kindStructured},
	{"nickname", "NICKNAME", kindList},
	{"note", "NOTE", kindText},
	{"org", "ORG", kindStructured},
	{"photo", "PHOTO", kindURI},
	{"role", "ROLE", kindText},
	{"tel", "TEL", kindTel},
	{"title", "TITLE", kindText},
	{"tz", "TZ", kindTZ},
	{"uid", "UID", kindText},
	{"url", "URL", kindURI},
}

var (
	byField = map[string]property{} // by graph field name
	byName  = map[string]property{} // by vCard property name
)

func init() {
	for _, p := range properties {
		byField[p.field] = p
		byName[p.name] = p
	}
}

// dataURIs are the properties whose inline data (vCard 2.1 and 3.0's
// ENCODING=b) Decode turns into a data: URI, as vCard 4.0 writes them, and
// Encode back into inline data for 3.0.
var dataURIs = map[string]bool{"PHOTO": true, "LOGO": true, "SOUND": true, "KEY": true}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// emptyValue reports whether a value holds nothing; exporters write empty
// properties (NOTE:, N:;;;;) that Decode skips.
func emptyValue(p property, v string) bool {
	if p.kind == kindStructured {
		return strings.Trim(v, "; \t") == ""
	}
	return strings.TrimSpace(v) == ""
}

// unescapeText undoes vCard text escaping: \n and \N are newlines; \\, \,,
// \; and \: stand for the character; other backslashes are kept.
func unescapeText(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch next := s[i+1]; next {
		case 'n', 'N':
			b.WriteByte('\n')
			i++
		case '\\', ',', ';', ':':
			b.WriteByte(next)
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeURI undoes the escaping some writers apply to URIs (Apple writes
// http\://): \\, \,, \; and \: stand for the character.
func unescapeURI(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte(`\,;:`, s[i+1]) >= 0 {
			c = s[i+1]
			i++
		}
		b.WriteByte(c)
	}
	return b.String()
}

// splitStructured splits a raw structured value at the semicolons that are
// not escaped; the components stay escaped.
func splitStructured(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ';':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

var (
	textEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, ",", `\,`)
	listEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeText escapes a text value as go-vcard does: backslashes, newlines
// and commas. A semicolon needs no escape outside structured values
// (RFC 6350 section 3.4), and graph values never hold one inside a
// component, where it is the separator.
func escapeText(s string) string { return textEscaper.Replace(s) }

// escapeList escapes a comma-separated list, whose commas separate items.
func escapeList(s string) string { return listEscaper.Replace(s) }
