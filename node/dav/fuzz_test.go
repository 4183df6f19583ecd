package dav

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/book"
	"github.com/kith-p2p/kith/node/api"
)

// memBook is a Book in memory, of local contacts only: enough to drive
// the handler with any bytes.
type memBook struct {
	mu   sync.Mutex
	n    int
	byID map[string]api.Contact
}

func newMemBook() *memBook { return &memBook{byID: map[string]api.Contact{}} }

func (m *memBook) Contacts(ctx context.Context) ([]api.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]api.Contact, 0, len(m.byID))
	for _, c := range m.byID {
		out = append(out, c)
	}
	return out, nil
}

func (m *memBook) Contact(ctx context.Context, ref string) (*api.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[ref]
	if !ok {
		return nil, fmt.Errorf("%w: %s", api.ErrNotFound, ref)
	}
	return &c, nil
}

func (m *memBook) LookupContacts(ctx context.Context, q api.ContactLookup) ([]api.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []api.Contact
	for _, c := range m.byID {
		if slices.Contains(q.IDs, c.ID) || slices.Contains(q.UIDs, c.UID) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (m *memBook) AddContacts(ctx context.Context, cards []graph.Card) ([]api.ContactRef, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []api.ContactRef
	for _, card := range cards {
		if _, err := graph.NormalizeCard(card); err != nil {
			return nil, fmt.Errorf("%w: %v", api.ErrInvalid, err)
		}
		m.n++
		id := fmt.Sprintf("c%d", m.n)
		m.byID[id] = api.Contact{ID: id, UID: book.UID(card), Name: card.DisplayName(), Card: book.WithoutUID(card)}
		out = append(out, api.ContactRef{ID: id, Status: api.StatusNew})
	}
	return out, nil
}

func (m *memBook) EditContact(ctx context.Context, ref string, card graph.Card) (*api.Contact, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.byID[ref]
	if !ok {
		return nil, api.ErrNotFound
	}
	if _, err := graph.NormalizeCard(card); err != nil {
		return nil, fmt.Errorf("%w: %v", api.ErrInvalid, err)
	}
	c.Card = book.WithoutUID(card)
	m.byID[ref] = c
	return &c, nil
}

func (m *memBook) RemoveContact(ctx context.Context, ref string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, ref)
	return nil
}

func (m *memBook) ExportEvents(ctx context.Context, uids []string) (*api.EventExport, error) {
	return &api.EventExport{ICS: ""}, nil
}

func (m *memBook) ImportEvents(ctx context.Context, req api.ImportEventsRequest) (*api.EventImportResult, error) {
	return nil, fmt.Errorf("%w: no calendar here", api.ErrInvalid)
}

func (m *memBook) RemoveEvent(ctx context.Context, uid string) error { return api.ErrNotFound }

func (m *memBook) RSVPEvent(ctx context.Context, uid, answer string) (*api.Event, error) {
	return nil, api.ErrNotFound
}

func (m *memBook) ID(ctx context.Context) (*api.Identity, error) { return &api.Identity{}, nil }

func (m *memBook) Invitations(ctx context.Context, uids []string) ([]*api.Event, error) {
	return nil, nil
}

// FuzzHandler sends any body to the address book's PUT, PROPFIND and
// REPORT (sync-collection among them) and the calendar's REPORT: no
// answer is a server error, and a refused PUT changes nothing.
func FuzzHandler(f *testing.F) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:B\r\nitem1.X-ABLABEL:x\r\nPHOTO;ENCODING=b;TYPE=JPEG:AAAA\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=A9\r\nEND:VCARD\r\n",
		`<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/><d:getetag/></d:prop></d:propfind>`,
		`<?xml version="1.0"?><c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop><c:filter><c:prop-filter name="FN"><c:text-match>a</c:text-match></c:prop-filter></c:filter></c:addressbook-query>`,
		`<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><c:address-data/></d:prop><d:href>/carddav/kith/books/contacts/a.vcf</d:href></c:addressbook-multiget>`,
		`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/><c:address-data/></d:prop></d:sync-collection>`,
		`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>http://kith.invalid/ns/sync/00/1</d:sync-token><d:sync-level>infinite</d:sync-level><d:limit><d:nresults>1</d:nresults></d:limit><d:prop><d:getetag/><d:getlastmodified/></d:prop></d:sync-collection>`,
		`<d:sync-collection xmlns:d="DAV:"><d:sync-level>2</d:sync-level></d:sync-collection>`,
		`<?xml version="1.0"?><c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data content-type="text/vcard" version="4.0"/></d:prop><d:href>/carddav/kith/books/contacts/a.vcf</d:href><d:href>/carddav/kith/books/contacts/b%20c.vcf</d:href></c:addressbook-multiget>`,
		`<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/><d:supported-report-set/></d:prop></d:propfind>`,
		"", "BEGIN:VCARD\r\n", "<",
	} {
		for _, m := range []uint8{0, 2, 3, 4} {
			f.Add(m, seed)
		}
	}
	f.Fuzz(func(t *testing.T, method uint8, body string) {
		b := newMemBook()
		h := Handler(b, string(hash), nil)
		if _, err := b.AddContacts(t.Context(), []graph.Card{{Fields: []graph.Field{{Name: "uid", Value: "a"}, {Name: "fn", Value: "A"}}}}); err != nil {
			t.Fatal(err)
		}
		before, _ := b.Contacts(t.Context())
		var req *http.Request
		switch method % 5 {
		case 0:
			req = httptest.NewRequest("PUT", bookPath+"a.vcf", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/vcard")
		case 1:
			req = httptest.NewRequest("PUT", bookPath+"new.vcf", strings.NewReader(body))
			req.Header.Set("Content-Type", "text/vcard")
		case 2:
			req = httptest.NewRequest("PROPFIND", bookPath, strings.NewReader(body))
			req.Header.Set("Depth", fmt.Sprint(method/4%2))
			req.Header.Set("Content-Type", "application/xml")
		case 3:
			req = httptest.NewRequest("REPORT", bookPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/xml")
		case 4:
			req = httptest.NewRequest("REPORT", calendarPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/xml")
		}
		req.SetBasicAuth(Username, "pw")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, req.URL.Path, w.Code, w.Body)
		}
		if req.Method == "PUT" && w.Code >= 300 {
			after, _ := b.Contacts(t.Context())
			if len(after) != len(before) || after[0].Card.First("fn") != before[0].Card.First("fn") {
				t.Fatalf("a refused PUT (%d) changed the book", w.Code)
			}
		}
	})
}
