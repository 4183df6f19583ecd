package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
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
	// Text output is escaped for the terminal (see termWriter); JSON and
	// other exact data go around it.
	stdio.Out, stdio.Err = &termWriter{w: stdio.Out}, &termWriter{w: stdio.Err}
	e := &env{Stdio: stdio, log: slog.New(slog.DiscardHandler)}
	defer e.close()
	// KITH_CPUPROFILE (for developers) writes a CPU profile of this run.
	if path := os.Getenv("KITH_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
	}
	app := newApp(e)
	err := app.RunContext(ctx, flagsFirst(app, args))
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
	var root globalOptions
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
		Flags: append(globalFlags(&root), ucli.HelpFlag),
		Before: func(*ucli.Context) error {
			return e.setup(root)
		},
		Commands: []*ucli.Command{
			initCommand(e),
			daemonCommand(e),
			idCommand(e),
			statusCommand(e),
			checkCommand(e),
			repairCommand(e),
			logCommand(e),
			meCommand(e),
			circlesCommand(e),
			contactsCommand(e),
			eventsCommand(e),
			freeBusyCommand(e),
			inviteCommand(e),
			connectCommand(e),
			restoreCommand(e),
			requestsCommand(e),
			acceptCommand(e),
			declineCommand(e),
			peersCommand(e),
			disconnectCommand(e),
			forksCommand(e),
			exportCommand(e),
			rotateCommand(e),
			davCommand(e),
			importCommand(e, node.Import),
			helpCommand(),
		},
		Action:                    groupAction,
		Suggest:                   true, // for urfave's "help" of a group: kith contacts help shwo
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
		c.Flags = append(c.Flags, globalFlags(nil)...)
		c.OnUsageError = onUsageError
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
	})
	return app
}

// globalFlags returns the root's flags, bound to dest. Every command also
// takes them (dest nil), hidden from its help, so that `kith status --home
// /tmp/h` works as well as `kith --home /tmp/h status`; those copies have
// no env vars, so that they are set only when written after the command,
// and lateGlobals reads them.
func globalFlags(dest *globalOptions) []ucli.Flag {
	hidden := dest == nil
	env := func(name string) []string {
		if hidden {
			return nil
		}
		return []string{name}
	}
	home, level := &ucli.StringFlag{
		Name:        "home",
		Usage:       "the directory holding your identity key, database and API socket",
		EnvVars:     env("KITH_HOME"),
		DefaultText: "~/.kith",
		TakesFile:   true,
		Hidden:      hidden,
	}, &ucli.StringFlag{
		Name:    "log-level",
		Usage:   "how much to log to stderr: debug, info, warn or error",
		EnvVars: env("KITH_LOG_LEVEL"),
		Value:   "info",
		Hidden:  hidden,
	}
	if dest != nil {
		home.Destination, level.Destination = &dest.Home, &dest.LogLevel
	}
	return []ucli.Flag{home, level}
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
	subs := c.App.Commands
	if !isRoot(c) {
		subs = c.Command.Subcommands
	}
	subs = slices.DeleteFunc(slices.Clone(subs), func(s *ucli.Command) bool { return s.Hidden })
	return &usageError{cmd: helpName(c), err: errors.New(fmt.Sprintf("unknown command %q", name) + didYouMean(ucli.SuggestCommand(subs, name)))}
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
		Action: action(runHelp),
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

// onUsageError turns urfave's flag parsing errors into usage errors. An
// unknown flag gets urfave's suggestion among the command's visible flags
// (urfave prints it only when there is no OnUsageError, and to stdout).
func onUsageError(c *ucli.Context, err error, _ bool) error {
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		var visible []ucli.Flag
		for _, f := range c.Command.Flags {
			if vf, ok := f.(ucli.VisibleFlag); !ok || vf.IsVisible() {
				visible = append(visible, f)
			}
		}
		written := "-" + name // as written: -x or --name
		if len(name) > 1 && !strings.HasPrefix(name, "-") {
			written = "--" + name
		}
		err = fmt.Errorf("flag provided but not defined: %s%s (use -- before an argument that starts with '-')",
			written, didYouMean(ucli.SuggestFlag(visible, strings.TrimLeft(name, "-"), false)))
	}
	return &usageError{cmd: helpName(c), err: err}
}

// didYouMean renders a suggestion of urfave's (App.Suggest's functions,
// SuggestCommand and SuggestFlag) as the end of an error message; they
// name the closest candidate, or none when nothing shares a letter.
func didYouMean(suggestion string) string {
	if suggestion == "" || suggestion == fmt.Sprintf(ucli.SuggestDidYouMeanTemplate, "") {
		return ""
	}
	if !strings.HasPrefix(suggestion, "Did you mean") {
		suggestion = fmt.Sprintf(ucli.SuggestDidYouMeanTemplate, suggestion) // SuggestFlag gives the name alone
	}
	return "; d" + strings.TrimPrefix(suggestion, "D")
}

