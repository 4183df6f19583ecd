package dav

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	govcard "github.com/emersion/go-vcard"
)

// sync-collection (RFC 6578) is how DAVx5, Apple clients and Thunderbird
// fetch only what changed since their last sync; go-webdav v0.6.0 serves
// no part of it, so a REPORT of the address book or the calendar whose
// body is a DAV:sync-collection is answered here, and the collections'
// DAV:sync-token is served beside getctag (see doc.go for the design).

// maxSyncChanges bounds the changes a collection's [syncLog] remembers:
// a token older than the oldest of them gets 403 DAV:valid-sync-token and
// its client lists the collection again. 20,000 changes (a name and a
// sequence number each, about 100 bytes) are about 2 MB, and twice a
// 10,000-card book.
const maxSyncChanges = 20_000

// syncTokenPrefix starts every sync token (RFC 6578 wants a URI).
const syncTokenPrefix = "http://kith.invalid/ns/sync/"

// member is one resource of a collection as a sync or a ctag sees it.
type member struct {
	name    string // the resource's name in the collection (with its extension)
	etag    string
	modTime time.Time // zero when unknown
	vcf     []byte    // for a card: as graph/vcard wrote it
	ics     []byte    // for an event
}

// syncLog is the change history of one collection, seen through its
// listings: each listing that differs from the one before is a new
// sequence number, and the names that changed are remembered with it.
// Safe for concurrent use.
type syncLog struct {
	epoch string // random for each handler: the log of another run is unknown

	// listMu makes a listing and its observation one step, so that the
	// log's states follow the collection's order.
	listMu sync.Mutex

	// mu guards the fields below.
	mu      sync.Mutex
	seq     uint64            // the sequence number of state; 0 before the first listing
	state   map[string]string // resource name → ETag at seq
	floor   uint64            // the oldest sequence number a token may name
	changes []change          // by seq, at most max
	max     int               // maxSyncChanges (a field so that tests can lower it)
}

// change is a resource that changed, appeared or went at seq.
type change struct {
	seq  uint64
	name string
}

// snapshot is a listing as observed: its sequence number, the hash of
// its names and ETags ([ctag]) and its token.
type snapshot struct {
	seq   uint64
	hash  string
	token string
}

func newSyncLog() *syncLog {
	var b [8]byte
	rand.Read(b[:])
	return &syncLog{epoch: hex.EncodeToString(b[:]), max: maxSyncChanges}
}

// list lists the collection with list and records the listing.
func (l *syncLog) list(list func() ([]member, error)) ([]member, snapshot, error) {
	l.listMu.Lock()
	defer l.listMu.Unlock()
	ms, err := list()
	if err != nil {
		return nil, snapshot{}, err
	}
	return ms, l.observe(ms), nil
}

