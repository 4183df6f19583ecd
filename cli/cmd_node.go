package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/multiformats/go-multiaddr"
	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node/api"
)

// jsonFlag is the --json flag of every read command.
func jsonFlag(dest *bool) ucli.Flag {
	return &ucli.BoolFlag{
		Name:        "json",
		Usage:       "print indented JSON (stable field names) instead of a table",
		EnvVars:     []string{"KITH_JSON"},
		Destination: dest,
	}
}

// idOptions are the flags of `kith id`.
type idOptions struct {
	JSON bool
}

func idCommand(e *env) *ucli.Command {
	var opts idOptions
	return &ucli.Command{
		Name:     "id",
		Category: "your node",
		Usage:    "print your peer ID and the addresses peers reach you at",
		UsageText: `kith id [--json]

Examples:
   kith id                  # peer ID on the first line, then one address a line
   kith id --json | jq -r .peer_id`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runID(c.Context, e, opts, args)
		}),
	}
}

func runID(ctx context.Context, e *env, opts idOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	id, err := e.api().ID(ctx)
	if err != nil {
		return err
	}
	if id.Addrs == nil {
		id.Addrs = []multiaddr.Multiaddr{}
	}
	if opts.JSON {
		return writeJSON(e.Out, id)
	}
	fmt.Fprintln(e.Out, id.PeerID)
	for _, a := range id.Addrs {
		fmt.Fprintln(e.Out, a)
	}
	return nil
}

// statusOptions are the flags of `kith status`.
type statusOptions struct {
	JSON bool
}

func statusCommand(e *env) *ucli.Command {
	var opts statusOptions
	return &ucli.Command{
		Name:     "status",
		Category: "your node",
		Usage:    "show the daemon's identity, addresses and store statistics",
		UsageText: `kith status [--json]

Example:
   kith status`,
		Description: `Entries counts every log entry held (yours and your connections'), logs the
authors, forks the pieces of evidence of an author signing two different
entries at one seq (a sign of a copied or stolen key, or a node restored
from an old backup), with the authors listed below it: their further
updates are held back. Contacts counts your address book.`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runStatus(c.Context, e, opts, args)
		}),
	}
}

func runStatus(ctx context.Context, e *env, opts statusOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	st, err := e.api().Status(ctx)
	if err != nil {
		return err
	}
	if st.Addrs == nil {
		st.Addrs = []multiaddr.Multiaddr{}
	}
	if opts.JSON {
		return writeJSON(e.Out, st)
	}
	t := newTable(e.Out)
	t.row("peer id", st.PeerID.String())
	for i, a := range st.Addrs {
		label := ""
		if i == 0 {
			label = "addrs"
		}
		t.row(label, a.String())
	}
	if len(st.Addrs) == 0 {
		t.row("addrs", "- (not listening)")
	}
	t.row("home", st.Home)
	t.row("version", st.Version)
	up := ""
	if !st.Started.IsZero() {
		up = fmt.Sprintf(" (up %s)", time.Since(st.Started).Round(time.Second))
	}
	t.row("started", humanTime(st.Started)+up)
	t.row("entries", strconv.FormatInt(st.Entries, 10))
	t.row("logs", strconv.FormatInt(st.Logs, 10))
	t.row("forks", strconv.FormatInt(st.Forks, 10))
	for _, p := range st.Forked {
		t.row("", p.String()+": signed two histories; their updates are held back (see README, Forks)")
	}
	t.row("contacts", strconv.Itoa(st.Contacts))
	t.row("store", humanBytes(st.StoreBytes))
	if len(st.OverQuota) == 0 {
		t.row("over quota", "none")
	}
	for i, q := range st.OverQuota {
		label := ""
		if i == 0 {
			label = "over quota"
		}
		t.row(label, fmt.Sprintf("%s: %d entries (%s) refused from seq %d, last %s; %s", q.Author, q.Entries, humanBytes(q.Bytes),
			q.FromSeq, humanTime(q.Last), q.Reason))
	}
	return t.flush()
}

// checkOptions are the flags of `kith check`.
type checkOptions struct {
	JSON bool
}

