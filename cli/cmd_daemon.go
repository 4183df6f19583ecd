package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	ma "github.com/multiformats/go-multiaddr"
	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// daemonOptions are the flags of `kith daemon`.
type daemonOptions struct {
	Listen    []string // multiaddrs; each may hold several separated by commas or spaces
	NoMDNS    bool
	Bootstrap []string // multiaddrs ending in /p2p/<peer id>, split like Listen
	DHTServer bool
	Relays    []string
	// QuotaEntries and QuotaMiB bound each other author's log in the store.
	QuotaEntries, QuotaMiB int64
}

func daemonCommand(e *env) *ucli.Command {
	var opts daemonOptions
	return &ucli.Command{
		Name:     "daemon",
		Category: "start here",
		Usage:    "run your node: serve the API socket and talk to peers until Ctrl-C",
		UsageText: `kith daemon [--listen MULTIADDR]... [--no-mdns] [--bootstrap MULTIADDR]... [--dht-server] [--relay MULTIADDR]...

Examples:
   kith daemon
   kith daemon --listen /ip4/0.0.0.0/tcp/4747 --listen /ip4/0.0.0.0/udp/4747/quic-v1
   KITH_PASSPHRASE='correct horse' KITH_LISTEN=/ip4/127.0.0.1/tcp/0 kith daemon
   kith daemon --dht-server      # an always-on node friends name in --bootstrap
   kith daemon --bootstrap /ip4/203.0.113.7/tcp/4747/p2p/12D3KooW...
   kith daemon --relay /ip4/203.0.113.7/tcp/4747/p2p/12D3KooW...   # on a phone behind a NAT`,
		Description: fmt.Sprintf(`Runs the node of $KITH_HOME in the foreground: it takes the home's lock
(one daemon per home), opens the identity key (asking for its passphrase on
the terminal, or reading KITH_PASSPHRASE), opens the database, starts
libp2p and serves the local API on $KITH_HOME/%s (mode 0600).

When ready it prints its peer ID and addresses to stderr. Ctrl-C (SIGINT) or
SIGTERM stops it cleanly within a few seconds.

Finding peers by bare peer ID: on the LAN, mDNS finds them. Elsewhere the
Kademlia DHT does, through the --bootstrap peers (none by default, so a bare
peer ID only works on the LAN or for peers met before; an invite code or a
full multiaddr always carries addresses). Any node reachable by its friends,
such as a home server started with --dht-server, can be their bootstrap peer.

Behind a NAT (a phone), the node takes a slot on a circuit relay so that
peers can reach it through that relay; hole punching then upgrades to a
direct connection where the NATs allow. Relays come from --relay, else
from online connections that relay: a node relays for others whenever
AutoNAT finds it publicly reachable.

Without --listen, the daemon listens on %s, on the port
this home keeps in $KITH_HOME/%s: %d if it was free when the home first
started, else a free port picked then. So two homes on one machine each
have their own port, and friends find a home again where they saw it. A
port in use (by another home's daemon or any program) is an error, never
shared: pick another with --listen.`, api.SocketName, strings.Join(node.DefaultListen, ", "), node.PortName, node.DefaultPort),
		Flags: []ucli.Flag{
			sliceInto(&opts.Listen, &ucli.StringSliceFlag{
				Name:    "listen",
				Usage:   "libp2p `MULTIADDR` to listen on; repeat for several (KITH_LISTEN: separate with commas)",
				EnvVars: []string{"KITH_LISTEN"},
			}),
			&ucli.BoolFlag{
				Name:        "no-mdns",
				Usage:       "do not announce or look for other Kith nodes on the local network (mDNS)",
				EnvVars:     []string{"KITH_NO_MDNS"},
				Destination: &opts.NoMDNS,
			},
			sliceInto(&opts.Bootstrap, &ucli.StringSliceFlag{
				Name:    "bootstrap",
				Usage:   "DHT bootstrap peer, a `MULTIADDR` ending in /p2p/<peer id>; repeat for several (KITH_BOOTSTRAP: separate with commas)",
				EnvVars: []string{"KITH_BOOTSTRAP"},
			}),
			sliceInto(&opts.Relays, &ucli.StringSliceFlag{
				Name:    "relay",
				Usage:   "circuit relay, a `MULTIADDR` ending in /p2p/<peer id>, to be reachable through when behind a NAT; repeat for several (KITH_RELAY: separate with commas)",
				EnvVars: []string{"KITH_RELAY"},
			}),
			&ucli.BoolFlag{
				Name:        "dht-server",
				Usage:       "answer other nodes' DHT lookups from the start (for an always-on, reachable node); otherwise only once AutoNAT finds this node publicly reachable",
				EnvVars:     []string{"KITH_DHT_SERVER"},
				Destination: &opts.DHTServer,
			},
			&ucli.Int64Flag{
				Name:        "quota-entries",
				Usage:       "store at most `N` entries of each friend's log; more is refused and shown by `kith status` (a person writes far fewer in decades)",
				EnvVars:     []string{"KITH_QUOTA_ENTRIES"},
				Value:       node.DefaultQuota.Entries,
				Destination: &opts.QuotaEntries,
			},
			&ucli.Int64Flag{
				Name:        "quota-mib",
				Usage:       "store at most `MIB` mebibytes of each friend's log; more is refused and shown by `kith status`",
				EnvVars:     []string{"KITH_QUOTA_MIB"},
				Value:       node.DefaultQuota.Bytes >> 20,
				Destination: &opts.QuotaMiB,
			},
		},
		Action: action(func(c *ucli.Context, args []string) error {
			return runDaemon(c.Context, e, opts, args)
		}),
	}
}

