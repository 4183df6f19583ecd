package node

// WithFreeBusyRate sets the free/busy requests a peer may make (tests only).
func WithFreeBusyRate(perMinute float64, burst int) Option {
	return func(c *config) error {
		c.tuning.freebusy.PerMinute, c.tuning.freebusy.Burst = perMinute, burst
		return nil
	}
}
