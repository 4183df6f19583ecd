package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The statements the store runs most (a transaction's inserts, a lookup
// of one record or of a few UIDs) are prepared once, when the store opens
// (database/sql then prepares each again on each pooled connection it
// runs on, once, and keeps it there). Parsing them on every call was a
// sixth of the CPU time of a CardDAV PUT. They are prepared eagerly, not
// on first use: preparing on the database needs a free connection, which
// a transaction that wants the statement may be holding (a bulk load has
// one).

// recordQuery selects one record by identity, kind and key.
const recordQuery = "SELECT key, time, author, seq, cid, body FROM records WHERE identity = ? AND kind = ? AND key = ?"

// maxIDQuery is a transaction's first record id.
const maxIDQuery = "SELECT coalesce(max(id), 0) FROM records"

// uidLookupQuery selects the live contact records that one of n UIDs
// names (see Store.ContactsByUID).
func uidLookupQuery(n int) string {
	return `SELECT u.uid, r.key, r.time, r.author, r.seq, r.cid, r.body
			FROM contact_uids u JOIN records r ON r.id = u.record
			WHERE u.identity = ? AND r.kind = ? AND r.del = 0 AND u.uid IN (?` + strings.Repeat(",?", n-1) + `)
			ORDER BY r.key DESC`
}

// keptUIDLookup is the most UIDs a lookup has for its statement to be
// kept: one statement per count.
const keptUIDLookup = 4

// keptQueries are the statements prepared when the store opens.
func keptQueries() []string {
	qs := []string{recordQuery, maxIDQuery}
	for _, q := range txQueries {
		qs = append(qs, q.q)
	}
	for n := 1; n <= keptUIDLookup; n++ {
		qs = append(qs, uidLookupQuery(n))
	}
	return qs
}

// prepareKept prepares the kept statements, if current (the schema is
// this code's).
func (s *Store) prepareKept(ctx context.Context, current bool) error {
	s.stmts = map[string]*sql.Stmt{}
	if !current {
		return nil
	}
	for _, q := range keptQueries() {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			s.closeStmts()
			s.stmts = nil
			return fmt.Errorf("preparing %q: %w", q, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// closeStmts closes the kept statements (before the database closes). The
// map stays: a call racing Close reads it, and gets "statement is closed".
func (s *Store) closeStmts() {
	for _, st := range s.stmts {
		st.Close()
	}
}

// queryRow runs q, through its kept statement when there is one.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st, ok := s.stmts[q]; ok {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}

// query runs q, through its kept statement when there is one.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st, ok := s.stmts[q]; ok {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

// txStmt returns q prepared for tx: its kept statement when s has one
// (s may be nil), else a statement of tx's own. Either closes with tx.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if s != nil {
		if st, ok := s.stmts[q]; ok {
			return tx.StmtContext(ctx, st), nil
		}
	}
	st, err := tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("preparing %q: %w", q, err)
	}
	return st, nil
}
