package dav

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// getctag (http://calendarserver.org/ns/) is how DAVx5 and Apple clients
// tell whether an address book changed at all before listing it;
// go-webdav does not serve it, so a PROPFIND of the address book itself
// (Depth 0) that asks for it is answered here.

const (
	nsDAV     = "DAV:"
	nsCS      = "http://calendarserver.org/ns/"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
)

// syncReport is the sync-collection report in a supported-report-set.
const syncReport = `<d:supported-report><d:report><d:sync-collection/></d:report></d:supported-report>`

func xmlEscape(s string) string {
	var buf bytes.Buffer
	xml.EscapeText(&buf, []byte(s))
	return buf.String()
}

type propfindReq struct {
	XMLName xml.Name  `xml:"DAV: propfind"`
	Prop    *propList `xml:"DAV: prop"`
}

type propList struct {
	Names []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// wantsCtag reports whether r is a Depth 0 PROPFIND of the address book
// or the calendar that names getctag, sync-token or supported-report-set,
// and returns the properties it names.
func wantsCtag(r *http.Request, body []byte) ([]xml.Name, bool) {
	p := strings.TrimSuffix(r.URL.Path, "/") + "/"
	if r.Method != "PROPFIND" || p != bookPath && p != calendarPath || r.Header.Get("Depth") != "0" {
		return nil, false
	}
	var req propfindReq
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil || req.Prop == nil {
		return nil, false
	}
	var names []xml.Name
	found := false
	for _, n := range req.Prop.Names {
		names = append(names, n.XMLName)
		switch n.XMLName {
		case xml.Name{Space: nsCS, Local: "getctag"}, xml.Name{Space: nsDAV, Local: "sync-token"}, xml.Name{Space: nsDAV, Local: "supported-report-set"}:
			// go-webdav serves none of these, or not the sync-collection
			// report in the last.
			found = true
		}
	}
	return names, found
}

// ctag is a hash of every member's name and ETag (ms sorted by name):
// it changes when any of them changes, appears or goes.
func ctag(ms []member) string {
	sum := sha256.New()
	for _, m := range ms {
		io.WriteString(sum, m.name+"\x00"+m.etag+"\x00")
	}
	return hex.EncodeToString(sum.Sum(nil)[:16])
}

// serveCtag answers a Depth 0 PROPFIND of the address book or the
// calendar naming getctag: the properties go-webdav gives the
// collection, and the ctag.
func (h *PasswordHandler) serveCtag(w http.ResponseWriter, r *http.Request, names []xml.Name) {
	p := strings.TrimSuffix(r.URL.Path, "/") + "/"
	_, now, err := h.syncLogOf(p).list(func() ([]member, error) { return h.members(r.Context(), p) })
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ab := theBook()
	resourcetype := `<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>`
	description := `<card:addressbook-description>` + xmlEscape(ab.Description) + `</card:addressbook-description>`
	reports := `<d:supported-report-set><d:supported-report><d:report><card:addressbook-query/></d:report></d:supported-report><d:supported-report><d:report><card:addressbook-multiget/></d:report></d:supported-report>` + syncReport + `</d:supported-report-set>`
	if p == calendarPath {
		c := theCalendar()
		resourcetype = `<d:resourcetype><d:collection/><cal:calendar/></d:resourcetype>`
		description = `<cal:calendar-description>` + xmlEscape(c.Description) + `</cal:calendar-description>`
		reports = `<d:supported-report-set><d:supported-report><d:report><cal:calendar-query/></d:report></d:supported-report><d:supported-report><d:report><cal:calendar-multiget/></d:report></d:supported-report>` + syncReport + `</d:supported-report-set>`
	}
	known := map[xml.Name]string{
		{Space: nsCS, Local: "getctag"}:                     `<cs:getctag>` + now.hash + `</cs:getctag>`,
		{Space: nsDAV, Local: "sync-token"}:                 `<d:sync-token>` + xmlEscape(now.token) + `</d:sync-token>`,
		{Space: nsDAV, Local: "resourcetype"}:               resourcetype,
		{Space: nsDAV, Local: "displayname"}:                `<d:displayname>` + xmlEscape(ab.Name) + `</d:displayname>`,
		{Space: nsDAV, Local: "current-user-principal"}:     `<d:current-user-principal><d:href>` + principal + `</d:href></d:current-user-principal>`,
		{Space: nsDAV, Local: "owner"}:                      `<d:owner><d:href>` + principal + `</d:href></d:owner>`,
		{Space: nsDAV, Local: "current-user-privilege-set"}: `<d:current-user-privilege-set><d:privilege><d:read/></d:privilege><d:privilege><d:write/></d:privilege><d:privilege><d:write-content/></d:privilege><d:privilege><d:bind/></d:privilege><d:privilege><d:unbind/></d:privilege></d:current-user-privilege-set>`,
		{Space: nsDAV, Local: "supported-report-set"}:       reports,
		{Space: nsDAV, Local: "getcontenttype"}:             `<d:getcontenttype>httpd/unix-directory</d:getcontenttype>`,
	}
	if p == calendarPath {
		known[xml.Name{Space: nsCalDAV, Local: "calendar-description"}] = description
		known[xml.Name{Space: nsCalDAV, Local: "supported-calendar-component-set"}] = `<cal:supported-calendar-component-set><cal:comp name="VEVENT"/></cal:supported-calendar-component-set>`
		known[xml.Name{Space: nsCalDAV, Local: "max-resource-size"}] = fmt.Sprintf(`<cal:max-resource-size>%d</cal:max-resource-size>`, maxCalendarBody)
	} else {
		known[xml.Name{Space: nsCardDAV, Local: "addressbook-description"}] = description
		known[xml.Name{Space: nsCardDAV, Local: "max-resource-size"}] = fmt.Sprintf(`<card:max-resource-size>%d</card:max-resource-size>`, ab.MaxResourceSize)
		known[xml.Name{Space: nsCardDAV, Local: "supported-address-data"}] = `<card:supported-address-data><card:address-data-type content-type="text/vcard" version="3.0"/><card:address-data-type content-type="text/vcard" version="4.0"/></card:supported-address-data>`
	}
	writeProps(w, p, names, known)
}

// writeProps answers a PROPFIND of href with the properties named (all
// of known when names is nil), 404 for those it does not have.
func writeProps(w http.ResponseWriter, href string, names []xml.Name, known map[xml.Name]string) {
	if names == nil {
		for n := range known {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b xml.Name) int { return strings.Compare(a.Space+" "+a.Local, b.Space+" "+b.Local) })
	}
	var ok, missing strings.Builder
	for _, n := range names {
		if v := known[n]; v != "" {
			ok.WriteString(v)
			continue
		}
		fmt.Fprintf(&missing, `<x:%s xmlns:x="%s"/>`, n.Local, xmlEscape(n.Space))
	}
	var out strings.Builder
	out.WriteString(xml.Header)
	fmt.Fprintf(&out, `<d:multistatus xmlns:d="DAV:" xmlns:cs="%s" xmlns:card="%s" xmlns:cal="%s"><d:response><d:href>%s</d:href>`, nsCS, nsCardDAV, nsCalDAV, href)
	if ok.Len() > 0 {
		out.WriteString(`<d:propstat><d:prop>` + ok.String() + `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`)
	}
	if missing.Len() > 0 {
		out.WriteString(`<d:propstat><d:prop>` + missing.String() + `</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>`)
	}
	out.WriteString(`</d:response></d:multistatus>`)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, out.String())
}

