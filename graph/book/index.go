package book

import (
	"strings"
	"unicode"

	"github.com/kith-p2p/kith/graph"
)

// Index is the address book's meaning of records for the store's lookups
// (it implements [github.com/kith-p2p/kith/graph/store.Index]): contacts
// and cards are found by their names, emails, phone numbers, organisations
// and notes; local contacts by their UIDs ([ContactUIDs]). Pass it to
// store.Open.
type Index struct{}

// SearchColumns is the number of columns [Index.SearchText] returns: name,
// emails, phones, orgs, notes.
const SearchColumns = 5

// SearchText returns the text a search finds a live contact or card record
// by, in [SearchColumns] columns (name, emails, phones, orgs, notes); nil
// for any other record.
func (Index) SearchText(kind, _ string, b *graph.Body) []string {
	if (kind != graph.KindContact && kind != graph.KindCard) || b.Card == nil {
		return nil
	}
	var d [SearchColumns][]string
	for _, f := range b.Card.Fields {
		switch f.Name {
		case "fn", "n", "nickname":
			d[0] = append(d[0], strings.ReplaceAll(f.Value, ";", " "))
		case "email":
			d[1] = append(d[1], f.Value, strings.NewReplacer("@", " ", ".", " ").Replace(f.Value))
		case "tel":
			digits := strings.Map(func(r rune) rune {
				if unicode.IsDigit(r) {
					return r
				}
				return -1
			}, f.Value)
			// Every digit suffix of four or more, so that a search for
			// the local part of a number finds it without the prefix.
			d[2] = append(d[2], f.Value)
			for i := 0; i+4 <= len(digits); i++ {
				d[2] = append(d[2], digits[i:])
			}
		case "org", "title", "role":
			d[3] = append(d[3], strings.ReplaceAll(f.Value, ";", " "))
		case "note", "adr", "categories", "url":
			d[4] = append(d[4], strings.ReplaceAll(f.Value, ";", " "))
		}
	}
	out := make([]string, SearchColumns)
	for i := range d {
		out[i] = strings.Join(d[i], " ")
	}
	return out
}

// UIDs returns the UIDs a live contact record is found by
// ([ContactUIDs]); nil for notes on a connection and for any other kind.
func (Index) UIDs(kind, key string, b *graph.Body) []string {
	if kind != graph.KindContact || b.Card == nil {
		return nil
	}
	return ContactUIDs(key, *b.Card)
}
