package twin

import (
	"testing"

	"github.com/lifang-community/lifang/policy"
)

// BenchmarkRunYear runs a year of the small community under the rule-based policy.
func BenchmarkRunYear(b *testing.B) {
	m := smallModel()
	in := smallInputs(m, 365, 9)
	for b.Loop() {
		if _, err := Run(m, in, policy.NewRuleBased(m.Rules()), nil); err != nil {
			b.Fatal(err)
		}
	}
}
