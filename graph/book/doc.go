// Package book holds the address book's rules that need no network and no
// store: a contact's vCard UID ([NewUID], [LegacyUID], [PeerUID],
// [ContactUIDs]), the keys that find likely duplicates ([EmailKey],
// [TelKey], [NameKey]), the words a contact reference matches ([Words]),
// merging cards ([Merge]), comparing them ([Same]) and the name a card is
// shown by ([BestName]).
//
// Everything here is a pure function of its arguments and safe for
// concurrent use.
package book
