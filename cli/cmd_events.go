package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/graph/ical"
	"github.com/kith-p2p/kith/node/api"
)

// eventOptions are the flags of `kith events add` and `edit`.
type eventOptions struct {
	At, For, Until, Where, Note, TZ, RRule string
	AllDay                                 bool
}

// eventsListOptions are the flags of `kith events list`.
type eventsListOptions struct {
	From, To, TZ string
	JSON         bool
}

// eventsImportOptions are the flags of `kith events import`.
type eventsImportOptions struct {
	SkipInvalid bool
}

// eventsExportOptions are the flags of `kith events export`.
type eventsExportOptions struct {
	Output string
}

func eventFlags(o *eventOptions) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: "at", Usage: `start: "2026-12-03 12:30", or a date "2026-12-03" for an all-day event`, Destination: &o.At, EnvVars: []string{"KITH_EVENT_AT"}},
		&ucli.StringFlag{Name: "for", Usage: `duration: 45m, 1h30m, 2d (default 1h; a day all-day)`, Destination: &o.For, EnvVars: []string{"KITH_EVENT_FOR"}},
		&ucli.StringFlag{Name: "until", Usage: `end instead of --for: "2026-12-03 14:00" (all-day: the last day)`, Destination: &o.Until, EnvVars: []string{"KITH_EVENT_UNTIL"}},
		&ucli.StringFlag{Name: "where", Usage: "where it takes place (LOCATION): an address, a room, a link", Destination: &o.Where, EnvVars: []string{"KITH_EVENT_WHERE"}},
		&ucli.StringFlag{Name: "note", Usage: "a description (DESCRIPTION): an agenda, a phone number", Destination: &o.Note, EnvVars: []string{"KITH_EVENT_NOTE"}},
		&ucli.StringFlag{Name: "tz", Usage: "IANA time zone of --at and --until (default: this computer's, from $TZ or /etc/localtime)", Destination: &o.TZ, EnvVars: []string{"KITH_TZ"}},
		&ucli.StringFlag{Name: "rrule", Usage: `recurrence rule (RFC 5545): "FREQ=WEEKLY;COUNT=4", "FREQ=MONTHLY;BYDAY=1MO"; "" removes it (edit)`, Destination: &o.RRule, EnvVars: []string{"KITH_EVENT_RRULE"}},
		&ucli.BoolFlag{Name: "all-day", Usage: "a whole-day event: --at and --until are dates", Destination: &o.AllDay, EnvVars: []string{"KITH_EVENT_ALL_DAY"}},
	}
}

