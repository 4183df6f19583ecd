package vcard

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kith-p2p/kith/graph"
)

// maxLineOctets is where RFC 6350 section 3.2 folds lines.
const maxLineOctets = 75

// EncodeOptions tune [Encode]. The zero value writes vCard 4.0.
type EncodeOptions struct {
	// VCard3 writes vCard 3.0 (RFC 2426), which older clients read:
	// preference as TYPE=pref, data: URI images as ENCODING=b, an N on
	// every card.
	VCard3 bool
}

// Encode writes cards as vCard 4.0 (or 3.0): CRLF line endings, lines
// folded at 75 octets, values escaped. Fields keep their order, group,
// preference and parameters; Raw fields are written as they were read. A
// card without fn gets an FN from its other fields, since vCard requires
// one. Every field must pass graph.NormalizeField, and is written in its
// normalised form.
func Encode(w io.Writer, cards []graph.Card, opts EncodeOptions) error {
	bw := bufio.NewWriter(w)
	for i, c := range cards {
		if err := encodeCard(bw, c, opts); err != nil {
			return fmt.Errorf("encoding card %d: %w", i+1, err)
		}
	}
	return bw.Flush()
}

// EncodeCard writes one card as [Encode] does.
func EncodeCard(w io.Writer, c graph.Card, opts EncodeOptions) error {
	bw := bufio.NewWriter(w)
	if err := encodeCard(bw, c, opts); err != nil {
		return fmt.Errorf("encoding card: %w", err)
	}
	return bw.Flush()
}

func encodeCard(w *bufio.Writer, c graph.Card, opts EncodeOptions) error {
	fields := make([]graph.Field, len(c.Fields))
	// hasFN: a checked fn; a raw one (kept as it came, not known to be
	// a name) does not stand for it, but does when nothing else names
	// the card.
	hasFN, hasRawFN, hasN := false, false, false
	for i, f := range c.Fields {
		nf, err := graph.NormalizeField(f)
		if err != nil {
			return err
		}
		fields[i] = nf
		hasFN = hasFN || nf.Name == "fn" && !nf.Raw
		hasRawFN = hasRawFN || nf.Name == "fn" && nf.Raw
		hasN = hasN || nf.Name == "n"
	}
	var line []byte
	emit := func(group, name, params, value string) {
		line = line[:0]
		if group != "" {
			line = append(line, group...)
			line = append(line, '.')
		}
		line = append(line, name...)
		line = append(line, params...)
		line = append(line, ':')
		line = append(line, value...)
		writeFolded(w, line)
	}
	version := "4.0"
	if opts.VCard3 {
		version = "3.0"
	}
	_, _ = w.WriteString("BEGIN:VCARD\r\nVERSION:" + version + "\r\n")
	if !hasFN {
		// vCard requires an FN: made from the card's other fields, else
		// empty (which Decode skips, so the card comes back as it was),
		// unless a raw one is all there is to name it.
		if fb := fallbackFN(graph.Card{Fields: fields}); fb != "" || !hasRawFN {
			emit("", "FN", "", escapeText(fb))
		}
	}
	for _, f := range fields {
		name, params, value := encodeField(f, opts)
		emit(f.Group, name, params, value)
	}
	if opts.VCard3 && !hasN {
		emit("", "N", "", ";;;;") // 3.0 requires one
	}
	_, err := w.WriteString("END:VCARD\r\n")
	return err
}

