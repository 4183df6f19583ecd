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

// RepairReport is what a repair of the daemon's store kept and lost (see
// [API.Repair]).
type RepairReport struct {
	Entries int      `json:"entries"` // entries kept: they read and verify, and link up in their log
	Logs    int      `json:"logs"`    // logs kept
	Lost    int      `json:"lost"`    // entries read but not kept; rows that did not read are in Problems
	Tables  []string `json:"tables"`  // local tables copied (requests, invites, peers, ...)
	// Problems says what was lost and why, one line each.
	Problems []string `json:"problems,omitempty"`
	// DamagedStore is where the damaged database file was moved.
	DamagedStore string `json:"damaged_store"`
}
