// Package ledger owns lifang's tamper-evident log of accepted data: every accepted
// batch's canonical bytes (reading.Batch.Canonical) are one leaf of an append-only
// Merkle log, and the log publishes signed checkpoints, inclusion and consistency
// proofs, and a read-only tile API from which anyone can verify it offline.
//
// # References
//
//   - Hashing and proofs: RFC 6962 §2.1 / RFC 9162 §2.1. Leaf hash SHA-256(0x00‖leaf),
//     node hash SHA-256(0x01‖left‖right), empty tree SHA-256(""). The stored-hash
//     layout (two hashes per leaf on average) is golang.org/x/mod/sumdb/tlog's.
//     VerifyInclusion and VerifyConsistency implement RFC 9162 §2.1.3.2 and §2.1.4.2
//     directly and are checked against the transparency-dev/merkle vectors.
//   - Checkpoints: C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint), a C2SP
//     signed note (https://c2sp.org/signed-note) with Ed25519 signatures.
//   - Tiles: C2SP tlog-tiles (https://c2sp.org/tlog-tiles), served by TilesHandler.
//
// # Append protocol
//
// Prepare (or PrepareMany) computes a leaf's index and the stored hashes it adds
// without changing the Log; the caller persists leaf and hashes in one transaction
// (store.Commit) and only then calls Advance. If persisting fails nothing changes, so
// the log in memory never runs ahead of the store. The Log caches every stored hash
// it reads or adds (64 bytes per leaf), so appends, roots and proofs read the store
// only for hashes older than the Log's opening that have not been read yet.
//
// # Consistency guarantee
//
// A log must never sign two inconsistent checkpoints. Sign checks the tree it is
// about to sign against the last checkpoint it signed or was given (New's lastNote):
// it builds a consistency proof from its own stored hashes and verifies it with
// VerifyConsistency against the roots in the two checkpoints. A store whose old hashes
// were altered, truncated or replaced therefore yields ErrInconsistent instead of a
// second, conflicting signed checkpoint.
//
// # Key rotation
//
// A log has one signing key at a time and any number of verification keys. To rotate:
//
//  1. Generate the new key with GenerateKey (same name, normally the origin: the key
//     hash differs, so both keys can be listed side by side) and store it.
//  2. Publish the new vkey to verifiers and witnesses next to the old one; verifiers
//     build their note.Verifiers from both (note.VerifierList(old, new)).
//  3. Open the Log with the new signer, the last checkpoint (signed by the old key)
//     as lastNote, and Verifiers holding both keys, so ParseCheckpoint accepts the old
//     checkpoint and Sign still enforces consistency across the rotation.
//  4. Sign a checkpoint with the new key. Checkpoints signed by either key parse.
//  5. Keep the old vkey for as long as old checkpoints must verify (for a disclosure
//     pack: forever); stop trusting it for new checkpoints only if it was compromised,
//     in which case checkpoints signed with it after the compromise date are suspect.
//
// Verifiers given to ParseCheckpoint must hold only the log's own keys: a signature
// by any of them makes the checkpoint the log's. Signatures by other keys (witness
// cosignatures) are ignored.
//
// # Concurrency
//
// A Log is safe for concurrent use: one mutex guards its size, cache and last
// checkpoint. Store reads made on a cache miss happen under that mutex. Two writers
// that Prepare the same index race in the store (store.ErrConflict for the loser);
// Advance with a stale index returns ErrNotNext.
package ledger
