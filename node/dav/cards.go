package dav

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
)

// Cards are served as graph/vcard writes them (see [encodeAs]): a GET
// of a card is answered here, and so is a REPORT of the address book
// (addressbook-query, addressbook-multiget): go-webdav picks the cards
// (its filter), and the answer is written here, with their bytes.

// serveCard answers a GET or HEAD of a card.
func (h *PasswordHandler) serveCard(w http.ResponseWriter, r *http.Request) {
	name, err := objectName(r.URL.Path)
	if err != nil {
		http.Error(w, fmt.Sprintf("no card at %s: %v", r.URL.Path, err), http.StatusNotFound)
		return
	}
	m, err := h.cardMember(r, name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if m == nil {
		http.Error(w, fmt.Sprintf("no card %s", r.URL.Path), http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/vcard; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(m.vcf)))
	w.Header().Set("ETag", strconv.Quote(m.etag))
	if !m.modTime.IsZero() {
		w.Header().Set("Last-Modified", m.modTime.UTC().Format(http.TimeFormat))
	}
	if r.Method == http.MethodGet {
		w.Write(m.vcf)
	}
}

// cardMember returns the card served as name (nil if none), in the
// version r asks for: as go-webdav's pass of this request served it, or
// else looked up.
func (h *PasswordHandler) cardMember(r *http.Request, name string) (*member, error) {
	s := recalled(r.Context(), name)
	if s == nil {
		c, _, err := h.backend.find(r.Context(), name)
		if err != nil || c == nil {
			return nil, err
		}
		if s, err = h.backend.encodeCached(c, wantsV4(r.Context())); err != nil {
			return nil, err
		}
	}
	return &member{name: name + cardExt, etag: s.etag, modTime: s.contact.Updated, vcf: s.data}, nil
}

type servedKey struct{}

// servedCache holds the cards go-webdav's pass of a REPORT served, by
// name, so that they are not looked up and written twice.
type servedCache struct {
	mu     sync.Mutex
	byName map[string]*served
}

// remember keeps s, served as name, for the REPORT ctx serves.
func remember(ctx context.Context, name string, s *served) {
	if c, ok := ctx.Value(servedKey{}).(*servedCache); ok {
		c.mu.Lock()
		c.byName[name] = s
		c.mu.Unlock()
	}
}

// recalled returns the card served as name that go-webdav's pass of the
// REPORT ctx serves kept, or nil.
func recalled(ctx context.Context, name string) *served {
	c, ok := ctx.Value(servedKey{}).(*servedCache)
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byName[name]
}

// cardReport is the part of an addressbook-query or -multiget body read
// here: the properties asked.
type cardReport struct {
	XMLName xml.Name
	Prop    *propList `xml:"DAV: prop"`
	Hrefs   []string  `xml:"DAV: href"` // of a multiget
}

// goWebDAVAnswer is the part of go-webdav's multistatus read here.
type goWebDAVAnswer struct {
	Responses []struct {
		Hrefs  []string `xml:"DAV: href"`
		Status string   `xml:"DAV: status"`
	} `xml:"DAV: response"`
}

// serveCardReport answers a REPORT of the address book: go-webdav's own
// answer names the cards (a query's filter, a multiget's hrefs, 404 for
// those it lacks), and each is written here with the properties asked.
func (h *PasswordHandler) serveCardReport(w http.ResponseWriter, r *http.Request, body []byte) {
	var req cardReport
	if err := xml.Unmarshal(body, &req); err != nil {
		http.Error(w, "reading the REPORT body: "+err.Error(), http.StatusBadRequest)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), servedKey{}, &servedCache{byName: map[string]*served{}}))
	inner := r
	if req.XMLName == (xml.Name{Space: nsCardDAV, Local: "addressbook-multiget"}) {
		// go-webdav is asked only for ETags: it need not write the cards.
		var b bytes.Buffer
		fmt.Fprintf(&b, `<card:addressbook-multiget xmlns:d="DAV:" xmlns:card="%s"><d:prop><d:getetag/></d:prop>`, nsCardDAV)
		for _, href := range req.Hrefs {
			b.WriteString(`<d:href>` + xmlEscape(href) + `</d:href>`)
		}
		b.WriteString(`</card:addressbook-multiget>`)
		inner = r.Clone(r.Context())
		inner.Body = io.NopCloser(&b)
		inner.ContentLength = int64(b.Len())
	}
	rec := httptest.NewRecorder()
	h.card.ServeHTTP(rec, inner)
	if rec.Code != http.StatusMultiStatus {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	var ans goWebDAVAnswer
	if err := xml.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		http.Error(w, "reading the address book's answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	props := []xml.Name{{Space: nsDAV, Local: "getetag"}}
	if req.Prop != nil {
		props = props[:0]
		for _, n := range req.Prop.Names {
			props = append(props, n.XMLName)
		}
	}
	var out bytes.Buffer
	out.WriteString(xml.Header)
	fmt.Fprintf(&out, `<d:multistatus xmlns:d="DAV:" xmlns:card="%s">`, nsCardDAV)
	for _, resp := range ans.Responses {
		if len(resp.Hrefs) != 1 {
			continue
		}
		u, err := url.Parse(resp.Hrefs[0])
		if err != nil {
			continue
		}
		var m *member
		if name, err := objectName(u.Path); err == nil && resp.Status == "" {
			if m, err = h.cardMember(r, name); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if m == nil {
			fmt.Fprintf(&out, `<d:response><d:href>%s</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`, xmlEscape(u.Path))
			continue
		}
		found, missing, err := memberProps(m, props)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeResponse(&out, u.Path, found, missing)
	}
	out.WriteString(`</d:multistatus>`)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	w.Write(out.Bytes())
}

// writeResponse writes one response of a multistatus: href, the
// properties found (200) and those missing (404).
func writeResponse(out *bytes.Buffer, href, found, missing string) {
	fmt.Fprintf(out, `<d:response><d:href>%s</d:href>`, xmlEscape(href))
	if found != "" {
		out.WriteString(`<d:propstat><d:prop>` + found + `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`)
	}
	if missing != "" {
		out.WriteString(`<d:propstat><d:prop>` + missing + `</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>`)
	}
	out.WriteString(`</d:response>`)
}
