package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"
	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node/api"
)

// shortDuration writes d without zero units: 1m, 720h, 1h30m.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// circleFlag is the repeatable --circle of the peer commands.
func peerCircleFlag(dest *[]string, usage string) *ucli.StringSliceFlag {
	return sliceInto(dest, &ucli.StringSliceFlag{Name: "circle", Usage: usage, EnvVars: []string{"KITH_CIRCLE"}})
}

// inviteOptions are the flags of `kith invite`.
type inviteOptions struct {
	Circles []string
	TTL     time.Duration
	NoQR    bool
	JSON    bool
}

func inviteCommand(e *env) *ucli.Command {
	opts := inviteOptions{TTL: 24 * time.Hour}
	return &ucli.Command{
		Name:     "invite",
		Category: "your connections",
		Usage:    "print a one-time code that connects its bearer to you without a prompt",
		UsageText: `kith invite [--circle CIRCLE]... [--ttl 24h] [--no-qr] [--json]

Examples:
   kith invite                      # they land in friends
   kith invite --circle family --ttl 1h`,
		Description: `The code holds your peer ID, your addresses and a one-time secret. Give it
to one person (it is also drawn as a QR code on a terminal); when their
node runs ` + "`kith connect CODE`" + ` you are connected at once and they see the
fields you share with the circles named here. A code works once and
expires after --ttl.`,
		Flags: []ucli.Flag{
			peerCircleFlag(&opts.Circles, "put the invitee in `CIRCLE` (repeatable; default friends)"),
			&ucli.DurationFlag{Name: "ttl", Usage: "how long the code stays valid, from 1m to 720h (30 days)", Value: opts.TTL, EnvVars: []string{"KITH_INVITE_TTL"}, Destination: &opts.TTL},
			&ucli.BoolFlag{Name: "no-qr", Usage: "do not draw the QR code", EnvVars: []string{"KITH_NO_QR"}, Destination: &opts.NoQR},
			jsonFlag(&opts.JSON),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runInvite(c.Context, e, opts, args)
		}),
	}
}

func runInvite(ctx context.Context, e *env, opts inviteOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if opts.TTL < api.MinInviteTTL || opts.TTL > api.MaxInviteTTL {
		return tagf(api.ErrInvalid, "--ttl %s: a code must live from %s to %s (30 days), e.g. --ttl 1h", opts.TTL, shortDuration(api.MinInviteTTL), shortDuration(api.MaxInviteTTL))
	}
	inv, err := e.api().Invite(ctx, api.InviteRequest{Circles: opts.Circles, TTL: opts.TTL})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(e.Out, inv)
	}
	fmt.Fprintln(e.Out, inv.Code)
	if _, tty := terminalFd(e.Out); tty && !opts.NoQR {
		if q, err := qrcode.New(inv.Code, qrcode.Low); err == nil {
			fmt.Fprint(e.Out, q.ToSmallString(false))
		}
	}
	fmt.Fprintf(e.Err, "one use, valid until %s; they land in %s\n", inv.Expires.Local().Format(time.RFC1123), strings.Join(inv.Circles, ", "))
	return nil
}

// connectOptions are the flags of `kith connect`.
type connectOptions struct {
	Note    string
	Circles []string
}

func connectCommand(e *env) *ucli.Command {
	var opts connectOptions
	return &ucli.Command{
		Name:     "connect",
		Category: "your connections",
		Usage:    "ask someone to connect: by invite code, full multiaddr or peer ID",
		UsageText: `kith connect TARGET [--note TEXT] [--circle CIRCLE]...

Examples:
   kith connect kith1…                                  # an invite code: accepted at once
   kith connect 12D3KooW… --note "Ada from the climbing gym"
   kith connect /ip4/192.0.2.7/tcp/4747/p2p/12D3KooW…`,
		Description: `With an invite code the connection is made at once. Otherwise the other
person sees your request (kith requests) and accepts or declines it. A bare
peer ID is found on the LAN (mDNS) or through the DHT. Once connected, they
land in --circle on your side (default friends) and see what you share
there.`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "note", Usage: "a short message shown with your request", EnvVars: []string{"KITH_CONNECT_NOTE"}, Destination: &opts.Note},
			peerCircleFlag(&opts.Circles, "put them in `CIRCLE` once connected (repeatable; default friends)"),
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runConnect(c.Context, e, opts, args)
		}),
	}
}

