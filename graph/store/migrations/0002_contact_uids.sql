-- Schema version 2, exactly as kith created it before migrations were
-- numbered files: contact_uids, and dropped_by (added on another branch
-- without a version bump; 0003 creates it where it is missing). The Go
-- step of this migration fills contact_uids from the records (see
-- migrations in migrate.go).
-- contact_uids finds a live local contact by its vCard UID
-- (graph/book.ContactUIDs), so that an import updates the contact a card
-- names instead of adding a second. Written with the record it indexes.
CREATE TABLE IF NOT EXISTS contact_uids (
	identity BLOB NOT NULL,
	uid      TEXT NOT NULL,
	record   INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
	PRIMARY KEY (identity, uid, record)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contact_uids_record ON contact_uids (record);
CREATE TABLE IF NOT EXISTS dropped_by (
	peer     BLOB PRIMARY KEY,        -- a connection that disconnected me: not synced with
	time     INTEGER NOT NULL
);
