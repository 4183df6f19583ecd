package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/kith-p2p/kith/node"
	"github.com/kith-p2p/kith/node/api"
)

// Stdio is where one run of the app reads and writes.
type Stdio struct {
	In  io.Reader // passphrases, `contacts import -`
	Out io.Writer // data: tables, JSON, vCards
	Err io.Writer // everything else: logs, progress, warnings, errors
}

// Main runs the kith app with args (args[0] is the program name) and returns
// the process exit code (see exitCodes). It never calls os.Exit. ctx should
// be cancelled on SIGINT/SIGTERM: `kith daemon` then shuts down cleanly and
// other commands stop what they are doing.
func Main(ctx context.Context, args []string, stdio Stdio) int {
	if stdio.In == nil {
		stdio.In = strings.NewReader("")
	}
	if stdio.Out == nil {
		stdio.Out = io.Discard
	}
	if stdio.Err == nil {
		stdio.Err = io.Discard
	}
	e := &env{Stdio: stdio, log: slog.New(slog.DiscardHandler)}
	defer e.close()
	// KITH_CPUPROFILE (for developers) writes a CPU profile of this run.
	if path := os.Getenv("KITH_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	err := newApp(e).RunContext(ctx, args)
	return e.report(err)
}

// env is what every runX gets: the streams, the resolved global options and
// a lazily opened API client. One env serves one run of Main.
type env struct {
	Stdio
	globals globalOptions // as given
	home    string        // absolute $KITH_HOME
	log     *slog.Logger  // to Err, at --log-level
	client  *api.Client   // opened by api(), closed by close()
}

// api returns the client for the daemon of e.home.
func (e *env) api() api.API {
	if e.client == nil {
		e.client = api.NewClient(api.SocketPath(e.home))
	}
	return e.client
}

func (e *env) close() {
	if e.client != nil {
		e.client.Close()
	}
}

// globalOptions are the root flags, which come before the command.
type globalOptions struct {
	Home     string
	LogLevel string
}

// setup resolves the global options into e. It runs before every command,
// and again if the command line has global flags after the command name.
func (e *env) setup(opts globalOptions) error {
	e.globals = opts
	home := opts.Home
	if home == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			return usagef("cannot find your home directory (%v); set --home or KITH_HOME", err)
		}
		home = filepath.Join(dir, ".kith")
	}
	if strings.HasPrefix(home, "~/") {
		if dir, err := os.UserHomeDir(); err == nil {
			home = filepath.Join(dir, home[2:])
		}
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return fmt.Errorf("resolving --home %s: %w", home, err)
	}
	e.home = abs

	var level slog.Level
	if err := level.UnmarshalText([]byte(opts.LogLevel)); err != nil {
		return usagef("--log-level %q: use debug, info, warn or error", opts.LogLevel)
	}
	e.log = slog.New(slog.NewTextHandler(e.Err, &slog.HandlerOptions{Level: level}))
	return nil
}

const rootDescription = `Kith keeps your address book on your own machine and shares your card
with the people you choose, directly, peer to peer. Your identity is a key
pair; its peer ID (12D3KooW…) is what friends exchange.

Getting started:
   kith init                          create your identity (once)
   kith daemon                        run your node (keep it running)
   kith me set fn "Ada Lovelace"      your name: every circle sees it
   kith contacts add --name "Grace Hopper" --email grace@example.org
   kith contacts import ~/contacts.vcf
   kith invite                        print a one-time code for a friend…
   kith connect CODE                  …who runs this on their node
   kith status

Every command except init and daemon talks to the running daemon through
the socket $KITH_HOME/api.sock. Read commands take --json. Data goes to
stdout; logs, progress and errors go to stderr. Flags may come before or
after a command's arguments; use -- before an argument that starts with '-'.

Environment: every flag can also be set with the KITH_… variable shown next
to it. KITH_PASSPHRASE holds the key's passphrase for scripts and services
(set but empty = no passphrase); without it kith asks on the terminal.`

