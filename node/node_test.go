package node_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/api/apitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformanceInProcess(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.API { return node.NewTest(t, "alice") })
}

func TestConformanceOverSocket(t *testing.T) {
	apitest.Run(t, func(t *testing.T) api.API { return apitest.Serve(t, node.NewTest(t, "alice")) })
}

// TestAPIRefusesBrowsers: a request carrying Origin or Referer (what a web
// page's request would carry through any proxy) is refused with 403.
func TestAPIRefusesBrowsers(t *testing.T) {
	dir, err := os.MkdirTemp("", "kith-api")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: api.Handler(node.NewTest(t, "bob"), nil)}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	for _, h := range []string{"Origin", "Referer"} {
		req, err := http.NewRequestWithContext(t.Context(), "GET", "http://kith/api/v0/id", nil)
		require.NoError(t, err)
		req.Header.Set(h, "https://evil.example")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		var e api.Error
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&e))
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || e.Code != "forbidden" || !errors.Is(&e, api.ErrForbidden) {
			t.Errorf("request with %s: %d %+v, want 403 forbidden", h, resp.StatusCode, e)
		}
	}
	// Without them the same request works.
	resp, err := hc.Get("http://kith/api/v0/id")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}
