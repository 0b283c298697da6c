package scenario

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/unit"
)

func summaryBytes(t *testing.T, seed uint64) ([]byte, *Case, []*PolicyRun) {
	t.Helper()
	u, err := unit.Parse(examples.Community, "community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromUnit(u, seed, ".", citylearn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Run(Policies, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, Summarise(c, runs)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), c, runs
}

// Several runs, because map order (which once leaked into a float sum) varies by run.
func TestSummaryDeterministic(t *testing.T) {
	a, _, _ := summaryBytes(t, 7)
	for range 3 {
		if b, _, _ := summaryBytes(t, 7); !bytes.Equal(a, b) {
			t.Fatal("same seed, different summary.json")
		}
	}
	c, _, _ := summaryBytes(t, 8)
	if bytes.Equal(a, c) {
		t.Fatal("another seed, same summary.json")
	}
}

// The statement adds up: annual = Σ months, NOI = revenue − opex, the grid bill is
// Σ import × price, and the parking split matches the twin's totals.
func TestStatementAddsUp(t *testing.T) {
	_, _, runs := summaryBytes(t, 3)
	for _, r := range runs {
		st, res := r.Statement, r.Result
		var rev, opex, noi, grid float64
		for _, m := range st.Months {
			rev += m.TotalRevenueCNY
			opex += m.TotalOpexCNY
			noi += m.NOITotalCNY
		}
		for i := range res.Series.ImportKW {
			grid += res.Series.ImportKW[i] * res.DtH * res.Series.ImportPrice[i]
		}
		a := st.Annual
		for name, pair := range map[string][2]float64{"revenue": {rev, a.TotalRevenueCNY}, "opex": {opex, a.TotalOpexCNY},
			"noi": {noi, a.NOITotalCNY}, "noi identity": {a.TotalRevenueCNY - a.TotalOpexCNY, a.NOITotalCNY}, "grid": {grid, a.GridPurchaseCNY}} {
			if math.Abs(pair[0]-pair[1]) > 1e-6*math.Max(1, math.Abs(pair[1])) {
				t.Errorf("%s: %s %.2f vs %.2f", r.Name, name, pair[0], pair[1])
			}
		}
		gross, resident := 0.0, 0.0
		for _, l := range res.Parking {
			gross += l.RevenueCNY
			resident += l.ResidentShareCNY
		}
		if math.Abs(a.ParkingGrossCNY-gross) > 1e-6*gross || math.Abs(a.RevenueCNY["parking"]-(gross-resident)) > 1e-6*gross {
			t.Errorf("%s: parking %.2f/%.2f vs twin %.2f/%.2f", r.Name, a.ParkingGrossCNY, a.RevenueCNY["parking"], gross, gross-resident)
		}
	}
	if runs[1].KPIs.Economic.SavingsVsBaselineCNY <= 0 {
		t.Errorf("rule-based saves nothing on the grid bill: %.0f", runs[1].KPIs.Economic.SavingsVsBaselineCNY)
	}
}

// Unmet EV energy is exactly the part no schedule could deliver (need beyond charger
// power × dwell): zero when feasible. No shiftable run misses its window either.
func TestUnmetOnlyWhenInfeasible(t *testing.T) {
	_, c, runs := summaryBytes(t, 7)
	infeasible := 0.0
	for _, s := range c.Inputs.EVSessions {
		ch := c.Model.Chargers[s.Charger]
		p := ch.PowerKW
		if s.MaxKW > 0 {
			p = math.Min(p, s.MaxKW)
		}
		infeasible += math.Max(0, s.EnergyKWh-ch.Efficiency*p*float64(s.Depart-s.Arrive))
	}
	for _, r := range runs {
		if math.Abs(r.Result.EV.UnmetKWh-infeasible) > 1e-6*math.Max(1, infeasible) {
			t.Errorf("%s: unmet %.3f kWh, infeasible part %.3f kWh", r.Name, r.Result.EV.UnmetKWh, infeasible)
		}
		if r.Result.Flex.Forced != 0 && r.Name != "business_as_usual" {
			t.Logf("%s: %d runs started at their deadline (within the window: no comfort violation)", r.Name, r.Result.Flex.Forced)
		}
	}
	if runs[2].Name != "mpc" || runs[2].Statement.Annual.NOITotalCNY < runs[1].Statement.Annual.NOITotalCNY {
		t.Errorf("MPC NOI %.0f below rule-based %.0f", runs[2].Statement.Annual.NOITotalCNY, runs[1].Statement.Annual.NOITotalCNY)
	}
}

// TestFinanceTerms: the unit's finance levers reach the structure: a lower payout
// lowers the first-year distribution rate, and the leverage rule's metric follows the
// senior LTV cap.
func TestFinanceTerms(t *testing.T) {
	u, err := unit.Parse(examples.Community, "examples/community.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := FromUnit(u, 7, ".", citylearn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := c.Run([]string{"rule_based"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := Finance(context.Background(), c, runs, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Unit.Finance.PayoutRatio = 0.9
	c.Unit.Finance.SeniorMaxLTV = 0.1
	low, err := Finance(context.Background(), c, runs, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p := low.CREIT.PayoutRatio; math.Abs(p-0.9) > 1e-6 {
		t.Fatalf("payout %v", p)
	}
	if !(low.CREIT.AssetsToNetAssets < base.CREIT.AssetsToNetAssets) {
		t.Fatalf("less senior debt but leverage %v ≥ %v", low.CREIT.AssetsToNetAssets, base.CREIT.AssetsToNetAssets)
	}
}
