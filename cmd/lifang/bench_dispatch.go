package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/lifang-community/lifang/forecast"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/optimize"
	"github.com/lifang-community/lifang/unit"
)

// benchDispatch compares, per CityLearn building, the bill without storage, with
// perfect-foresight dispatch and with the hourly MPC on the project's forecasts.
func benchDispatch(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench dispatch", "--citylearn DIR [--export-price P] [--horizon H] [--json]", stderr)
	dir := fs.String("citylearn", "", "CityLearn dataset directory")
	exportPrice := fs.Float64("export-price", 0, "price paid for exported energy")
	horizon := fs.Int("horizon", 24, "MPC horizon (hours)")
	terminal := fs.Float64("terminal-value", 0, "MPC: value of energy left at the horizon end, as a share of the next day's mean price")
	follow := fs.Bool("follow-plan", false, "MPC real-time layer: discharge the planned power rather than the whole measured load")
	limit := fs.Int("limit", 0, "only the first N buildings (0: all)")
	measured := fs.Bool("measured-now", true, "MPC: plan with the step's measured net load (the real-time layer re-solves inside the step)")
	persist := fs.Float64("persist", 0.3, "MPC: carry the measured deviation into later steps, decaying by this factor")
	fs.Bool("json", true, "print JSON (always)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{"--citylearn DIR is required"}
	}
	u, in, _, err := citylearn.Import(*dir, citylearn.Options{})
	if err != nil {
		return err
	}
	if in.ImportPriceCNYPerKWh == nil {
		return fmt.Errorf("%s has no pricing.csv: nothing to arbitrage", *dir)
	}
	type row struct {
		Name        string  `json:"name"`
		NoStorage   float64 `json:"cost_no_storage"`
		Perfect     float64 `json:"cost_perfect"`
		MPC         float64 `json:"cost_mpc"`
		Capture     float64 `json:"capture"`
		MPCFallback int     `json:"mpc_fallbacks"`
	}
	times := make([]time.Time, in.Steps)
	for t := range times {
		times[t] = in.Start.Add(time.Duration(t) * in.Step)
	}
	dt := in.Step.Hours()
	rows := make([]row, len(u.Buildings))
	var perfectSecs, mpcSecs float64
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	errs := make([]error, len(u.Buildings))
	for bi, bl := range u.Buildings {
		if *limit > 0 && bi >= *limit {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			load := in.BuildingLoadKW[bi]
			pv := make([]float64, in.Steps)
			for a, arr := range u.PV {
				if arr.Building == bl.Name {
					for t := range pv {
						pv[t] += arr.CapacityKW * in.PVKWPerKWp[a][t]
					}
				}
			}
			net := make([]float64, in.Steps)
			for t := range net {
				net[t] = load[t] - pv[t]
			}
			var bat *unit.Battery
			for i := range u.Batteries {
				if u.Batteries[i].Building == bl.Name {
					bat = &u.Batteries[i]
				}
			}
			r := row{Name: bl.Name, NoStorage: optimize.NoStorageCost(net, in.ImportPriceCNYPerKWh, *exportPrice, dt)}
			r.Perfect, r.MPC = r.NoStorage, r.NoStorage
			if bat != nil {
				eta := math.Sqrt(bat.RoundTripEfficiency)
				b := optimize.Battery{CapacityKWh: bat.CapacityKWh, PowerKW: bat.PowerKW, EtaCharge: eta, EtaDischarge: eta, MaxKWh: bat.CapacityKWh}
				t0 := time.Now()
				plan, err := optimize.Dispatch(net, in.ImportPriceCNYPerKWh, *exportPrice, b, dt, true)
				if err != nil {
					errs[bi] = err
					return
				}
				ps := time.Since(t0).Seconds()
				r.Perfect = plan.CostCNY
				t1 := time.Now()
				cal := forecast.DefaultCalendar()
				mpc := optimize.MPC{Horizon: *horizon, ExportPrice: *exportPrice, TerminalValue: *terminal, FollowPlan: *follow, MeasuredNow: *measured, Persist: *persist,
					Load: forecast.DayTypeProfile{Days: 14, Decay: 0.9, Calendar: cal, Label: "load"},
					PV:   forecast.DayProfile{Days: 7, Label: "pv"}}
				out, err := mpc.Run(times, load, pv, in.ImportPriceCNYPerKWh, b, dt)
				if err != nil {
					errs[bi] = err
					return
				}
				r.MPC, r.MPCFallback = out.CostCNY, out.Fallbacks
				mu.Lock()
				perfectSecs += ps
				mpcSecs += time.Since(t1).Seconds()
				mu.Unlock()
			}
			if d := r.NoStorage - r.Perfect; d > 0 {
				r.Capture = (r.NoStorage - r.MPC) / d
			}
			rows[bi] = r
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if *limit > 0 {
		rows = rows[:min(*limit, len(rows))]
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	var tot row
	tot.Name = "total"
	for _, r := range rows {
		tot.NoStorage += r.NoStorage
		tot.Perfect += r.Perfect
		tot.MPC += r.MPC
		tot.MPCFallback += r.MPCFallback
	}
	tot.Capture = (tot.NoStorage - tot.MPC) / (tot.NoStorage - tot.Perfect)
	return printJSON(stdout, map[string]any{"buildings": rows, "total": tot,
		"seconds": map[string]float64{"perfect": perfectSecs, "mpc": mpcSecs}, "horizon": *horizon, "cpus": runtime.NumCPU()})
}
