package privacy

import "errors"

// Sentinel errors callers branch on (an HTTP layer maps ErrInvalidParameter to
// 400, ErrBudgetExceeded to 409 and ErrCorruptLedger to 500).
var (
	// ErrInvalidParameter wraps every rejected ε, δ, bound, unit, scale or name.
	ErrInvalidParameter = errors.New("privacy: invalid parameter")
	// ErrBudgetExceeded is returned by [Ledger.Spend] when a release would take
	// the scope past its total (ε, δ); nothing is recorded.
	ErrBudgetExceeded = errors.New("privacy: budget exceeded")
	// ErrCorruptLedger is returned when a persisted ledger cannot be read back
	// or does not belong to the ledger's scope; the message names file and line.
	ErrCorruptLedger = errors.New("privacy: corrupt ledger")
)
