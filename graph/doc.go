// Package graph is Kith's social graph without a network: the bodies of
// entries ([Body]), sealing and opening them for an audience ([Seal],
// [Open]), verifying received entries ([Verify]), the local log writer
// ([Writer]) and the fold rule that turns logs into state ([Version.After]).
//
// State is "last writer wins per (identity, kind, key)": every entry body
// names a record by kind and key, and the newest version by (time, author,
// seq) is the record's value; a body with Del set is a tombstone. Folding by
// identity rather than by position in one log keeps room for several devices
// (authors) writing one person's (identity's) graph.
//
// Storage sits behind the [Store] interface (implemented by graph/store) so
// that an entry and the views it changes are written in one transaction.
// [Writer] is safe for concurrent use; the other types are plain values.
package graph
