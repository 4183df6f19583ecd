package api

// CheckReport is what a check of the daemon's store found (see
// [API.Check]): counts of what was verified and the problems, if any.
type CheckReport struct {
	Entries  int      `json:"entries"` // entries re-verified, all logs
	Logs     int      `json:"logs"`    // log heads checked
	Records  int      `json:"records"` // folded records compared with the logs
	Indexed  int      `json:"indexed"` // rows of the search index
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether no problem was found.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }
