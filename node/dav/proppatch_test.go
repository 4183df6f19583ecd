package dav

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kith-p2p/kith/graph"
)

// TestPropPatch: what Apple's apps send to colour a calendar gets a
// well-formed 207 refusing each property (not go-webdav's 501), a
// malformed or empty one 400, and none changes anything.
func TestPropPatch(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	b := newMemBook()
	if _, err := b.AddContacts(t.Context(), []graph.Card{{Fields: []graph.Field{{Name: "uid", Value: "a"}, {Name: "fn", Value: "A"}}}}); err != nil {
		t.Fatal(err)
	}
	h := Handler(b, string(hash), nil)
	for _, tc := range []struct {
		path, body string
		code       int
		props      []string
	}{
		{calendarPath, `<?xml version="1.0" encoding="UTF-8"?><A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><B:calendar-color xmlns:B="http://apple.com/ns/ical/">#FF2968FF</B:calendar-color><B:calendar-order xmlns:B="http://apple.com/ns/ical/">1</B:calendar-order></A:prop></A:set></A:propertyupdate>`,
			http.StatusMultiStatus, []string{"calendar-color", "calendar-order"}},
		{bookPath, `<d:propertyupdate xmlns:d="DAV:"><d:remove><d:prop><d:displayname/></d:prop></d:remove></d:propertyupdate>`,
			http.StatusMultiStatus, []string{"displayname"}},
		{bookPath, `<d:propertyupdate xmlns:d="DAV:"></d:propertyupdate>`, http.StatusBadRequest, nil},
		{bookPath, `<d:propfind xmlns:d="DAV:"/>`, http.StatusBadRequest, nil},
		{bookPath, `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>`, http.StatusBadRequest, nil},
		{bookPath, `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop>` + strings.Repeat(`<d:x/>`, maxPropPatch+1) + `</d:prop></d:set></d:propertyupdate>`, http.StatusBadRequest, nil},
	} {
		req := httptest.NewRequest("PROPPATCH", tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/xml")
		req.SetBasicAuth(Username, "pw")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.code {
			t.Fatalf("PROPPATCH %s %q: %d, want %d: %s", tc.path, tc.body, w.Code, tc.code, w.Body)
		}
		if tc.code != http.StatusMultiStatus {
			continue
		}
		var ms struct {
			Responses []struct {
				Href     string `xml:"href"`
				Propstat []struct {
					Prop struct {
						Any []struct{ XMLName xml.Name } `xml:",any"`
					} `xml:"prop"`
					Status string `xml:"status"`
				} `xml:"propstat"`
			} `xml:"response"`
		}
		if err := xml.Unmarshal(w.Body.Bytes(), &ms); err != nil {
			t.Fatalf("the 207 is not XML: %v\n%s", err, w.Body)
		}
		if len(ms.Responses) != 1 || ms.Responses[0].Href != tc.path || len(ms.Responses[0].Propstat) != 1 {
			t.Fatalf("207 = %s", w.Body)
		}
		ps := ms.Responses[0].Propstat[0]
		if !strings.Contains(ps.Status, "403") || len(ps.Prop.Any) != len(tc.props) {
			t.Fatalf("207 = %s", w.Body)
		}
		for i, p := range tc.props {
			if ps.Prop.Any[i].XMLName.Local != p {
				t.Fatalf("property %d is %v, want %s", i, ps.Prop.Any[i].XMLName, p)
			}
		}
	}
	// Without the password: 401, as for everything else.
	req := httptest.NewRequest("PROPPATCH", bookPath, strings.NewReader(`<d:propertyupdate xmlns:d="DAV:"/>`))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("PROPPATCH without a password: %d", w.Code)
	}
	if cs, _ := b.Contacts(t.Context()); len(cs) != 1 || cs[0].Card.First("fn") != "A" {
		t.Fatalf("the book changed: %+v", cs)
	}
}
