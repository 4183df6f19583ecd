// Package vcard imports and exports address-book cards as vCard text.
//
// [Decode] reads vCard 3.0 and 4.0 (RFC 2426, RFC 6350) files holding any
// number of cards, as exported by Apple Contacts, Google Contacts and most
// other address books, and maps each card's properties to graph fields
// checked by graph.NormalizeCard. Properties without a graph field (X-
// extensions, LABEL, KEY, ...) are counted in [Result.Dropped]. An invalid
// card is reported as a [*CardError] naming the card and the line it starts
// on; [Options.SkipInvalid] imports the rest.
//
// [Encode] and [EncodeCard] write vCard 4.0.
//
// Property lines are parsed by github.com/emersion/go-vcard; this package
// splits the input into cards itself, to number cards and lines and to
// bound memory, and writes vCard itself, because go-vcard's encoder
// neither keeps property order nor folds lines.
//
// The functions are safe for concurrent use.
package vcard