func eventsCommand(e *env) *ucli.Command {
	var (
		addOpts, editOpts eventEditFlags
		listOpts          eventsListOptions
		showJSON          bool
		importOpts        eventsImportOptions
		exportOpts        eventsExportOptions
	)
	return &ucli.Command{
		Name:     "events",
		Category: "your calendar",
		Usage:    "your calendar: add, list, show, edit, remove, invite, answer, import and export events",
		UsageText: `kith events command [arguments...]

Examples:
   kith events add "Lunch" --at "2026-12-03 12:30" --for 1h --where "Cafe Rio"
   kith events add "Standup" --at "2026-12-07 09:00" --for 15m --tz Europe/Berlin --rrule "FREQ=WEEKLY;BYDAY=MO,WE"
   kith events add "Holidays" --at 2026-12-24 --until 2026-12-27 --all-day
   kith events list --from today --to +14d
   kith events invite 3f2a…@kith Ana Ben
   kith events rsvp 3f2a…@kith accept
   kith events import calendar.ics
   kith events export -o calendar.ics`,
		Description: `Events live in your own log, sealed to you, as iCalendar (RFC 5545) text:
whatever another calendar wrote (attendees, alarms, time zones, its own
properties) is kept and exported back. Times are wall-clock times in a
time zone (--tz, default this computer's), so a weekly 09:00 meeting stays
at 09:00 across daylight-saving changes. A UID names each event: list and
show print it, edit and rm take it. Invite connections to an event and it
is sealed to them too; the agenda lists the events your connections invite
you to, with who organizes them (FROM).`,
		Subcommands: []*ucli.Command{
			{
				Name:  "add",
				Usage: "add an event",
				UsageText: `kith events add SUMMARY --at WHEN [--for DURATION | --until WHEN] [--where PLACE] [--note TEXT] [--tz ZONE] [--rrule RULE] [--all-day]

Examples:
   kith events add "Lunch" --at "2026-12-03 12:30" --for 1h --where "Cafe Rio"
   kith events add "Call with Tokyo" --at "2026-12-04 09:00" --tz Asia/Tokyo --for 45m
   kith events add "Yoga" --at "2026-12-07 18:00" --rrule "FREQ=WEEKLY;COUNT=10"
   kith events add "Ana's birthday" --at 2027-02-15 --all-day --rrule FREQ=YEARLY`,
				Description: `It prints the new event's UID, which edit, show and rm take. WHEN is
"YYYY-MM-DD HH:MM" in --tz (default this computer's zone), or a date for
an all-day event.`,
				Flags: eventFlags(&addOpts.eventOptions),
				Action: action(func(c *ucli.Context, args []string) error {
					addOpts.set = c.IsSet
					return runEventsAdd(c.Context, e, addOpts, args)
				}),
			},
			{
				Name:    "list",
				Aliases: []string{"ls", "agenda"},
				Usage:   "the agenda: every instance of your events in a window, recurrences expanded",
				UsageText: `kith events list [--from WHEN] [--to WHEN] [--tz ZONE] [--json]

Examples:
   kith events list                          # today and the next 6 days
   kith events list --from 2026-12-01 --to 2027-01-01
   kith events list --from today --to +30d --json`,
				Description: `WHEN is today, tomorrow, +Nd (days from today), or a date or time
("2026-12-03", "2026-12-03 12:30") in --tz. The window is [from, to);
--to defaults to 7 days after --from. With --json each instance has its
start and end as RFC 3339 with the offset in force, its uid, summary and
all_day.`,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "from", Value: "today", Usage: "start of the window", Destination: &listOpts.From, EnvVars: []string{"KITH_EVENTS_FROM"}},
					&ucli.StringFlag{Name: "to", Usage: "end of the window (default: 7 days after --from)", Destination: &listOpts.To, EnvVars: []string{"KITH_EVENTS_TO"}},
					&ucli.StringFlag{Name: "tz", Usage: "IANA time zone for dates, all-day events and the table (default: this computer's)", Destination: &listOpts.TZ, EnvVars: []string{"KITH_TZ"}},
					jsonFlag(&listOpts.JSON),
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsList(c.Context, e, listOpts, args)
				}),
			},
			{
				Name:      "show",
				Usage:     "show one event, with its iCalendar text",
				UsageText: "kith events show UID [--json]\n\nExample:\n   kith events show 3f2a…@kith --json",
				Flags:     []ucli.Flag{jsonFlag(&showJSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsShow(c.Context, e, showJSON, args)
				}),
			},
			{
				Name:  "edit",
				Usage: "change an event: the flags you give, the rest kept",
				UsageText: `kith events edit UID [SUMMARY] [--at WHEN] [--for DURATION | --until WHEN] [--where PLACE] [--note TEXT] [--tz ZONE] [--rrule RULE] [--all-day]

Examples:
   kith events edit 3f2a…@kith --at "2026-12-03 13:00"   # keeps its length
   kith events edit 3f2a…@kith "Long lunch" --for 2h
   kith events edit 3f2a…@kith --rrule ""                 # no longer repeats`,
				Description: `--where "" and --note "" remove the location and the description.
A change of time raises the event's SEQUENCE, so that other calendars
take it as the newer version.`,
				Flags: eventFlags(&editOpts.eventOptions),
				Action: action(func(c *ucli.Context, args []string) error {
					editOpts.set = c.IsSet
					return runEventsEdit(c.Context, e, editOpts, args)
				}),
			},
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "remove an event (every instance of it)",
				UsageText: "kith events rm UID\n\nExample:\n   kith events rm 3f2a…@kith",
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsRemove(c.Context, e, args)
				}),
			},
			{
				Name:  "invite",
				Usage: "invite connections to an event of yours: it is sealed to them and reaches them on sync",
				UsageText: `kith events invite UID PEER...

Examples:
   kith events invite 3f2a…@kith Ana Ben
   kith events invite 3f2a…@kith 12D3KooW…`,
				Description: `PEER is a connection: its peer ID, or the name its card goes by (see
kith peers). Each becomes an ATTENDEE (PARTSTAT NEEDS-ACTION) and you the
ORGANIZER; the event is then sealed to you and the attendees, so your
later edits, a cancel or an rm reach them like any change. They answer
with kith events rsvp; kith events show UID shows their answers.`,
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsInvite(c.Context, e, args)
				}),
			},
			{
				Name:  "rsvp",
				Usage: "answer an invitation: accept, decline or tentative",
				UsageText: `kith events rsvp UID accept|decline|tentative

Example:
   kith events rsvp 3f2a…@kith accept`,
				Description: `The answer goes in your own log, sealed to the organizer and the other
attendees; it answers the event as it is now (its SEQUENCE): after the
organizer moves it, show marks older answers and you may answer again.`,
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsRSVP(c.Context, e, args)
				}),
			},
			{
				Name:      "cancel",
				Usage:     "cancel an event of yours: it leaves your agenda and your attendees'",
				UsageText: "kith events cancel UID\n\nExample:\n   kith events cancel 3f2a…@kith",
				Description: `The event stays, with STATUS:CANCELLED and its SEQUENCE raised, so
that kith events show and an export still tell what was cancelled; rm
removes it altogether (for your attendees too).`,
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsCancel(c.Context, e, args)
				}),
			},
			{
				Name:      "import",
				Usage:     "import an iCalendar (.ics) file",
				UsageText: "kith events import FILE [--skip-invalid]\n\nExample:\n   kith events import ~/Downloads/calendar.ics",
				Description: `All or nothing: an event the file breaks (cut off, a date that does not
parse, a bad recurrence rule) stops the import, naming it and its line;
with --skip-invalid the others go in and the broken ones are listed. An
event you have already is replaced, unless the file's copy is older (a
lower SEQUENCE). To-dos, journals and free/busy blocks are left out.`,
				Flags: []ucli.Flag{
					&ucli.BoolFlag{Name: "skip-invalid", Usage: "import the readable events and list the broken ones", Destination: &importOpts.SkipInvalid, EnvVars: []string{"KITH_SKIP_INVALID"}},
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsImport(c.Context, e, importOpts, args)
				}),
			},
			{
				Name:      "export",
				Usage:     "export your events (or some) as an iCalendar file",
				UsageText: "kith events export [-o FILE] [UID...]\n\nExamples:\n   kith events export -o calendar.ics\n   kith events export 3f2a…@kith > lunch.ics",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to FILE instead of standard output", Destination: &exportOpts.Output, EnvVars: []string{"KITH_OUTPUT"}},
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runEventsExport(c.Context, e, exportOpts, args)
				}),
			},
		},
	}
}

