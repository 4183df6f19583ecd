package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// watchdog resets str when ctx ends or when idle passes without a call to
// touch. It backs up stream deadlines, which not every transport honours
// (mocknet ignores them), so that a stalled peer can never pin a goroutine.
// stop must be called when the stream is done.
func watchdog(ctx context.Context, str network.Stream, idle time.Duration) (touch func(), stop func()) {
	t := time.AfterFunc(idle, func() { str.Reset() })
	unhook := context.AfterFunc(ctx, func() { str.Reset() })
	touch = func() {
		t.Reset(idle)
		str.SetDeadline(time.Now().Add(idle))
	}
	stop = func() {
		t.Stop()
		unhook()
	}
	touch()
	return touch, stop
}
