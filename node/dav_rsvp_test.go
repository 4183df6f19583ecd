package node_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	goical "github.com/emersion/go-ical"
	"github.com/emersion/go-webdav"
	"github.com/emersion/go-webdav/caldav"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kith-p2p/kith/graph/cal"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/dav"
)

// handlerClient sends requests straight to a handler, in process (a
// synctest bubble has no sockets).
type handlerClient struct{ h http.Handler }

func (c handlerClient) Do(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// setPartStat returns the iCalendar text ics with the PARTSTAT of the
// ATTENDEE that is peer p set to ps, and its SUMMARY to summary if not "".
func setPartStat(t testing.TB, ics, p, ps, summary string) string {
	t.Helper()
	c, err := goical.NewDecoder(strings.NewReader(ics)).Decode()
	require.NoError(t, err)
	for _, ev := range c.Events() {
		ats := ev.Props[goical.PropAttendee]
		for i := range ats {
			if ats[i].Params.Get(cal.PeerParam) == p {
				ats[i].Params.Set(goical.ParamParticipationStatus, ps)
			}
		}
		if summary != "" {
			ev.Props.SetText(goical.PropSummary, summary)
		}
		// What a calendar app adds of its own.
		ev.Props.SetText("X-MOZ-LASTACK", "20261201T120000Z")
	}
	var b bytes.Buffer
	require.NoError(t, goical.NewEncoder(&b).Encode(c))
	return b.String()
}

// TestDAVRSVP: bob's calendar app sees alice's invitation beside his
// events and answers it by writing it back with his PARTSTAT changed:
// that is an rsvp entry like `kith events rsvp`, and alice sees the
// answer. Any other change to her event is refused (403, saying what)
// and writes nothing, and so is a deletion.
func TestDAVRSVP(t *testing.T) {
	inBubble(t, func(t *testing.T) {
		ctx := t.Context()
		tn := newNet(t)
		alice, bob := tn.add("alice"), tn.add("bob")
		connect(t, alice, bob)
		bobID := bob.Host().ID().String()
		summary := "Planning"
		ev, err := alice.AddEvent(ctx, api.EventInput{Summary: &summary, Start: "2026-12-03 10:00", Duration: "1h", TZ: "Europe/Berlin"})
		require.NoError(t, err)
		eventually(t, "alice holds bob's key and invites him", func() bool {
			_, err = alice.InviteEvent(ctx, ev.UID, []string{bobID})
			return err == nil
		})

		hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
		require.NoError(t, err)
		h := dav.Handler(bob, string(hash), nil)
		hc := webdav.HTTPClientWithBasicAuth(handlerClient{h}, dav.Username, "pw")
		cc, err := caldav.NewClient(hc, "http://kith.test")
		require.NoError(t, err)
		do := func(method, path, body string, header http.Header) *httptest.ResponseRecorder {
			t.Helper()
			req := httptest.NewRequest(method, path, strings.NewReader(body)).WithContext(ctx)
			req.SetBasicAuth(dav.Username, "pw")
			for k, v := range header {
				req.Header[k] = v
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w
		}

		var path string
		eventually(t, "bob's calendar app lists alice's invitation", func() bool {
			objs, err := cc.QueryCalendar(ctx, davCalendar, &caldav.CalendarQuery{CompRequest: caldav.CalendarCompRequest{Name: "VCALENDAR", AllProps: true, AllComps: true}, CompFilter: caldav.CompFilter{Name: "VCALENDAR"}})
			require.NoError(t, err)
			for _, o := range objs {
				if uid, _ := o.Data.Events()[0].Props.Text(goical.PropUID); uid == ev.UID {
					path = o.Path
				}
			}
			return path != ""
		})
		w := do("GET", path, "", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		held, etag := w.Body.String(), w.Header().Get("ETag")
		require.Contains(t, held, "NEEDS-ACTION")
		require.Contains(t, held, "SUMMARY:Planning")
		ics := http.Header{"Content-Type": {"text/calendar"}}
		withETag := func(etag string) http.Header {
			return http.Header{"Content-Type": {"text/calendar"}, "If-Match": {etag}}
		}

		// Another change to alice's event: 403, naming it; nothing written.
		w = do("PUT", path, setPartStat(t, held, bobID, "ACCEPTED", "Planning (moved)"), withETag(etag))
		require.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "SUMMARY")
		// An answer no one can give, and a stale ETag: refused too.
		w = do("PUT", path, setPartStat(t, held, bobID, "DELEGATED", ""), withETag(etag))
		require.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
		w = do("PUT", path, setPartStat(t, held, bobID, "ACCEPTED", ""), withETag(`"stale"`))
		require.Equal(t, http.StatusPreconditionFailed, w.Code, w.Body.String())
		// Nor can it be deleted.
		w = do("DELETE", path, "", nil)
		require.Equal(t, http.StatusForbidden, w.Code, w.Body.String())
		require.Contains(t, w.Body.String(), "decline")
		got, err := bob.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.Empty(t, got.Replies, "a refused write answered")
		require.Equal(t, "Planning", got.Summary)

		// The answer: 204, a new ETag, an rsvp entry that reaches alice.
		w = do("PUT", path, setPartStat(t, held, bobID, "ACCEPTED", ""), withETag(etag))
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		answered := w.Header().Get("ETag")
		require.NotEmpty(t, answered)
		require.NotEqual(t, etag, answered)
		got, err = bob.Event(ctx, ev.UID)
		require.NoError(t, err)
		require.Equal(t, map[string]string{bobID: "ACCEPTED"}, partstats(got))
		eventually(t, "alice sees bob's answer", func() bool {
			got, err := alice.Event(ctx, ev.UID)
			require.NoError(t, err)
			return maps.Equal(partstats(got), map[string]string{bobID: "ACCEPTED"})
		})

		// The app reads back what it wrote: bob's PARTSTAT, the same ETag.
		w = do("GET", path, "", nil)
		require.Equal(t, http.StatusOK, w.Code)
		require.Equal(t, answered, w.Header().Get("ETag"))
		require.Contains(t, w.Body.String(), "PARTSTAT=ACCEPTED")
		require.Equal(t, "Planning", mustEvent(t, alice, ev.UID).Summary, "alice's event is hers")

		// Writing it again unchanged writes nothing; declining is a new answer.
		w = do("PUT", path, setPartStat(t, held, bobID, "ACCEPTED", ""), ics)
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		w = do("PUT", path, setPartStat(t, held, bobID, "DECLINED", ""), ics)
		require.Equal(t, http.StatusNoContent, w.Code, w.Body.String())
		eventually(t, "alice sees bob decline", func() bool {
			return maps.Equal(partstats(mustEvent(t, alice, ev.UID)), map[string]string{bobID: "DECLINED"})
		})
	})
}

func mustEvent(t testing.TB, n *node.Node, uid string) *api.Event {
	t.Helper()
	ev, err := n.Event(t.Context(), uid)
	require.NoError(t, err)
	return ev
}