// eventEditFlags are eventOptions and which of them were given.
type eventEditFlags struct {
	eventOptions
	set func(name string) bool
}

// localZone names this computer's time zone: $TZ, else the zone
// /etc/localtime links to, else UTC.
func localZone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		if _, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
			return strings.TrimPrefix(tz, ":")
		}
	}
	if p, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(p, "zoneinfo/"); ok {
			if _, err := time.LoadLocation(name); err == nil {
				return name
			}
		}
	}
	return "UTC"
}

func (o eventEditFlags) input(edit bool) api.EventInput {
	in := api.EventInput{Start: o.At, Duration: o.For, End: o.Until, TZ: o.TZ}
	if in.TZ == "" && (o.At != "" || o.Until != "") {
		in.TZ = localZone()
	}
	has := func(name string) bool { return o.set != nil && o.set(name) }
	if has("where") || !edit && o.Where != "" {
		in.Location = &o.Where
	}
	if has("note") || !edit && o.Note != "" {
		in.Description = &o.Note
	}
	if has("rrule") || !edit && o.RRule != "" {
		in.RRule = &o.RRule
	}
	if o.AllDay {
		in.AllDay = &o.AllDay
	}
	return in
}

func runEventsAdd(ctx context.Context, e *env, o eventEditFlags, args []string) error {
	if len(args) != 1 || strings.TrimSpace(args[0]) == "" {
		return usagef("want one SUMMARY (quote it: kith events add \"Lunch with Ana\" --at …)")
	}
	if o.At == "" {
		return usagef("missing --at: when it starts, e.g. --at \"2026-12-03 12:30\" or --at 2026-12-03 --all-day")
	}
	in := o.input(false)
	in.Summary = &args[0]
	ev, err := e.api().AddEvent(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "added %s: %s\n", ev.UID, describe(ev))
	return nil
}