// encodeField returns the property name, the parameters (from ';') and
// the value of a normalised field.
func encodeField(f graph.Field, opts EncodeOptions) (name, params, value string) {
	var b strings.Builder
	types := f.Types
	if f.Pref > 0 {
		if opts.VCard3 {
			types = append(types[:len(types):len(types)], "pref")
		} else {
			b.WriteString(";PREF=" + strconv.Itoa(f.Pref))
		}
	}
	var extra string
	fparams := f.Params
	if f.Raw {
		name, value = strings.ToUpper(f.Name), f.Value
		if dataURIs[name] && opts.VCard3 && hasPrefixFold(value, "data:") {
			extra, value, types = inline(value, types)
			fparams = withoutParam(f.Params, "VALUE")
		}
	} else {
		p, ok := byField[f.Name]
		if !ok {
			panic("bug: no vCard property for field " + f.Name)
		}
		name = p.name
		extra, value = encodeValue(p, f.Value)
		switch {
		case p.field == "photo" && opts.VCard3 && hasPrefixFold(value, "data:"):
			extra, value, types = inline(value, types)
			fparams = withoutParam(f.Params, "VALUE") // inline data is no URI
		case p.kind == kindDate && opts.VCard3 && strings.HasPrefix(f.Value, "--"):
			if y := firstOf(f.Param("X-APPLE-OMIT-YEAR")); len(y) == 4 {
				value = y + f.Value[1:] // Apple's way to write no year in 3.0
			}
		}
		if p.kind == kindTel && hasPrefixFold(f.Value, "tel:") {
			extra = ";VALUE=uri"
		}
		if f.Param("VALUE") != nil {
			extra = "" // the field says which
		}
	}
	if len(types) > 0 {
		writeParam(&b, "TYPE", types)
	}
	for _, p := range fparams {
		writeParam(&b, p.Name, p.Values)
	}
	b.WriteString(extra)
	return name, b.String(), value
}

// inline turns a data: URI into vCard 3.0's inline base64, returning the
// parameters, the value and the types (with the image format added).
func inline(uri string, types []string) (params, value string, _ []string) {
	header, data, ok := strings.Cut(uri, ",")
	if !ok || !hasPrefixFold(header, "data:") || !strings.HasSuffix(strings.ToLower(header), ";base64") {
		return "", uri, types
	}
	media := strings.ToLower(strings.TrimSuffix(header[len("data:"):], ";base64"))
	format, ok := mediaFormats[media]
	if !ok {
		format = media // read back as it is: Decode takes a TYPE with '/' as the media type
	}
	if slices.ContainsFunc(types, func(t string) bool { return strings.EqualFold(t, format) }) {
		return ";ENCODING=b", data, types
	}
	return ";ENCODING=b", data, append(types[:len(types):len(types)], format)
}

// withoutParam returns params without the one called name.
func withoutParam(params []graph.Param, name string) []graph.Param {
	return slices.DeleteFunc(slices.Clone(params), func(p graph.Param) bool { return p.Name == name })
}

// mediaFormats are vCard 3.0's TYPE names of media types (the reverse of
// binaryMedia, which reads several spellings).
var mediaFormats = map[string]string{
	"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/bmp": "BMP", "image/tiff": "TIFF",
	"image/webp": "WEBP", "application/pgp-keys": "PGP", "application/pkix-cert": "X509",
	"audio/wav": "WAVE", "audio/mpeg": "MP3", "audio/basic": "BASIC", "audio/aiff": "AIFF", "audio/ogg": "OGG",
}

// writeParam writes ;NAME=v1,v2, quoting a value that holds ':', ';' or
// ',' and escaping '^' as RFC 6868 says.
func writeParam(b *strings.Builder, name string, values []string) {
	b.WriteByte(';')
	b.WriteString(name)
	b.WriteByte('=')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		v = strings.ReplaceAll(v, "^", "^^")
		if strings.ContainsAny(v, ":;,") || strings.TrimSpace(v) != v {
			b.WriteString(`"` + v + `"`)
		} else {
			b.WriteString(v)
		}
	}
}

// fallbackFN names a card that has no fn: from n, else its email, org or
// phone number. It returns "" for a card with none of them.
func fallbackFN(c graph.Card) string {
	checked := graph.Card{}
	for _, f := range c.Fields {
		if !f.Raw { // a raw value is not known to be a name
			checked.Fields = append(checked.Fields, f)
		}
	}
	if name := strings.TrimSpace(checked.DisplayName()); name != "" {
		return name
	}
	for _, structured := range []string{"n", "org"} {
		if name := strings.Join(strings.Fields(strings.ReplaceAll(checked.First(structured), ";", " ")), " "); name != "" {
			return name
		}
	}
	for _, name := range []string{"tel", "nickname", "impp", "url"} {
		if v := strings.TrimSpace(checked.First(name)); v != "" {
			return v
		}
	}
	return ""
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
		if strings.Contains(v, "T") {
			return "", v // a date and time, written as read
		}
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
