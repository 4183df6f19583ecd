package dav

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestHandlerBoundsRequests: with every slot taken a request waits, and
// leaves without being served when its client goes; many parallel
// clients are all served, maxConcurrent at a time.
func TestHandlerBoundsRequests(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(newMemBook(), string(hash), nil)
	for range maxConcurrent {
		h.slots <- struct{}{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("PUT", bookPath+"x.vcf", strings.NewReader("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n")).WithContext(ctx)
	req.Header.Set("Content-Type", "text/vcard")
	req.SetBasicAuth(Username, "pw")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Body.Len() != 0 {
		t.Fatalf("served with every slot taken: %d %s", w.Code, w.Body)
	}
	for range maxConcurrent {
		<-h.slots
	}

	var wg sync.WaitGroup
	codes := make(chan int, 4*maxConcurrent)
	for range 4 * maxConcurrent {
		wg.Go(func() {
			req := httptest.NewRequest("PROPFIND", bookPath, nil)
			req.Header.Set("Depth", "1")
			req.SetBasicAuth(Username, "pw")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			codes <- w.Code
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusMultiStatus {
			t.Fatalf("a parallel PROPFIND got %d", c)
		}
	}
	if len(h.slots) != 0 {
		t.Fatalf("%d slots still taken", len(h.slots))
	}
}
