// Package p2putil holds what the node's protocol services share: a
// watchdog for streams, framed CBOR writes, a group of tracked goroutines
// that Close waits for, and a per-peer rate limit on inbound streams.
package p2putil