func runDaemon(ctx context.Context, e *env, opts daemonOptions, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	listen, err := parseMultiaddrs("--listen", opts.Listen)
	if err != nil {
		return err
	}
	bootstrap, err := parseMultiaddrs("--bootstrap", opts.Bootstrap)
	if err != nil {
		return err
	}
	relays, err := parseMultiaddrs("--relay", opts.Relays)
	if err != nil {
		return err
	}
	if opts.QuotaEntries < 1 || opts.QuotaMiB < 1 || opts.QuotaMiB > 1<<30 {
		return fmt.Errorf("%w: --quota-entries and --quota-mib must be positive (got %d and %d)", errUsage, opts.QuotaEntries, opts.QuotaMiB)
	}
	pass, err := e.keyPassphrase(ctx)
	if err != nil {
		return err
	}
	defer clear(pass)
	return node.RunDaemon(ctx, node.DaemonConfig{
		Home:       e.home,
		Passphrase: pass,
		Listen:     listen,
		NoMDNS:     opts.NoMDNS,
		Bootstrap:  bootstrap,
		DHTServer:  opts.DHTServer,
		Relays:     relays,
		Quota:      node.Quota{Entries: opts.QuotaEntries, Bytes: opts.QuotaMiB << 20},
		Logger:     e.log,
		Ready: func(id api.Identity) {
			// One write, so whoever waits for "ready" sees the whole block:
			// tabwriter writes a line without cells as soon as it has it.
			var b bytes.Buffer
			t := newTable(&b)
			t.row("kith daemon ready (Ctrl-C to stop)")
			t.row("  peer id", id.PeerID.String())
			for i, a := range id.Addrs {
				label := ""
				if i == 0 {
					label = "  addrs"
				}
				t.row(label, a.String())
			}
			t.row("  api", api.SocketPath(e.home))
			t.flush()
			e.Err.Write(b.Bytes())
		},
	})
}

// parseMultiaddrs splits the values of flag at commas and spaces and checks
// that each is a multiaddr; none gives nil (the daemon's defaults).
func parseMultiaddrs(flag string, in []string) ([]string, error) {
	var out []string
	for _, v := range in {
		for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			if _, err := ma.NewMultiaddr(s); err != nil {
				return nil, tagf(api.ErrInvalid, "%s %q is not a multiaddr (like /ip4/0.0.0.0/tcp/4747): %v", flag, s, err)
			}
			out = append(out, s)
		}
	}
	return out, nil
}
