package vcard

import (
	"encoding/base64"
	"net/http"
	"net/mail"
	"strings"

	"github.com/kith-p2p/kith/graph"
)

// mapValue reads the value of a property that has a graph field, as
// written (escaped), into f and adds it.
func (d *cardDecoder) mapValue(f graph.Field, p property, written string, l contentLine) {
	switch p.kind {
	case kindText:
		f.Value = unescapeText(written)
	case kindList:
		if strings.Contains(written, `\,`) {
			// A comma inside one item ("Smith\, Jones"): a graph list cannot
			// hold it, so the value stays as written.
			d.add(rawField(f, written), l.no, written)
			return
		}
		f.Value = unescapeText(written)
	case kindStructured:
		parts := splitStructured(written)
		for i, part := range parts {
			part = unescapeText(part)
			if strings.Contains(part, ";") {
				d.add(rawField(f, written), l.no, written)
				return
			}
			parts[i] = part
		}
		f.Value = strings.Join(parts, ";")
	case kindURI:
		f.Value = strings.TrimSpace(unescapeURI(written))
		switch {
		case p.field == "geo" && !hasPrefixFold(f.Value, "geo:") && strings.Count(f.Value, ";")+strings.Count(f.Value, ",") == 1:
			// vCard 3.0's lat;lon, or 2.1's lat,lon.
			f.Value = "geo:" + strings.Replace(f.Value, ";", ",", 1)
		case p.field == "url" && hasPrefixFold(f.Value, "www."):
			f.Value = "http://" + f.Value // as address books show it
		case p.field == "photo" && hasPrefixFold(f.Value, "data:"):
			f.Value = d.fitImage(l.no, l.name, f.Value)
		}
	case kindTel, kindDate, kindTZ:
		f.Value = strings.TrimSpace(unescapeText(written))
		if y := firstOf(f.Param("X-APPLE-OMIT-YEAR")); p.kind == kindDate && y != "" && len(f.Value) > 4 && f.Value[:4] == y {
			// Apple writes a birthday without a year as 1604-04-12 with
			// X-APPLE-OMIT-YEAR=1604; Encode gives the year back for 3.0.
			f.Value = "--" + strings.TrimPrefix(f.Value[4:], "-")
		}
	}
	if p.field == "email" && strings.ContainsAny(f.Value, "<\" ") {
		if _, err := graph.NormalizeField(graph.Field{Name: "email", Value: f.Value}); err != nil {
			// "Omega" <omega@example.com>: keep the address, say so.
			if a, err := mail.ParseAddress(f.Value); err == nil {
				d.warn(l.no, "EMAIL %s: kept the address %s", quote(f.Value), a.Address)
				f.Value = a.Address
			}
		}
	}
	d.add(f, l.no, written)
}

// binaryMedia maps the TYPE of vCard 2.1/3.0 inline data to a media type.
var binaryMedia = map[string]string{
	"jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png", "gif": "image/gif",
	"bmp": "image/bmp", "tiff": "image/tiff", "webp": "image/webp",
	"pgp": "application/pgp-keys", "x509": "application/pkix-cert",
	"wave": "audio/wav", "wav": "audio/wav", "mp3": "audio/mpeg", "basic": "audio/basic",
	"aiff": "audio/aiff", "ogg": "audio/ogg",
}

// binary adds a property whose value is inline base64 data (vCard 2.1 and
// 3.0's ENCODING=b). PHOTO, LOGO, SOUND and KEY become data: URIs, as
// vCard 4.0 writes them, images scaled down to fit an entry; a property
// Kith has no name for keeps its base64 text and its ENCODING.
func (d *cardDecoder) binary(f graph.Field, known bool, data []byte, l contentLine) error {
	if len(data) > MaxPhotoSize {
		d.warn(l.no, "%s: %s of data is over the %s limit; left out", l.name, size(len(data)), size(MaxPhotoSize))
		return nil
	}
	if !dataURIs[l.name] {
		f.Raw = true
		f.Params = append(f.Params, graph.Param{Name: "ENCODING", Values: []string{"b"}})
		f.Value = base64.StdEncoding.EncodeToString(data)
		if media := mediaOf(f.Types, data); strings.HasPrefix(media, "image/") {
			// An image under another name (X-MS-CARDPICTURE): scale it
			// down like a photo, keeping its form.
			uri := d.fitImage(l.no, l.name, "data:"+media+";base64,"+f.Value)
			_, f.Value, _ = strings.Cut(uri, ",")
		}
		d.add(f, l.no, f.Value)
		return nil
	}
	media := mediaOf(f.Types, data)
	var types []string
	_, sub, _ := strings.Cut(media, "/")
	for _, t := range f.Types {
		if _, ok := binaryMedia[t]; !ok && !strings.Contains(t, "/") && t != sub {
			types = append(types, t)
		}
	}
	f.Types = types
	uri := "data:" + media + ";base64," + base64.StdEncoding.EncodeToString(data)
	if strings.HasPrefix(media, "image/") {
		uri = d.fitImage(l.no, l.name, uri)
	}
	f.Value = uri
	if !known {
		f.Raw = true
	}
	d.add(f, l.no, uri)
	return nil
}

// mediaOf finds the media type of inline data from its TYPE parameters,
// else from its first bytes.
func mediaOf(types []string, data []byte) string {
	for _, t := range types {
		if m, ok := binaryMedia[t]; ok {
			return m
		}
		if strings.Contains(t, "/") {
			return t
		}
	}
	m, _, _ := strings.Cut(http.DetectContentType(data), ";")
	return m
}

// decodeStdBase64 decodes standard base64, padded or not.
// It forgives a stray last character (as some phones write), not a
// character that is not base64.
func decodeStdBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if len(s)%4 == 1 {
		s = s[:len(s)-1]
	}
	return base64.RawStdEncoding.DecodeString(s)
}
