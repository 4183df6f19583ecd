package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/api"
)

// cardsAPI takes batches of cards and answers nothing else.
type cardsAPI struct {
	api.API
	calls atomic.Int32
}

func (c *cardsAPI) AddContacts(_ context.Context, cards []graph.Card) ([]api.ContactRef, error) {
	c.calls.Add(1)
	return make([]api.ContactRef, len(cards)), nil
}

// serveAPI serves h on a unix socket with the given timeouts and returns
// its path and an HTTP client for it.
func serveAPI(t *testing.T, impl api.API, opts api.HandlerOptions, header, idle time.Duration) (string, *http.Client) {
	t.Helper()
	dir, err := os.MkdirTemp("", "kith-api")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := api.NewServer(api.HandlerWith(impl, opts), header, idle)
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		srv.Close()
		<-done
	})
	return sock, &http.Client{Transport: tr}
}

// TestBodyLimits: a body over its route's limit is refused with 413 and
// an error that names the limit, whether its length is declared or not;
// a batch of cards within the limit goes through.
func TestBodyLimits(t *testing.T) {
	impl := &cardsAPI{}
	_, hc := serveAPI(t, impl, api.HandlerOptions{}, 0, 0)
	post := func(path string, body io.Reader) (int, api.Error) {
		t.Helper()
		resp, err := hc.Post("http://kith"+path, "application/json", body)
		require.NoError(t, err)
		defer resp.Body.Close()
		var e api.Error
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e
	}
	big := `{"field":"note","values":["` + strings.Repeat("x", api.MaxSmallBody) + `"]}`
	for name, body := range map[string]io.Reader{
		"declared length": strings.NewReader(big),
		"chunked":         io.MultiReader(strings.NewReader(big)), // no length: read up to the limit
	} {
		status, e := post("/api/v0/me/set", body)
		if status != http.StatusRequestEntityTooLarge || e.Code != "too_large" || !strings.Contains(e.Message, "KiB") {
			t.Errorf("%s: a %d-byte me/set = %d %+v, want 413 too_large naming the limit", name, len(big), status, e)
		}
	}
	var batch bytes.Buffer
	batch.WriteString("[")
	card := `{"fields":[{"name":"fn","value":"` + strings.Repeat("y", 1000) + `"}]}`
	for i := 0; batch.Len() < api.MaxRequestBody+1; i++ {
		if i > 0 {
			batch.WriteString(",")
		}
		batch.WriteString(card)
	}
	batch.WriteString("]")
	status, e := post("/api/v0/contacts", bytes.NewReader(batch.Bytes())) // declared: refused unread
	if status != http.StatusRequestEntityTooLarge || !strings.Contains(e.Message, "fewer cards") {
		t.Errorf("a %d-byte batch = %d %+v, want 413 saying to send fewer cards", batch.Len(), status, e)
	}
	require.Zero(t, impl.calls.Load(), "an oversized batch reached the address book")
	status, e = post("/api/v0/contacts", strings.NewReader("["+card+","+card+"]"))
	if status != http.StatusOK || impl.calls.Load() != 1 {
		t.Errorf("a small batch = %d %+v, want 200", status, e)
	}
}

// TestSlowClients: a client that sends its headers or its body too slowly
// is cut off at the timeout, not held open.
func TestSlowClients(t *testing.T) {
	const timeout = 200 * time.Millisecond
	sock, _ := serveAPI(t, &cardsAPI{}, api.HandlerOptions{BodyTimeout: timeout}, timeout, timeout)
	for name, send := range map[string]string{
		"headers": "POST /api/v0/contacts HTTP/1.1\r\nHost: kith\r\n",
		"body":    "POST /api/v0/contacts HTTP/1.1\r\nHost: kith\r\nContent-Length: 100000\r\n\r\n[{\"fields\":",
		"idle":    "GET /api/v0/nothing HTTP/1.1\r\nHost: kith\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("unix", sock)
			require.NoError(t, err)
			defer c.Close()
			start := time.Now()
			_, err = io.WriteString(c, send)
			require.NoError(t, err)
			// Bound the wait: the server must close first.
			c.SetReadDeadline(time.Now().Add(20 * timeout))
			got, err := io.ReadAll(bufio.NewReader(c))
			require.NoError(t, err, "the server kept the connection open; read %q", got)
			t.Logf("closed after %v: %q", time.Since(start).Round(time.Millisecond), firstLine(got))
			if name == "body" && !bytes.Contains(got, []byte("did not arrive within")) {
				t.Errorf("a slow body got %q, want an error saying it was too slow", got)
			}
		})
	}
}

func firstLine(b []byte) string {
	l, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(l)
}

// cardsBody streams a JSON array of n cards of about size bytes each,
// made as it is read: the client holds none of it.
func cardsBody(n, size int) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriterSize(pw, 64<<10)
		w.WriteString("[")
		note := strings.Repeat("n", size)
		for i := range n {
			if i > 0 {
				w.WriteString(",")
			}
			fmt.Fprintf(w, `{"fields":[{"name":"fn","value":"Card %d"},{"name":"note","value":"%s"}]}`, i, note)
		}
		w.WriteString("]")
		pw.CloseWithError(w.Flush())
	}()
	return pr
}

// TestParallelBatchesMemory: 30 clients posting 8 MiB batches at once do
// not make the daemon hold 30 batches: two are read and handled at a time,
// each read card by card. The peak heap is logged for the record.
func TestParallelBatchesMemory(t *testing.T) {
	impl := &cardsAPI{}
	_, hc := serveAPI(t, impl, api.HandlerOptions{}, 0, 0)
	const clients, cards, size = 30, 600, 4000 // 2.3 MiB a batch, 69 MiB in all
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	errs := make(chan error, clients)
	for range clients {
		go func() {
			resp, err := hc.Post("http://kith/api/v0/contacts", "application/json", cardsBody(cards, size))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range clients {
		require.NoError(t, <-errs)
	}
	close(stop)
	<-sampled
	grew := peak.Load() - min(peak.Load(), before.HeapInuse)
	t.Logf("%d batches of %d MiB: heap in use grew by at most %d MiB", clients, cards*size>>20, grew>>20)
	require.Equal(t, int32(clients), impl.calls.Load())
	if limit := uint64(clients * cards * size / 2); grew > limit {
		t.Errorf("heap grew by %d MiB for %d parallel batches, want under %d MiB: batches are not bounded", grew>>20, clients, limit>>20)
	}
}
