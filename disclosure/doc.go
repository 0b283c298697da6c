// Package disclosure owns the verifiable disclosure pack (issue 8 §5): a
// directory holding a bilingual report (report.html, and report.pdf where a
// headless Chromium can print it), the figures it shows as data (pack.json)
// and what is needed to check them — the signed export of the metered data
// (data/, written by audit.WriteExport), the privacy budget ledger
// (privacy-ledger.jsonl) and, for model figures, the unit file (unit.yaml).
//
// [Build] writes a pack; [Verify] re-derives every figure from the pack's own
// inputs and names any figure, file or parameter that does not check out.
//
// # Figures
//
// Each figure carries its value as an exact decimal, a unit, a one-line
// derivation and its provenance: the signed checkpoint (origin, tree size,
// root) of the readings it derives from, the points and the period, or for a
// model figure the model version, the unit file's SHA-256, the seed and the
// policies. Three kinds:
//
//   - Metered, per point: the number of readings, and either the consumption
//     over the period (cumulative registers: kWh, Wh, MWh, m3, L — the sum of
//     register advances between consecutive readings of one meter, a wrap at a
//     power of ten counted as the ingest pipeline accepts it, a meter_replaced
//     event starting a new register) or the plain sum of the readings (every
//     other unit). Arithmetic is exact over the decimals the values print as
//     (reading.FormatValue), so a re-derivation compares string for string.
//     Readings are those under the leaves the checkpoint signs, nothing else.
//   - Private: the total consumption of household-level points (see
//     [HouseholdRule]) released with package privacy's discrete Laplace or
//     Gaussian mechanism, each household's total clamped to [0, hi] kWh and
//     the cost charged to a budget ledger first. Household points are not
//     published individually: that would void the guarantee. A noisy value
//     cannot be re-derived; [Verify] recomputes the exact clamped sum from the
//     export and checks the released value lies within the mechanism's
//     1 − 10⁻⁹ tail bound of it, and that the recorded parameters agree
//     (sensitivity = max(|lo|, |hi|), scale = Δ/ε or the zCDP σ², the ledger
//     entry, the budget).
//   - Model: NOI of business_as_usual and rule_based, the C-REIT distribution
//     rate and CFaR95 from a deterministic simulation of the unit file with a
//     seed (the MPC is not run, to keep verification fast). [Verify] re-runs
//     it and compares exactly; floating point makes this exact on the same
//     GOARCH, which the provenance records.
//
// # Trust
//
// The trust anchor is the signed checkpoint in data/: every metered and
// private figure is re-derived from readings whose leaves hash to its root.
// pack.json itself is not signed; it lists the SHA-256 of every other file so
// a changed file is named, and report.html must equal the rendering of
// pack.json's figures. data/ holds raw readings, household ones included: it
// is for the auditor, and is not to be published with the report.
package disclosure
