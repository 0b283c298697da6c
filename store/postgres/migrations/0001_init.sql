-- Logical layout shared with store/sqlite. Times are Unix nanoseconds (BIGINT) and
-- values float8, so both round-trip bit for bit into the canonical leaf bytes. Names
-- use the "C" collation so ordering is byte order, as Go's sort.Strings.

-- log_state is the single row every indexed Commit locks FOR UPDATE: it serialises
-- writers across processes and holds the tree size.
CREATE TABLE log_state (
	id   BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
	size BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (TRUE, 0);

CREATE TABLE points (
	name TEXT COLLATE "C" PRIMARY KEY
);

CREATE TABLE batches (
	idx      BIGINT PRIMARY KEY,
	source   TEXT NOT NULL,
	received BIGINT NOT NULL,
	leaf     BYTEA NOT NULL,
	readings INT NOT NULL
);

-- batch is -1 for readings stored on the raw path (no leaf); seq is the position in
-- the batch, so BatchReadings gives the batch order back.
CREATE TABLE readings (
	point   TEXT COLLATE "C" NOT NULL,
	ts      BIGINT NOT NULL,
	value   DOUBLE PRECISION NOT NULL,
	unit    TEXT NOT NULL,
	quality SMALLINT NOT NULL,
	batch   BIGINT NOT NULL,
	seq     INT NOT NULL,
	PRIMARY KEY (point, ts)
);
CREATE INDEX readings_batch ON readings (batch, seq);

-- Not unique on (batch, seq): every raw-path commit uses batch -1.
CREATE TABLE events (
	batch  BIGINT NOT NULL,
	seq    INT NOT NULL,
	kind   TEXT NOT NULL,
	source TEXT NOT NULL,
	ts     BIGINT NOT NULL,
	attrs  JSONB NOT NULL
);
CREATE INDEX events_batch ON events (batch, seq);

CREATE TABLE hashes (
	idx  BIGINT PRIMARY KEY,
	hash BYTEA NOT NULL
);

CREATE TABLE checkpoints (
	size BIGINT PRIMARY KEY,
	note BYTEA NOT NULL
);

CREATE TABLE quarantine (
	id       BIGSERIAL PRIMARY KEY,
	source   TEXT NOT NULL,
	received BIGINT NOT NULL,
	raw      TEXT NOT NULL,
	reason   TEXT NOT NULL,
	status   TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'dismissed'))
);
CREATE INDEX quarantine_status ON quarantine (status, id);

CREATE TABLE keys (
	name    TEXT COLLATE "C" PRIMARY KEY,
	skey    TEXT NOT NULL,
	vkey    TEXT NOT NULL,
	created BIGINT NOT NULL
);
