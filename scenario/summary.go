package scenario

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/lifang-community/lifang/finance"
	"github.com/lifang-community/lifang/kpi"
	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/twin"
)

// Summary is summary.json: what a run of a unit produced, policy by policy.
type Summary struct {
	Unit        UnitInfo                 `json:"unit"`
	Hours       int                      `json:"hours"`
	StepMinutes int                      `json:"step_minutes"`
	Start       string                   `json:"start"`
	Inputs      InputTotals              `json:"inputs"`
	Policies    map[string]PolicySummary `json:"policies"`
	Comparison  map[string]Comparison    `json:"comparison_vs_baseline"`
	// Finance values and structures the optimised operation (see Finance).
	Finance *finance.Result `json:"finance,omitempty"`
	// FinanceError says why there is no finance block (e.g. an operation that loses
	// money has no positive value to structure).
	FinanceError string `json:"finance_error,omitempty"`
}

// UnitInfo names the unit and its data.
type UnitInfo struct {
	Name       string `json:"name"`
	Buildings  int    `json:"buildings"`
	Households int    `json:"households"`
	Source     string `json:"source"`
	Seed       uint64 `json:"seed,omitempty"`
	TimeZone   string `json:"time_zone"`
}

// InputTotals are sums of the exogenous inputs, the same under every policy.
type InputTotals struct {
	NonShiftableLoadKWh float64 `json:"non_shiftable_load_kwh"`
	// PVKWh is Σ capacity × output per kWp × step: the PV available before any curtailment.
	PVKWh           float64 `json:"pv_kwh"`
	PVCapacityKW    float64 `json:"pv_capacity_kw"`
	BatteryKWh      float64 `json:"battery_capacity_kwh"`
	Chargers        int     `json:"chargers"`
	EVSessions      int     `json:"ev_sessions"`
	EVRequestedKWh  float64 `json:"ev_requested_kwh"`
	ShiftableRuns   int     `json:"shiftable_runs"`
	ParkingRequests int     `json:"parking_requests"`
	ResidentWindows int     `json:"resident_windows"`
	RentalRequests  int     `json:"rental_requests"`
	Tenancies       int     `json:"tenancies"`
	RainMM          float64 `json:"rain_mm"`
	WaterDemandM3   float64 `json:"non_potable_demand_m3"`
	MeanTempC       float64 `json:"mean_temp_c"`
}

// PolicySummary is one policy's year.
type PolicySummary struct {
	NOICNY     float64              `json:"noi_cny"`
	RevenueCNY map[string]float64   `json:"revenue_cny"`
	OpexCNY    map[string]float64   `json:"opex_cny"`
	NOIBySub   map[string]float64   `json:"noi_by_subsystem_cny"`
	Energy     twin.EnergyTotals    `json:"energy"`
	Batteries  []twin.BatteryTotals `json:"batteries"`
	EV         twin.EVTotals        `json:"ev"`
	Flexible   twin.FlexTotals      `json:"flexible_loads"`
	Parking    []twin.LotTotals     `json:"parking"`
	Rentals    []twin.RentalTotals  `json:"rentals"`
	Water      twin.WaterTotals     `json:"water"`
	Statement  settle.Lines         `json:"statement"`
	Monthly    []MonthLine          `json:"monthly"`
	KPI        kpi.KPIs             `json:"kpi"`
}

// MonthLine is the short form of a month's statement.
type MonthLine struct {
	Month      string  `json:"month"`
	RevenueCNY float64 `json:"revenue_cny"`
	OpexCNY    float64 `json:"opex_cny"`
	NOICNY     float64 `json:"noi_cny"`
	ImportKWh  float64 `json:"import_kwh"`
	PeakKW     float64 `json:"peak_import_kw"`
}

// Comparison is a policy against the baseline.
type Comparison struct {
	NOIGainCNY              float64 `json:"noi_gain_cny"`
	GridSavingsCNY          float64 `json:"grid_savings_cny"`
	ImportChangeKWh         float64 `json:"import_change_kwh"`
	PeakReduction           float64 `json:"peak_reduction"`
	ParkingRevenueChangeCNY float64 `json:"parking_revenue_change_cny"`
	EVUnmetChangeKWh        float64 `json:"ev_unmet_change_kwh"`
}

