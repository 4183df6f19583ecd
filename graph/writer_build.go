package graph

// Build seals and signs drafts as consecutive entries of the local log
// after head, without storing them or moving the writer: for a caller
// that stores them in one transaction with other entries of the log (a
// rebase takes a friend's history back and appends my records again on
// top, all or nothing: see node's logWriter.Rebase), then tells the writer
// the new head with Adopt(ctx, nil).
func (w *Writer) Build(head Head, drafts ...Draft) ([]*Entry, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed != nil {
		return nil, w.closed
	}
	out := make([]*Entry, 0, len(drafts))
	for i := range drafts {
		e, err := w.buildLocked(&drafts[i], head)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		head = Head{Seq: e.Seq, CID: e.CID, Time: e.Time}
	}
	return out, nil
}
