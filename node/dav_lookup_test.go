package node_test

import (
	"net/http"
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
