// Package dav serves the address book and the calendar to the phone's
// and the desktop's own apps over CardDAV (RFC 6352) and CalDAV (RFC
// 4791), with github.com/emersion/go-webdav: one address book holding my
// local contacts and my connections' cards, one calendar of my events and
// the invitations my connections sent me. Both services share one
// principal, /principals/kith/, which names both home sets.
//
// Cards travel through graph/vcard, the code of `kith contacts import`
// and `export`, events through graph/ical, the code of `kith events
// import` and `export`: what a client sends keeps every property it had.
// Cards are served as vCard 3.0, or 4.0 to a client that asks (both are
// listed in supported-address-data), with the bytes graph/vcard writes:
// GET and the address book's REPORTs are answered in cards.go, since
// go-vcard's encoder, which go-webdav uses, does not write every value
// back as read. A connection's card is theirs: a write that changes a
// field of it is refused (403, saying which), and what a client adds to
// it becomes my notes on them. An invitation is its organizer's: a client
// answers it by changing my PARTSTAT, which becomes an rsvp entry, and
// any other change gets 403 (rsvp.go). Every write is checked against the
// ETag the client read (If-Match, If-None-Match): a stale one gets 412
// and changes nothing.
//
// # Sync
//
// Clients fetch only what changed with sync-collection (RFC 6578), served
// by this package (go-webdav v0.6.0 has only the client side). The address
// book is derived: a card's served bytes depend on the friend's card, my
// notes on it, its circles and keys, so no one sequence number of the
// store maps to the resources that changed. A collection's changes are
// therefore found the way a client would: each sync (or PROPFIND of
// DAV:sync-token) lists the collection's names and ETags, and a listing
// that differs from the one before is a new sequence number, recorded
// with the names that changed (a [syncLog]). A token names the handler's
// random epoch, a sequence number and a hash of that listing (the
// getctag); the changes after it are those recorded since. The log keeps
// at most 20,000 changed names (about 2 MB per collection) and lives in
// memory, not in $KITH_HOME: a token of an earlier run of the daemon is
// still good while the collection is as it was then (its hash says so:
// the client has nothing to fetch), so a phone's daemon that restarts
// costs its apps nothing. A token older than the oldest change kept, or
// of an earlier run when something changed since, gets 403
// DAV:valid-sync-token, and the client lists the collection again,
// comparing ETags and fetching only the resources that differ: a listing,
// not a download. Persisting the log would spare that listing after a
// restart with changes, at the price of a file rewritten at each change.
// A DAV:limit below the number of changes gets 507
// number-of-matches-within-limits (RFC 6578 section 3.7): results are
// never truncated. A PUT answers 201 when it makes a resource and 204
// when it replaces one, with the ETag of what is now stored.
//
// The server listens on 127.0.0.1 behind HTTP Basic authentication with
// an app password kept only as a bcrypt hash (see [Settings]).
package dav
