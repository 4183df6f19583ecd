// Package cli is the kith command line: one urfave/cli/v2 app whose
// commands talk to the daemon through [api.Client] (only `kith init` and
// `kith daemon` use package node directly).
//
// [Main] runs the app and returns the process exit code; it never calls
// os.Exit. Every command is a small options struct plus a
// runX(ctx, env, opts, args) function: the urfave Action copies the parsed
// flags into the struct and calls runX, which reads stdin and writes stdout
// and stderr only through its *env. Errors are mapped to exit codes in one
// place, exitCodes in exit.go, which the root --help also prints.
//
// Conventions: data goes to stdout, everything else (logs, progress bars,
// warnings) to stderr; read commands take --json and print indented JSON of
// the node/api types; human output is aligned with text/tabwriter. Flags may
// come before or after a command's arguments.
//
// Main is not safe for concurrent use: urfave/cli/v2 keeps its help and
// version flags in package variables that every run mutates.
package cli
