package server

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/unit"
)

// SitePlan is GET /api/v1/site/plan: one value per step over the `hours` before and
// after the latest step (Time[Now] is AsOf), null where there is nothing to show.
//
//   - BatteryPlannedKW: ahead, the latest decision's plan_battery_kw (its first value is
//     the step at AsOf); behind, the first value of each step's own plan.
//   - BatteryCommandedKW: Σ of the batteries' set_power commands of the step (standby is 0).
//   - BatteryActualKW: Σ over batteries of the mean of their power readings in
//     (start, end] of the step: the controller's Modbus read at a step's start reports
//     the power the previous setpoint gave.
//   - GridImportKWh: the grid meter's import register advance over the step.
//   - EVLimitKW: Σ of the charging limits in force (the last set_charging_profile sent to
//     each charger), in kW at the charger's voltage and phases.
//   - EVDeliveredKWh: Σ of the chargers' Energy.Active.Import.Register advance (OCPP
//     MeterValues) over the step.
//
// Positive battery power charges.
type SitePlan struct {
	Unit               string     `json:"unit"`
	AsOf               string     `json:"as_of"`
	Clock              string     `json:"clock"`
	StepMinutes        int        `json:"step_minutes"`
	Hours              int        `json:"hours"`
	Now                int        `json:"now"`
	PlanStep           *int       `json:"plan_step"` // the decision whose plan fills the steps ahead
	Time               []string   `json:"time"`
	BatteryPlannedKW   []*float64 `json:"battery_planned_kw"`
	BatteryCommandedKW []*float64 `json:"battery_commanded_kw"`
	BatteryActualKW    []*float64 `json:"battery_actual_kw"`
	GridImportKWh      []*float64 `json:"grid_import_kwh"`
	EVLimitKW          []*float64 `json:"ev_limit_kw"`
	EVDeliveredKWh     []*float64 `json:"ev_delivered_kwh"`
}

func (s *Server) sitePlan(w http.ResponseWriter, r *http.Request) {
	hours, err := intParam(r, "hours", 24, 1, 168)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	d, ok := s.siteOr(w, r)
	if !ok {
		return
	}
	p, err := buildPlan(r.Context(), s.cfg.Store, d, hours)
	if err != nil {
		s.internal(w, r, "site plan", err)
		return
	}
	writeJSON(w, p)
}

// series is a per-step sum: nil until something is added.
type series []*float64

func (s series) add(k int, v float64) {
	if k < 0 || k >= len(s) || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if s[k] == nil {
		s[k] = new(float64)
	}
	*s[k] += v
}

func (s series) rounded() []*float64 {
	for _, p := range s {
		if p != nil {
			*p = math.Round(*p*1000) / 1000
		}
	}
	return s
}

// parseKWList parses plan_battery_kw.
func parseKWList(s string) []float64 {
	var out []float64
	for _, x := range splitList(s) {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil {
			v = math.NaN()
		}
		out = append(out, v)
	}
	return out
}

