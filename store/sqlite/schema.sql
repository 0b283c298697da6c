-- lifang embedded store. Times are Unix nanoseconds; values IEEE doubles.
PRAGMA journal_mode = WAL;
PRAGMA user_version = 1; -- schemaVersion in sqlite.go
-- Points get small integer ids so the reading keys stay short.
CREATE TABLE IF NOT EXISTS points (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
-- A reading's id is batch << 24 | seq: rows of one batch are contiguous in the table
-- (appends on ingest, one range scan on verify). Readings stored without the ledger
-- (benchmarks) get negative batches.
CREATE TABLE IF NOT EXISTS readings (
    id       INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL, -- points.id (not a foreign key: a per-row check costs a third of the insert)
    ts       INTEGER NOT NULL,
    value    REAL    NOT NULL,
    unit     TEXT    NOT NULL,
    quality  INTEGER NOT NULL,
    batch    INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS readings_point_ts ON readings(point_id, ts);
CREATE TABLE IF NOT EXISTS events (
    batch  INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    source TEXT    NOT NULL,
    ts     INTEGER NOT NULL,
    attrs  TEXT    NOT NULL,
    PRIMARY KEY (batch, seq)
);
CREATE TABLE IF NOT EXISTS batches (
    idx      INTEGER PRIMARY KEY,
    source   TEXT    NOT NULL,
    received INTEGER NOT NULL,
    leaf     BLOB    NOT NULL,
    readings INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS log_state (size INTEGER NOT NULL, raw_batches INTEGER NOT NULL);
INSERT INTO log_state(size, raw_batches) SELECT 0, 0 WHERE NOT EXISTS (SELECT 1 FROM log_state);
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    source   TEXT    NOT NULL,
    received INTEGER NOT NULL,
    raw      TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    status   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    name    TEXT    NOT NULL,
    skey    TEXT    NOT NULL,
    vkey    TEXT    NOT NULL,
    created INTEGER NOT NULL
);
