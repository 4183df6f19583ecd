package store

import (
	"context"
	"time"
)

// Checkpoints copy the write-ahead log back into the database file. SQLite
// runs one inside a commit once the log passes wal_autocheckpoint pages;
// with synchronous=FULL that costs the committing writer two fsyncs and a
// copy, about a quarter of a 10,000-card import. So the store runs them
// itself, once writes pause, and keeps SQLite's own only as a bound on the
// log's size during a long burst.
const (
	// autoCheckpointPages bounds the log during a burst of writes: 8,192
	// pages of 4 KiB, 32 MiB.
	autoCheckpointPages = 8192
	// walSizeLimit is what the log file is cut back to after a checkpoint.
	walSizeLimit = 4 << 20
)

// checkpointIdle is how long writes must pause before a checkpoint.
var checkpointIdle = time.Second

// startCheckpointer starts the goroutine that checkpoints after writes
// pause; Close stops it.
func (s *Store) startCheckpointer() {
	s.wrote = make(chan struct{}, 1)
	s.stopped = make(chan struct{})
	var ctx context.Context
	ctx, s.stop = context.WithCancel(context.Background())
	go s.checkpointer(ctx)
}

// noteWrite tells the checkpointer that a transaction committed.
func (s *Store) noteWrite() {
	select {
	case s.wrote <- struct{}{}:
	default:
	}
}

func (s *Store) checkpointer(ctx context.Context) {
	defer close(s.stopped)
	idle := time.NewTimer(checkpointIdle)
	idle.Stop()
	for {
		select {
		case <-ctx.Done():
			idle.Stop()
			return
		case <-s.wrote:
			idle.Reset(checkpointIdle) // one more write: wait again
		case <-idle.C:
			// PASSIVE never waits for readers or writers: it copies what it
			// can, and the next one copies the rest. An error here (a busy
			// database) is harmless for the same reason, and so is Close
			// cancelling one half way.
			s.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}
