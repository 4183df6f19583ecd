package vcard

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kith-p2p/kith/graph"
)

// maxLineOctets is where RFC 6350 section 3.2 folds lines.
const maxLineOctets = 75

// Encode writes cards as vCard 4.0: CRLF line endings, lines folded at 75
// octets, values escaped. Fields keep their order; a card without fn gets
// an FN from its other fields, since vCard 4.0 requires one. Every field
// must pass graph.NormalizeField, and is written in its normalised form.
func Encode(w io.Writer, cards []graph.Card) error {
	bw := bufio.NewWriter(w)
	for i, c := range cards {
		if err := encodeCard(bw, c, ""); err != nil {
			return fmt.Errorf("encoding card %d: %w", i+1, err)
		}
	}
	return bw.Flush()
}

// EncodeCard writes one card as [Encode] does, with a UID property when uid
// is not empty.
func EncodeCard(w io.Writer, c graph.Card, uid string) error {
	bw := bufio.NewWriter(w)
	if err := encodeCard(bw, c, uid); err != nil {
		return fmt.Errorf("encoding card: %w", err)
	}
	return bw.Flush()
}

func encodeCard(w *bufio.Writer, c graph.Card, uid string) error {
	fields := make([]graph.Field, len(c.Fields))
	hasFN := false
	for i, f := range c.Fields {
		nf, err := graph.NormalizeField(f)
		if err != nil {
			return err
		}
		fields[i] = nf
		hasFN = hasFN || nf.Name == "fn"
	}
	if !utf8.ValidString(uid) || strings.IndexFunc(uid, unicode.IsControl) >= 0 {
		return errors.New("the UID holds control characters or invalid UTF-8")
	}
	var line []byte
	emit := func(name, params, value string) {
		line = append(line[:0], name...)
		line = append(line, params...)
		line = append(line, ':')
		line = append(line, value...)
		writeFolded(w, line)
	}
	_, _ = w.WriteString("BEGIN:VCARD\r\nVERSION:4.0\r\n")
	if uid != "" {
		emit("UID", "", escapeText(uid))
	}
	if !hasFN {
		if fn := fallbackFN(graph.Card{Fields: fields}); fn != "" {
			emit("FN", "", escapeText(fn))
		}
	}
	for _, f := range fields {
		p, ok := byField[f.Name]
		if !ok {
			panic("bug: no vCard property for field " + f.Name)
		}
		params, value := encodeValue(p, f.Value)
		if len(f.Types) > 0 {
			params += ";TYPE=" + strings.Join(f.Types, ",")
		}
		emit(p.name, params, value)
	}
	_, err := w.WriteString("END:VCARD\r\n")
	return err
}

// fallbackFN names a card that has no fn: from n, else its email, org or
// phone number. It returns "" for a card with none of them.
func fallbackFN(c graph.Card) string {
	if name := strings.TrimSpace(c.DisplayName()); name != "" {
		return name
	}
	for _, structured := range []string{"n", "org"} {
		if name := strings.Join(strings.Fields(strings.ReplaceAll(c.First(structured), ";", " ")), " "); name != "" {
			return name
		}
	}
	return c.First("tel")
}

// encodeValue returns the parameters (from ';') and the escaped value of a
// normalised field.
func encodeValue(p property, v string) (params, value string) {
	switch p.kind {
	case kindList:
		return "", escapeList(v)
	case kindStructured:
		parts := strings.Split(v, ";")
		for i, part := range parts {
			parts[i] = escapeText(part)
		}
		return "", strings.Join(parts, ";")
	case kindURI:
		return "", v
	case kindDate:
		if strings.HasPrefix(v, "--") {
			return "", "--" + strings.ReplaceAll(v[2:], "-", "")
		}
		return "", strings.ReplaceAll(v, "-", "")
	case kindTZ:
		if v[0] == '+' || v[0] == '-' {
			return ";VALUE=utc-offset", strings.ReplaceAll(v, ":", "")
		}
	}
	return "", escapeText(v)
}

// writeFolded writes a content line and CRLF, folding it into lines of at
// most 75 octets without splitting a UTF-8 sequence. A continuation line
// starts with a space.
func writeFolded(w *bufio.Writer, line []byte) {
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 { // not UTF-8; cannot happen for normalised fields
			cut = limit
		}
		_, _ = w.Write(line[:cut])
		_, _ = w.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLineOctets - 1
	}
	_, _ = w.Write(line)
	_, _ = w.WriteString("\r\n")
}