func newApp(e *env) *ucli.App {
	app := &ucli.App{
		Name:        "kith",
		HelpName:    "kith",
		Usage:       "a peer-to-peer address book",
		UsageText:   "kith [global options] command [command options] [arguments...]",
		Description: rootDescription,
		Version:     node.Version,
		Reader:      e.In,
		Writer:      e.Out,
		ErrWriter:   e.Err,
		Metadata:    map[string]any{envKey: e},
		// --help is urfave's, added here because it adds it only beside
		// its own help command, which helpCommand replaces.
		Flags: append(globalFlags(false), ucli.HelpFlag),
		Before: func(c *ucli.Context) error {
			return e.setup(globalOptions{Home: c.String("home"), LogLevel: c.String("log-level")})
		},
		Commands: []*ucli.Command{
			initCommand(e),
			daemonCommand(e),
			idCommand(e),
			statusCommand(e),
			checkCommand(e),
			logCommand(e),
			meCommand(e),
			circlesCommand(e),
			contactsCommand(e),
			inviteCommand(e),
			connectCommand(e),
			requestsCommand(e),
			acceptCommand(e),
			declineCommand(e),
			peersCommand(e),
			disconnectCommand(e),
			forksCommand(e),
			helpCommand(),
		},
		Action:                    groupAction,
		OnUsageError:              onUsageError,
		ExitErrHandler:            func(*ucli.Context, error) {}, // Main maps errors to exit codes
		CustomAppHelpTemplate:     ucli.AppHelpTemplate + exitCodesHelp(),
		DisableSliceFlagSeparator: true, // "--adr 'a, b'" is one address
	}
	for _, c := range app.Commands {
		// urfave names nested commands only once their parent runs; `kith
		// help contacts add` shows them before that.
		nameNested(c.Name, c.Subcommands)
	}
	forEachCommand(app.Commands, func(c *ucli.Command) {
		c.Flags = append(c.Flags, globalFlags(true)...)
		c.OnUsageError = onUsageError
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
	})
	return app
}

// globalFlags returns the root's flags. Every command also takes them,
// hidden from its help, so that `kith status --home /tmp/h` works as well
// as `kith --home /tmp/h status`; those copies have no env vars, so that
// they are set only when written after the command.
func globalFlags(hidden bool) []ucli.Flag {
	env := func(name string) []string {
		if hidden {
			return nil
		}
		return []string{name}
	}
	return []ucli.Flag{
		&ucli.StringFlag{
			Name:        "home",
			Usage:       "the directory holding your identity key, database and API socket",
			EnvVars:     env("KITH_HOME"),
			DefaultText: "~/.kith",
			TakesFile:   true,
			Hidden:      hidden,
		},
		&ucli.StringFlag{
			Name:    "log-level",
			Usage:   "how much to log to stderr: debug, info, warn or error",
			EnvVars: env("KITH_LOG_LEVEL"),
			Value:   "info",
			Hidden:  hidden,
		},
	}
}

// lateGlobals applies global flags written after the command name (the
// innermost wins) by running setup again.
func (e *env) lateGlobals(c *ucli.Context) error {
	g, late := e.globals, false
	lineage := c.Lineage()
	for i := len(lineage) - 1; i >= 0; i-- {
		ctx := lineage[i]
		if ctx.App == nil || isRoot(ctx) {
			continue
		}
		for _, name := range ctx.LocalFlagNames() {
			switch name {
			case "home":
				g.Home, late = ctx.String("home"), true
			case "log-level":
				g.LogLevel, late = ctx.String("log-level"), true
			}
		}
	}
	if !late {
		return nil
	}
	return e.setup(g)
}

// nameNested sets the HelpName ("kith contacts add") of the commands
// below the top-level command parent; urfave names the top-level ones.
func nameNested(parent string, cmds []*ucli.Command) {
	for _, c := range cmds {
		c.HelpName = "kith " + parent + " " + c.Name
		nameNested(parent+" "+c.Name, c.Subcommands)
	}
}

func forEachCommand(cmds []*ucli.Command, f func(*ucli.Command)) {
	for _, c := range cmds {
		f(c)
		forEachCommand(c.Subcommands, f)
	}
}