// observe records the collection's listing ms (sorted by name).
func (l *syncLog) observe(ms []member) snapshot {
	cur := make(map[string]string, len(ms))
	for _, m := range ms {
		cur[m.name] = m.etag
	}
	hash := ctag(ms)
	l.mu.Lock()
	defer l.mu.Unlock()
	snap := func() snapshot {
		return snapshot{seq: l.seq, hash: hash, token: syncTokenPrefix + l.epoch + "/" + strconv.FormatUint(l.seq, 10) + "/" + hash}
	}
	if l.seq == 0 {
		l.seq, l.floor, l.state = 1, 1, cur
		return snap()
	}
	var changed []string
	for name, etag := range cur {
		if old, ok := l.state[name]; !ok || old != etag {
			changed = append(changed, name)
		}
	}
	for name := range l.state {
		if _, ok := cur[name]; !ok {
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return snap()
	}
	l.seq++
	slices.Sort(changed)
	for _, name := range changed {
		l.changes = append(l.changes, change{seq: l.seq, name: name})
	}
	if over := len(l.changes) - l.max; over > 0 {
		l.floor = l.changes[over-1].seq
		l.changes = slices.Delete(l.changes, 0, over)
	}
	l.state = cur
	return snap()
}

// since returns the names that changed after the token tok up to the
// listing now, and whether the token is still known (false: the client
// must list again). A token this log did not issue (of another run, or
// older than the changes it keeps) is known when the collection is as it
// was then: its hash is the listing's, and nothing changed.
func (l *syncLog) since(tok string, now snapshot) (map[string]bool, bool) {
	rest, ok := strings.CutPrefix(tok, syncTokenPrefix)
	if !ok {
		return nil, false
	}
	epoch, rest, _ := strings.Cut(rest, "/")
	seqText, hash, _ := strings.Cut(rest, "/")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if err != nil {
		return nil, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch != l.epoch || seq < l.floor || seq > now.seq {
		if hash != "" && hash == now.hash {
			return map[string]bool{}, true
		}
		return nil, false
	}
	out := map[string]bool{}
	i, _ := slices.BinarySearchFunc(l.changes, seq+1, func(c change, s uint64) int {
		switch {
		case c.seq < s:
			return -1
		case c.seq > s:
			return 1
		}
		return 0
	})
	for _, c := range l.changes[i:] {
		if c.seq > now.seq {
			break
		}
		out[c.name] = true
	}
	return out, true
}

// members lists the collection at p (bookPath or calendarPath), by name.
func (h *PasswordHandler) members(ctx context.Context, p string) ([]member, error) {
	if p == calendarPath {
		evs, err := h.calBackend.events(ctx, nil)
		if err != nil {
			return nil, err
		}
		out := make([]member, 0, len(evs))
		for _, ev := range evs {
			out = append(out, member{name: eventName(ev.uid) + eventExt, etag: ev.etag, ics: ev.data})
		}
		slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.name, b.name) })
		return out, nil
	}
	cs, err := h.backend.list(ctx)
	if err != nil {
		return nil, err
	}
	all, err := h.backend.encodeAll(cs, wantsV4(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]member, 0, len(cs))
	for i, s := range all {
		out = append(out, member{name: nameOf(&cs[i]) + cardExt, etag: s.etag, modTime: cs[i].Updated, vcf: s.data})
	}
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

// syncLogOf returns the log of the collection at p.
func (h *PasswordHandler) syncLogOf(p string) *syncLog {
	if p == calendarPath {
		return h.calSync
	}
	return h.cardSync
}

// syncCollectionReq is a DAV:sync-collection REPORT body.
type syncCollectionReq struct {
	XMLName   xml.Name `xml:"DAV: sync-collection"`
	SyncToken string   `xml:"DAV: sync-token"`
	SyncLevel string   `xml:"DAV: sync-level"`
	Limit     *struct {
		NResults string `xml:"DAV: nresults"`
	} `xml:"DAV: limit"`
	Prop *propList `xml:"DAV: prop"`
}

// wantsSync reports whether r is a REPORT of the address book or the
// calendar whose body is a DAV:sync-collection.
func wantsSync(r *http.Request, body []byte) bool {
	p := strings.TrimSuffix(r.URL.Path, "/") + "/"
	if r.Method != "REPORT" || p != bookPath && p != calendarPath {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name == xml.Name{Space: nsDAV, Local: "sync-collection"}
		}
	}
}