// action adapts f to urfave: it applies global flags written after the
// command name, calls f with the arguments urfave left, and names the
// command in usage errors. The command's flags are in its options struct
// already: urfave filled it through the flags' Destinations.
func action(f func(c *ucli.Context, args []string) error) ucli.ActionFunc {
	return func(c *ucli.Context) error {
		var err error
		if e, ok := c.App.Metadata[envKey].(*env); ok {
			err = e.lateGlobals(c)
		}
		if err == nil {
			err = f(c, c.Args().Slice())
		}
		var u *usageError
		if errors.As(err, &u) && u.cmd == "" {
			u.cmd = helpName(c)
		}
		return err
	}
}

// sliceInto binds a slice flag to dest. urfave/cli/v2's Destination for
// one is its own *StringSlice; a flag's Action, which urfave runs when the
// flag is given (on the command line or in its variable), puts the
// values in a plain []string of the options struct instead.
func sliceInto(dest *[]string, f *ucli.StringSliceFlag) *ucli.StringSliceFlag {
	f.Action = func(_ *ucli.Context, vs []string) error {
		*dest = vs
		return nil
	}
	return f
}

// envKey holds the run's *env in App.Metadata, for action.
const envKey = "kith.env"

// flagsFirst returns args with every flag written after a command's
// arguments moved before them: `kith contacts show ada --json` becomes
// `kith contacts show --json ada`. urfave/cli/v2 stops parsing flags at a
// command's first argument (v3 does not) and offers no option to go on;
// people write flags last, and the README does.
//
// This is a pre-pass, and honestly a second look at the command line, but
// it has no grammar of its own: it finds the command by urfave's command
// names, lets the standard library's flag package (urfave's own parser)
// tell flags and their values from arguments, and only reorders. It sets
// nothing and reports nothing: on anything it does not understand it
// leaves the rest for urfave, which parses the result, fills the options,
// and reports errors. "--" still ends the flags: what follows it stays an
// argument, and "--" is kept before the arguments when one starts with '-'.
func flagsFirst(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out, rest := []string{args[0]}, args[1:]
	flags, cmds := append(slices.Clone(app.Flags), ucli.VersionFlag), app.Commands
	// Walk down the command names: flags between them stay where they are.
	for {
		set := shadowFlags(flags)
		if set.Parse(rest) != nil {
			return args
		}
		n := len(rest) - set.NArg()
		if n > 0 && rest[n-1] == "--" {
			return args // only arguments follow
		}
		out, rest = append(out, rest[:n]...), rest[n:]
		if len(rest) == 0 {
			return args
		}
		i := slices.IndexFunc(cmds, func(c *ucli.Command) bool { return c.HasName(rest[0]) })
		if i < 0 && len(cmds) > 0 {
			return args // not a command: urfave's groupAction says so
		}
		if i < 0 {
			break // rest is the arguments of the command reached
		}
		out, rest = append(out, rest[0]), rest[1:]
		flags, cmds = append(slices.Clone(cmds[i].Flags), ucli.HelpFlag), cmds[i].Subcommands
	}
	var moved, positional []string
	help := false
	for len(rest) > 0 {
		set := shadowFlags(flags)
		if set.Parse(rest) != nil {
			// An unknown flag, one without its value or a bad boolean:
			// urfave, parsing them first, fails on the same one, as the
			// shadow flags have its names and kinds. The arguments are
			// never read then; placed after, they would only become the
			// value of a flag that lacks one.
			return append(append(out, moved...), rest...)
		}
		for _, name := range ucli.HelpFlag.Names() {
			if f := set.Lookup(name); f != nil && f.Value.String() == "true" {
				help = true
			}
		}
		n := len(rest) - set.NArg()
		if n > 0 && rest[n-1] == "--" {
			moved, positional = append(moved, rest[:n-1]...), append(positional, set.Args()...)
			break
		}
		moved, rest = append(moved, rest[:n]...), rest[n:]
		if len(rest) > 0 {
			positional, rest = append(positional, rest[0]), rest[1:]
		}
	}
	out = append(out, moved...)
	if help {
		// urfave would read the first argument as a help topic: --help
		// anywhere asks for the command's help.
		return out
	}
	if slices.ContainsFunc(positional, func(a string) bool { return len(a) > 1 && a[0] == '-' }) {
		out = append(out, "--")
	}
	return append(out, positional...)
}

// shadowFlags returns a flag set with flags' names, for flagsFirst: each
// takes a string value or none, as the flag does; the values parsed into
// it are thrown away.
func shadowFlags(flags []ucli.Flag) *flag.FlagSet {
	set := flag.NewFlagSet("kith", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range flags {
		takesValue := true
		if d, ok := f.(ucli.DocGenerationFlag); ok {
			takesValue = d.TakesValue()
		}
		for _, name := range f.Names() {
			switch {
			case set.Lookup(name) != nil:
			case takesValue:
				set.String(name, "", "")
			default:
				set.Bool(name, false, "")
			}
		}
	}
	return set
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