// groupAction runs for the root or a command group (`kith contacts`) given
// no subcommand: it shows the help, or refuses an unknown subcommand.
func groupAction(c *ucli.Context) error {
	if !c.Args().Present() {
		if c.Command == nil || isRoot(c) {
			return ucli.ShowAppHelp(c)
		}
		return ucli.ShowSubcommandHelp(c)
	}
	name := c.Args().First()
	var names []string
	subs := c.App.Commands
	if !isRoot(c) {
		subs = c.Command.Subcommands
	}
	for _, s := range subs {
		if !s.Hidden {
			names = append(names, s.Names()...)
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return &usageError{cmd: helpName(c), err: errors.New(msg)}
}

// helpCommand is `kith help [COMMAND [SUBCOMMAND]...]`. It replaces
// urfave's, which shows the help of the first command named only.
func helpCommand() *ucli.Command {
	return &ucli.Command{
		Name:    "help",
		Aliases: []string{"h"},
		Usage:   "show the help of kith or of a command, at any depth",
		UsageText: `kith help [COMMAND [SUBCOMMAND]...]

Examples:
   kith help
   kith help contacts
   kith help contacts add        # the same as: kith contacts add --help`,
		Action: action(func(c *ucli.Context, args []string) error {
			return runHelp(c, args)
		}),
	}
}

// runHelp shows the help of the command that path names.
func runHelp(c *ucli.Context, path []string) error {
	if len(path) == 0 {
		return ucli.ShowAppHelp(c)
	}
	parent := &ucli.Command{Subcommands: c.App.Commands}
	var target *ucli.Command
	for i, name := range path {
		target = nil
		for _, s := range parent.Subcommands {
			if s.HasName(name) && s.Name != "help" {
				target = s
				break
			}
		}
		if target == nil {
			where := "kith"
			if i > 0 {
				where = "kith " + strings.Join(path[:i], " ")
			}
			return &usageError{cmd: "kith help", err: fmt.Errorf("no help topic %q: %s has no such command", name, where)}
		}
		if i < len(path)-1 {
			parent = target
		}
	}
	// ShowCommandHelp looks target up among the context command's
	// subcommands, or the app's commands when that has none.
	pc := ucli.NewContext(c.App, nil, nil)
	pc.Command = parent
	if parent.Name == "" {
		pc.Command = &ucli.Command{}
	}
	return ucli.ShowCommandHelp(pc, target.Name)
}

func isRoot(c *ucli.Context) bool {
	l := c.Lineage()
	return len(l) < 2 || l[1].App == nil
}

func helpName(c *ucli.Context) string {
	if c.Command == nil || isRoot(c) || c.Command.HelpName == "" {
		return "kith"
	}
	return c.Command.HelpName
}

// onUsageError turns urfave's flag parsing errors into usage errors.
func onUsageError(c *ucli.Context, err error, _ bool) error {
	return &usageError{cmd: helpName(c), err: err}
}

// action adapts f to urfave: it first applies flags written after the
// arguments (urfave/cli/v2 stops at the first argument) and global flags
// written after the command name, then calls f with the arguments, and
// names the command in usage errors.
func action(f func(c *ucli.Context, args []string) error) ucli.ActionFunc {
	return func(c *ucli.Context) error {
		args, err := commandArgs(c)
		if errors.Is(err, errHelpAsked) {
			return ucli.ShowCommandHelp(c.Lineage()[1], c.Command.Name)
		}
		if e, ok := c.App.Metadata[envKey].(*env); ok && err == nil {
			err = e.lateGlobals(c)
		}
		if err == nil {
			err = f(c, args)
		}
		var u *usageError
		if errors.As(err, &u) && u.cmd == "" {
			u.cmd = helpName(c)
		}
		return err
	}
}

var errHelpAsked = errors.New("help asked")

// envKey holds the run's *env in App.Metadata, for action.
const envKey = "kith.env"

// commandArgs returns c's arguments after applying any of c's flags found
// among them: `kith contacts show ada --json` works as if --json came
// first. "--" ends the flags; "-" alone is an argument.
func commandArgs(c *ucli.Context) ([]string, error) {
	in := c.Args().Slice()
	out := make([]string, 0, len(in))
	for i := 0; i < len(in); i++ {
		a := in[i]
		if a == "--" {
			out = append(out, in[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			out = append(out, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil, errHelpAsked
		}
		f := findFlag(c.Command.Flags, name)
		if f == nil {
			return nil, usagef("flag provided but not defined: %s (use -- before an argument that starts with '-')", a)
		}
		if tv, ok := f.(ucli.DocGenerationFlag); ok && !tv.TakesValue() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 >= len(in) {
				return nil, usagef("flag needs an argument: %s", a)
			}
			i++
			value = in[i]
		}
		if err := c.Set(name, value); err != nil {
			return nil, usagef("invalid value %q for flag %s: %v", value, a, err)
		}
	}
	return out, nil
}

func findFlag(flags []ucli.Flag, name string) ucli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

// suggest returns the name closest to s within an edit distance of 2, or "".
func suggest(s string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(s, n); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Argument checks shared by the commands.

func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	return nil
}

func exactArgs(args []string, names ...string) error {
	switch {
	case len(args) < len(names):
		return usagef("missing %s", strings.Join(names[len(args):], " and "))
	case len(args) > len(names):
		return usagef("unexpected argument %q (quote a value that has spaces)", args[len(names)])
	}
	return nil
}
