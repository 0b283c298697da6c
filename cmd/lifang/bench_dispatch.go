package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lifang-community/lifang/forecast"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/optimize"
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
	loadModel := fs.String("load-model", "q40_7", "MPC load forecaster: "+modelNames())
	pvModel := fs.String("pv-model", "q80_7", "MPC PV forecaster: "+modelNames())
	persist := fs.Float64("persist", 0.3, "MPC: carry the measured deviation into later steps, decaying by this factor")
	fs.Bool("json", true, "print JSON (always)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usageError{"--citylearn DIR is required"}
	}
	if namedModel(*loadModel) == nil || namedModel(*pvModel) == nil {
		return usageError{"unknown forecaster; known: " + modelNames()}
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
	nb := len(u.Buildings)
	if *limit > 0 {
		nb = min(*limit, nb)
	}
	// Per building: net load and battery.
	type site struct {
		load, pv, net []float64
		bat           *optimize.Battery
	}
	sites := make([]site, nb)
	rows := make([]row, nb)
	for bi := range nb {
		bl := u.Buildings[bi]
		st := site{load: in.BuildingLoadKW[bi], pv: make([]float64, in.Steps), net: make([]float64, in.Steps)}
		for a, arr := range u.PV {
			if arr.Building == bl.Name {
				for t := range st.pv {
					st.pv[t] += arr.CapacityKW * in.PVKWPerKWp[a][t]
				}
			}
		}
		for t := range st.net {
			st.net[t] = st.load[t] - st.pv[t]
		}
		for i := range u.Batteries {
			if bt := u.Batteries[i]; bt.Building == bl.Name {
				eta := math.Sqrt(bt.RoundTripEfficiency)
				st.bat = &optimize.Battery{CapacityKWh: bt.CapacityKWh, PowerKW: bt.PowerKW, EtaCharge: eta, EtaDischarge: eta, MaxKWh: bt.CapacityKWh}
			}
		}
		sites[bi] = st
		rows[bi] = row{Name: bl.Name, NoStorage: optimize.NoStorageCost(st.net, in.ImportPriceCNYPerKWh, *exportPrice, dt)}
		rows[bi].Perfect, rows[bi].MPC = rows[bi].NoStorage, rows[bi].NoStorage
	}
	// parallel runs f for every building with a battery on all cores and returns the
	// wall-clock seconds.
	parallel := func(f func(bi int) error) (float64, error) {
		start := time.Now()
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.NumCPU())
		errs := make([]error, nb)
		for bi := range nb {
			if sites[bi].bat == nil {
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				errs[bi] = f(bi)
			}()
		}
		wg.Wait()
		return time.Since(start).Seconds(), errors.Join(errs...)
	}
	perfectSecs, err := parallel(func(bi int) error {
		plan, err := optimize.Dispatch(sites[bi].net, in.ImportPriceCNYPerKWh, *exportPrice, *sites[bi].bat, dt, true)
		if err != nil {
			return err
		}
		rows[bi].Perfect = plan.CostCNY
		return nil
	})
	if err != nil {
		return err
	}
	mpcSecs, err := parallel(func(bi int) error {
		mpc := optimize.MPC{Horizon: *horizon, ExportPrice: *exportPrice, TerminalValue: *terminal, FollowPlan: *follow, MeasuredNow: *measured, Persist: *persist,
			Load: namedModel(*loadModel), PV: namedModel(*pvModel)}
		out, err := mpc.Run(times, sites[bi].load, sites[bi].pv, in.ImportPriceCNYPerKWh, *sites[bi].bat, dt)
		if err != nil {
			return err
		}
		rows[bi].MPC, rows[bi].MPCFallback = out.CostCNY, out.Fallbacks
		return nil
	})
	if err != nil {
		return err
	}
	for bi := range rows {
		if d := rows[bi].NoStorage - rows[bi].Perfect; d > 0 {
			rows[bi].Capture = (rows[bi].NoStorage - rows[bi].MPC) / d
		}
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

func namedModel(name string) forecast.Model {
	m, err := forecast.Lookup(name)
	if err != nil {
		return nil
	}
	return m
}

func modelNames() string { return strings.Join(forecast.Names(), ", ") }
