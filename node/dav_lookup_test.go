package node_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// TestDAVPutMergedUID: a new card PUT under a UID that was merged into
// another contact is a UID conflict (409): it neither updates the contact
// served at the other name nor makes a second one.
func TestDAVPutMergedUID(t *testing.T) {
	ctx := t.Context()
	n := node.NewTest(t, "alice")
	refs, err := n.AddContacts(ctx, []graph.Card{
		fields("uid", "keep-1", "fn", "Ann Lee", "email", "ann@example.org"),
		fields("uid", "gone-2", "fn", "Ann Lee", "tel", "+1 555 0100"),
	})
	require.NoError(t, err)
	_, err = n.MergeContacts(ctx, refs[0].ID, refs[1].ID)
	require.NoError(t, err)
	creds, err := n.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url := strings.TrimSuffix(creds.URL, "/") + davBook + "gone-2.vcf"
	resp, body := davDo(t, "GET", url, creds.Username, creds.Password, "", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "the merged contact is served at its kept name: %s", body)
	resp, body = davDo(t, "PUT", url, creds.Username, creds.Password,
		"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:gone-2\r\nFN:Someone Else\r\nEND:VCARD\r\n",
		http.Header{"Content-Type": {"text/vcard"}, "If-None-Match": {"*"}})
	require.Equal(t, http.StatusConflict, resp.StatusCode, body)
	cs, err := n.Contacts(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, "Ann Lee", cs[0].Name)
}

// TestDAVEncodingCache: a listing serves cards from the cache of
// encodings (by record CID), and a card changed in Kith afterwards is
// served changed, with a new ETag, by a listing and by a GET.
func TestDAVEncodingCache(t *testing.T) {
	ctx := t.Context()
	n := node.NewTest(t, "alice")
	refs, err := n.AddContacts(ctx, []graph.Card{
		fields("uid", "ann-1", "fn", "Ann Lee", "email", "ann@example.org"),
		fields("uid", "bo-2", "fn", "Bo Park"),
	})
	require.NoError(t, err)
	creds, err := n.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	base := strings.TrimSuffix(creds.URL, "/")
	etagRe := regexp.MustCompile(`ann-1\.vcf</[^>]*href>.*?getetag[^>]*>([^<]+)<`)
	etag := func() string {
		t.Helper()
		resp, body := davDo(t, "PROPFIND", base+davBook, creds.Username, creds.Password,
			`<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`, http.Header{"Depth": {"1"}, "Content-Type": {"application/xml"}})
		require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
		m := etagRe.FindStringSubmatch(strings.ReplaceAll(body, "\n", ""))
		require.NotNil(t, m, "no ETag for ann-1.vcf in %s", body)
		return m[1]
	}
	first := etag()
	require.Equal(t, first, etag(), "a second listing of unchanged cards")
	_, err = n.EditContact(ctx, refs[0].ID, fields("uid", "ann-1", "fn", "Ann Lee", "email", "ann@new.example"))
	require.NoError(t, err)
	resp, body := davDo(t, "GET", base+davBook+"ann-1.vcf", creds.Username, creds.Password, "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "ann@new.example")
	require.NotEqual(t, first, etag(), "the ETag after an edit in Kith")
}
