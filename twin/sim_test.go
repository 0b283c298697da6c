package twin

import (
	"context"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/lifang-community/lifang/policy"
)

// A Sim stepped with a policy's decisions gives exactly Run's result.
func TestSimMatchesRun(t *testing.T) {
	m := smallModel()
	in := smallInputs(m, 10, 3)
	want, err := Run(m, in, policy.NewRuleBased(m.Rules()), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSim(m, in, "rule_based")
	if err != nil {
		t.Fatal(err)
	}
	p := policy.NewRuleBased(m.Rules())
	ctx := context.Background()
	var imported float64
	for !s.Done() {
		o, err := s.Observe(ctx, s.Time())
		if err != nil {
			t.Fatal(err)
		}
		again, _ := s.Observe(ctx, s.Time()) // idempotent within a step
		if again != o {
			t.Fatal("Observe twice in one step gave two observations")
		}
		if _, err := s.Observe(ctx, s.Time().Add(time.Hour)); err == nil {
			t.Fatal("observed a step that is not the current one")
		}
		out, err := s.Run(ctx, s.Time(), p.Decide(o))
		if err != nil {
			t.Fatal(err)
		}
		imported += out.ImportKW * in.Step.Hours()
		if len(out.Batteries) != 1 || len(out.ChargerKW) != 2 {
			t.Fatalf("outcome has %d batteries, %d chargers", len(out.Batteries), len(out.ChargerKW))
		}
	}
	if _, err := s.Observe(ctx, s.Time()); err != ErrFinished {
		t.Fatalf("Observe after the horizon: %v, want ErrFinished", err)
	}
	got := s.Finish()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stepped result differs from Run's: import %.6f vs %.6f kWh", got.Energy.ImportKWh, want.Energy.ImportKWh)
	}
	if d := imported - want.Energy.ImportKWh; d > 1e-6 || d < -1e-6 {
		t.Fatalf("outcomes sum to %.6f kWh imported, result says %.6f", imported, want.Energy.ImportKWh)
	}
}

func TestObservationCarriesAssetIDs(t *testing.T) {
	m := smallModel()
	s, err := NewSim(m, smallInputs(m, 1, 1), "x")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := s.Observe(context.Background(), in0(s))
	if o.Batteries[0].ID != "bess" || o.Chargers[1].ID != "c2" {
		t.Fatalf("ids %q %q, want bess c2", o.Batteries[0].ID, o.Chargers[1].ID)
	}
}

func TestWindow(t *testing.T) {
	m := smallModel()
	in := smallInputs(m, 6, 2)
	w, err := in.Window(48, 72)
	if err != nil {
		t.Fatal(err)
	}
	if w.Steps != 72 || !w.Start.Equal(in.Start.Add(48*in.Step)) {
		t.Fatalf("window: %d steps from %v", w.Steps, w.Start)
	}
	if w.BuildingLoadKW[1][5] != in.BuildingLoadKW[1][53] || w.RainMM[71] != in.RainMM[119] {
		t.Fatal("series not shifted by 48 steps")
	}
	// Days 2, 3 and 4 of smallInputs have one session, job and rental request each.
	if len(w.EVSessions) != 3 || w.EVSessions[0].Arrive != 18 || w.EVSessions[0].Depart != 31 {
		t.Fatalf("sessions %+v", w.EVSessions)
	}
	if len(w.Jobs) != 3 || w.Jobs[0].Earliest != 19 || len(w.RentalRequests) != 3 || w.RentalRequests[0].Day != 0 {
		t.Fatalf("jobs %+v rentals %+v", w.Jobs, w.RentalRequests)
	}
	if err := w.Validate(m); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(m, w, policy.NewRuleBased(m.Rules()), nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]int{{-1, 5}, {0, 0}, {100, 100}, {5, 10}} {
		if _, err := in.Window(bad[0], bad[1]); err == nil {
			t.Errorf("Window(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

func in0(s *Sim) time.Time { return s.Time() }

// The generic loop (policy.Step) on the twin gives Run's result.
func TestPolicyStepOnTwin(t *testing.T) {
	m := smallModel()
	in := smallInputs(m, 4, 5)
	want, _ := Run(m, in, policy.NewRuleBased(m.Rules()), nil)
	s, _ := NewSim(m, in, "rule_based")
	p := policy.NewRuleBased(m.Rules())
	for !s.Done() {
		if _, err := policy.Step(context.Background(), s, p, s.Time()); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Finish(); !reflect.DeepEqual(got, want) {
		t.Fatal("policy.Step on the twin differs from Run")
	}
}

// Setpoints are resolved by asset id: unknown ids and NaN are ignored, known ids apply.
func TestSetpointsByID(t *testing.T) {
	m := smallModel()
	in := smallInputs(m, 1, 1)
	s, err := NewSim(m, in, "x")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out, err := s.Run(ctx, s.Time(), policy.Setpoints{BatteryKW: map[string]float64{"no-such-battery": 40, "bess": math.NaN()}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Batteries[0].PowerKW != 0 {
		t.Fatalf("battery ran at %g kW on an unknown id and a NaN", out.Batteries[0].PowerKW)
	}
	a, err := s.Apply(ctx, s.Time(), policy.Setpoints{BatteryKW: map[string]float64{"bess": 10}})
	if err != nil || a.BatteryKW["bess"] != 10 {
		t.Fatalf("applied %+v, %v: want bess at 10 kW", a, err)
	}
	out.Batteries[0].PowerKW = a.BatteryKW["bess"]
	if out.Batteries[0].PowerKW != 10 {
		t.Fatalf("battery at %g kW, want 10", out.Batteries[0].PowerKW)
	}
}
