// Package node is the Kith daemon: it holds the identity, the store and the
// libp2p host, implements the local [api.API] on top of them, and runs the
// daemon's lifecycle ([RunDaemon]: lock, key, store, host, API socket,
// clean shutdown).
//
// [New] returns a running *Node; [Node.Close] stops everything it started
// and waits for it. A *Node is safe for concurrent use.
package node