func runEventsEdit(ctx context.Context, e *env, o eventEditFlags, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return usagef("want UID [SUMMARY]")
	}
	in := o.input(true)
	if len(args) == 2 {
		in.Summary = &args[1]
	}
	if in == (api.EventInput{}) {
		return usagef("nothing to change: give a SUMMARY or a flag (--at, --for, --where, …)")
	}
	ev, err := e.api().EditEvent(ctx, args[0], in)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "changed %s: %s\n", ev.UID, describe(ev))
	return nil
}

// describe is one line about an event.
func describe(ev *api.Event) string {
	s := fmt.Sprintf("%q", ev.Summary)
	inZone(ev)
	if ev.Start != nil {
		if ev.AllDay {
			s += " on " + ev.Start.Format("Mon 2006-01-02")
		} else {
			s += " at " + ev.Start.Format("Mon 2006-01-02 15:04 MST")
		}
	}
	if ev.RRule != "" {
		s += ", repeating " + ev.RRule
	}
	return s
}

func runEventsRemove(ctx context.Context, e *env, args []string) error {
	if err := exactArgs(args, "UID"); err != nil {
		return err
	}
	if err := e.api().RemoveEvent(ctx, args[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "removed %s\n", args[0])
	return nil
}

// parseWhen reads a --from/--to value in loc: today, tomorrow, +Nd, a date
// or a date and time.
func parseWhen(s string, loc *time.Location, now time.Time) (time.Time, error) {
	now = now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	switch s = strings.TrimSpace(s); {
	case s == "today":
		return today, nil
	case s == "tomorrow":
		return today.AddDate(0, 0, 1), nil
	case strings.HasPrefix(s, "+") && strings.HasSuffix(s, "d"):
		if n, err := strconv.Atoi(s[1 : len(s)-1]); err == nil && n >= 0 {
			return today.AddDate(0, 0, n), nil
		}
	}
	for _, layout := range []string{time.DateOnly, "2006-01-02 15:04", "2006-01-02T15:04", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("%q is no time: want today, tomorrow, +7d, 2026-12-03 or \"2026-12-03 12:30\"", s)
}

// window reads --tz, --from and --to: the zone (the local one when tz is
// empty) and the times, --to a week after --from when empty.
func window(tz, fromS, toS string) (zone string, loc *time.Location, from, to time.Time, err error) {
	if tz == "" {
		tz = localZone()
	}
	if loc, err = time.LoadLocation(tz); err != nil {
		return "", nil, from, to, usagef("--tz %q: not an IANA time zone (e.g. Europe/Berlin)", tz)
	}
	now := time.Now()
	if from, err = parseWhen(fromS, loc, now); err != nil {
		return "", nil, from, to, err
	}
	to = from.AddDate(0, 0, 7)
	if toS != "" {
		if to, err = parseWhen(toS, loc, now); err != nil {
			return "", nil, from, to, err
		}
	}
	return tz, loc, from, to, nil
}

// span shows [start, end) in loc: the day and both times, and the end's
// day too when it ends on another.
func span(start, end time.Time, loc *time.Location) string {
	s, e := start.In(loc), end.In(loc)
	if e.YearDay() != s.YearDay() || e.Year() != s.Year() {
		return s.Format("Mon 2006-01-02 15:04") + "–" + e.Format("Mon 01-02 15:04")
	}
	return s.Format("Mon 2006-01-02 15:04") + "–" + e.Format("15:04")
}

func runEventsList(ctx context.Context, e *env, o eventsListOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	tz, loc, from, to, err := window(o.TZ, o.From, o.To)
	if err != nil {
		return err
	}
	list, err := e.api().Agenda(ctx, from, to, tz)
	if err != nil {
		return err
	}
	if list == nil {
		list = []api.Instance{}
	}
	if o.JSON {
		return writeJSON(e.Out, list)
	}
	if len(list) == 0 {
		fmt.Fprintf(e.Out, "no events from %s to %s\n", from.Format("Mon 2006-01-02 15:04"), to.Format("Mon 2006-01-02 15:04"))
		return nil
	}
	t := newTable(e.Out, "WHEN", "SUMMARY", "WHERE", "FROM", "UID")
	for _, in := range list {
		var when string
		if in.AllDay {
			when = in.Start.Format("Mon 2006-01-02") + "  all day"
			if days := int(in.End.Sub(in.Start).Hours()+12) / 24; days > 1 {
				when += fmt.Sprintf(" (%d days)", days)
			}
		} else {
			when = span(in.Start, in.End, loc)
		}
		from := ""
		if in.From != "" {
			from = shortPeer(in.From)
		}
		t.row(when, in.Summary, in.Location, from, in.UID)
	}
	return t.flush()
}

func runEventsShow(ctx context.Context, e *env, asJSON bool, args []string) error {
	if err := exactArgs(args, "UID"); err != nil {
		return err
	}
	ev, err := e.api().Event(ctx, args[0])
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.Out, ev)
	}
	inZone(ev)
	t := newTable(e.Out)
	t.row("uid", ev.UID)
	t.row("summary", ev.Summary)
	if ev.Start != nil {
		layout := "Mon 2006-01-02 15:04 MST"
		if ev.AllDay {
			layout = "Mon 2006-01-02"
		}
		t.row("start", ev.Start.Format(layout))
		t.row("end", ev.End.Format(layout))
	}
	for _, kv := range [][2]string{{"zone", ev.TZ}, {"repeats", ev.RRule}, {"where", ev.Location}, {"note", ev.Description}, {"status", ev.Status}} {
		if kv[1] != "" {
			t.row(kv[0], kv[1])
		}
	}
	if ev.Organizer != nil {
		t.row("organizer", person(*ev.Organizer))
	}
	if ev.From != "" {
		t.row("invited by", ev.From)
	}
	for _, a := range ev.Attendees {
		ans := a.PartStat
		for _, r := range ev.Replies {
			if r.Peer == a.Peer && !r.Current {
				ans += fmt.Sprintf(" (to sequence %d, before the last change)", r.Sequence)
			}
		}
		t.row("attendee", strings.TrimSpace(person(a)+" "+ans))
	}
	if ev.Overrides > 0 {
		t.row("changed instances", strconv.Itoa(ev.Overrides))
	}
	t.row("sequence", strconv.Itoa(ev.Sequence))
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "\n%s", ev.ICS)
	return nil
}

