package vcard

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// text is the input as UTF-8 where it could tell, with what it found.
type text struct {
	data []byte
	// charset names the encoding the whole input was converted from
	// ("UTF-16LE"), or "" for UTF-8.
	charset string
	// fallback decodes property values that are not UTF-8 and name no
	// CHARSET, and fallbackName names it: the first 8-bit CHARSET the input
	// names, else a guess between Windows-1252 and Windows-1251. It is nil
	// when the whole input is UTF-8.
	fallback     encoding.Encoding
	fallbackName string
}

// toText finds the input's encoding: a UTF-16 byte order mark (or UTF-16
// without one, told by its zero bytes) converts the whole input; a UTF-8
// one is dropped; input that is not UTF-8 gets a fallback charset for its
// values (vCard 2.1 files from Outlook and feature phones are written in
// the system's 8-bit code page, often without saying which).
func toText(data []byte) (text, error) {
	var enc encoding.Encoding
	name := ""
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}):
		enc, name = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "UTF-16LE"
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}):
		enc, name = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "UTF-16BE"
	case len(data) >= 4 && data[0] != 0 && data[1] == 0 && data[2] != 0 && data[3] == 0:
		enc, name = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "UTF-16LE"
	case len(data) >= 4 && data[0] == 0 && data[1] != 0 && data[2] == 0 && data[3] != 0:
		enc, name = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "UTF-16BE"
	}
	if enc != nil {
		out, err := enc.NewDecoder().Bytes(data)
		if err != nil {
			return text{}, fmt.Errorf("%w: reading the input as %s: %v", ErrNotVCard, name, err)
		}
		data = out
	}
	data = bytes.TrimPrefix(data, []byte{0xef, 0xbb, 0xbf})
	t := text{data: data, charset: name}
	if utf8.Valid(data) {
		return t, nil
	}
	t.fallback, t.fallbackName = namedCharset(data)
	if t.fallback == nil {
		t.fallback, t.fallbackName = guessCharset(data)
	}
	return t, nil
}

// namedCharset returns the first 8-bit charset a CHARSET parameter of data
// names, if any: a file that names one for some values is most likely
// written in it throughout.
func namedCharset(data []byte) (encoding.Encoding, string) {
	rest := data
	for {
		i := indexFold(rest, "CHARSET=")
		if i < 0 {
			return nil, ""
		}
		rest = rest[i+len("CHARSET="):]
		end := bytes.IndexAny(rest, ";:,\r\n")
		if end < 0 {
			return nil, ""
		}
		name := strings.Trim(string(rest[:end]), `"`)
		if enc, ok := lookupCharset(name); ok && enc != encoding.Nop && !isUTF8(name) {
			return enc, name
		}
	}
}

// guessCharset tells Windows-1251 (Cyrillic) from Windows-1252 (Western)
// text: Cyrillic words are written entirely in bytes over 0x7f, while in
// Western text such a byte (ä, é, ß) mostly stands between ASCII letters.
func guessCharset(data []byte) (encoding.Encoding, string) {
	high, paired := 0, 0
	for i, c := range data {
		if c < 0x80 {
			continue
		}
		high++
		if i > 0 && data[i-1] >= 0x80 || i+1 < len(data) && data[i+1] >= 0x80 {
			paired++
		}
	}
	if high > 0 && paired*2 > high {
		return charmap.Windows1251, "Windows-1251"
	}
	return charmap.Windows1252, "Windows-1252"
}

func isUTF8(name string) bool {
	n := strings.ToLower(strings.ReplaceAll(name, "-", ""))
	return n == "utf8"
}

// lookupCharset finds a charset by any of its names (WHATWG's list, which
// covers what vCard writers put in CHARSET: UTF-8, ISO-8859-1,
// Windows-1252, SHIFT_JIS, ...).
func lookupCharset(name string) (encoding.Encoding, bool) {
	if isUTF8(name) {
		return encoding.Nop, true
	}
	enc, err := htmlindex.Get(strings.TrimSpace(name))
	if err != nil || enc == encoding.Replacement {
		// WHATWG maps ISO-2022-KR and others to "replacement", which
		// turns all text into U+FFFD: better read as if unnamed.
		return nil, false
	}
	return enc, true
}

// convert decodes b, a value in the named charset ("" for none named), to
// UTF-8. It returns the charset it read b in ("" if b was UTF-8 already),
// and false if it had to replace bytes it could not read.
func (t *text) convert(b []byte, charset string) (string, string, bool) {
	if charset != "" && !(utf8.Valid(b) && !isASCII(b)) {
		// A value in valid UTF-8 beyond ASCII is UTF-8 whatever its label
		// says (phones label their UTF-8 ISO-8859-1): 8-bit text is almost
		// never valid UTF-8 by chance.
		if enc, ok := lookupCharset(charset); ok && enc != encoding.Nop {
			if out, err := enc.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
				return string(out), charset, true
			}
		}
	}
	if utf8.Valid(b) {
		return string(b), "", true
	}
	enc, name := t.fallback, t.fallbackName
	if enc == nil {
		// The file is UTF-8, but a quoted-printable value decodes to 8-bit
		// bytes and names no charset (Outlook): guess for the value.
		enc, name = guessCharset(b)
	}
	if out, err := enc.NewDecoder().Bytes(b); err == nil && utf8.Valid(out) {
		return string(out), name, true
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), "", false
}

// indexFold is bytes.Index for an upper-case ASCII needle, ignoring case
// in s, which need not be UTF-8.
func indexFold(s []byte, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := 0
		for j < len(needle) && (s[i+j] == needle[j] || s[i+j]-'a'+'A' == needle[j] && s[i+j] >= 'a' && s[i+j] <= 'z') {
			j++
		}
		if j == len(needle) {
			return i
		}
	}
	return -1
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
