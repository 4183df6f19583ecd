package store

import "github.com/kith-p2p/kith/graph"

// Index tells the store what record bodies mean for its lookups; the store
// itself knows nothing of cards. Kith's is graph/book.Index. [Open]
// requires one: a store without it would keep every record and find none.
//
// Both methods are called for live records only (not tombstones), inside
// the transaction that writes the record, and by [Store.Check] to recompute
// the indexes; they must be pure functions of their arguments.
type Index interface {
	// SearchText returns the text [Store.Search] finds the record by, one
	// string per column of the search index (at most [SearchColumns];
	// columns weigh the same, missing ones are empty), or nil if no search
	// finds it.
	SearchText(kind, key string, b *graph.Body) []string
	// UIDs returns the UIDs [Store.ContactsByUID] finds the record by, or
	// nil.
	UIDs(kind, key string, b *graph.Body) []string
}

// SearchColumns is the number of text columns of the search index.
const SearchColumns = 5
