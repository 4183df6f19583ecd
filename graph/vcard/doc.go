// Package vcard imports and exports address-book cards as vCard text.
//
// [Decode] reads vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350) files holding
// any number of cards, as real address books write them: Apple Contacts,
// Google, Outlook, Thunderbird, Android and feature phones, Evolution, KDE,
// Nextcloud, DAVx5. It is liberal in what it reads (2.1's bare parameters
// and quoted-printable soft line breaks, CHARSET parameters, files in
// UTF-16 or a legacy code page, comment lines, values that fail a strict
// check) and loses nothing a person would miss: every property maps to a
// graph.Field with its types, preference, group and other parameters, and a
// property without a graph field, or whose value fails its field's check,
// is kept Raw, as written. What it changed is listed in [Result.Warnings];
// only a broken card (cut off, damaged base64) is a [*CardError], and only
// a file with no readable card fails.
//
// [Encode] and [EncodeCard] write vCard 4.0, or 3.0 with
// [EncodeOptions].VCard3; a decoded card comes back with every property it
// had (the corpus tests read real files from other projects' test suites
// and check that).
//
// This package reads and writes content lines itself: go-vcard, which the
// project used before, reads neither vCard 2.1 (bare parameters,
// quoted-printable, CHARSET) nor keeps parameter order and raw values. Its
// decoder still checks, in the tests, that what Encode writes is read by
// another implementation. Charsets come from golang.org/x/text, image
// scaling from golang.org/x/image.
//
// The functions are safe for concurrent use.
package vcard
