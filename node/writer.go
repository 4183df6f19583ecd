package node

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/kith-p2p/kith/graph"
	"github.com/kith-p2p/kith/node/api"
)

// logWriter is my log's writer as the book and the API see it: it refuses
// to write while my log is to be restored, and announces every append to
// my online connections (the one place that happens).
type logWriter struct {
	w        *graph.Writer
	announce func()
	// hasLog caches that my log exists; it never goes back.
	hasLog atomic.Bool
}

// CanWrite returns errNoLog while my log is to be restored.
func (l *logWriter) CanWrite() error {
	if l.restoring() {
		return errNoLog
	}
	return nil
}

// Append writes drafts to my log and announces them.
func (l *logWriter) Append(ctx context.Context, drafts ...graph.Draft) ([]*graph.Entry, error) {
	if l.restoring() {
		return nil, errNoLog
	}
	es, err := l.w.Append(ctx, drafts...)
	if err != nil {
		return nil, err
	}
	l.announce()
	return es, nil
}

// restoring reports whether my log is still to be restored: the home
// held the key alone.
func (l *logWriter) restoring() bool {
	if l.hasLog.Load() {
		return false // the common case, without the writer's lock
	}
	if l.w.Head().Seq > 0 {
		l.hasLog.Store(true)
		return false
	}
	return true
}

// errNoLog is the answer to a write while my log is being restored.
var errNoLog = fmt.Errorf("%w: this home holds your identity key but not your log; it comes back from a connection: "+
	"keep the daemon running for one to reach it, or `kith connect` a friend's address or invite code "+
	"(`kith init --new-log` starts a new log instead, which friends holding the old one see as a fork)", api.ErrNoLog)
