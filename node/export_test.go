package node

import "time"

// Shorten timers for tests.
func init() {
	reconnectTick = 100 * time.Millisecond
	backoffMin = 100 * time.Millisecond
	backoffMax = time.Second
	syncIdleTimeout = 3 * time.Second
	connectTimeout = 5 * time.Second
}

// SetInboundRate lets hostile-peer tests lower the flood limit.
func SetInboundRate(r float64, burst int) (restore func()) {
	oldR, oldB := inboundRate, inboundBurst
	inboundRate, inboundBurst = r, burst
	return func() { inboundRate, inboundBurst = oldR, oldB }
}