// Summarise builds summary.json's content.
func Summarise(c *Case, runs []*PolicyRun) *Summary {
	in, u := c.Inputs, c.Unit
	s := &Summary{Hours: int(math.Round(float64(in.Steps) * in.Step.Hours())), StepMinutes: int(in.Step.Minutes()),
		Start: in.Start.Format(time.RFC3339), Policies: map[string]PolicySummary{}, Comparison: map[string]Comparison{}}
	hh := 0
	for _, b := range u.Buildings {
		hh += b.Households
	}
	s.Unit = UnitInfo{Name: u.Name, Buildings: len(u.Buildings), Households: hh, Source: c.Source, Seed: c.Seed, TimeZone: u.Location.TimeZone}
	s.Inputs = Totals(c)
	for _, r := range runs {
		res, st := r.Result, r.Statement
		ps := PolicySummary{NOICNY: fen(st.Annual.NOITotalCNY), RevenueCNY: fenMap(st.Annual.RevenueCNY), OpexCNY: fenMap(st.Annual.OpexCNY),
			NOIBySub: fenMap(st.Annual.NOICNY), Energy: res.Energy, Batteries: res.Batteries, EV: res.EV, Flexible: res.Flex,
			Parking: res.Parking, Rentals: res.Rentals, Water: res.Water, Statement: st.Annual, KPI: r.KPIs}
		ps.RevenueCNY["total"] = fen(st.Annual.TotalRevenueCNY)
		for _, m := range st.Months {
			ps.Monthly = append(ps.Monthly, MonthLine{Month: m.Period, RevenueCNY: fen(m.TotalRevenueCNY), OpexCNY: fen(m.TotalOpexCNY),
				NOICNY: fen(m.NOITotalCNY), ImportKWh: m.ImportKWh, PeakKW: m.PeakImportKW})
		}
		s.Policies[r.Name] = ps
	}
	base := runs[0]
	for _, r := range runs[1:] {
		var pb, pr float64
		for i := range r.Result.Parking {
			pb += base.Result.Parking[i].RevenueCNY
			pr += r.Result.Parking[i].RevenueCNY
		}
		s.Comparison[r.Name] = Comparison{
			NOIGainCNY:              fen(r.KPIs.Economic.NOIGainVsBaselineCNY),
			GridSavingsCNY:          fen(r.KPIs.Economic.SavingsVsBaselineCNY),
			ImportChangeKWh:         r.Result.Energy.ImportKWh - base.Result.Energy.ImportKWh,
			PeakReduction:           r.KPIs.Resilience.PeakReduction,
			ParkingRevenueChangeCNY: fen(pr - pb),
			EVUnmetChangeKWh:        r.Result.EV.UnmetKWh - base.Result.EV.UnmetKWh,
		}
	}
	return s
}

// Totals sums a case's inputs.
func Totals(c *Case) InputTotals {
	in, m := c.Inputs, c.Model
	dt := in.Step.Hours()
	var t InputTotals
	for _, s := range in.BuildingLoadKW {
		for _, v := range s {
			t.NonShiftableLoadKWh += v * dt
		}
	}
	for a, pv := range m.PV {
		sum := 0.0
		for _, v := range in.PVKWPerKWp[a] {
			sum += v
		}
		t.PVKWh += pv.CapacityKW * sum * dt
		t.PVCapacityKW += pv.CapacityKW
	}
	for _, b := range m.Batteries {
		t.BatteryKWh += b.CapacityKWh
	}
	t.Chargers = len(m.Chargers)
	t.EVSessions = len(in.EVSessions)
	for _, s := range in.EVSessions {
		t.EVRequestedKWh += s.EnergyKWh
	}
	t.ShiftableRuns = len(in.Jobs)
	t.ParkingRequests = len(in.ParkingRequests)
	t.ResidentWindows = len(in.ResidentWindows)
	t.RentalRequests = len(in.RentalRequests)
	t.Tenancies = len(in.Tenancies)
	for _, v := range in.RainMM {
		t.RainMM += v
	}
	for _, v := range in.WaterDemandM3 {
		t.WaterDemandM3 += v
	}
	for _, v := range in.TempC {
		t.MeanTempC += v
	}
	if len(in.TempC) > 0 {
		t.MeanTempC /= float64(len(in.TempC))
	}
	return t
}

func fen(v float64) float64 { return math.Round(v*100) / 100 }

func fenMap(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = fen(v)
	}
	return out
}

