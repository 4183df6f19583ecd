// Package dav serves the address book and the calendar to the phone's
// and the desktop's own apps over CardDAV (RFC 6352) and CalDAV (RFC
// 4791), with github.com/emersion/go-webdav: one address book holding my
// local contacts and my connections' cards, one calendar of my events.
// Both services share one principal, /principals/kith/, which names both
// home sets.
//
// Cards travel through graph/vcard, the code of `kith contacts import`
// and `export`, events through graph/ical, the code of `kith events
// import` and `export`: what a client sends keeps every property it had. A
// connection's card is theirs: a write that changes a field of it is
// refused (403, saying which), and what a client adds to it becomes my
// notes on them. Every write is checked against the ETag the client
// read (If-Match, If-None-Match): a stale one gets 412 and changes
// nothing.
//
// The server listens on 127.0.0.1 behind HTTP Basic authentication with
// an app password kept only as a bcrypt hash (see [Settings]).
package dav