func checkCommand(e *env) *ucli.Command {
	var opts checkOptions
	return &ucli.Command{
		Name:     "check",
		Category: "your node",
		Usage:    "re-verify every stored entry, log and view; exit 17 if anything is wrong",
		UsageText: `kith check [--json]

Examples:
   kith check
   kith check --json | jq .problems`,
		Description: `Asks the daemon to re-verify the whole store: each entry's encoding,
signature, CID and place in its log, each log head, and the views (records
and search index) against a fresh fold of the logs, and SQLite's own check
of the database file. Problems are reported, one a line, not repaired (a
damaged file too: it is a problem, not an error); the exit code is 17 when
there are any. ` + "`kith repair`" + ` rebuilds the store from the entries that verify.`,
		Flags: []ucli.Flag{jsonFlag(&opts.JSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			return runCheck(c.Context, e, opts, args)
		}),
	}
}

func runCheck(ctx context.Context, e *env, opts checkOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	rep, err := e.api().Check(ctx)
	if err != nil {
		return err
	}
	if opts.JSON {
		if rep.Problems == nil {
			rep.Problems = []string{}
		}
		if err := writeJSON(e.Out, rep); err != nil {
			return err
		}
	} else {
		printCheck(e, rep)
	}
	if !rep.OK() {
		return tagf(errDamaged, "check found %s; `kith repair` rebuilds the store from the entries that verify", plural(len(rep.Problems), "problem", "problems"))
	}
	return nil
}

func printCheck(e *env, rep *api.CheckReport) {
	t := newTable(e.Out)
	t.row("entries", strconv.Itoa(rep.Entries))
	t.row("logs", strconv.Itoa(rep.Logs))
	t.row("records", strconv.Itoa(rep.Records))
	t.row("indexed", strconv.Itoa(rep.Indexed))
	t.row("problems", strconv.Itoa(len(rep.Problems)))
	t.flush()
	for _, p := range rep.Problems {
		fmt.Fprintln(e.Out, "problem:", p)
	}
	if rep.OK() {
		fmt.Fprintln(e.Out, "ok")
	}
}

// logOptions are the flags of `kith log`.
type logOptions struct {
	JSON  bool
	After uint64
	Limit int
}

func logCommand(e *env) *ucli.Command {
	var opts logOptions
	return &ucli.Command{
		Name:     "log",
		Category: "your node",
		Usage:    "list the entries of your own log: seq, CID, kind, key, time",
		UsageText: `kith log [--after SEQ] [--limit N] [--json]

Examples:
   kith log
   kith log --after 10 --limit 5
   kith log --json | jq -r '.[].cid'`,
		Description: `Every change you make (a profile field, a circle, a contact) is one signed
entry appended to your log. Bodies are encrypted; this shows the headers and
the kind and key of each body.`,
		Flags: []ucli.Flag{
			jsonFlag(&opts.JSON),
			&ucli.Uint64Flag{
				Name:        "after",
				Usage:       "show only entries with a seq greater than `SEQ`",
				EnvVars:     []string{"KITH_LOG_AFTER"},
				Destination: &opts.After,
			},
			&ucli.IntFlag{
				Name:        "limit",
				Usage:       "show at most `N` entries (0 = all)",
				EnvVars:     []string{"KITH_LOG_LIMIT"},
				Destination: &opts.Limit,
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runLog(c.Context, e, opts, args)
		}),
	}
}

func runLog(ctx context.Context, e *env, opts logOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if opts.Limit < 0 {
		return tagf(api.ErrInvalid, "--limit %d: give 0 (all) or more", opts.Limit)
	}
	entries, err := e.api().Log(ctx, opts.After, opts.Limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []api.LogEntry{}
	}
	if opts.JSON {
		return writeJSON(e.Out, entries)
	}
	t := newTable(e.Out, "SEQ", "CID", "KIND", "KEY", "TIME")
	for _, le := range entries {
		t.row(strconv.FormatUint(le.Seq, 10), le.CID, le.Kind, orDash(le.Key), humanTime(le.Time))
	}
	return t.flush()
}
