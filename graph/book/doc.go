// Package book is the address book, network-free.
//
// [Book] is the service: my card per circle and the circles that see it,
// my connections and the circles they are in, my local contacts and my
// notes on connections, references, import, duplicates and merge. It
// reads a [Store], decides, and writes drafts through a [Writer] (the
// node's log writer, which signs, stores and announces them); every
// read-modify-write of my records runs under its lock. The node serves
// its answers through the local API as they are: its types carry the
// API's JSON names and its errors wrap graph's kinds (graph.ErrNotFound,
// graph.ErrInvalid, …), which are the API's sentinels.
//
// [Index] is the address book's meaning of a record for the store: which
// text of a contact or card is searched, which UIDs find a contact. The
// store takes it at Open and knows no vCard itself.
//
// Beside it are the rules, pure functions of their arguments and safe for
// concurrent use: a contact's vCard UID ([NewUID], [LegacyUID],
// [PeerUID], [ContactUID]), the keys that find likely duplicates
// ([EmailKey], [TelKey], [NameKeys]), the words a contact reference
// matches ([Words]), merging cards ([Merge]), comparing them ([Same]) and
// the name a card is shown by ([BestName]).
package book
