// Package store keeps Kith's entries and folded state in SQLite
// (modernc.org/sqlite: pure Go, no cgo), in WAL mode with synchronous=FULL so
// that a committed write survives a crash of the process or the machine.
//
// [Store.Put] checks each entry's link to its author's log (seq, prev) and
// writes the entry, the log head, the folded record and the search index in
// one transaction. [Store.Check] re-verifies everything stored and rebuilds
// the fold in memory to prove the views match the entries.
//
// A *Store is safe for concurrent use.
package store
