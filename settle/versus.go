package settle

import (
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Variance sets a settled line beside the twin's projection of the same item over the
// same interval.
type Variance struct {
	Subsystem    string `json:"subsystem"`
	Item         string `json:"item"`
	SettledCNY   string `json:"settled_cny"`
	ProjectedCNY string `json:"projected_cny"`
	VarianceCNY  string `json:"variance_cny"` // settled − projected
	// VariancePct is the variance as a share of the projection's magnitude (%), "" when
	// the projection is zero.
	VariancePct string `json:"variance_pct"`
}

// Versus is a metered statement beside the twin's projection.
type Versus struct {
	Policy string     `json:"policy"`
	From   string     `json:"from"`
	To     string     `json:"to"`
	Lines  []Variance `json:"lines"`
	// Note says what the projection is: its model, its inputs, its idealisations.
	Note string `json:"note"`
}

// TwinGrid settles the grid lines of a twin run over [from, to) the way Metered
// settles the meters: import by TOU period at each step's price, export credit, and
// resident sales on the non-shiftable load. Steps are hourly means, so a step's energy
// is its mean power × its length.
func TwinGrid(u *unit.Unit, res *twin.Result, from, to time.Time) map[string]*big.Rat {
	el := &u.Tariffs.Electricity
	out := map[string]*big.Rat{}
	addTo := func(k string, v *big.Rat) {
		if out[k] == nil {
			out[k] = new(big.Rat)
		}
		out[k].Add(out[k], v)
	}
	loc := res.Start.Location()
	if l, err := time.LoadLocation(u.Location.TimeZone); err == nil {
		loc = l
	}
	h := new(big.Rat).SetFloat64(res.DtH)
	for t := range res.Steps {
		at := res.Start.Add(time.Duration(t) * res.Step)
		if at.Before(from) || !at.Before(to) {
			continue
		}
		p, period := el.ImportPrice(at.In(loc))
		if period == "" {
			period = "unpriced"
		}
		imp := new(big.Rat).Mul(rat(res.Series.ImportKW[t]), h)
		addTo("grid import, "+period, new(big.Rat).Neg(new(big.Rat).Mul(imp, rat(p))))
		exp := new(big.Rat).Mul(rat(res.Series.ExportKW[t]), h)
		addTo("export credit", new(big.Rat).Mul(exp, rat(el.ExportCNYPerKWh)))
	}
	return out
}

// Compare sets the metered grid lines beside the twin's.
func Compare(s *MeteredStatement, projected map[string]*big.Rat, policy, from, to, note string) *Versus {
	v := &Versus{Policy: policy, From: from, To: to, Note: note}
	seen := map[string]bool{}
	row := func(sub, item string, settled, proj *big.Rat) {
		d := new(big.Rat).Sub(settled, proj)
		pct := ""
		if proj.Sign() != 0 {
			q := new(big.Rat).Quo(d, new(big.Rat).Abs(proj))
			f, _ := q.Float64()
			pct = fmt.Sprintf("%.2f", 100*f)
		}
		v.Lines = append(v.Lines, Variance{Subsystem: sub, Item: item, SettledCNY: fen(settled), ProjectedCNY: fen(proj), VarianceCNY: fen(d), VariancePct: pct})
	}
	tot, totP := new(big.Rat), new(big.Rat)
	for _, l := range s.Lines {
		p, ok := projected[l.Item]
		if !ok {
			continue
		}
		a, _ := new(big.Rat).SetString(l.AmountCNY)
		row(l.Subsystem, l.Item, a, p)
		seen[l.Item] = true
		tot.Add(tot, a)
		totP.Add(totP, p)
	}
	items := make([]string, 0, len(projected))
	for item := range projected {
		items = append(items, item)
	}
	sort.Strings(items)
	for _, item := range items {
		if p := projected[item]; !seen[item] && p.Sign() != 0 {
			row("energy", item, new(big.Rat), p)
			totP.Add(totP, p)
		}
	}
	row("energy", "grid, net", tot, totP)
	return v
}
