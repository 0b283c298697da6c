package optimize

import (
	"bytes"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/lifang-community/lifang/optimize/solver"
)

// Two hours, prices 0.1 then 1.0, a 10 kW load in the second hour, a 10 kWh / 10 kW
// battery with η = 0.9 each way, starting empty. By hand: charge 10 kW (stores 9 kWh),
// discharge 8.1 kW, import 1.9 kW at 1.0: cost 0.1·10 + 1.0·1.9 = 2.9.
func TestDispatchHandCase(t *testing.T) {
	b := Battery{CapacityKWh: 10, PowerKW: 10, EtaCharge: 0.9, EtaDischarge: 0.9, MaxKWh: 10}
	plan, err := Dispatch([]float64{0, 10}, []float64{0.1, 1.0}, 0, b, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(plan.CostCNY-2.9) > 1e-9 || math.Abs(plan.ChargeKW[0]-10) > 1e-9 || math.Abs(plan.DischargeKW[1]-8.1) > 1e-9 {
		t.Fatalf("cost %.6f, charge %.4f, discharge %.4f; want 2.9, 10, 8.1", plan.CostCNY, plan.ChargeKW[0], plan.DischargeKW[1])
	}
	if c := NoStorageCost([]float64{0, 10}, []float64{0.1, 1.0}, 0, 1); c != 10 {
		t.Fatalf("no-storage cost %g, want 10", c)
	}
}

// cumulative solves the same problem in an independent formulation: no energy
// variables — every step bounds the cumulative energy directly — and imports as an
// inequality g_t ≥ net_t + c_t − d_t instead of a balance with an export variable
// (export earns nothing here).
func cumulative(net, price []float64, b Battery, dtH float64, terminal bool) (float64, error) {
	var p solver.Problem
	n := len(net)
	c, d, g := make([]int, n), make([]int, n), make([]int, n)
	for t := range n {
		c[t] = p.AddVar(0, 0, b.PowerKW)
		d[t] = p.AddVar(0, 0, b.PowerKW)
		g[t] = p.AddVar(price[t]*dtH, 0, solver.Inf)
		p.AddRow(net[t], solver.Inf, []int{g[t], c[t], d[t]}, []float64{1, -1, 1})
	}
	for t := range n {
		var cols []int
		var vals []float64
		for s := 0; s <= t; s++ {
			cols = append(cols, c[s], d[s])
			vals = append(vals, b.EtaCharge*dtH, -dtH/b.EtaDischarge)
		}
		lo := b.MinKWh - b.InitialKWh
		if terminal && t == n-1 {
			lo = math.Max(lo, 0)
		}
		p.AddRow(lo, b.MaxKWh-b.InitialKWh, cols, vals)
	}
	res, err := solver.Solve(&p, solver.Options{})
	if err != nil {
		return 0, err
	}
	return res.Objective, nil
}

func TestDispatchAgreesWithSecondFormulation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 168
	net, price := make([]float64, n), make([]float64, n)
	for i := range n {
		h := i % 24
		net[i] = 3 + 2*math.Sin(float64(h)/24*2*math.Pi) + rng.NormFloat64()
		if h >= 10 && h < 15 {
			net[i] -= 6 * rng.Float64()
		}
		price[i] = 0.2 + 0.6*float64(btoi(h >= 17 && h < 21)) + 0.1*rng.Float64()
	}
	for _, b := range []Battery{
		{CapacityKWh: 13.5, PowerKW: 5, EtaCharge: 0.95, EtaDischarge: 0.95, MaxKWh: 13.5},
		{CapacityKWh: 6.4, PowerKW: 5, EtaCharge: math.Sqrt(0.9), EtaDischarge: math.Sqrt(0.9), MinKWh: 0.64, MaxKWh: 6.4, InitialKWh: 3},
	} {
		for _, terminal := range []bool{false, true} {
			plan, err := Dispatch(net, price, 0, b, 1, terminal)
			if err != nil {
				t.Fatal(err)
			}
			other, err := cumulative(net, price, b, 1, terminal)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(plan.CostCNY-other) > 1e-6*math.Abs(other) {
				t.Fatalf("terminal=%v: %.9f vs second formulation %.9f", terminal, plan.CostCNY, other)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBadBattery(t *testing.T) {
	for _, c := range []struct {
		b    Battery
		want string
	}{
		{Battery{CapacityKWh: 10, PowerKW: -1, EtaCharge: 1, EtaDischarge: 1, MaxKWh: 10}, "negative"},
		{Battery{CapacityKWh: 0, PowerKW: 5, EtaCharge: 1, EtaDischarge: 1}, "zero capacity"},
		{Battery{CapacityKWh: 10, PowerKW: 5, EtaCharge: 1.2, EtaDischarge: 1, MaxKWh: 10}, "efficiencies"},
		{Battery{CapacityKWh: 10, PowerKW: 5, EtaCharge: 1, EtaDischarge: 1, MaxKWh: 10, InitialKWh: 12}, "initial energy"},
	} {
		if _, err := Dispatch([]float64{1}, []float64{1}, 0, c.b, 1, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.b, err, c.want)
		}
	}
	if _, err := Dispatch([]float64{1, 2}, []float64{1}, 0, Battery{CapacityKWh: 1, PowerKW: 1, EtaCharge: 1, EtaDischarge: 1, MaxKWh: 1}, 1, false); err == nil {
		t.Error("prices of the wrong length accepted")
	}
}

type flat struct{ v float64 }

func (f flat) Predict(_ []float64, _ time.Time, h int) []float64 {
	out := make([]float64, h)
	for i := range out {
		out[i] = f.v
	}
	return out
}

// A solve that cannot finish in its time limit falls back to the real-time layer for
// that step, is counted and logged, and the run goes on.
func TestMPCTimeoutFallsBack(t *testing.T) {
	n := 48
	times := make([]time.Time, n)
	load, pv, price := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		times[i] = time.Date(2025, 1, 1, i, 0, 0, 0, time.UTC)
		load[i], price[i] = 2, 0.5+0.5*float64(btoi(i%24 >= 18))
		if i%24 >= 10 && i%24 < 14 {
			pv[i] = 5
		}
	}
	var logs bytes.Buffer
	m := MPC{Horizon: 24, Load: flat{2}, PV: flat{0}, TimeLimit: time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil)),
		failSolve: func(step int) bool { return step%2 == 0 }}
	b := Battery{CapacityKWh: 5, PowerKW: 2, EtaCharge: 0.95, EtaDischarge: 0.95, MaxKWh: 5}
	out, err := m.Run(times, load, pv, price, b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out.Fallbacks != n/2 || !strings.Contains(logs.String(), "solve failed") {
		t.Fatalf("fallbacks %d (want %d), log %q", out.Fallbacks, n/2, logs.String())
	}
	// The real-time layer alone still absorbs the first hour of PV surplus.
	if out.EnergyKWh[10] <= 0 {
		t.Fatalf("battery did not absorb surplus in a fallback step: %v", out.EnergyKWh[:14])
	}
	m.failSolve = nil
	ok, err := m.Run(times, load, pv, price, b, 1)
	if err != nil || ok.Fallbacks != 0 || ok.CostCNY > out.CostCNY+1e-9 {
		t.Fatalf("without a time limit: %+v, %v (fallback run cost %g)", ok, err, out.CostCNY)
	}
}

// One EV wanting 10 kWh over three hours priced 1, 0.1, 1 and a 2 kW one-hour run that
// may start in any of them: both go to the cheap hour, cost 0.1·(10 + 2) = 1.2. An EV
// asking for more than the charger can give is served as far as it can be and the
// rest is reported unmet, never infeasible.
func TestJointHandCase(t *testing.T) {
	none := Battery{EtaCharge: 1, EtaDischarge: 1}
	net, price := []float64{0, 0, 0}, []float64{1, 0.1, 1}
	res, err := Joint(net, price, 0, none, []EVNeed{{Arrive: 0, Depart: 3, EnergyKWh: 10, MaxKW: 10, Efficiency: 1}},
		[]Run{{Earliest: 0, Latest: 3, ProfileKW: []float64{2}}}, 1, 100, solver.Options{TimeLimit: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.CostCNY-1.2) > 1e-9 || res.UnmetKWh != 0 || res.Binaries != 3 || res.MIPGap > 1e-6 {
		t.Fatalf("got %+v, want cost 1.2, nothing unmet, 3 binaries, gap 0", res)
	}
	res, err = Joint(net, price, 0, none, []EVNeed{{Arrive: 0, Depart: 3, EnergyKWh: 50, MaxKW: 10, Efficiency: 1}}, nil, 1, 100, solver.Options{})
	if err != nil || math.Abs(res.UnmetKWh-20) > 1e-9 || math.Abs(res.CostCNY-21) > 1e-9 {
		t.Fatalf("over-asking EV: %+v, %v; want 20 kWh unmet and cost 10·1 + 10·0.1 + 10·1 = 21", res, err)
	}
	if _, err := Joint(net, price, 0, none, []EVNeed{{Arrive: 2, Depart: 1, EnergyKWh: 1, MaxKW: 1}}, nil, 1, 100, solver.Options{}); err == nil || !strings.Contains(err.Error(), "departure must follow arrival") {
		t.Fatalf("departure before arrival: %v", err)
	}
}
