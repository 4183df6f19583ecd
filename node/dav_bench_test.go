package node_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/dav"
)

// BenchmarkDAV measures one GET and one PUT of a card, a PUT of a new
// card, and one Depth 1 PROPFIND of the address book, over 2,000 contacts.
func BenchmarkDAV(b *testing.B) {
	n := node.NewTest(b, "alice")
	var cards []graph.Card
	for i := range 2000 {
		cards = append(cards, fields("uid", fmt.Sprintf("c-%d", i), "fn", fmt.Sprintf("Person %d", i), "email", fmt.Sprintf("p%d@example.org", i)))
	}
	_, err := n.AddContacts(b.Context(), cards)
	require.NoError(b, err)
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	require.NoError(b, err)
	srv := httptest.NewServer(dav.Handler(n, string(hash), nil))
	defer srv.Close()
	do := func(method, path, body string, h http.Header) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.SetBasicAuth(dav.Username, "pw")
		for k, v := range h {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %s %s", method, path, resp.Status, got)
		}
	}
	b.Run("GET", func(b *testing.B) {
		for range b.N {
			do("GET", davBook+"c-1000.vcf", "", nil)
		}
	})
	b.Run("PUT", func(b *testing.B) {
		for i := range b.N {
			do("PUT", davBook+"c-1000.vcf", fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c-1000\r\nFN:Person %d\r\nEND:VCARD\r\n", i), http.Header{"Content-Type": {"text/vcard"}})
		}
	})
	fresh := 0 // across the runs of PUTnew: each PUT is of a new card
	b.Run("PUTnew", func(b *testing.B) {
		for range b.N {
			fresh++
			i := fresh
			do("PUT", davBook+fmt.Sprintf("new-%d.vcf", i), fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:new-%d\r\nFN:New %d\r\nEND:VCARD\r\n", i, i), http.Header{"Content-Type": {"text/vcard"}, "If-None-Match": {"*"}})
		}
	})
	b.Run("PROPFIND", func(b *testing.B) {
		for range b.N {
			do("PROPFIND", davBook, "", http.Header{"Depth": {"1"}})
		}
	})
}
