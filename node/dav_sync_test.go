package node_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-webdav/carddav"
	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// syncPaths returns a sync's updated paths (with their ETags) and its
// deleted paths, sorted.
func syncPaths(res *carddav.SyncResponse) (map[string]string, []string) {
	up := map[string]string{}
	for _, o := range res.Updated {
		up[o.Path] = o.ETag
	}
	del := slices.Clone(res.Deleted)
	slices.Sort(del)
	return up, del
}

// davSync runs go-webdav's own sync-collection client (RFC 6578) on
// the collection at p.
func davSync(t testing.TB, c *carddav.Client, p, token string) (*carddav.SyncResponse, error) {
	t.Helper()
	return c.SyncCollection(t.Context(), p, &carddav.SyncQuery{SyncToken: token})
}

// TestDAVSyncCollection: go-webdav's sync-collection client fetches the
// whole address book first, then exactly what changed on the node side
// (added, edited, removed), then nothing; a token the server does not
// know gets 403 DAV:valid-sync-token, and a sync without a token lists
// everything again. The same for the calendar.
func TestDAVSyncCollection(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	refs, err := alice.AddContacts(ctx, []graph.Card{
		fields("uid", "ann-1", "fn", "Ann"),
		fields("uid", "ben-1", "fn", "Ben"),
	})
	require.NoError(t, err)
	ann, ben := refs[0].ID, refs[1].ID
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url := strings.TrimSuffix(creds.URL, "/")
	c := davClient(t, url, creds.Username, creds.Password, nil)

	first, err := davSync(t, c, davBook, "")
	require.NoError(t, err)
	up, del := syncPaths(first)
	require.Len(t, up, 2)
	require.Empty(t, del)
	require.NotEmpty(t, first.SyncToken)
	annPath, benPath, cecPath := davBook+"ann-1.vcf", davBook+"ben-1.vcf", davBook+"cec-1.vcf"
	got, err := c.GetAddressObject(ctx, annPath)
	require.NoError(t, err)
	require.Equal(t, got.ETag, up[annPath], "the sync's ETag is the GET's")

	// The PROPFIND sync-token is the REPORT's while nothing changes.
	resp, body := davDo(t, "PROPFIND", url+davBook, creds.Username, creds.Password,
		`<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/><d:supported-report-set/></d:prop></d:propfind>`,
		http.Header{"Depth": {"0"}, "Content-Type": {"application/xml"}})
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
	require.Contains(t, body, "<d:sync-token>"+first.SyncToken+"</d:sync-token>")
	require.Contains(t, body, "<d:sync-collection/>", "the report is advertised")

	again, err := davSync(t, c, davBook, first.SyncToken)
	require.NoError(t, err)
	require.Empty(t, again.Updated)
	require.Empty(t, again.Deleted)
	require.Equal(t, first.SyncToken, again.SyncToken)

	// On the node side: one added, one edited, one removed.
	_, err = alice.AddContacts(ctx, []graph.Card{fields("uid", "cec-1", "fn", "Cec")})
	require.NoError(t, err)
	_, err = alice.EditContact(ctx, ann, fields("fn", "Ann Edited"))
	require.NoError(t, err)
	require.NoError(t, alice.RemoveContact(ctx, ben))

	next, err := davSync(t, c, davBook, first.SyncToken)
	require.NoError(t, err)
	up, del = syncPaths(next)
	require.Equal(t, []string{benPath}, del)
	require.Len(t, up, 2, "%v", up)
	for _, p := range []string{annPath, cecPath} {
		got, err := c.GetAddressObject(ctx, p)
		require.NoError(t, err)
		require.Equal(t, got.ETag, up[p], p)
	}
	require.NotEqual(t, first.SyncToken, next.SyncToken)
	// The old token still answers the same changes; the new one none.
	same, err := davSync(t, c, davBook, first.SyncToken)
	require.NoError(t, err)
	up2, del2 := syncPaths(same)
	require.Equal(t, up, up2)
	require.Equal(t, del, del2)
	none, err := davSync(t, c, davBook, next.SyncToken)
	require.NoError(t, err)
	require.Empty(t, none.Updated)
	require.Empty(t, none.Deleted)

	// address-data comes with the changes when asked.
	resp, body = davDo(t, "REPORT", url+davBook, creds.Username, creds.Password,
		`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:sync-token>`+first.SyncToken+`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><card:address-data/></d:prop></d:sync-collection>`,
		http.Header{"Content-Type": {"application/xml"}})
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
	require.Contains(t, body, "FN:Ann Edited")
	require.Contains(t, body, "FN:Cec")
	require.Contains(t, body, "<d:href>"+benPath+"</d:href><d:status>HTTP/1.1 404 Not Found</d:status>")

	// After a restart of the server, a token whose collection is as it
	// was has nothing to fetch; once something changed it is unknown:
	// 403 valid-sync-token, and the client syncs again from nothing.
	require.NoError(t, alice.DAVDisable(ctx))
	creds, err = alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url = strings.TrimSuffix(creds.URL, "/")
	c = davClient(t, url, creds.Username, creds.Password, nil)
	restarted, err := davSync(t, c, davBook, next.SyncToken)
	require.NoError(t, err)
	require.Empty(t, restarted.Updated)
	require.Empty(t, restarted.Deleted)
	require.NotEqual(t, next.SyncToken, restarted.SyncToken, "a token of this run")
	_, err = alice.AddContacts(ctx, []graph.Card{fields("uid", "dan-1", "fn", "Dan")})
	require.NoError(t, err)
	_, err = davSync(t, c, davBook, next.SyncToken)
	require.ErrorContains(t, err, "403 Forbidden")
	require.ErrorContains(t, err, "valid-sync-token")
	// A token of this run still gets exactly the change.
	since, err := davSync(t, c, davBook, restarted.SyncToken)
	require.NoError(t, err)
	up, _ = syncPaths(since)
	require.Len(t, up, 1)
	require.Contains(t, up, davBook+"dan-1.vcf")
	resp, body = davDo(t, "REPORT", url+davBook, creds.Username, creds.Password,
		`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>nonsense</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`,
		http.Header{"Content-Type": {"application/xml"}})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, body)
	require.Contains(t, body, "<d:valid-sync-token/>")
	full, err := davSync(t, c, davBook, "")
	require.NoError(t, err)
	up, _ = syncPaths(full)
	require.Len(t, up, 3)
	require.Contains(t, up, annPath)
	require.Contains(t, up, cecPath)

	// A limit below the changes: 507 (RFC 6578 section 3.7).
	resp, body = davDo(t, "REPORT", url+davBook, creds.Username, creds.Password,
		`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:limit><d:nresults>1</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>`,
		http.Header{"Content-Type": {"application/xml"}})
	require.Equal(t, http.StatusInsufficientStorage, resp.StatusCode, body)
	require.Contains(t, body, "number-of-matches-within-limits")

	t.Run("calendar", func(t *testing.T) {
		summary := "Lunch"
		lunch, err := alice.AddEvent(ctx, api.EventInput{Summary: &summary, Start: "2026-12-03T12:30", TZ: "Europe/Berlin", Duration: "1h"})
		require.NoError(t, err)
		first, err := davSync(t, c, davCalendar, "")
		require.NoError(t, err)
		up, del := syncPaths(first)
		require.Len(t, up, 1)
		require.Empty(t, del)

		tea := "Tea"
		teaEv, err := alice.AddEvent(ctx, api.EventInput{Summary: &tea, Start: "2026-12-04T16:00", TZ: "Europe/Berlin", Duration: "30m"})
		require.NoError(t, err)
		mid, err := davSync(t, c, davCalendar, first.SyncToken)
		require.NoError(t, err)
		up, del = syncPaths(mid)
		require.Len(t, up, 1)
		require.Empty(t, del)

		moved := "Late lunch"
		_, err = alice.EditEvent(ctx, lunch.UID, api.EventInput{Summary: &moved})
		require.NoError(t, err)
		require.NoError(t, alice.RemoveEvent(ctx, teaEv.UID))
		next, err := davSync(t, c, davCalendar, mid.SyncToken)
		require.NoError(t, err)
		up, del = syncPaths(next)
		require.Len(t, up, 1)
		require.Len(t, del, 1)
		for p := range up {
			require.Contains(t, p, davCalendar)
		}
		require.Contains(t, del[0], davCalendar)

		resp, body := davDo(t, "REPORT", url+davCalendar, creds.Username, creds.Password,
			`<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav"><d:sync-token>`+mid.SyncToken+`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/><cal:calendar-data/></d:prop></d:sync-collection>`,
			http.Header{"Content-Type": {"application/xml"}})
		require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
		require.Contains(t, body, "SUMMARY:Late lunch")
		require.NotContains(t, body, "SUMMARY:Tea")

		// The address book's token is not the calendar's.
		_, err = davSync(t, c, davCalendar, next.SyncToken)
		require.NoError(t, err)
		_, err = davSync(t, c, davCalendar, full.SyncToken)
		require.ErrorContains(t, err, "403 Forbidden")
	})
}

// TestDAVPutStatus: a PUT that makes a card is 201 Created, one that
// replaces it 204 No Content, each with the new ETag (RFC 4918 9.7.1).
func TestDAVPutStatus(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url := strings.TrimSuffix(creds.URL, "/")
	vcf := http.Header{"Content-Type": {"text/vcard"}}
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:dora-1\r\nFN:Dora\r\nEND:VCARD\r\n"
	resp, body := davDo(t, "PUT", url+davBook+"dora-1.vcf", creds.Username, creds.Password, card, vcf)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)
	created := resp.Header.Get("ETag")
	require.NotEmpty(t, created)

	resp, body = davDo(t, "PUT", url+davBook+"dora-1.vcf", creds.Username, creds.Password, strings.Replace(card, "FN:Dora", "FN:Dora Explorer", 1), vcf)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
	updated := resp.Header.Get("ETag")
	require.NotEmpty(t, updated)
	require.NotEqual(t, created, updated)
	c := davClient(t, url, creds.Username, creds.Password, nil)
	got, err := c.GetAddressObject(ctx, davBook+"dora-1.vcf")
	require.NoError(t, err)
	require.Equal(t, updated, `"`+got.ETag+`"`)
}
