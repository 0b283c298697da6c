package privacy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock advances one minute per reading.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

func TestLedgerRefusesOverBudget(t *testing.T) {
	store := &MemoryStore{}
	l, err := NewLedger("meters-2025", Budget{Epsilon: 1, Delta: 1e-6}, store, fakeClock())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Spend("q1 sum", 0.6, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Spend("q2 mean", 0.3, 5e-7); err != nil {
		t.Fatal(err)
	}
	before, beforeStored, beforeRem := l.Entries(), must(store.Load()), l.Remaining()

	err = l.Spend("q3 sum", 0.2, 0) // 0.6 + 0.3 + 0.2 > 1
	if !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("over-budget spend: err = %v, want ErrBudgetExceeded", err)
	}
	if !strings.Contains(err.Error(), `release "q3 sum" needs (ε 0.2, δ 0)`) || !strings.Contains(err.Error(), "(ε 0.1, δ 5e-07) remain") {
		t.Errorf("error text: %v", err)
	}
	if err := l.Spend("q3 gauss", 0.05, 6e-7); !errors.Is(err, ErrBudgetExceeded) { // δ over
		t.Fatalf("δ over budget: err = %v", err)
	}
	if !slices.Equal(l.Entries(), before) || !slices.Equal(must(store.Load()), beforeStored) || l.Remaining() != beforeRem {
		t.Fatal("refused spend changed the ledger")
	}
	if got := l.Remaining(); got != (Budget{Epsilon: 0.1, Delta: 5e-7}) {
		t.Errorf("Remaining = %+v", got)
	}
	if got := l.Spent(); got != (Budget{Epsilon: 0.9, Delta: 5e-7}) {
		t.Errorf("Spent = %+v", got)
	}
	// The rest fits exactly.
	if err := l.Spend("q3 small", 0.1, 5e-7); err != nil {
		t.Fatal(err)
	}
	if got := l.Remaining(); got != (Budget{}) {
		t.Errorf("Remaining after exhausting = %+v", got)
	}
	entries := l.Entries()
	if len(entries) != 3 || !entries[0].Time.Equal(time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)) || entries[2].Scope != "meters-2025" {
		t.Errorf("entries %+v", entries)
	}
}

func TestLedgerExactDecimalComposition(t *testing.T) {
	l, _ := NewLedger("s", Budget{Epsilon: 0.3}, nil, nil)
	// In binary floating point 0.1 + 0.2 > 0.3; as decimals it is exactly 0.3.
	if err := l.Spend("a", 0.1, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Spend("b", 0.2, 0); err != nil {
		t.Fatal(err)
	}
	if err := l.Spend("c", 1e-9, 0); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("spend past exact budget: %v", err)
	}

	l, _ = NewLedger("s", Budget{Epsilon: 1}, nil, nil)
	for i := range 10 {
		if err := l.Spend(fmt.Sprint(i), 0.1, 0); err != nil {
			t.Fatalf("spend %d of ten 0.1s: %v", i, err)
		}
	}
	if r := l.Remaining(); r.Epsilon != 0 {
		t.Errorf("remaining after 10×0.1 of 1 = %v", r.Epsilon)
	}

	// A pure-DP budget refuses any δ.
	l, _ = NewLedger("s", Budget{Epsilon: 1}, nil, nil)
	if err := l.Spend("gauss", 0.1, 1e-9); !errors.Is(err, ErrBudgetExceeded) {
		t.Errorf("δ > 0 on a δ = 0 budget: %v", err)
	}
}

func TestLedgerConcurrentSpends(t *testing.T) {
	l, _ := NewLedger("s", Budget{Epsilon: 0.5, Delta: 0}, &MemoryStore{}, fakeClock())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 100 {
		wg.Go(func() {
			err := l.Spend(fmt.Sprintf("r%d", i), 0.01, 0)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrBudgetExceeded):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 50 || refused != 50 || len(l.Entries()) != 50 || l.Remaining().Epsilon != 0 {
		t.Errorf("ok %d refused %d entries %d remaining %v", ok, refused, len(l.Entries()), l.Remaining())
	}
}

type failingStore struct{ MemoryStore }

func (*failingStore) Append(Entry) error { return errors.New("disk full") }

func TestLedgerStoreFailureRecordsNothing(t *testing.T) {
	l, _ := NewLedger("s", Budget{Epsilon: 1}, &failingStore{}, nil)
	if err := l.Spend("a", 0.5, 0); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	if len(l.Entries()) != 0 || l.Remaining().Epsilon != 1 {
		t.Fatal("failed append was recorded")
	}
}

func TestLedgerBadParameters(t *testing.T) {
	nan := math.NaN()
	for _, b := range []Budget{{0, 0}, {-1, 0}, {nan, 0}, {math.Inf(1), 0}, {1, 1}, {1, -0.1}, {1, nan}} {
		if _, err := NewLedger("s", b, nil, nil); !errors.Is(err, ErrInvalidParameter) {
			t.Errorf("NewLedger(%+v) = %v", b, err)
		}
	}
	if _, err := NewLedger("", Budget{Epsilon: 1}, nil, nil); !errors.Is(err, ErrInvalidParameter) {
		t.Errorf("empty scope: %v", err)
	}
	l, _ := NewLedger("s", Budget{Epsilon: 1, Delta: 1e-6}, nil, nil)
	tests := []struct {
		name       string
		eps, delta float64
		want       string
	}{
		{"", 0.1, 0, "release name is empty"},
		{"a", 0, 0, "epsilon must be a finite number > 0, got 0"},
		{"a", -0.1, 0, "epsilon must be a finite number > 0"},
		{"a", nan, 0, "got NaN"},
		{"a", 0.1, 1, "delta must be in [0, 1), got 1"},
		{"a", 0.1, -1e-9, "delta must be in [0, 1)"},
		{"a", 0.1, nan, "delta must be in [0, 1), got NaN"},
	}
	for _, tc := range tests {
		err := l.Spend(tc.name, tc.eps, tc.delta)
		if !errors.Is(err, ErrInvalidParameter) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Spend(%q, %v, %v) = %v, want %q", tc.name, tc.eps, tc.delta, err, tc.want)
		}
	}
	if len(l.Entries()) != 0 {
		t.Error("bad spends were recorded")
	}
}

func TestLedgerRejectsForeignScope(t *testing.T) {
	store := &MemoryStore{}
	a, _ := NewLedger("a", Budget{Epsilon: 1}, store, nil)
	if err := a.Spend("x", 0.1, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLedger("b", Budget{Epsilon: 1}, store, nil); !errors.Is(err, ErrCorruptLedger) {
		t.Fatalf("foreign scope: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