// propNames returns the properties a PROPFIND body names: nil for an
// empty body or allprop (then every property is answered).
func propNames(body []byte) ([]xml.Name, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var req propfindReq
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		return nil, fmt.Errorf("reading the PROPFIND body: %v", err)
	}
	if req.Prop == nil {
		return nil, nil
	}
	names := []xml.Name{}
	for _, n := range req.Prop.Names {
		names = append(names, n.XMLName)
	}
	return names, nil
}

// servePrincipal answers a PROPFIND of the root or of the principal, the
// one both CardDAV and CalDAV clients are sent to: it names both home
// sets, so a client finds the address book and the calendar from either.
func servePrincipal(w http.ResponseWriter, r *http.Request, body []byte) {
	names, err := propNames(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	href := principal
	if r.URL.Path == "/" {
		href = "/"
	}
	writeProps(w, href, names, map[xml.Name]string{
		{Space: nsDAV, Local: "current-user-principal"}:       `<d:current-user-principal><d:href>` + principal + `</d:href></d:current-user-principal>`,
		{Space: nsDAV, Local: "principal-URL"}:                `<d:principal-URL><d:href>` + principal + `</d:href></d:principal-URL>`,
		{Space: nsDAV, Local: "resourcetype"}:                 `<d:resourcetype><d:collection/><d:principal/></d:resourcetype>`,
		{Space: nsDAV, Local: "displayname"}:                  `<d:displayname>` + Username + `</d:displayname>`,
		{Space: nsCardDAV, Local: "addressbook-home-set"}:     `<card:addressbook-home-set><d:href>` + homeSetPath + `</d:href></card:addressbook-home-set>`,
		{Space: nsCalDAV, Local: "calendar-home-set"}:         `<cal:calendar-home-set><d:href>` + calHomeSetPath + `</d:href></cal:calendar-home-set>`,
		{Space: nsCalDAV, Local: "calendar-user-address-set"}: `<cal:calendar-user-address-set><d:href>` + principal + `</d:href></cal:calendar-user-address-set>`,
	})
}
