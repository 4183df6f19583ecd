// Package ical imports and exports calendar events as iCalendar text
// (RFC 5545), network-free.
//
// [Decode] reads a file (any number of VCALENDARs) into one [Event] per
// UID: the master VEVENT, the overrides of its single instances
// (RECURRENCE-ID) and the VTIMEZONEs they name. go-ical
// (github.com/emersion/go-ical) parses the components; this package
// first checks the structure and each content line itself, so that a
// broken file is refused with an [*EventError] naming the event (UID,
// SUMMARY) and the line, and so that no input reaches go-ical's parser in
// a shape it panics on. Every property and parameter is kept as written;
// [Encode] writes them back (sorted by name as go-ical's encoder sorts
// them, folded at 75 octets), so export → import → export is stable. It
// writes the lines itself: go-ical's encoder refuses what real files hold
// (two RRULEs, a property twice).
//
// [Event.Instances] expands an event for an agenda window with rrule-go
// (github.com/teambition/rrule-go) in the zone of its DTSTART: RDATE,
// EXDATE, overrides and cancelled instances applied, all-day and floating
// times read in the reader's zone. An RRULE without COUNT or UNTIL is
// fine: expansion stops at the window's end, and at [MaxSteps].
//
// Time zones ([Zones]) come from the IANA database, embedded
// (time/tzdata) so that a phone without zoneinfo reads them; Outlook's
// Windows zone names are mapped to IANA by CLDR's table; any other TZID
// is read from the file's VTIMEZONE rules.
//
// Functions are safe for concurrent use; an Event is a value to read or
// to change from one goroutine at a time.
package ical
