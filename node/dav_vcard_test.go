package node_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/graph/vcard"
	"github.com/kith-p2p/kith/graph/vcard/vcardtest"
	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// showField is a field as compared: every part of it, pref clamped to
// 1 when clamp (vCard 3.0 has no rank).
func showField(f graph.Field, clamp bool) string {
	types := slices.Clone(f.Types)
	for i := range types {
		types[i] = strings.ToLower(types[i])
	}
	slices.Sort(types)
	var params []string
	for _, p := range f.Params {
		params = append(params, p.Name+"="+strings.Join(p.Values, ","))
	}
	slices.Sort(params)
	pref := f.Pref
	if clamp {
		pref = min(pref, 1)
	}
	value := f.Value
	if head, data, ok := strings.Cut(value, ","); ok && strings.HasPrefix(strings.ToLower(head), "data:") {
		value = strings.ToLower(head) + "," + data // a media type's case is no difference (image/JPEG in 4.0, TYPE=JPEG in 3.0)
	}
	return fmt.Sprintf("%s.%s %q types=%v pref=%d params=%v", f.Group, f.Name, value, types, pref, params)
}

// cardFields decodes one vCard with graph/vcard (the code of `kith
// contacts import`) and shows its fields.
func cardFields(t testing.TB, data []byte, clamp bool) []string {
	t.Helper()
	res, err := vcard.Decode(bytes.NewReader(data), vcard.Options{})
	require.NoError(t, err, "%s", data)
	require.Len(t, res.Cards, 1, "%s", data)
	var out []string
	for _, f := range res.Cards[0].Fields {
		out = append(out, showField(f, clamp))
	}
	return out
}

// missing returns the fields of want that got lacks (as multisets).
func missing(want, got []string) []string {
	left := map[string]int{}
	for _, g := range got {
		left[g]++
	}
	var out []string
	for _, w := range want {
		if left[w] == 0 {
			out = append(out, w)
			continue
		}
		left[w]--
	}
	return out
}

