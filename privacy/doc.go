// Package privacy owns differential privacy for the investor-facing
// aggregates of household-level data: exact integer noise, per-household
// contribution bounds, releases that carry their privacy parameters, and the
// budget ledger that refuses a release the scope cannot afford.
//
// # Mechanisms
//
// Noise is integer-valued and sampled exactly, following Canonne, Kamath &
// Steinke, "The Discrete Gaussian for Differential Privacy", NeurIPS 2020
// (arXiv:2004.00010):
//
//   - [BernoulliExp] is their Algorithm 1: Bernoulli(exp(−γ)) for rational γ
//     using only uniform integers and comparisons.
//   - [DiscreteLaplace] is Algorithm 2: P[x] ∝ exp(−|x|/b) for rational scale
//     b = t/s, from a geometric variable built of Bernoulli(exp(−·)) draws.
//   - [DiscreteGaussian] is Algorithm 3: P[x] ∝ exp(−x²/(2σ²)) for rational σ²,
//     by rejection from the discrete Laplace with scale ⌊σ⌋+1.
//
// No floating-point number enters a sample, so the low-order-bit attack on
// floating-point Laplace noise (Mironov, CCS 2012) does not apply. Sampling
// time does depend on the output, as the paper notes, so callers must not let
// the recipients of a figure observe how long its release took. Randomness
// comes from crypto/rand ([CryptoSource]) unless a [Source] is injected, which
// only tests should do.
//
// # Calibration
//
// [Laplace] gives pure ε-DP with scale Δ/ε for L1 sensitivity Δ; ε is rounded
// down to a multiple of 10⁻⁶ so the scale is a small exact rational.
// [Gaussian] gives (ε, δ)-DP through zCDP: discrete Gaussian noise is
// ρ-zCDP with ρ = Δ²/(2σ²) (Canonne et al., Theorem 4), and ρ-zCDP implies
// (ρ + 2√(ρ ln(1/δ)), δ)-DP (Bun & Steinke, TCC 2016, Proposition 1.3); σ² is
// the smallest multiple of 10⁻⁶ above the solution, after a safety margin for
// floating-point error. The conversion is conservative: in the settings the
// tests check, the exact privacy curve of the calibrated noise meets δ with
// more than two orders of magnitude to spare, and σ is within a few percent
// of the classical
// Δ√(2 ln(1.25/δ))/ε, which is proved only for the continuous Gaussian and
// ε < 1. Each [Result] reports ε, δ, the exact scale and, for the Gaussian, ρ,
// so a disclosure states exactly what was done.
//
// Neighbouring datasets differ by adding or removing one household. Each
// household contributes one value, clamped to [lo, hi] in integer units
// ([Clamp]), so a sum has sensitivity max(|lo|, |hi|) and a count 1. A mean
// is a noisy sum over a noisy count, each at half the budget.
//
// # Accounting
//
// A [Ledger] holds a scope's total (ε, δ) and charges releases under basic
// sequential composition, Σεᵢ and Σδᵢ (Dwork & Roth, "The Algorithmic
// Foundations of Differential Privacy", 2014, Theorem 3.16); it refuses, and
// records nothing, when either sum would exceed the total. Parameters are
// summed exactly as the decimals their float64 values print as, so ten
// releases at ε = 0.1 exactly exhaust a budget of 1. Entries persist through
// a [Store]: [MemoryStore], or [FileStore], an append-only JSON Lines file
// replaced atomically on each append.
//
// The typical flow charges first and releases second:
//
//	m, err := privacy.NewLaplace(0.5)
//	...
//	if err := ledger.Spend("2025Q3 mean consumption", m.Epsilon(), m.Delta()); err != nil {
//		return err // errors.Is(err, privacy.ErrBudgetExceeded)
//	}
//	r, err := privacy.Release(kWh, privacy.Query{Aggregate: privacy.Mean, Lo: 0, Hi: 50, Unit: 0.001}, m, nil)
package privacy
