package node_test

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/dav"
)

// pinnedClient trusts exactly the certificate whose fingerprint it is
// given, as a phone does once its user accepted it.
func pinnedClient(fingerprint string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // self-signed: checked by its fingerprint below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || dav.Fingerprint(cs.PeerCertificates[0].Raw) != fingerprint {
					return errors.New("not the certificate kith dav printed")
				}
				return nil
			},
		}},
	}
}

// TestDAVOverTLS: served off 127.0.0.1, the server speaks HTTPS only,
// with a self-signed certificate whose fingerprint enable and status
// print, kept across restarts; the address book is readable over it with
// the password and nothing is readable in clear.
func TestDAVOverTLS(t *testing.T) {
	ctx := t.Context()
	home := t.TempDir()
	alice := node.NewTest(t, "alice", node.WithHome(home))
	_, err := alice.AddContacts(ctx, []graph.Card{fields("fn", "Carol Local", "email", "carol@example.org")})
	require.NoError(t, err)

	// Every interface: TLS is implied.
	port := freePort(t)
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: port, Listen: "0.0.0.0"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(creds.URL, "https://"), creds.URL)
	require.Len(t, creds.Fingerprint, 32*3-1)
	st, err := alice.DAVStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, creds.Fingerprint, st.Fingerprint)
	require.Equal(t, "0.0.0.0", st.Listen)
	require.Contains(t, st.URLs, "https://127.0.0.1:"+strconv.Itoa(port)+"/")

	local := "https://127.0.0.1:" + strconv.Itoa(port)
	propfind := func(c *http.Client, url, password string) (*http.Response, string, error) {
		req, err := http.NewRequestWithContext(ctx, "PROPFIND", url+davBook, nil)
		require.NoError(t, err)
		req.SetBasicAuth(dav.Username, password)
		req.Header.Set("Depth", "1")
		resp, err := c.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}
	resp, body, err := propfind(pinnedClient(creds.Fingerprint), local, creds.Password)
	require.NoError(t, err)
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
	require.Contains(t, body, ".vcf")
	resp, _, err = propfind(pinnedClient(creds.Fingerprint), local, "wrong")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	// In clear: no answer with the address book in it.
	resp, body, err = propfind(&http.Client{Timeout: 10 * time.Second}, "http://127.0.0.1:"+strconv.Itoa(port), creds.Password)
	if err == nil {
		require.NotEqual(t, http.StatusMultiStatus, resp.StatusCode)
		require.NotContains(t, body, "Carol")
	}
	// A client trusting the system's roots refuses the self-signed one.
	_, _, err = propfind(&http.Client{Timeout: 10 * time.Second}, local, creds.Password)
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown)
	// A different certificate is refused by a pinned client.
	_, _, err = propfind(pinnedClient(strings.Repeat("00:", 31)+"00"), local, creds.Password)
	require.ErrorContains(t, err, "not the certificate")

	// The same certificate after a restart: the phone keeps trusting it.
	require.NoError(t, alice.Close())
	again := node.NewTest(t, "alice", node.WithHome(home))
	st, err = again.DAVStatus(ctx)
	require.NoError(t, err)
	require.True(t, st.Running, "%+v", st)
	require.Equal(t, creds.Fingerprint, st.Fingerprint)
	resp, _, err = propfind(pinnedClient(creds.Fingerprint), local, creds.Password)
	require.NoError(t, err)
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)

	// Back to 127.0.0.1 without --tls: plain HTTP there, nothing on the
	// network.
	plain, err := again.DAVEnable(ctx, api.DAVEnableRequest{Port: port})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/", plain.URL)
	require.Empty(t, plain.Fingerprint)
	resp, _, err = propfind(http.DefaultClient, strings.TrimSuffix(plain.URL, "/"), plain.Password)
	require.NoError(t, err)
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)

	// A name instead of an address is refused, and nothing changes.
	_, err = again.DAVEnable(ctx, api.DAVEnableRequest{Port: port, Listen: "laptop.local"})
	require.ErrorIs(t, err, api.ErrInvalid)
	require.ErrorContains(t, err, "not an IP address")
	resp, _, err = propfind(http.DefaultClient, strings.TrimSuffix(plain.URL, "/"), plain.Password)
	require.NoError(t, err)
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode)
}

// TestDAVListingCompressed: a listing goes gzipped to a client that
// accepts it (a phone over the LAN), with the ETags as they are, and
// plain to one that does not.
func TestDAVListingCompressed(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	var cards []graph.Card
	for i := range 200 {
		cards = append(cards, fields("fn", "Person "+strconv.Itoa(i), "email", "p"+strconv.Itoa(i)+"@example.org"))
	}
	_, err := alice.AddContacts(ctx, cards)
	require.NoError(t, err)
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	list := func(enc string) (*http.Response, []byte) {
		req, err := http.NewRequestWithContext(ctx, "PROPFIND", creds.URL+strings.TrimPrefix(davBook, "/"), nil)
		require.NoError(t, err)
		req.SetBasicAuth(creds.Username, creds.Password)
		req.Header.Set("Depth", "1")
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	plainResp, plain := list("")
	require.Equal(t, http.StatusMultiStatus, plainResp.StatusCode)
	require.Empty(t, plainResp.Header.Get("Content-Encoding"))
	gzResp, zipped := list("gzip")
	require.Equal(t, http.StatusMultiStatus, gzResp.StatusCode)
	require.Equal(t, "gzip", gzResp.Header.Get("Content-Encoding"))
	require.Less(t, len(zipped)*4, len(plain), "gzip should shrink a listing several times")
	zr, err := gzip.NewReader(bytes.NewReader(zipped))
	require.NoError(t, err)
	unzipped, err := io.ReadAll(zr)
	require.NoError(t, err)
	// The same listing (go-webdav orders an allprop's properties as a
	// map does), ETags included.
	require.Equal(t, len(plain), len(unzipped))
	etags := func(b []byte) []string {
		m := regexp.MustCompile(`<getetag[^>]*>([^<]+)</getetag>`).FindAllStringSubmatch(string(b), -1)
		var out []string
		for _, x := range m {
			out = append(out, x[1])
		}
		slices.Sort(out)
		return out
	}
	require.Len(t, etags(plain), 200)
	require.Equal(t, etags(plain), etags(unzipped))
}
