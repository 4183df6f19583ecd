-- Schema version 3: the lists of node-local state get a row per item
-- instead of one joined text column, and the tables that builds between
-- releases added without a version bump are created where they are
-- missing.

CREATE TABLE IF NOT EXISTS declined (
	peer     BLOB PRIMARY KEY,        -- a request from them is answered "declined"
	time     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dropped_by (
	peer     BLOB PRIMARY KEY,        -- a connection that disconnected me: not synced with
	time     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
	key      TEXT PRIMARY KEY,        -- reader_version: see Store.Reread
	value    INTEGER NOT NULL
);

-- The circles an outgoing request puts the peer in once accepted, in order
-- (requests.circles held them comma-separated).
CREATE TABLE request_circles (
	peer     BLOB NOT NULL REFERENCES requests (peer) ON DELETE CASCADE,
	pos      INTEGER NOT NULL,
	circle   TEXT NOT NULL,
	PRIMARY KEY (peer, pos)
) WITHOUT ROWID;
WITH RECURSIVE split (peer, pos, item, rest) AS (
	SELECT peer, -1, NULL, circles || ',' FROM requests WHERE circles <> ''
	UNION ALL
	SELECT peer, pos + 1, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
	FROM split WHERE rest <> ''
)
INSERT INTO request_circles (peer, pos, circle) SELECT peer, pos, item FROM split WHERE pos >= 0;
ALTER TABLE requests DROP COLUMN circles;

-- The circles an invite puts its user in, in order (invites.circles held
-- them comma-separated).
CREATE TABLE invite_circles (
	secret   BLOB NOT NULL REFERENCES invites (secret) ON DELETE CASCADE,
	pos      INTEGER NOT NULL,
	circle   TEXT NOT NULL,
	PRIMARY KEY (secret, pos)
) WITHOUT ROWID;
WITH RECURSIVE split (secret, pos, item, rest) AS (
	SELECT secret, -1, NULL, circles || ',' FROM invites WHERE circles <> ''
	UNION ALL
	SELECT secret, pos + 1, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
	FROM split WHERE rest <> ''
)
INSERT INTO invite_circles (secret, pos, circle) SELECT secret, pos, item FROM split WHERE pos >= 0;
ALTER TABLE invites DROP COLUMN circles;

-- A peer's multiaddrs as last learned, in order (peers.addrs held them
-- newline-separated).
CREATE TABLE peer_addrs (
	peer     BLOB NOT NULL REFERENCES peers (peer) ON DELETE CASCADE,
	pos      INTEGER NOT NULL,
	addr     TEXT NOT NULL,
	PRIMARY KEY (peer, pos)
) WITHOUT ROWID;
WITH RECURSIVE split (peer, pos, item, rest) AS (
	SELECT peer, -1, NULL, addrs || char(10) FROM peers WHERE addrs <> ''
	UNION ALL
	SELECT peer, pos + 1, substr(rest, 1, instr(rest, char(10)) - 1), substr(rest, instr(rest, char(10)) + 1)
	FROM split WHERE rest <> ''
)
INSERT INTO peer_addrs (peer, pos, addr) SELECT peer, pos, item FROM split WHERE pos >= 0;
ALTER TABLE peers DROP COLUMN addrs;
