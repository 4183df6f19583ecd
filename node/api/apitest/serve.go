package apitest

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node/api"
)

// Serve exposes impl on a unix socket, as the daemon does, and returns a
// client for it: run the suite over the socket with it. Everything is
// closed at the test's cleanup.
func Serve(t testing.TB, impl api.API) *api.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "kith-api") // short: unix socket paths are limited
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "api.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &http.Server{Handler: api.Handler(impl, nil)}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	c := api.NewClient(sock)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		<-done
	})
	return c
}
