package node_test

import (
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	goical "github.com/emersion/go-ical"
	govcard "github.com/emersion/go-vcard"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/emersion/go-webdav/carddav"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/dav"
)

const davBook = "/carddav/kith/books/contacts/"

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// headerClient adds headers to every request (If-Match, which
// go-webdav's client does not send).
type headerClient struct {
	c      webdav.HTTPClient
	header http.Header
}

func (h headerClient) Do(r *http.Request) (*http.Response, error) {
	for k, v := range h.header {
		r.Header[k] = v
	}
	return h.c.Do(r)
}

func davClient(t testing.TB, url, user, password string, header http.Header) *carddav.Client {
	t.Helper()
	hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, user, password)
	if header != nil {
		hc = headerClient{hc, header}
	}
	c, err := carddav.NewClient(hc, url)
	require.NoError(t, err)
	return c
}

func newCard(kv ...string) govcard.Card {
	c := govcard.Card{}
	c.SetValue(govcard.FieldVersion, "3.0")
	for i := 0; i+1 < len(kv); i += 2 {
		c.Add(kv[i], &govcard.Field{Value: kv[i+1]})
	}
	return c
}

// davDo sends a raw request with the credentials.
func davDo(t testing.TB, method, url, user, password, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestDAVAddressBook(t *testing.T) {
	ctx := t.Context()
	tn := newNet(t)
	alice, bob := tn.add("alice"), tn.add("bob")
	_, err := bob.SetMe(ctx, api.SetMeRequest{Field: "email", Values: []string{"bob@example.org"}, Circles: []string{"friends"}})
	require.NoError(t, err)
	_, err = bob.SetMe(ctx, api.SetMeRequest{Field: "fn", Values: []string{"Bob Builder"}})
	require.NoError(t, err)
	connect(t, bob, alice)
	eventually(t, "alice sees bob's card", func() bool {
		c, err := alice.Contact(ctx, bob.Host().ID().String())
		return err == nil && count(c.Card, "email", "bob@example.org") == 1
	})
	refs, err := alice.AddContacts(ctx, []graph.Card{fields("uid", "urn:uuid:0b1e5a52-1f0d-4c77-9a61-2ec405d3b819", "fn", "Carol Local", "email", "carol@example.org")})
	require.NoError(t, err)
	carolID := refs[0].ID

	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	require.Equal(t, dav.Username, creds.Username)
	require.True(t, strings.HasPrefix(creds.URL, "http://127.0.0.1:"))
	url := strings.TrimSuffix(creds.URL, "/")

	// Discovery as DAVx5 and Apple do it: the well-known URL, the
	// principal, its home set, the address book in it.
	c := davClient(t, url+"/.well-known/carddav", creds.Username, creds.Password, nil)
	principal, err := c.FindCurrentUserPrincipal(ctx)
	require.NoError(t, err)
	home, err := c.FindAddressBookHomeSet(ctx, principal)
	require.NoError(t, err)
	books, err := c.FindAddressBooks(ctx, home)
	require.NoError(t, err)
	require.Len(t, books, 1)
	require.Equal(t, davBook, books[0].Path)

	c = davClient(t, url, creds.Username, creds.Password, nil)
	// PROPFIND Depth 1: both contacts, each with an ETag.
	infos, err := c.ReadDir(ctx, davBook, false)
	require.NoError(t, err)
	etags := map[string]string{}
	for _, fi := range infos {
		if !fi.IsDir {
			require.NotEmpty(t, fi.ETag, fi.Path)
			etags[fi.Path] = fi.ETag
		}
	}
	carolPath := davBook + "0b1e5a52-1f0d-4c77-9a61-2ec405d3b819.vcf"
	bobPath := davBook + bob.Host().ID().String() + ".vcf"
	require.Contains(t, etags, carolPath)
	require.Contains(t, etags, bobPath)
	require.Len(t, etags, 2)

	// REPORT addressbook-query: every card, whole.
	all, err := c.QueryAddressBook(ctx, davBook, &carddav.AddressBookQuery{DataRequest: carddav.AddressDataRequest{AllProp: true}})
	require.NoError(t, err)
	require.Len(t, all, 2)

	// GET.
	carol, err := c.GetAddressObject(ctx, carolPath)
	require.NoError(t, err)
	require.Equal(t, "Carol Local", carol.Card.Value(govcard.FieldFormattedName))
	require.Equal(t, "urn:uuid:0b1e5a52-1f0d-4c77-9a61-2ec405d3b819", carol.Card.Value(govcard.FieldUID))
	require.Equal(t, etags[carolPath], carol.ETag)

	ctagBody := `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/><d:displayname/><d:resourcetype/><d:sync-token/></d:prop></d:propfind>`
	ctag := func() string {
		t.Helper()
		resp, body := davDo(t, "PROPFIND", url+davBook, creds.Username, creds.Password, ctagBody,
			http.Header{"Depth": {"0"}, "Content-Type": {"application/xml"}})
		require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
		var ms struct {
			Propstats []struct {
				Prop struct {
					Ctag         string `xml:"http://calendarserver.org/ns/ getctag"`
					Displayname  string `xml:"DAV: displayname"`
					Resourcetype struct {
						Book *struct{} `xml:"urn:ietf:params:xml:ns:carddav addressbook"`
					} `xml:"DAV: resourcetype"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: response>propstat"`
		}
		require.NoError(t, xml.Unmarshal([]byte(body), &ms), body)
		require.Len(t, ms.Propstats, 1, body) // sync-token too: 200
		p := ms.Propstats[0]
		require.Contains(t, p.Status, "200")
		require.Equal(t, "Kith", p.Prop.Displayname)
		require.NotNil(t, p.Prop.Resourcetype.Book)
		require.NotEmpty(t, p.Prop.Ctag)
		return p.Prop.Ctag
	}
	ctag0 := ctag()
	require.Equal(t, ctag0, ctag(), "the ctag stands while nothing changes")

	t.Run("put new keeps every property", func(t *testing.T) {
		card := newCard(govcard.FieldUID, "dave-1", govcard.FieldFormattedName, "Dave New", govcard.FieldEmail, "dave@example.org")
		card.Add("X-CUSTOM", &govcard.Field{Value: "kept", Params: govcard.Params{"X-PARAM": {"yes"}}})
		card.Add("X-ABLABEL", &govcard.Field{Value: "Best friend", Group: "item1"})
		card.Add(govcard.FieldURL, &govcard.Field{Value: "https://dave.example", Group: "item1"})
		ao, err := c.PutAddressObject(ctx, davBook+"dave-1.vcf", card)
		require.NoError(t, err)
		dave, err := alice.Contact(ctx, "Dave New")
		require.NoError(t, err)
		require.Equal(t, "dave-1", dave.UID)
		back, err := c.GetAddressObject(ctx, davBook+"dave-1.vcf")
		require.NoError(t, err)
		require.Equal(t, ao.ETag, back.ETag)
		require.Equal(t, "kept", back.Card.Value("X-CUSTOM"))
		require.Equal(t, []string{"yes"}, back.Card.Get("X-CUSTOM").Params["X-PARAM"])
		require.Equal(t, "item1", back.Card.Get("X-ABLABEL").Group)
		require.Equal(t, "item1", back.Card.Get(govcard.FieldURL).Group)

		// A card without a UID takes its resource name as UID.
		_, err = c.PutAddressObject(ctx, davBook+"no-uid.vcf", newCard(govcard.FieldFormattedName, "Erin NoUID"))
		require.NoError(t, err)
		erin, err := alice.Contact(ctx, "Erin NoUID")
		require.NoError(t, err)
		require.Equal(t, "no-uid", erin.UID)
		require.NotEqual(t, ctag0, ctag(), "a new card changes the ctag")
	})

	t.Run("stale etag is refused and nothing is lost", func(t *testing.T) {
		stale := davClient(t, url, creds.Username, creds.Password, http.Header{"If-Match": {`"0000"`}})
		edited := newCard(govcard.FieldUID, "urn:uuid:0b1e5a52-1f0d-4c77-9a61-2ec405d3b819", govcard.FieldFormattedName, "Carol Overwritten")
		_, err := stale.PutAddressObject(ctx, carolPath, edited)
		require.ErrorContains(t, err, "412")
		got, err := alice.Contact(ctx, carolID)
		require.NoError(t, err)
		require.Equal(t, "Carol Local", got.Card.First("fn"))
		require.Equal(t, 1, count(got.Card, "email", "carol@example.org"))

		// A new card where one exists, with If-None-Match: *.
		exists := davClient(t, url, creds.Username, creds.Password, http.Header{"If-None-Match": {"*"}})
		_, err = exists.PutAddressObject(ctx, carolPath, edited)
		require.ErrorContains(t, err, "412")

		// The right ETag: the edit is written.
		fresh := davClient(t, url, creds.Username, creds.Password, http.Header{"If-Match": {`"` + etags[carolPath] + `"`}})
		ao, err := fresh.PutAddressObject(ctx, carolPath, edited)
		require.NoError(t, err)
		require.NotEqual(t, etags[carolPath], ao.ETag)
		got, err = alice.Contact(ctx, carolID)
		require.NoError(t, err)
		require.Equal(t, "Carol Overwritten", got.Card.First("fn"))

		// DELETE with the old ETag: refused.
		resp, _ := davDo(t, "DELETE", url+carolPath, creds.Username, creds.Password, "", http.Header{"If-Match": {`"` + etags[carolPath] + `"`}})
		require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
		_, err = alice.Contact(ctx, carolID)
		require.NoError(t, err)
	})

	t.Run("a connection's fields are read-only, my notes are not", func(t *testing.T) {
		ao, err := c.GetAddressObject(ctx, bobPath)
		require.NoError(t, err)
		changed := newCard(govcard.FieldUID, ao.Card.Value(govcard.FieldUID), govcard.FieldFormattedName, "Bob Builder", govcard.FieldEmail, "evil@example.org")
		_, err = c.PutAddressObject(ctx, bobPath, changed)
		require.ErrorContains(t, err, "403")
		require.ErrorContains(t, err, "read-only")
		got, err := alice.Contact(ctx, bob.Host().ID().String())
		require.NoError(t, err)
		require.Zero(t, count(got.Card, "email", "evil@example.org"))

		ao.Card.Add(govcard.FieldNote, &govcard.Field{Value: "met at the fair"})
		_, err = c.PutAddressObject(ctx, bobPath, ao.Card)
		require.NoError(t, err)
		got, err = alice.Contact(ctx, bob.Host().ID().String())
		require.NoError(t, err)
		require.Equal(t, 1, count(*got.Notes, "note", "met at the fair"))
		require.Equal(t, 1, count(got.Card, "email", "bob@example.org"))

		resp, body := davDo(t, "DELETE", url+bobPath, creds.Username, creds.Password, "", nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.Contains(t, body, "kith disconnect")
	})

	t.Run("delete", func(t *testing.T) {
		require.NoError(t, c.RemoveAll(ctx, carolPath))
		_, err := alice.Contact(ctx, carolID)
		require.ErrorIs(t, err, api.ErrNotFound)
		_, err = c.GetAddressObject(ctx, carolPath)
		require.ErrorContains(t, err, "404")
	})

	t.Run("bad input", func(t *testing.T) {
		vcardType := http.Header{"Content-Type": {"text/vcard"}}
		before, err := alice.Contacts(ctx)
		require.NoError(t, err)
		for _, tc := range []struct {
			name, path, body string
			status           int
		}{
			{"not a vCard", davBook + "x.vcf", "hello", http.StatusBadRequest},
			{"cut off", davBook + "x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\n", http.StatusBadRequest},
			{"two cards", davBook + "x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Y\r\nEND:VCARD\r\n", http.StatusBadRequest},
			{"too large", davBook + "x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:" + strings.Repeat("a", dav.MaxBody) + "\r\nEND:VCARD\r\n", http.StatusRequestEntityTooLarge},
			{"dot dot", davBook + "..%2f..%2fx.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n", http.StatusBadRequest},
			{"odd name", davBook + "a%20b.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n", http.StatusBadRequest},
			{"dot segment", "/carddav/kith/books/contacts/../contacts/x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n", http.StatusBadRequest},
			{"hidden name", davBook + ".x.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n", http.StatusBadRequest},
		} {
			resp, body := davDo(t, "PUT", url+tc.path, creds.Username, creds.Password, tc.body, vcardType)
			require.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, body)
		}
		after, err := alice.Contacts(ctx)
		require.NoError(t, err)
		require.Equal(t, len(before), len(after))
	})

	t.Run("credentials", func(t *testing.T) {
		for _, tc := range []struct{ user, pass string }{{"", ""}, {"kith", "wrong"}, {"alice", creds.Password}} {
			resp, body := davDo(t, "GET", url+bobPath, tc.user, tc.pass, "", nil)
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			require.NotContains(t, body, "Bob")
			require.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")
			resp, _ = davDo(t, "PROPFIND", url+davBook, tc.user, tc.pass, "", http.Header{"Depth": {"1"}})
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		}
		// A new password: the old one stops working.
		again, err := alice.DAVPassword(ctx)
		require.NoError(t, err)
		require.NotEqual(t, creds.Password, again.Password)
		resp, _ := davDo(t, "GET", url+bobPath, creds.Username, creds.Password, "", nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, body := davDo(t, "GET", url+bobPath, again.Username, again.Password, "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Contains(t, body, "Bob Builder")
	})

	require.NoError(t, alice.DAVDisable(ctx))
	st, err := alice.DAVStatus(ctx)
	require.NoError(t, err)
	require.False(t, st.Enabled)
	require.False(t, st.Running)
	_, err = http.Get(url + "/")
	require.Error(t, err, "nothing listens once disabled")
}

// TestDAVPersists: the server comes back at the next start of a node on
// the same home, with the same password, until disabled.
func TestDAVPersists(t *testing.T) {
	ctx := t.Context()
	home := t.TempDir()
	first := node.NewTest(t, "alice", node.WithHome(home))
	creds, err := first.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	require.NoError(t, first.Close())

	second := node.NewTest(t, "alice", node.WithHome(home))
	st, err := second.DAVStatus(ctx)
	require.NoError(t, err)
	require.True(t, st.Enabled && st.Running, "%+v", st)
	require.Equal(t, creds.URL, st.URL)
	resp, _ := davDo(t, "PROPFIND", creds.URL+"carddav/kith/", creds.Username, creds.Password, "", http.Header{"Depth": {"0"}})
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
	// An empty calendar lists as empty.
	resp, body := davDo(t, "PROPFIND", creds.URL+"caldav/kith/calendars/events/", creds.Username, creds.Password, "", http.Header{"Depth": {"1"}})
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
	require.NotContains(t, body, ".ics")
	require.NoError(t, second.DAVDisable(ctx))
	require.NoError(t, second.Close())

	third := node.NewTest(t, "alice", node.WithHome(home))
	st, err = third.DAVStatus(ctx)
	require.NoError(t, err)
	require.False(t, st.Enabled || st.Running, "%+v", st)
}

const davCalendar = "/caldav/kith/calendars/events/"

// TestDAVCalendar: my events over CalDAV, through go-webdav's client:
// discovery, REPORT, GET, PUT new (every property kept), a stale ETag
// refused, DELETE.
func TestDAVCalendar(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	summary, where := "Lunch", "Cafe Rio"
	ev, err := alice.AddEvent(ctx, api.EventInput{Summary: &summary, Location: &where, Start: "2026-12-03T12:30", TZ: "Europe/Berlin", Duration: "1h"})
	require.NoError(t, err)
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url := strings.TrimSuffix(creds.URL, "/")
	hc := webdav.HTTPClientWithBasicAuth(http.DefaultClient, creds.Username, creds.Password)

	wc, err := webdav.NewClient(hc, url+"/.well-known/caldav")
	require.NoError(t, err)
	principal, err := wc.FindCurrentUserPrincipal(ctx)
	require.NoError(t, err)
	c, err := caldav.NewClient(hc, url)
	require.NoError(t, err)
	home, err := c.FindCalendarHomeSet(ctx, principal)
	require.NoError(t, err)
	cals, err := c.FindCalendars(ctx, home)
	require.NoError(t, err)
	require.Len(t, cals, 1)
	require.Equal(t, davCalendar, cals[0].Path)

	objs, err := c.QueryCalendar(ctx, davCalendar, &caldav.CalendarQuery{CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true}, CompFilter: caldav.CompFilter{Name: "VCALENDAR"}})
	require.NoError(t, err)
	require.Len(t, objs, 1)
	lunchPath := davCalendar + ev.UID + ".ics"
	if !strings.Contains(ev.UID, "@") && !strings.Contains(ev.UID, ":") {
		require.Equal(t, lunchPath, objs[0].Path)
	}
	lunch, err := c.GetCalendarObject(ctx, objs[0].Path)
	require.NoError(t, err)
	require.NotEmpty(t, lunch.ETag)
	require.Equal(t, "Lunch", lunch.Data.Events()[0].Props.Get(goical.PropSummary).Value)

	// getctag on the calendar, which moves when an event comes.
	calCtag := func() string {
		resp, body := davDo(t, "PROPFIND", url+davCalendar, creds.Username, creds.Password,
			`<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/><d:resourcetype/></d:prop></d:propfind>`,
			http.Header{"Depth": {"0"}, "Content-Type": {"application/xml"}})
		require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
		require.Contains(t, body, "urn:ietf:params:xml:ns:caldav")
		require.Contains(t, body, "<cal:calendar/>")
		i := strings.Index(body, "<cs:getctag>")
		require.Positive(t, i, body)
		return body[i : i+60]
	}
	ctag0 := calCtag()

	// A new event from a client, with its own properties.
	put := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:standup-1\r\nDTSTAMP:20261201T100000Z\r\nDTSTART;TZID=Europe/Berlin:20261207T090000\r\nDTEND;TZID=Europe/Berlin:20261207T091500\r\nSUMMARY:Standup\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nX-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
	icsType := http.Header{"Content-Type": {"text/calendar"}}
	resp, body := davDo(t, "PUT", url+davCalendar+"standup-1.ics", creds.Username, creds.Password, put, icsType)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	got, err := alice.Event(ctx, "standup-1")
	require.NoError(t, err)
	require.Equal(t, "Standup", got.Summary)
	require.Contains(t, got.ICS, "X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC")
	require.NotEqual(t, ctag0, calCtag())

	// A stale ETag: 412, nothing changed; the right one: written.
	edited := strings.Replace(put, "SUMMARY:Standup", "SUMMARY:Standup moved", 1)
	resp, _ = davDo(t, "PUT", url+davCalendar+"standup-1.ics", creds.Username, creds.Password, edited,
		http.Header{"Content-Type": {"text/calendar"}, "If-Match": {`"stale"`}})
	require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
	got, err = alice.Event(ctx, "standup-1")
	require.NoError(t, err)
	require.Equal(t, "Standup", got.Summary)
	resp, body = davDo(t, "PUT", url+davCalendar+"standup-1.ics", creds.Username, creds.Password, edited,
		http.Header{"Content-Type": {"text/calendar"}, "If-Match": {etag}})
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body, "an update is 204, not 201")
	require.NotEmpty(t, resp.Header.Get("ETag"))
	require.NotEqual(t, etag, resp.Header.Get("ETag"))
	got, err = alice.Event(ctx, "standup-1")
	require.NoError(t, err)
	require.Equal(t, "Standup moved", got.Summary)

	// Broken input: 400, nothing changed.
	for _, bad := range []string{"hello", strings.Replace(put, "END:VCALENDAR\r\n", "", 1), strings.Replace(put, "DTSTART;TZID=Europe/Berlin:20261207T090000", "DTSTART:2026-12-07", 1)} {
		resp, body := davDo(t, "PUT", url+davCalendar+"bad.ics", creds.Username, creds.Password, bad, icsType)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	}
	_, err = alice.Event(ctx, "bad")
	require.ErrorIs(t, err, api.ErrNotFound)

	// DELETE.
	resp, _ = davDo(t, "DELETE", url+davCalendar+"standup-1.ics", creds.Username, creds.Password, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	_, err = alice.Event(ctx, "standup-1")
	require.ErrorIs(t, err, api.ErrNotFound)

	// Nothing without the password.
	resp, body = davDo(t, "GET", url+lunch.Path, creds.Username, "wrong", "", nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.NotContains(t, body, "Lunch")
}
