-- Schema version 4: where an incoming connection request came from (so
-- that one address cannot fill the queue), and a record per author of the
-- entries refused over the author's storage quota (`kith status`).
ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX requests_source ON requests (source) WHERE outgoing = 0;

-- quota_refusals: one row per author whose entries were refused because
-- the author's log reached its quota (entries or bytes).
CREATE TABLE quota_refusals (
	author   BLOB PRIMARY KEY,
	from_seq INTEGER NOT NULL,        -- the first seq refused
	to_seq   INTEGER NOT NULL,        -- the last seq refused
	bytes    INTEGER NOT NULL,        -- encoded bytes of the entries refused, each counted once
	first    INTEGER NOT NULL,        -- Unix ms of the first refusal
	last     INTEGER NOT NULL,        -- Unix ms of the latest
	reason   TEXT NOT NULL            -- the latest refusal's reason
) WITHOUT ROWID;
