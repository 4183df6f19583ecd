package node

import "time"

// SetWriteHold sets how long writes wait after start to learn my head.
func SetWriteHold(t *Tuning, d time.Duration) { t.writeHold = d }