// TestDAVVCardVersions: the address book lists vCard 3.0 and 4.0 as
// supported address data and serves both; a card a client PUTs in either
// version keeps every property read back in 4.0, and every one but the
// rank (3.0 has none) read back in 3.0, the default. The cards are
// written here and, when present, taken from the real-world corpus.
func TestDAVVCardVersions(t *testing.T) {
	ctx := t.Context()
	alice := node.NewTest(t, "alice")
	creds, err := alice.DAVEnable(ctx, api.DAVEnableRequest{Port: freePort(t)})
	require.NoError(t, err)
	url := strings.TrimSuffix(creds.URL, "/")

	for _, depth := range []string{"0", "1"} {
		resp, body := davDo(t, "PROPFIND", url+davBook, creds.Username, creds.Password,
			`<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop><card:supported-address-data/><cs:getctag/></d:prop></d:propfind>`,
			http.Header{"Depth": {depth}, "Content-Type": {"application/xml"}})
		require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
		require.Contains(t, body, `version="4.0"`, "Depth %s", depth)
		require.Contains(t, body, `version="3.0"`, "Depth %s", depth)
	}

	cards := map[string]string{
		"v4": "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:urn:uuid:5a1b8c9e-2f3d-4e5f-8a6b-7c8d9e0f1a2b\r\nFN:Ana Four\r\nN:Four;Ana;;;\r\nKIND:individual\r\nGENDER:F\r\n" +
			"TEL;VALUE=uri;TYPE=cell;PREF=2:tel:+49-170-1234567\r\nTEL;TYPE=work;PREF=1:+49 30 1234567\r\nEMAIL;PREF=3:ana@example.org\r\nEMAIL;PREF=1;TYPE=home:ana@home.example\r\n" +
			"IMPP;PREF=1:xmpp:ana@example.org\r\nLANG;PREF=1:de\r\nLANG;PREF=2:en\r\nANNIVERSARY:20090808\r\nBDAY:--0415\r\nRELATED;TYPE=friend:urn:uuid:03a0e51f-d1aa-4385-8a53-e29025acd8af\r\n" +
			"ADR;TYPE=home;LABEL=\"Hauptstr. 1\\n10115 Berlin\":;;Hauptstr. 1;Berlin;;10115;Germany\r\nNOTE:line one\\nline two\\, with comma\r\nX-CUSTOM;X-PARAM=yes:kept\r\nitem1.URL:https://ana.example\r\nitem1.X-ABLABEL:blog\r\nEND:VCARD\r\n",
		"v3": "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\nN:Three;Ben;;;\r\nFN:Ben Three\r\nORG:Acme;Dev\r\nTITLE:Builder\r\n" +
			"EMAIL;type=INTERNET;type=WORK;type=pref:ben@acme.example\r\nTEL;type=CELL;type=VOICE;type=pref:+1 555 0100\r\nTEL;type=HOME:+1 555 0101\r\n" +
			"item1.ADR;type=HOME;type=pref:;;1 Main St;Springfield;IL;62701;USA\r\nitem1.X-ABADR:us\r\nitem2.X-ABRELATEDNAMES;type=pref:Cleo\r\nitem2.X-ABLABEL:_$!<Friend>!$_\r\n" +
			"BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15\r\nX-SOCIALPROFILE;type=twitter:https://twitter.com/ben\r\nNICKNAME:Benny\r\nEND:VCARD\r\n",
	}
	if dir := vcardtest.CorpusDir(t); dir != "" {
		for _, name := range vcardtest.CorpusFiles(t, "valid", 1) {
			data, err := os.ReadFile(name)
			require.NoError(t, err)
			res, err := vcard.Decode(bytes.NewReader(data), vcard.Options{})
			if err != nil || len(res.Cards) != 1 || !bytes.Contains(data, []byte("VERSION:3.0")) && !bytes.Contains(data, []byte("VERSION:4.0")) {
				continue // a client sends one card, in 3.0 or 4.0
			}
			cards[filepath.Base(name)] = string(data)
		}
	}
	kept3, kept4 := 0, 0
	for i, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range cards {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			data := cards[name]
			path := fmt.Sprintf("%sclient-%d.vcf", davBook, i)
			resp, body := davDo(t, "PUT", url+path, creds.Username, creds.Password, data, http.Header{"Content-Type": {"text/vcard"}})
			require.Equal(t, http.StatusCreated, resp.StatusCode, body)
			etag := resp.Header.Get("ETag")
			// A card is served at the name of its UID when it has one
			// (see node/dav nameOf); Location says where.
			path = resp.Header.Get("Location")
			require.NotEmpty(t, path)
			defer func() {
				resp, body := davDo(t, "DELETE", url+path, creds.Username, creds.Password, "", nil)
				require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
			}()

			resp, got3 := davDo(t, "GET", url+path, creds.Username, creds.Password, "", nil)
			require.Equal(t, http.StatusOK, resp.StatusCode, got3)
			require.Contains(t, got3, "VERSION:3.0")
			require.Equal(t, etag, resp.Header.Get("ETag"))
			if lost := missing(cardFields(t, []byte(data), true), cardFields(t, []byte(got3), true)); len(lost) > 0 {
				t.Errorf("read back as vCard 3.0, the card lost %q\nsent:\n%s\nserved:\n%s", lost, data, got3)
			} else {
				kept3++
			}

			resp, got4 := davDo(t, "GET", url+path, creds.Username, creds.Password, "", http.Header{"Accept": {"text/vcard; version=4.0"}})
			require.Equal(t, http.StatusOK, resp.StatusCode, got4)
			require.Contains(t, got4, "VERSION:4.0")
			require.Equal(t, etag, resp.Header.Get("ETag"), "one ETag for both versions: If-Match holds whichever a client read")
			if lost := missing(cardFields(t, []byte(data), false), cardFields(t, []byte(got4), false)); len(lost) > 0 {
				t.Errorf("read back as vCard 4.0, the card lost %q\nsent:\n%s\nserved:\n%s", lost, data, got4)
			} else {
				kept4++
			}

			// A multiget asking for 4.0 gets 4.0.
			resp, body = davDo(t, "REPORT", url+davBook, creds.Username, creds.Password,
				`<?xml version="1.0"?><card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data content-type="text/vcard" version="4.0"/></d:prop><d:href>`+path+`</d:href></card:addressbook-multiget>`,
				http.Header{"Content-Type": {"application/xml"}, "Depth": {"1"}})
			require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
			require.Contains(t, body, "VERSION:4.0")
		})
	}
	t.Logf("%d cards: %d kept every property read back as 3.0, %d as 4.0", len(cards), kept3, kept4)

	// A multiget of a card that is not there: 404 for it.
	resp, body := davDo(t, "REPORT", url+davBook, creds.Username, creds.Password,
		`<?xml version="1.0"?><card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop><d:href>`+davBook+`gone.vcf</d:href></card:addressbook-multiget>`,
		http.Header{"Content-Type": {"application/xml"}, "Depth": {"1"}})
	require.Equal(t, http.StatusMultiStatus, resp.StatusCode, body)
	require.Contains(t, body, "<d:href>"+davBook+"gone.vcf</d:href><d:status>HTTP/1.1 404 Not Found</d:status>")
}
