package dav

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/api"
)

// listingBook counts the listings of the whole book.
type listingBook struct {
	*memBook
	listings atomic.Int32
}

func (l *listingBook) Contacts(ctx context.Context) ([]api.Contact, error) {
	l.listings.Add(1)
	return l.memBook.Contacts(ctx)
}

// TestObjectsFoundWithoutListing: a GET, a PUT of a new card, a PUT over
// a card and a DELETE find their card by its name through LookupContacts:
// none lists the book (which made 10,000 PUTs cost 10,000 listings).
func TestObjectsFoundWithoutListing(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	b := &listingBook{memBook: newMemBook()}
	for i := range 50 {
		if _, err := b.AddContacts(t.Context(), []graph.Card{{Fields: []graph.Field{{Name: "uid", Value: fmt.Sprintf("c-%d", i)}, {Name: "fn", Value: fmt.Sprintf("C %d", i)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	h := Handler(b, string(hash), nil)
	do := func(method, name, body string, header ...string) int {
		t.Helper()
		req := httptest.NewRequest(method, bookPath+name, strings.NewReader(body))
		req.SetBasicAuth(Username, "pw")
		req.Header.Set("Content-Type", "text/vcard")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	card := func(uid, fn string) string {
		return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + fn + "\r\nEND:VCARD\r\n"
	}
	for _, step := range []struct {
		method, name, body string
		header             []string
		want               int
	}{
		{"GET", "c-7.vcf", "", nil, http.StatusOK},
		{"GET", "nobody.vcf", "", nil, http.StatusNotFound},
		{"PUT", "new-1.vcf", card("new-1", "New One"), []string{"If-None-Match", "*"}, http.StatusCreated},
		{"PUT", "new-1.vcf", card("new-1", "New One"), []string{"If-None-Match", "*"}, http.StatusPreconditionFailed},
		{"PUT", "c-8.vcf", card("c-8", "C Eight"), nil, 0},
		{"PUT", "other.vcf", card("c-9", "Not C 9"), nil, http.StatusConflict},
		{"DELETE", "c-9.vcf", "", nil, http.StatusNoContent},
		{"GET", "c-9.vcf", "", nil, http.StatusNotFound},
	} {
		got := do(step.method, step.name, step.body, step.header...)
		if step.want == 0 && got/100 != 2 || step.want != 0 && got != step.want {
			t.Errorf("%s %s: %d, want %d", step.method, step.name, got, step.want)
		}
	}
	if n := b.listings.Load(); n != 0 {
		t.Errorf("the book was listed %d times to find single cards", n)
	}
}
