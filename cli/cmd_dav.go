package cli

import (
	"context"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node/api"
)

// davEnableOptions are the flags of `kith dav enable`.
type davEnableOptions struct {
	Port   int
	Listen string
	TLS    bool
	JSON   bool
}

// davPortDefault is node/dav's DefaultPort (cli reads the API, not node/dav).
const davPortDefault = 5232

func davCommand(e *env) *ucli.Command {
	var (
		enableOpts davEnableOptions
		pwJSON     bool
		statusJSON bool
	)
	return &ucli.Command{
		Name:     "dav",
		Category: "your node",
		Usage:    "let your phone's and computer's own contacts and calendar apps sync with Kith (CardDAV, CalDAV)",
		UsageText: `kith dav command [arguments...]

Examples:
   kith dav enable
   kith dav status
   kith dav password
   kith dav disable`,
		Description: `The daemon serves your address book over CardDAV and your calendar over
CalDAV on 127.0.0.1: your own contacts and your connections' cards in one
address book, your events in one calendar, which DAVx5 (Android), Apple
Contacts and Calendar, Thunderbird, Evolution and vdirsyncer sync with.
An edit made there is an edit in Kith; a connection's own fields are
read-only there (their card is theirs), what you add to it becomes your
notes on them.

Set a client up with the URL, the user name and the app password that
"kith dav enable" prints. The password is shown once and kept only hashed:
"kith dav password" makes a new one. Once enabled, the daemon serves DAV at
every start until "kith dav disable".

By default only apps on this machine can reach the server (127.0.0.1). To
let a phone on your network sync with this computer's node, listen on the
network with --listen: the server then speaks HTTPS with a self-signed
certificate made for it, and prints its fingerprint. Check that the
fingerprint your app shows when it first connects is the one printed here
before you accept the certificate.`,
		Subcommands: []*ucli.Command{
			{
				Name:      "enable",
				Usage:     "serve CardDAV and CalDAV (on 127.0.0.1 unless --listen) and print the URL, user name and a new app password",
				UsageText: "kith dav enable [--port 5232] [--listen IP] [--tls] [--json]\n\nExamples:\n   kith dav enable\n   kith dav enable --port 8843 --json\n   kith dav enable --listen 0.0.0.0      # a phone on the LAN; HTTPS",
				Description: `Starts the DAV server in the running daemon (and at every later start)
and prints what a client needs. Running it again makes a new password (the
old one stops working) and can move the server to another --port or
--listen address.

--listen takes an IP address of this machine: 0.0.0.0 (or ::) for every
interface, or one address such as 192.168.1.20. Any address but 127.0.0.1
serves HTTPS only: the certificate is self-signed, kept in your Kith home
(dav-tls.pem) and reused at every start, so an app that accepted it keeps
trusting it. Compare the printed tls_fingerprint with the one your app
shows. --tls turns HTTPS on for 127.0.0.1 too.`,
				Flags: []ucli.Flag{
					&ucli.IntFlag{Name: "port", Value: davPortDefault, Usage: "TCP port to serve on", EnvVars: []string{"KITH_DAV_PORT"}, Destination: &enableOpts.Port},
					&ucli.StringFlag{Name: "listen", Value: "127.0.0.1", Usage: "IP address to serve on (0.0.0.0: every interface); any but a loopback address means HTTPS", Destination: &enableOpts.Listen},
					&ucli.BoolFlag{Name: "tls", Usage: "serve HTTPS with a self-signed certificate (always on off 127.0.0.1)", Destination: &enableOpts.TLS},
					jsonFlag(&enableOpts.JSON),
				},
				Action: action(func(c *ucli.Context, args []string) error {
					return runDAVEnable(c.Context, e, enableOpts, args)
				}),
			},
			{
				Name:      "password",
				Usage:     "make a new app password; the old one stops working",
				UsageText: "kith dav password [--json]\n\nExample:\n   kith dav password   # then type the new one into your apps",
				Flags:     []ucli.Flag{jsonFlag(&pwJSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					if err := noArgs(args); err != nil {
						return err
					}
					cr, err := e.api().DAVPassword(c.Context)
					if err != nil {
						return err
					}
					return printDAVCredentials(e, cr, pwJSON)
				}),
			},
			{
				Name:      "disable",
				Usage:     "stop serving DAV, now and at later starts",
				UsageText: "kith dav disable\n\nExample:\n   kith dav disable",
				Action: action(func(c *ucli.Context, args []string) error {
					if err := noArgs(args); err != nil {
						return err
					}
					if err := e.api().DAVDisable(c.Context); err != nil {
						return err
					}
					fmt.Fprintln(e.Err, "DAV disabled: apps syncing with it will fail until `kith dav enable`")
					return nil
				}),
			},
			{
				Name:      "status",
				Usage:     "show whether DAV is on, and its URL",
				UsageText: "kith dav status [--json]\n\nExample:\n   kith dav status --json",
				Flags:     []ucli.Flag{jsonFlag(&statusJSON)},
				Action: action(func(c *ucli.Context, args []string) error {
					return runDAVStatus(c.Context, e, statusJSON, args)
				}),
			},
		},
	}
}

func runDAVEnable(ctx context.Context, e *env, opts davEnableOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	if opts.Port < 1 || opts.Port > 65535 {
		return tagf(api.ErrInvalid, "--port %d is not a TCP port (1-65535)", opts.Port)
	}
	cr, err := e.api().DAVEnable(ctx, api.DAVEnableRequest{Port: opts.Port, Listen: opts.Listen, TLS: opts.TLS})
	if err != nil {
		return err
	}
	return printDAVCredentials(e, cr, opts.JSON)
}

func printDAVCredentials(e *env, cr *api.DAVCredentials, asJSON bool) error {
	if asJSON {
		return writeJSON(e.Out, cr)
	}
	t := newTable(e.Out)
	t.row("url", cr.URL)
	t.row("username", cr.Username)
	t.row("password", cr.Password)
	if cr.Fingerprint != "" {
		t.row("tls fingerprint", cr.Fingerprint)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.Err, "the password is shown this once (kept only hashed); `kith dav password` makes a new one")
	if cr.Fingerprint != "" {
		fmt.Fprintln(e.Err, "the certificate is self-signed: accept it in your app only if the fingerprint it shows is the one above")
	}
	return nil
}

func runDAVStatus(ctx context.Context, e *env, asJSON bool, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	st, err := e.api().DAVStatus(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(e.Out, st)
	}
	t := newTable(e.Out)
	switch {
	case st.Running:
		t.row("dav", "on")
		t.row("url", st.URL)
		for _, u := range st.URLs {
			if u != st.URL {
				t.row("also", u)
			}
		}
		t.row("username", st.Username)
		if st.Fingerprint != "" {
			t.row("tls fingerprint", st.Fingerprint)
		}
	case st.Enabled:
		t.row("dav", "enabled but not running")
		t.row("port", fmt.Sprint(st.Port))
		t.row("error", orDash(st.Error))
	default:
		t.row("dav", "off (kith dav enable)")
	}
	if !st.Running && st.Error != "" && !st.Enabled {
		t.row("error", st.Error)
	}
	return t.flush()
}