// eventsImportBatch events go to the daemon in one request (one append).
const eventsImportBatch = 500

func runEventsImport(ctx context.Context, e *env, o eventsImportOptions, args []string) error {
	if err := exactArgs(args, "FILE"); err != nil {
		return err
	}
	name := args[0]
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()
	// Ask the daemon first: reading a large file only to learn that
	// nothing is there to take it wastes the user's time.
	client := e.api()
	if _, err := client.ID(ctx); err != nil {
		return err
	}
	// The whole file is checked here before anything is written, so that
	// a broken event stops the import with nothing imported; the daemon
	// checks each batch again.
	res, err := ical.Decode(f, ical.Options{SkipInvalid: o.SkipInvalid})
	if err != nil {
		hint := ""
		if errors.Is(err, ical.ErrInvalidEvent) {
			hint = " (fix that event, or pass --skip-invalid to import the others)"
		}
		return tagf(api.ErrInvalid, "%s: %v; nothing was imported%s", name, err, hint)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.Err, "%s: %s\n", name, w)
	}
	for _, s := range res.Skipped {
		fmt.Fprintf(e.Err, "%s: skipped %s\n", name, s)
	}
	var total api.EventImportResult
	bar := newProgress(e.Err, "importing", len(res.Events))
	for chunk := range slices.Chunk(res.Events, eventsImportBatch) {
		var b bytes.Buffer
		if err := ical.Encode(&b, chunk); err != nil {
			bar.finish()
			return err
		}
		r, err := client.ImportEvents(ctx, api.ImportEventsRequest{ICS: b.String(), SkipInvalid: o.SkipInvalid})
		if err != nil {
			bar.finish()
			if total.Added+total.Updated > 0 {
				return fmt.Errorf("%w (%d events were imported before it)", err, total.Added+total.Updated)
			}
			return err
		}
		total.Added += r.Added
		total.Updated += r.Updated
		total.Unchanged += r.Unchanged
		total.Older += r.Older
		total.Skipped = append(total.Skipped, r.Skipped...)
		bar.add(len(chunk))
	}
	bar.finish()
	for _, s := range total.Skipped {
		fmt.Fprintf(e.Err, "%s: skipped %s\n", name, s)
	}
	fmt.Fprintf(e.Out, "imported %s: %d added, %d updated, %d unchanged, %d older than yours (kept yours), %d skipped\n",
		name, total.Added, total.Updated, total.Unchanged, total.Older, len(res.Skipped)+len(total.Skipped))
	return nil
}