func buildPlan(ctx context.Context, st store.Store, d *siteData, hours int) (*SitePlan, error) {
	u, dt := d.u, d.step
	n := int(time.Duration(hours) * time.Hour / dt)
	steps := 2 * n
	start := d.asOf.Add(-time.Duration(n) * dt)
	end := d.asOf.Add(time.Duration(n) * dt)
	p := &SitePlan{Unit: u.Name, AsOf: rfc(d.asOf), Clock: d.clock, StepMinutes: u.Simulation.StepMinutes, Hours: hours, Now: n,
		Time: make([]string, steps)}
	for k := range steps {
		p.Time[k] = rfc(start.Add(time.Duration(k) * dt))
	}
	// index is the step that starts at t, or -1 outside the window or off the grid.
	index := func(t time.Time) int {
		if t.Before(start) || !t.Before(end) || t.Sub(start)%dt != 0 {
			return -1
		}
		return int(t.Sub(start) / dt)
	}
	planned, commanded, actual := make(series, steps), make(series, steps), make(series, steps)
	grid, limit, delivered := make(series, steps), make(series, steps), make(series, steps)

	// Plans: each step's last attempt, then the latest decision's over the steps ahead.
	for _, e := range d.decisions {
		if k := index(e.Time); k >= 0 && k < n {
			planned[k] = nil
			if pl := parseKWList(e.Attrs["plan_battery_kw"]); len(pl) > 0 {
				planned.add(k, pl[0])
			}
		}
	}
	if m := len(d.decisions); m > 0 && d.clock == clockStep {
		e := d.decisions[m-1]
		step := atoi(e.Attrs["step"], -1)
		p.PlanStep = &step
		for i, v := range parseKWList(e.Attrs["plan_battery_kw"]) {
			planned.add(n+i, v)
		}
	}

	// Battery commands, the last of each battery and step (a step decided again replaces
	// its earlier attempt).
	bats := map[string]bool{}
	for _, b := range u.Site.Batteries {
		bats[b.Battery] = true
	}
	type key struct {
		dev string
		k   int
	}
	batCmd := map[key]float64{}
	for _, e := range d.commands {
		k := index(e.Time)
		if !bats[e.Source] || k < 0 {
			continue
		}
		switch e.Attrs["action"] {
		case "set_power":
			if v, err := strconv.ParseFloat(e.Attrs["value"], 64); err == nil {
				batCmd[key{e.Source, k}] = v
			}
		case "standby":
			batCmd[key{e.Source, k}] = 0
		}
	}
	for kk, v := range batCmd {
		commanded.add(kk.k, v)
	}

	// What the batteries did: the mean power in (start, end] of each step.
	for _, b := range u.Site.Batteries {
		rs, err := st.Range(ctx, pointPower(b.Battery), start.Add(time.Nanosecond), end.Add(time.Nanosecond))
		if err != nil {
			return nil, err
		}
		sum, cnt := make([]float64, steps), make([]int, steps)
		for _, r := range rs {
			k := int((r.Time.Sub(start) - time.Nanosecond) / dt)
			if v, ok := kilo(r); ok && k >= 0 && k < steps {
				sum[k] += v
				cnt[k]++
			}
		}
		for k := range steps {
			if cnt[k] > 0 {
				actual.add(k, sum[k]/float64(cnt[k]))
			}
		}
	}

	// Grid import per step from the register of the grid meter.
	for _, m := range u.Site.Meters {
		if m.Role == "grid" {
			if err := advance(ctx, st, pointImport(m.ID), start, dt, steps, grid); err != nil {
				return nil, err
			}
		}
	}

	// EV charging: limits in force against the energy metered.
	for _, c := range u.Site.Chargers {
		var last *float64
		cmds := map[int]float64{}
		for _, e := range d.commands {
			if e.Source != c.Charger || e.Attrs["action"] != "set_charging_profile" {
				continue
			}
			kw, ok := limitKW(e.Attrs["value"], c)
			if !ok {
				continue
			}
			if k := index(e.Time); k >= 0 {
				cmds[k] = kw
			} else if e.Time.Before(start) {
				last = &kw
			}
		}
		for k := 0; k <= n && k < steps; k++ {
			if v, ok := cmds[k]; ok {
				last = &v
			}
			if last != nil {
				limit.add(k, *last)
			}
		}
		if err := advance(ctx, st, chargerPrefix(c)+"energy_active_import_register", start, dt, steps, delivered); err != nil {
			return nil, err
		}
	}
	p.BatteryPlannedKW, p.BatteryCommandedKW, p.BatteryActualKW = planned.rounded(), commanded.rounded(), actual.rounded()
	p.GridImportKWh, p.EVLimitKW, p.EVDeliveredKWh = grid.rounded(), limit.rounded(), delivered.rounded()
	return p, nil
}

// kilo is an energy or power reading in kWh or kW.
func kilo(r reading.Reading) (float64, bool) {
	switch r.Unit {
	case "kWh", "kW":
		return r.Value, true
	case "Wh", "W":
		return r.Value / 1000, true
	case "MWh":
		return r.Value * 1000, true
	}
	return 0, false
}

// advance adds a register's advance over each step to out (kWh): the last reading at or
// before the step's end less the last at or before its start, each within one step of
// its boundary. A register that went backwards (rollover, replacement) adds nothing.
func advance(ctx context.Context, st store.Store, point string, start time.Time, dt time.Duration, steps int, out series) error {
	rs, err := st.Range(ctx, point, start.Add(-dt+time.Nanosecond), start.Add(time.Duration(steps)*dt+time.Nanosecond))
	if err != nil {
		return err
	}
	// at is the register at boundary t: the last reading in (t − dt, t]. The boundaries
	// come in increasing order, so one pass over rs serves them all.
	next := 0
	at := func(t time.Time) (float64, bool) {
		for next < len(rs) && !rs[next].Time.After(t) {
			next++
		}
		for j := next - 1; j >= 0 && rs[j].Time.After(t.Add(-dt)); j-- {
			if x, ok := kilo(rs[j]); ok {
				return x, true
			}
		}
		return 0, false
	}
	prev, okPrev := at(start)
	for k := range steps {
		cur, okCur := at(start.Add(time.Duration(k+1) * dt))
		if okPrev && okCur && cur >= prev {
			out.add(k, cur-prev)
		}
		prev, okPrev = cur, okCur
	}
	return nil
}

// limitKW reads a charging limit as the controller sends it ("16 A", "7000 W") in kW.
func limitKW(v string, c unit.SiteCharger) (float64, bool) {
	num, u, ok := strings.Cut(strings.TrimSpace(v), " ")
	x, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil {
		return 0, false
	}
	switch u {
	case "A":
		return x * float64(c.Phases) * c.VoltageV / 1000, true
	case "W":
		return x / 1000, true
	}
	return 0, false
}