// serveSync answers a sync-collection REPORT: the members that changed
// since the client's token (all of them without one) with the properties
// it asks, those that went as 404, and a new token.
func (h *PasswordHandler) serveSync(w http.ResponseWriter, r *http.Request, body []byte) {
	p := strings.TrimSuffix(r.URL.Path, "/") + "/"
	var req syncCollectionReq
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&req); err != nil {
		http.Error(w, "reading the sync-collection body: "+err.Error(), http.StatusBadRequest)
		return
	}
	// The collections hold no collections: sync-level infinite is 1.
	if lvl := strings.TrimSpace(req.SyncLevel); lvl != "1" && lvl != "infinite" {
		http.Error(w, fmt.Sprintf("sync-level %q: want 1 or infinite", lvl), http.StatusBadRequest)
		return
	}
	limit := -1
	if req.Limit != nil {
		n, err := strconv.Atoi(strings.TrimSpace(req.Limit.NResults))
		if err != nil || n < 1 {
			http.Error(w, fmt.Sprintf("limit: nresults %q is not a positive number", req.Limit.NResults), http.StatusBadRequest)
			return
		}
		limit = n
	}
	log := h.syncLogOf(p)
	ms, now, err := log.list(func() ([]member, error) { return h.members(r.Context(), p) })
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	tok := strings.TrimSpace(req.SyncToken)
	var changed map[string]bool // nil: every member
	if tok != "" {
		var ok bool
		if changed, ok = log.since(tok, now); !ok {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, xml.Header+`<d:error xmlns:d="DAV:"><d:valid-sync-token/><d:responsedescription>`+
				xmlEscape(fmt.Sprintf("the sync token %q is not one this server remembers (it restarted, or too much changed since); sync again without a token", tok))+
				`</d:responsedescription></d:error>`)
			return
		}
	}
	byName := make(map[string]*member, len(ms))
	for i := range ms {
		byName[ms[i].name] = &ms[i]
	}
	var names []string
	if changed == nil {
		for name := range byName {
			names = append(names, name)
		}
	} else {
		for name := range changed {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if limit >= 0 && len(names) > limit {
		// RFC 6578 section 3.7: a server that does not return every change
		// within the limit answers 507.
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusInsufficientStorage)
		io.WriteString(w, xml.Header+`<d:error xmlns:d="DAV:"><d:number-of-matches-within-limits/><d:responsedescription>`+
			xmlEscape(fmt.Sprintf("%d changes, over the limit of %d; sync again without a limit", len(names), limit))+
			`</d:responsedescription></d:error>`)
		return
	}
	var props []xml.Name
	if req.Prop != nil {
		for _, n := range req.Prop.Names {
			props = append(props, n.XMLName)
		}
	} else {
		props = []xml.Name{{Space: nsDAV, Local: "getetag"}}
	}
	var out bytes.Buffer
	out.WriteString(xml.Header)
	fmt.Fprintf(&out, `<d:multistatus xmlns:d="DAV:" xmlns:card="%s" xmlns:cal="%s">`, nsCardDAV, nsCalDAV)
	for _, name := range names {
		href := p + name
		m := byName[name]
		if m == nil {
			fmt.Fprintf(&out, `<d:response><d:href>%s</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>`, xmlEscape(href))
			continue
		}
		found, missing, err := memberProps(m, props)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(&out, `<d:response><d:href>%s</d:href>`, xmlEscape(href))
		if found != "" {
			out.WriteString(`<d:propstat><d:prop>` + found + `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>`)
		}
		if missing != "" {
			out.WriteString(`<d:propstat><d:prop>` + missing + `</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>`)
		}
		out.WriteString(`</d:response>`)
	}
	fmt.Fprintf(&out, `<d:sync-token>%s</d:sync-token></d:multistatus>`, xmlEscape(now.token))
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	w.Write(out.Bytes())
}

// memberProps returns the properties props of m that it has (as XML) and
// those it has not.
func memberProps(m *member, props []xml.Name) (found, missing string, err error) {
	var ok, no strings.Builder
	for _, n := range props {
		switch {
		case n == xml.Name{Space: nsDAV, Local: "getetag"}:
			ok.WriteString(`<d:getetag>` + xmlEscape(strconv.Quote(m.etag)) + `</d:getetag>`)
		case n == xml.Name{Space: nsDAV, Local: "getlastmodified"} && !m.modTime.IsZero():
			ok.WriteString(`<d:getlastmodified>` + m.modTime.UTC().Format(http.TimeFormat) + `</d:getlastmodified>`)
		case n == xml.Name{Space: nsDAV, Local: "getcontenttype"} && m.ics != nil:
			ok.WriteString(`<d:getcontenttype>text/calendar; charset=utf-8; component=VEVENT</d:getcontenttype>`)
		case n == xml.Name{Space: nsDAV, Local: "getcontenttype"} && m.vcf != nil:
			ok.WriteString(`<d:getcontenttype>` + govcard.MIMEType + `; charset=utf-8</d:getcontenttype>`)
		case n == xml.Name{Space: nsDAV, Local: "getcontentlength"}:
			ok.WriteString(`<d:getcontentlength>` + strconv.Itoa(len(m.vcf)+len(m.ics)) + `</d:getcontentlength>`)
		case n == xml.Name{Space: nsCardDAV, Local: "address-data"} && m.vcf != nil:
			ok.WriteString(`<card:address-data>` + xmlEscape(string(m.vcf)) + `</card:address-data>`)
		case n == xml.Name{Space: nsCalDAV, Local: "calendar-data"} && m.ics != nil:
			ok.WriteString(`<cal:calendar-data>` + xmlEscape(string(m.ics)) + `</cal:calendar-data>`)
		default:
			fmt.Fprintf(&no, `<x:%s xmlns:x="%s"/>`, n.Local, xmlEscape(n.Space))
		}
	}
	return ok.String(), no.String(), nil
}