func runConnect(ctx context.Context, e *env, opts connectOptions, args []string) error {
	if err := exactArgs(args, "TARGET"); err != nil {
		return err
	}
	res, err := e.api().Connect(ctx, api.ConnectRequest{Target: args[0], Note: opts.Note, Circles: opts.Circles})
	if err != nil {
		return err
	}
	// A refusal (declined, a used or expired code) is an error.
	if res.Status == "accepted" {
		fmt.Fprintf(e.Out, "connected to %s\n", res.PeerID)
	} else {
		fmt.Fprintf(e.Out, "asked %s; waiting for them to accept (`kith requests` lists it)\n", res.PeerID)
	}
	return nil
}

func requestsCommand(e *env) *ucli.Command {
	var asJSON bool // --json
	return &ucli.Command{
		Name:      "requests",
		Category:  "your connections",
		Usage:     "list pending connection requests, to you and from you",
		UsageText: "kith requests [--json]\n\nExample:\n   kith requests",
		Flags:     []ucli.Flag{jsonFlag(&asJSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			rs, err := e.api().Requests(c.Context)
			if err != nil {
				return err
			}
			if rs == nil {
				rs = []api.Request{}
			}
			if asJSON {
				return writeJSON(e.Out, rs)
			}
			if len(rs) == 0 {
				fmt.Fprintln(e.Out, "no pending requests")
				return nil
			}
			t := newTable(e.Out, "PEER", "DIRECTION", "WHEN", "NOTE")
			for _, r := range rs {
				dir := "to you"
				if r.Outgoing {
					dir = "from you"
				}
				t.row(r.PeerID.String(), dir, humanTime(r.Time), orDash(r.Note))
			}
			return t.flush()
		}),
	}
}

func acceptCommand(e *env) *ucli.Command {
	var circles []string // --circle
	return &ucli.Command{
		Name:      "accept",
		Category:  "your connections",
		Usage:     "accept a connection request",
		UsageText: "kith accept PEER [--circle CIRCLE]...\n\nExample:\n   kith accept 12D3KooW… --circle family",
		Flags:     []ucli.Flag{peerCircleFlag(&circles, "put them in `CIRCLE` (repeatable; default friends)")},
		Action: action(func(c *ucli.Context, args []string) error {
			if err := exactArgs(args, "PEER"); err != nil {
				return err
			}
			if err := e.api().Accept(c.Context, api.AcceptRequest{PeerID: args[0], Circles: circles}); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "connected to %s\n", args[0])
			return nil
		}),
	}
}

func declineCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:      "decline",
		Category:  "your connections",
		Usage:     "decline a connection request",
		UsageText: "kith decline PEER\n\nExample:\n   kith decline 12D3KooW…",
		Action: action(func(c *ucli.Context, args []string) error {
			if err := exactArgs(args, "PEER"); err != nil {
				return err
			}
			if err := e.api().Decline(c.Context, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "declined %s\n", args[0])
			return nil
		}),
	}
}

func peersCommand(e *env) *ucli.Command {
	var asJSON bool // --json
	return &ucli.Command{
		Name:      "peers",
		Category:  "your connections",
		Usage:     "list your connections: online, circles, last sync, entries held",
		UsageText: "kith peers [--json]\n\nExamples:\n   kith peers\n   kith peers --json | jq -r '.[] | select(.online) | .name'",
		Description: `A connection that ran kith disconnect on their side shows "disconnected by
them" (JSON: disconnected_by_them): your node no longer syncs with it or
redials it. kith disconnect removes it on your side too; a new invite or
request between you connects you again.`,
		Flags: []ucli.Flag{jsonFlag(&asJSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			ps, err := e.api().Peers(c.Context)
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []api.Peer{}
			}
			if asJSON {
				return writeJSON(e.Out, ps)
			}
			if len(ps) == 0 {
				fmt.Fprintln(e.Out, "no connections yet: `kith invite` makes a code to give a friend")
				return nil
			}
			t := newTable(e.Out, "PEER", "NAME", "ONLINE", "CIRCLES", "LAST SYNC", "ENTRIES")
			for _, p := range ps {
				online := "no"
				if p.Online {
					online = "yes"
				}
				if p.DisconnectedByThem {
					online = "disconnected by them"
				}
				if p.Forked {
					online += " (forked: see kith forks)"
				}
				last := "never"
				if p.LastSync != nil {
					last = humanTime(*p.LastSync)
				}
				t.row(p.PeerID.String(), orDash(p.Name), online, orDash(strings.Join(p.Circles, ",")), last, strconv.FormatInt(p.Entries, 10))
			}
			return t.flush()
		}),
	}
}

func disconnectCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:     "disconnect",
		Category: "your connections",
		Usage:    "end a connection: they get no further updates",
		UsageText: `kith disconnect PEER

Example:
   kith disconnect 12D3KooW…

They keep what they already received (the last card they could read and
the encrypted copy of your log); they get nothing new. Their node is told
(now if online, else when it next asks to sync) and lists you as
"disconnected by them" in kith peers; it stops syncing with you.`,
		Action: action(func(c *ucli.Context, args []string) error {
			if err := exactArgs(args, "PEER"); err != nil {
				return err
			}
			if err := e.api().Disconnect(c.Context, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "disconnected %s\n", args[0])
			return nil
		}),
	}
}

// circlesAssignCommand is `kith circles assign`.
func circlesAssignCommand(e *env) *ucli.Command {
	return &ucli.Command{
		Name:  "assign",
		Usage: "set which of your circles a connection is in (what of your card they see)",
		UsageText: `kith circles assign PEER CIRCLE...

Examples:
   kith circles assign 12D3KooW… family friends
   kith circles assign "Ada Lovelace" work`,
		Description: `The connection's circles become exactly the ones named; the cards of the
circles they join or leave are re-issued at once. Leaving a circle stops
its updates; they keep the last version they could read.`,
		Action: action(func(c *ucli.Context, args []string) error {
			if len(args) < 2 {
				return usagef("want PEER and at least one CIRCLE")
			}
			if err := e.api().AssignCircles(c.Context, api.AssignRequest{PeerID: args[0], Circles: args[1:]}); err != nil {
				return err
			}
			fmt.Fprintf(e.Out, "%s is in %s\n", args[0], strings.Join(args[1:], ", "))
			return nil
		}),
	}
}

// forksCommand is `kith forks`: the peers caught signing two histories.
func forksCommand(e *env) *ucli.Command {
	var asJSON bool // --json
	return &ucli.Command{
		Name:     "forks",
		Category: "your connections",
		Usage:    "list the peers caught signing two different histories, and settle them",
		UsageText: `kith forks [--json]
kith forks resolve PEER

Example:
   kith forks
   kith forks resolve 12D3KooW…`,
		Description: `A fork is two different entries signed by one peer at one place in their
log: their key was copied or stolen, or their node was restored from an
old backup. Their further updates are held back until you settle it.`,
		Flags: []ucli.Flag{jsonFlag(&asJSON)},
		Action: action(func(c *ucli.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			st, err := e.api().Status(c.Context)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(e.Out, st.Forked)
			}
			if len(st.Forked) == 0 {
				fmt.Fprintln(e.Out, "no forks on record")
				return nil
			}
			for _, p := range st.Forked {
				fmt.Fprintln(e.Out, p)
			}
			fmt.Fprintln(e.Out, "(their updates are held back; `kith forks resolve PEER` takes their log again from them)")
			return nil
		}),
		Subcommands: []*ucli.Command{{
			Name:  "resolve",
			Usage: "drop a forked peer's log and take it again from their node as it is now",
			UsageText: `kith forks resolve PEER

Example:
   kith forks resolve 12D3KooW…`,
			Description: `Do this once you know which device is really theirs (ask them), and that
device is online: your node forgets the peer's whole log and the cards
you had from it, and syncs it again from their node. Until that sync,
their card is empty. If the copied key is still writing, the fork can be
caught again; then disconnect them.`,
			Action: action(func(c *ucli.Context, args []string) error {
				if err := exactArgs(args, "PEER"); err != nil {
					return err
				}
				n, err := e.api().ResolveFork(c.Context, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(e.Out, "dropped %d entries of %s; syncing their log again\n", n, args[0])
				return nil
			}),
		}},
	}
}
