package node_test

import (
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
	apitest.Run(t, func(t *testing.T) api.API { return serve(t, node.NewTest(t, "alice")) })
}

// serve exposes impl on a unix socket and returns a client for it.
func serve(t testing.TB, impl api.API) *api.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "kith-api")
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
