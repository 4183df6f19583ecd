// Package logsync is the /kith/sync/1.0.0 service: it pulls the logs a
// node keeps from a peer (the peer's own, and mine when a friend gives it
// back), verifies every entry before it is stored, serves mine and theirs
// to them, and announces my new entries to online connections.
//
// A pull from one peer never overlaps another pull from it; asking during
// one runs one more after it (Schedule). An announcement is a request
// that wants nothing: the peer pulls if it is behind.
//
// Each other author's log is held to a [Quota] (entries and bytes):
// entries past it are refused, logged and recorded (see quota.go).
//
// [Service] is safe for concurrent use; [New] registers its handler and
// [Service.Close] removes it and waits for every pull, announcement and
// handler.
package logsync
