// Command kith is a peer-to-peer address book. See `kith --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/kith-p2p/kith/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second Ctrl-C kills at once
	code := cli.Main(ctx, os.Args, cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
