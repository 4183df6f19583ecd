// Package store keeps Kith's entries and folded state in SQLite
// (modernc.org/sqlite: pure Go, no cgo), in WAL mode with synchronous=NORMAL:
// a committed write survives a crash of the process (kill -9) because it is
// in the WAL before the commit returns; a power loss or kernel crash may roll
// back the last few transactions but never leaves the database inconsistent.
// (synchronous=FULL adds an fsync per commit; on the 2-core CI machine that
// more than doubled the time of a 10,000-card import.)
//
// [Store.Put] checks each entry's link to its author's log (seq, prev) and
// writes the entry, the log head, the folded record and the search index in
// one transaction. [Store.Check] re-verifies everything stored and rebuilds
// the fold in memory to prove the views match the entries.
//
// A *Store is safe for concurrent use.
package store
