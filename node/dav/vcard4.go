package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"mime"
	"net/http"
	"strings"
)

// The address book is served as vCard 3.0, which every client reads, and
// as vCard 4.0 to a client that asks for it (DAVx5 does when the server
// lists 4.0 in supported-address-data): 3.0 cannot say a rank (PREF=2),
// so a 4.0 client that read 3.0 and wrote it back would lose it. A client
// asks with Accept: text/vcard; version=4.0 on a GET, or with
// <address-data content-type="text/vcard" version="4.0"/> in a REPORT.
// What a client sends, in either version, is read by graph/vcard.

type v4Key struct{}

// wantsV4 reports whether the request ctx serves asked for vCard 4.0.
func wantsV4(ctx context.Context) bool {
	v, _ := ctx.Value(v4Key{}).(bool)
	return v
}

// askV4 reports whether r asks for vCard 4.0: in its Accept header (the
// first text/vcard named with a version), or in an address-data element
// of its REPORT body.
func askV4(r *http.Request, body []byte) bool {
	if !strings.HasPrefix(r.URL.Path, cardPrefix+"/") {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || mt != "text/vcard" || params["version"] == "" {
			continue
		}
		return params["version"] == "4.0"
	}
	if r.Method != "REPORT" || len(body) == 0 {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name != (xml.Name{Space: nsCardDAV, Local: "address-data"}) {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local == "version" {
				return strings.TrimSpace(a.Value) == "4.0"
			}
		}
	}
}