func runEventsExport(ctx context.Context, e *env, o eventsExportOptions, args []string) error {
	exp, err := e.api().ExportEvents(ctx, args)
	if err != nil {
		return err
	}
	if o.Output == "" || o.Output == "-" {
		_, err := e.Out.Write([]byte(exp.ICS))
		return err
	}
	if err := os.WriteFile(o.Output, []byte(exp.ICS), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", o.Output, err)
	}
	fmt.Fprintf(e.Err, "wrote %s\n", o.Output)
	return nil
}

// inZone puts ev's start and end in its zone by name: the JSON they
// crossed the socket in keeps only the offset.
func inZone(ev *api.Event) {
	if ev.TZ == "" || ev.Start == nil || ev.End == nil {
		return
	}
	if loc, err := time.LoadLocation(ev.TZ); err == nil {
		s, e := ev.Start.In(loc), ev.End.In(loc)
		ev.Start, ev.End = &s, &e
	}
}

// person names an attendee: its CN and address.
func person(a api.Attendee) string {
	if a.Name != "" {
		return a.Name + " <" + a.Address + ">"
	}
	return a.Address
}

// shortPeer shortens a peer ID for a table column.
func shortPeer(p string) string {
	if len(p) > 16 {
		return p[:8] + "…" + p[len(p)-6:]
	}
	return p
}

func runEventsInvite(ctx context.Context, e *env, args []string) error {
	if len(args) < 2 {
		return usagef("want UID PEER... (a peer ID or a connection's name; see kith peers)")
	}
	ev, err := e.api().InviteEvent(ctx, args[0], args[1:])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "invited %d to %s: %s\n", len(ev.Attendees), ev.UID, describe(ev))
	return nil
}

func runEventsRSVP(ctx context.Context, e *env, args []string) error {
	if len(args) != 2 {
		return usagef("want UID accept|decline|tentative")
	}
	ev, err := e.api().RSVPEvent(ctx, args[0], args[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "answered %s to %s: %s\n", strings.ToLower(args[1]), ev.UID, describe(ev))
	return nil
}

func runEventsCancel(ctx context.Context, e *env, args []string) error {
	if err := exactArgs(args, "UID"); err != nil {
		return err
	}
	ev, err := e.api().CancelEvent(ctx, args[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Out, "cancelled %s: %s\n", ev.UID, describe(ev))
	return nil
}
