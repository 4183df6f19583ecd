// Package cli is the kith command line: one urfave/cli/v2 app whose
// commands talk to the daemon through [api.Client] (only `kith init` and
// `kith daemon` use package node directly).
//
// [Main] runs the app and returns the process exit code; it never calls
// os.Exit. Every command is a small options struct plus a
// runX(ctx, env, opts, args) function: urfave fills the struct itself (each
// flag's Destination; a slice flag's, or a field flag of contacts add/edit,
// through the flag's Action, which urfave runs only for a flag given) and the
// command's Action calls runX, which reads stdin and writes stdout and
// stderr only through its *env. Unknown commands and flags get urfave's
// suggestions (SuggestCommand, SuggestFlag). Errors are mapped to exit codes in one
// place, exitCodes in exit.go, which the root --help also prints.
//
// Conventions: data goes to stdout, everything else (logs, progress bars,
// warnings) to stderr; read commands take --json and print indented JSON of
// the node/api types; human output is aligned with text/tabwriter.
//
// Flags may come before or after a command's arguments (`kith contacts
// show ada --json`), and global flags after the command (`kith status
// --home /tmp/h`, through hidden copies on every command). urfave/cli/v2
// stops parsing flags at a command's first argument and has no option to
// go on, so Main runs one documented pre-pass, flagsFirst, before urfave:
// it moves a command's flags written after its arguments in front of them.
// It is a second look at the command line, kept small on purpose: no
// grammar of its own (the standard library's flag package, urfave's own
// parser, tells flags and values from arguments, with urfave's flag names
// and kinds), it only reorders, and urfave then parses, fills the options
// and reports every error. "--" ends the flags; --help anywhere shows the
// command's help. Dropping the feature instead would have broken the
// README's examples and users' scripts; moving to urfave/cli/v3, which
// parses flags after arguments, would remove the pre-pass.
//
// Main is not safe for concurrent use: urfave/cli/v2 keeps its help and
// version flags in package variables that every run mutates.
package cli
