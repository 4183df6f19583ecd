// Package store keeps Kith's entries and folded state in SQLite
// (modernc.org/sqlite: pure Go, no cgo), in WAL mode with synchronous=FULL:
// a committed write is on disk before the commit returns, so it survives a
// crash of the process (kill -9), of the kernel, or a power loss. That
// matters more here than in most stores: an entry announced to friends and
// then lost locally would make the node write a different entry at that
// seq, which its friends must treat as a fork. Writes are batched (an import
// commits 1,000 entries at a time), so the fsync per commit costs little:
// a 10,000-card import took the same time with synchronous=NORMAL.
//
// [Store.Put] checks each entry's link to its author's log (seq, prev) and
// writes the entry, the log head, the folded record and the search index in
// one transaction. [Store.Check] re-verifies everything stored, on every
// core, and rebuilds the fold in memory to prove the views match the
// entries; [Store.CheckWith] can leave out the signatures of logs that the
// caller has just verified up to a head it names.
//
// An import writes a new file in bulk ([OpenBulk]): no journal and no
// fsync until Close, entries and new records inserted many rows a
// statement, and the search index and contact_uids built once by
// [Store.FinishBulk] rather than batch by batch. It is renamed into place
// only once the whole load passed (and the file synced), so a crash
// meanwhile leaves only a temporary file.
//
// The store knows nothing of cards: what a search finds a record by and
// which UIDs name it comes from the [Index] its caller passes to [Open]
// (graph/book.Index for Kith). The schema is a list of numbered migrations
// (migrations/NNNN_name.sql, some with a Go step) that Open applies, one
// transaction each; a store at a newer version than this code is refused.
//
// A *Store is safe for concurrent use.
package store
