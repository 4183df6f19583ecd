package apitest_test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
	"github.com/kith-p2p/kith/node/api/apitest"
)

// The cases that need two connected nodes run here, over both transports;
// node's tests run the single-node suite (apitest.Run).

func newPair(t *testing.T) (mine, theirs *node.Node) {
	return node.NewTest(t, "alice"), node.NewTest(t, "bob", node.WithListenAddrs("/ip4/127.0.0.1/tcp/0"))
}

func TestLinkedInProcess(t *testing.T) {
	apitest.RunLinked(t, func(t *testing.T) (api.API, api.API) {
		mine, theirs := newPair(t)
		return mine, theirs
	})
}

func TestLinkedOverSocket(t *testing.T) {
	apitest.RunLinked(t, func(t *testing.T) (api.API, api.API) {
		mine, theirs := newPair(t)
		return serve(t, mine), serve(t, theirs)
	})
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
