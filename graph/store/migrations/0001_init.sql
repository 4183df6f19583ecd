-- Schema version 1, exactly as kith created it before migrations were
-- numbered files (graph/store/schema.go at the last commit with
-- schemaVersion = 1). Never edit a migration that has been released: add
-- the next one.
CREATE TABLE IF NOT EXISTS entries (
	cid      BLOB NOT NULL,           -- the entry's CID; (author, seq) is the key
	author   BLOB NOT NULL,           -- signer (a device, one day)
	identity BLOB NOT NULL,           -- whose graph
	seq      INTEGER NOT NULL,
	time     INTEGER NOT NULL,
	kind     TEXT,                    -- NULL when the body is not readable here
	key      TEXT,
	raw      BLOB NOT NULL,
	UNIQUE (author, seq)
);
CREATE TABLE IF NOT EXISTS heads (
	author   BLOB PRIMARY KEY,
	identity BLOB NOT NULL,
	seq      INTEGER NOT NULL,
	cid      BLOB NOT NULL,
	time     INTEGER NOT NULL
);
-- records holds the fold: the newest version of each (identity, kind, key).
CREATE TABLE IF NOT EXISTS records (
	id       INTEGER PRIMARY KEY,
	identity BLOB NOT NULL,
	kind     TEXT NOT NULL,
	key      TEXT NOT NULL,
	time     INTEGER NOT NULL,
	author   BLOB NOT NULL,
	seq      INTEGER NOT NULL,
	cid      BLOB NOT NULL,
	del      INTEGER NOT NULL,
	body     BLOB NOT NULL,           -- DAG-CBOR graph.Body
	UNIQUE (identity, kind, key)
);
-- forks keeps evidence: a second entry with an author and seq already held.
CREATE TABLE IF NOT EXISTS forks (
	author   BLOB NOT NULL,
	seq      INTEGER NOT NULL,
	cid      BLOB NOT NULL,
	raw      BLOB NOT NULL,
	PRIMARY KEY (author, seq, cid)
);
-- cards_fts indexes live contact and card records; rowid = records.id.
CREATE VIRTUAL TABLE IF NOT EXISTS cards_fts USING fts5(
	name, emails, phones, orgs, notes,
	tokenize = 'unicode61 remove_diacritics 2',
	detail = none,            -- no phrase queries: a smaller, faster index
	content = '',             -- index only; the text lives in records
	contentless_delete = 1    -- but rows can still be deleted by rowid
);

-- Local state that is not part of any log: pending connection requests,
-- invites, and what this node knows of its peers.
CREATE TABLE IF NOT EXISTS requests (
	peer     BLOB PRIMARY KEY,
	outgoing INTEGER NOT NULL,        -- 1: I asked them; 0: they asked me
	note     TEXT NOT NULL,
	circles  TEXT NOT NULL,           -- comma-separated, for outgoing requests
	time     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS declined (
	peer     BLOB PRIMARY KEY,        -- a request from them is answered "declined"
	time     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invites (
	secret   BLOB PRIMARY KEY,
	expires  INTEGER NOT NULL,
	circles  TEXT NOT NULL,
	used     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (
	key      TEXT PRIMARY KEY,        -- reader_version: see Store.Reread
	value    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS peers (
	peer      BLOB PRIMARY KEY,
	addrs     TEXT NOT NULL,          -- newline-separated multiaddrs
	last_sync INTEGER NOT NULL DEFAULT 0
);
