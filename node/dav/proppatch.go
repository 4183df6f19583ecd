package dav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// PROPPATCH: Apple's Calendar and Contacts set a collection's colour,
// order or display name, and go-webdav answers 501, which the apps show
// as a failed account. Kith keeps none of these properties (the address
// book and the calendar are named by the node), so every property a
// PROPPATCH names is refused, the way RFC 4918 §9.2 lets a server refuse
// a protected property: 207 Multi-Status, 403 for each, nothing changed.

type propertyUpdate struct {
	XMLName xml.Name `xml:"DAV: propertyupdate"`
	Set     []struct {
		Prop propList `xml:"DAV: prop"`
	} `xml:"DAV: set"`
	Remove []struct {
		Prop propList `xml:"DAV: prop"`
	} `xml:"DAV: remove"`
}

// maxPropPatch bounds the properties one PROPPATCH may name.
const maxPropPatch = 64

// servePropPatch answers a PROPPATCH of r's path with body.
func servePropPatch(w http.ResponseWriter, r *http.Request, body []byte) {
	var u propertyUpdate
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&u); err != nil {
		http.Error(w, "reading the PROPPATCH body: "+err.Error()+" (want a DAV:propertyupdate)", http.StatusBadRequest)
		return
	}
	var names []xml.Name
	for _, s := range u.Set {
		for _, n := range s.Prop.Names {
			names = append(names, n.XMLName)
		}
	}
	for _, s := range u.Remove {
		for _, n := range s.Prop.Names {
			names = append(names, n.XMLName)
		}
	}
	if len(names) == 0 || len(names) > maxPropPatch {
		http.Error(w, fmt.Sprintf("a PROPPATCH names 1 to %d properties; this one names %d", maxPropPatch, len(names)), http.StatusBadRequest)
		return
	}
	var props strings.Builder
	for _, n := range names {
		fmt.Fprintf(&props, `<x:%s xmlns:x="%s"/>`, xmlEscape(n.Local), xmlEscape(n.Space))
	}
	var out strings.Builder
	out.WriteString(xml.Header)
	out.WriteString(`<d:multistatus xmlns:d="DAV:"><d:response><d:href>` + xmlEscape(r.URL.Path) + `</d:href>`)
	out.WriteString(`<d:propstat><d:prop>` + props.String() + `</d:prop><d:status>HTTP/1.1 403 Forbidden</d:status>`)
	out.WriteString(`<d:error><d:cannot-modify-protected-property/></d:error>`)
	out.WriteString(`<d:responsedescription>Kith names its address book and calendar itself: their properties cannot be changed</d:responsedescription>`)
	out.WriteString(`</d:propstat></d:response></d:multistatus>`)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, out.String())
}
