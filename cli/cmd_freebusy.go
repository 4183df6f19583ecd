package cli

import (
	"context"
	"fmt"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// freeBusyOptions are the flags of `kith freebusy PEER`.
type freeBusyOptions struct {
	From, To, TZ string
	JSON         bool
}

func freeBusyCommand(e *env) *ucli.Command {
	var o freeBusyOptions
	return &ucli.Command{
		Name:     "freebusy",
		Category: "your calendar",
		Usage:    "when a connection is busy (no titles), if they allow you; who may ask yours",
		UsageText: `kith freebusy PEER [--from WHEN] [--to WHEN] [--tz ZONE] [--json]
kith freebusy allow CIRCLE | deny CIRCLE | circles [--json]

Examples:
   kith freebusy Ana --from today --to +7d
   kith freebusy 12D3KooW… --from 2026-12-01 --to 2026-12-15 --json
   kith freebusy allow friends
   kith freebusy deny friends`,
		Description: `Asks the connection PEER (peer ID or name) over /kith/freebusy/1.0.0 for
the times it is busy in [from, to), at most 62 days: blocks without
titles, overlapping events merged. It answers only if you are in one of
the circles it allows, and only a few times a minute. Your own answer
holds your events and the invitations you accepted or said tentative to,
cancelled ones left out; nobody may ask until you allow a circle.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "from", Value: "today", Usage: "start of the window (today, tomorrow, +Nd, 2026-12-03, \"2026-12-03 12:30\")", Destination: &o.From, EnvVars: []string{"KITH_FREEBUSY_FROM"}},
			&ucli.StringFlag{Name: "to", Usage: "end of the window (default: 7 days after --from)", Destination: &o.To, EnvVars: []string{"KITH_FREEBUSY_TO"}},
			&ucli.StringFlag{Name: "tz", Usage: "IANA time zone of --from, --to and the table (default: this computer's)", Destination: &o.TZ, EnvVars: []string{"KITH_TZ"}},
			jsonFlag(&o.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runFreeBusy(c.Context, e, o, args)
		}),
	}
}

// runFreeBusyCircles lists the circles that may ask.
func runFreeBusyCircles(ctx context.Context, e *env, asJSON bool) error {
	pol, err := e.api().FreeBusyPolicy(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.Out, pol)
	}
	if len(pol.Circles) == 0 {
		fmt.Fprintln(e.Out, "no circle may ask your free/busy (kith freebusy allow CIRCLE)")
		return nil
	}
	fmt.Fprintln(e.Out, strings.Join(pol.Circles, "\n"))
	return nil
}

func runFreeBusySet(ctx context.Context, e *env, args []string, allow bool) error {
	if len(args) != 1 {
		return usagef("want one CIRCLE: kith freebusy allow|deny CIRCLE")
	}
	pol, err := e.api().SetFreeBusy(ctx, args[0], allow)
	if err != nil {
		return err
	}
	verb := "may now ask"
	if !allow {
		verb = "may no longer ask"
	}
	fmt.Fprintf(e.Out, "%s %s when you are busy; allowed: %s\n", args[0], verb, orNone(pol.Circles))
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// runFreeBusy runs `kith freebusy PEER`, and allow, deny and circles,
// which are words rather than urfave subcommands so that the flags of a
// query may follow its PEER (flagsFirst reorders a leaf command's only).
func runFreeBusy(ctx context.Context, e *env, o freeBusyOptions, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "allow", "deny":
			return runFreeBusySet(ctx, e, args[1:], args[0] == "allow")
		case "circles":
			if len(args) != 1 {
				return usagef("kith freebusy circles takes no argument")
			}
			return runFreeBusyCircles(ctx, e, o.JSON)
		}
	}
	if len(args) != 1 {
		return usagef("want one PEER (a peer ID or a connection's name), or allow/deny CIRCLE")
	}
	_, loc, from, to, err := window(o.TZ, o.From, o.To)
	if err != nil {
		return err
	}
	fb, err := e.api().FreeBusy(ctx, args[0], from, to)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(e.Out, fb)
	}
	if len(fb.Busy) == 0 {
		fmt.Fprintf(e.Out, "free from %s to %s\n", from.Format("Mon 2006-01-02 15:04"), to.Format("Mon 2006-01-02 15:04"))
		return nil
	}
	t := newTable(e.Out, "BUSY")
	for _, b := range fb.Busy {
		t.row(span(b.Start, b.End, loc))
	}
	return t.flush()
}
