package privacy

import (
	"fmt"
	"math/big"
	"slices"
	"sync"
	"time"
)

// Budget is an (ε, δ) privacy budget.
type Budget struct {
	Epsilon float64 `json:"epsilon"`
	Delta   float64 `json:"delta"`
}

// Entry is one recorded release.
type Entry struct {
	Scope   string    `json:"scope"`
	Name    string    `json:"name"`
	Epsilon float64   `json:"epsilon"`
	Delta   float64   `json:"delta"`
	Time    time.Time `json:"time"`
}

func (e Entry) validate() error {
	if e.Scope == "" {
		return fmt.Errorf("%w: entry scope is empty", ErrInvalidParameter)
	}
	if e.Name == "" {
		return fmt.Errorf("%w: release name is empty", ErrInvalidParameter)
	}
	if err := checkEpsilon("epsilon", e.Epsilon); err != nil {
		return err
	}
	if err := checkDelta("delta", e.Delta, true); err != nil {
		return err
	}
	if e.Time.IsZero() {
		return fmt.Errorf("%w: entry time is zero", ErrInvalidParameter)
	}
	return nil
}

// Store persists a ledger's entries.
type Store interface {
	// Load returns every entry in the order appended.
	Load() ([]Entry, error)
	// Append durably records e, or returns an error having recorded nothing.
	Append(e Entry) error
}

// Ledger tracks the privacy budget spent on one scope (a dataset, or a family
// of releases over it) under basic sequential composition: k releases that are
// (εᵢ, δᵢ)-DP are together (Σεᵢ, Σδᵢ)-DP (Dwork & Roth 2014, Theorem 3.16).
// Sums are exact over the decimal values of the parameters. It is safe for
// concurrent use; one process should own a persisted scope at a time.
type Ledger struct {
	mu    sync.Mutex
	scope string
	store Store
	now   func() time.Time

	totalEps, totalDelta *big.Rat
	spentEps, spentDelta *big.Rat
	total                Budget
	entries              []Entry
}

// NewLedger returns the ledger for scope with the given total budget
// (ε > 0, 0 ≤ δ < 1), replaying the entries already in store. A nil store
// keeps entries in memory; a nil now means time.Now.
func NewLedger(scope string, total Budget, store Store, now func() time.Time) (*Ledger, error) {
	if scope == "" {
		return nil, fmt.Errorf("%w: ledger scope is empty", ErrInvalidParameter)
	}
	if err := checkEpsilon("total epsilon", total.Epsilon); err != nil {
		return nil, err
	}
	if err := checkDelta("total delta", total.Delta, true); err != nil {
		return nil, err
	}
	if store == nil {
		store = &MemoryStore{}
	}
	if now == nil {
		now = time.Now
	}
	l := &Ledger{
		scope: scope, store: store, now: now, total: total,
		totalEps: decimal(total.Epsilon), totalDelta: decimal(total.Delta),
		spentEps: new(big.Rat), spentDelta: new(big.Rat),
	}
	entries, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("privacy: load ledger %q: %w", scope, err)
	}
	for i, e := range entries {
		if e.Scope != scope {
			return nil, fmt.Errorf("%w: ledger %q: entry %d (%q) belongs to scope %q", ErrCorruptLedger, scope, i+1, e.Name, e.Scope)
		}
		if err := e.validate(); err != nil {
			return nil, fmt.Errorf("%w: ledger %q: entry %d (%q): %w", ErrCorruptLedger, scope, i+1, e.Name, err)
		}
		l.spentEps.Add(l.spentEps, decimal(e.Epsilon))
		l.spentDelta.Add(l.spentDelta, decimal(e.Delta))
	}
	l.entries = entries
	return l, nil
}

// Scope returns the ledger's scope.
func (l *Ledger) Scope() string { return l.scope }

// Spend records a release called name costing (epsilon, delta), or refuses it
// with [ErrBudgetExceeded] if the scope's spent budget plus this release would
// exceed the total in ε or in δ. On any error nothing is recorded. Spend
// before releasing, with the mechanism's Epsilon() and Delta().
func (l *Ledger) Spend(name string, epsilon, delta float64) error {
	if name == "" {
		return fmt.Errorf("%w: release name is empty", ErrInvalidParameter)
	}
	if err := checkEpsilon("epsilon", epsilon); err != nil {
		return err
	}
	if err := checkDelta("delta", delta, true); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	eps := new(big.Rat).Add(l.spentEps, decimal(epsilon))
	del := new(big.Rat).Add(l.spentDelta, decimal(delta))
	if eps.Cmp(l.totalEps) > 0 || del.Cmp(l.totalDelta) > 0 {
		rem := l.remaining()
		return fmt.Errorf("%w: scope %q: release %q needs (ε %v, δ %v), %v remain of (ε %v, δ %v)",
			ErrBudgetExceeded, l.scope, name, epsilon, delta, budgetString(rem), l.total.Epsilon, l.total.Delta)
	}
	e := Entry{Scope: l.scope, Name: name, Epsilon: epsilon, Delta: delta, Time: l.now()}
	if err := e.validate(); err != nil { // a zero clock reading
		return err
	}
	if err := l.store.Append(e); err != nil {
		return fmt.Errorf("privacy: record release %q in scope %q: %w", name, l.scope, err)
	}
	l.spentEps, l.spentDelta = eps, del
	l.entries = append(l.entries, e)
	return nil
}

// Total returns the scope's total budget.
func (l *Ledger) Total() Budget { return l.total }

// Spent returns the budget spent so far, rounded up.
func (l *Ledger) Spent() Budget {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Budget{Epsilon: floatUp(l.spentEps), Delta: floatUp(l.spentDelta)}
}

// Remaining returns the budget left, rounded down and never negative.
func (l *Ledger) Remaining() Budget {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.remaining()
}

func (l *Ledger) remaining() Budget {
	eps := new(big.Rat).Sub(l.totalEps, l.spentEps)
	del := new(big.Rat).Sub(l.totalDelta, l.spentDelta)
	return Budget{Epsilon: max(floatDown(eps), 0), Delta: max(floatDown(del), 0)}
}

// Entries returns a copy of the recorded releases in order.
func (l *Ledger) Entries() []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func budgetString(b Budget) string { return fmt.Sprintf("(ε %v, δ %v)", b.Epsilon, b.Delta) }
