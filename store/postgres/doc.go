// Package postgres implements store.Store on PostgreSQL with pgx: the scale-out store
// of lifang's metered data and its ledger, for when one SQLite file is not enough.
//
// It owns the schema (embedded, versioned migrations in migrations/*.sql, applied by
// Open) and keeps the contract of package store: Commit writes a batch's readings,
// events, leaf and the ledger's new hashes in one transaction, serialised across
// processes by a row lock on log_state, so the log and the data never disagree.
// Times are stored as Unix nanoseconds and values as float8, so what BatchReadings
// returns re-encodes to the committed leaf byte for byte (reading.Batch.Canonical).
package postgres
