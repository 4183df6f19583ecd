package apitest_test

import (
	"testing"

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
		return apitest.Serve(t, mine), apitest.Serve(t, theirs)
	})
}