// WriteJSON writes v as indented JSON (map keys sorted: byte-identical for equal input).
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteTimeseries writes one CSV row per step: the exogenous series once, then each
// policy's plant series prefixed with its name.
func WriteTimeseries(w io.Writer, c *Case, runs []*PolicyRun) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	cols := []struct {
		name string
		get  func(*twin.Series) []float64
	}{
		{"import_kw", func(s *twin.Series) []float64 { return s.ImportKW }},
		{"export_kw", func(s *twin.Series) []float64 { return s.ExportKW }},
		{"battery_kw", func(s *twin.Series) []float64 { return s.BatteryKW }},
		{"battery_kwh", func(s *twin.Series) []float64 { return s.BatteryKWh }},
		{"ev_kw", func(s *twin.Series) []float64 { return s.EVKW }},
		{"flexible_kw", func(s *twin.Series) []float64 { return s.FlexKW }},
		{"pv_used_kw", func(s *twin.Series) []float64 { return s.PVUsedKW }},
		{"parking_occupancy", func(s *twin.Series) []float64 { return s.ParkingOccupancy }},
		{"parking_price_cny_per_h", func(s *twin.Series) []float64 { return s.ParkingPrice }},
		{"tank_m3", func(s *twin.Series) []float64 { return s.WaterVolumeM3 }},
	}
	bw.WriteString("time,load_kw,pv_available_kw,import_price_cny_per_kwh")
	for _, r := range runs {
		for _, col := range cols {
			fmt.Fprintf(bw, ",%s.%s", r.Name, col.name)
		}
	}
	bw.WriteString("\n")
	base := runs[0].Result
	var buf []byte
	num := func(v float64) {
		buf = append(buf[:0], ',')
		buf = strconv.AppendFloat(buf, v, 'f', 3, 64)
		bw.Write(buf)
	}
	for t := range base.Steps {
		bw.WriteString(base.Start.Add(time.Duration(t) * base.Step).In(c.Model.Loc).Format("2006-01-02T15:04:05-07:00"))
		num(base.Series.LoadKW[t])
		num(base.Series.PVAvailKW[t])
		num(base.Series.ImportPrice[t])
		for _, r := range runs {
			for _, col := range cols {
				num(col.get(&r.Result.Series)[t])
			}
		}
		bw.WriteString("\n")
	}
	return bw.Flush()
}

// WriteStatement writes the monthly operating statements as CSV: one row per policy and
// month (and one "annual" row per policy), every revenue, cost and NOI line in CNY.
func WriteStatement(w io.Writer, runs []*PolicyRun) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("policy,period")
	for _, s := range settle.Subsystems {
		fmt.Fprintf(bw, ",revenue.%s", s)
	}
	for _, s := range settle.OpexLines {
		fmt.Fprintf(bw, ",opex.%s", s)
	}
	for _, s := range settle.Subsystems {
		fmt.Fprintf(bw, ",noi.%s", s)
	}
	bw.WriteString(",revenue_total,opex_total,noi_total,grid_purchase,demand_charge,export_credit,resident_sales,parking_gross,resident_parking_income,import_kwh,export_kwh,peak_import_kw,water_supplied_m3,water_detained_m3\n")
	row := func(policy string, l *settle.Lines) {
		bw.WriteString(policy + "," + l.Period)
		vals := make([]float64, 0, 32)
		for _, s := range settle.Subsystems {
			vals = append(vals, l.RevenueCNY[s])
		}
		for _, s := range settle.OpexLines {
			vals = append(vals, l.OpexCNY[s])
		}
		for _, s := range settle.Subsystems {
			vals = append(vals, l.NOICNY[s])
		}
		vals = append(vals, l.TotalRevenueCNY, l.TotalOpexCNY, l.NOITotalCNY, l.GridPurchaseCNY, l.DemandChargeCNY, l.ExportCreditCNY,
			l.ResidentSalesCNY, l.ParkingGrossCNY, l.ResidentParkingCNY, l.ImportKWh, l.ExportKWh, l.PeakImportKW, l.WaterSuppliedM3, l.WaterDetainedM3)
		for _, v := range vals {
			bw.WriteString("," + strconv.FormatFloat(v, 'f', 2, 64))
		}
		bw.WriteString("\n")
	}
	for _, r := range runs {
		for i := range r.Statement.Months {
			row(r.Name, &r.Statement.Months[i])
		}
		a := r.Statement.Annual
		a.Period = "annual"
		row(r.Name, &a)
	}
	return bw.Flush()
}
