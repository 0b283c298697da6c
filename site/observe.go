package site

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/reading"
)

// WaitFresh polls the store until the meters' readings of time at have arrived, or until
// deadline. Meters report a step's readings in one message (one ledger batch), so the
// first of them to show means all have; a meter missing from it then is stale, not late.
func (c *Controller) WaitFresh(ctx context.Context, at time.Time, deadline time.Time) bool {
	var points []string
	for _, m := range c.site.Meters {
		points = append(points, PointPower(m.ID), m.ImportPoint())
	}
	return c.WaitReadings(ctx, points, at, deadline, false)
}

// WaitReadings polls the store until every point (all) or any point (!all) has a
// reading at or after at, or until deadline; it reports whether they arrived.
func (c *Controller) WaitReadings(ctx context.Context, points []string, at, deadline time.Time, all bool) bool {
	for {
		n := 0
		for _, p := range points {
			if prev, _, err := c.cfg.Store.Neighbours(ctx, p, at.Add(time.Nanosecond)); err == nil && prev != nil && !prev.Time.Before(at) {
				n++
			}
		}
		if (all && n == len(points)) || (!all && n > 0) {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// meterPower is a meter's power at at: its latest reading, or — when that is older than
// max_staleness — its reading 24 h earlier, or its last reading when there is none.
func (c *Controller) meterPower(ctx context.Context, id string, at time.Time) (float64, string, bool) {
	point := PointPower(id)
	prev, _, err := c.cfg.Store.Neighbours(ctx, point, at.Add(time.Nanosecond))
	key := "meter/" + id + ": stale"
	if err == nil && prev != nil && at.Sub(prev.Time) <= c.site.MaxStaleness() {
		c.ok(key)
		return prev.Value, "", true
	}
	age := "no reading"
	if prev != nil {
		age = "last reading " + at.Sub(prev.Time).String() + " old"
	}
	c.alarm(key, fmt.Sprintf("%s: %s (max staleness %v)", point, age, c.site.MaxStaleness()))
	day, _, err := c.cfg.Store.Neighbours(ctx, point, at.Add(-24*time.Hour+time.Nanosecond))
	if err == nil && day != nil && at.Add(-24*time.Hour).Sub(day.Time) <= c.site.MaxStaleness() {
		return day.Value, id + ":persistence_24h", false
	}
	if prev != nil {
		return prev.Value, id + ":last_value", false
	}
	return 0, id + ":zero", false
}

func (c *Controller) latest(ctx context.Context, point string, at time.Time) (float64, bool) {
	prev, _, err := c.cfg.Store.Neighbours(ctx, point, at.Add(time.Nanosecond))
	if err != nil || prev == nil || at.Sub(prev.Time) > c.site.MaxStaleness() {
		return 0, false
	}
	return prev.Value, true
}

// observe builds step k's observation from the store and the devices.
func (c *Controller) observe(ctx context.Context, k int, at time.Time) (*policy.Observation, []string, []reading.Event) {
	m, u := c.cfg.Model, c.cfg.Unit
	dtH := c.dt.Hours()
	o := &policy.Observation{Step: k, Time: at.In(m.Loc), DtH: dtH, ImportLimitKW: m.ImportLimitKW, ExportLimitKW: m.ExportLimitKW}
	if lim := c.site.Safety.ImportLimitKW; lim > 0 {
		o.ImportLimitKW = lim
	}
	var fallbacks []string
	for _, mt := range c.site.Meters {
		if mt.Role != "load" && mt.Role != "pv" && mt.Role != "flex" {
			continue
		}
		v, fb, _ := c.meterPower(ctx, mt.ID, at)
		if fb != "" {
			fallbacks = append(fallbacks, fb)
		}
		switch mt.Role {
		case "load":
			o.LoadKW += v
		case "pv":
			o.PVKW += math.Max(-v, 0)
		case "flex":
			o.FlexKW += math.Max(v, 0)
		}
	}
	o.ImportCNYPerKWh, o.Period = m.Tariff.ImportPrice(o.Time)
	o.ExportCNYPerKWh = m.ExportCNYPerKWh
	perDay := int(math.Round(24 / dtH))
	for j := range 2 * perDay {
		p, _ := m.Tariff.ImportPrice(o.Time.Add(time.Duration(j) * c.dt))
		o.PriceAhead = append(o.PriceAhead, p)
	}

	// Batteries: a Modbus read each step, ledgered as readings.
	o.Batteries = make([]policy.BatteryState, len(m.Batteries))
	c.bats, c.batErr = map[string]modbus.BatteryStatus{}, map[string]error{}
	var rs []reading.Reading
	for i, b := range m.Batteries {
		spec := u.Batteries[i]
		st := policy.BatteryState{ID: b.Name, MinKWh: b.SoCMin * b.CapacityKWh, MaxKWh: b.SoCMax * b.CapacityKWh,
			EtaCharge: b.EtaCharge, EtaDischarge: b.EtaDischarge}
		dev, ok := c.cfg.Batteries[b.Name]
		if !ok {
			o.Batteries[i] = st // not commissioned: the policy's setpoint goes nowhere
			continue
		}
		key := "battery/" + b.Name + ": unreachable"
		bs, err := dev.Read(ctx, at)
		if err != nil {
			c.batErr[b.Name] = err
			c.alarm(key, fmt.Sprintf("Modbus read failed: %v; the battery is held in standby", err))
			fallbacks = append(fallbacks, b.Name+":standby")
			st.EnergyKWh = st.MinKWh // nothing to plan with: no power either way
			o.Batteries[i] = st
			continue
		}
		c.ok(key)
		c.bats[b.Name] = bs
		st.EnergyKWh = bs.EnergyKWh
		st.PowerKW = math.Min(spec.PowerKW, math.Max(bs.MaxChargeKW, bs.MaxDischargeKW))
		if st.PowerKW <= 0 {
			st.PowerKW = spec.PowerKW
		}
		o.Batteries[i] = st
		rs = append(rs,
			reading.Reading{Point: PointSoC(b.Name), Time: at, Value: bs.SoCPct, Unit: "%"},
			reading.Reading{Point: PointPower(b.Name), Time: at, Value: bs.PowerKW, Unit: "kW"},
			reading.Reading{Point: PointImport(b.Name), Time: at, Value: bs.ImportKWh, Unit: "kWh"},
			reading.Reading{Point: PointExport(b.Name), Time: at, Value: bs.ExportKWh, Unit: "kWh"})
	}
	if len(rs) > 0 {
		if _, err := c.cfg.Sink.Ingest(ctx, ingest.Input{Source: "modbus:controller", Readings: rs}); err != nil {
			c.log.Warn("ledger battery readings", "err", err)
		}
	}

	// Chargers: the central system's view of each bound connector.
	o.Chargers = make([]policy.ChargerState, len(m.Chargers))
	for i, ch := range m.Chargers {
		o.Chargers[i] = policy.ChargerState{ID: ch.Name, Efficiency: ch.Efficiency}
	}
	c.conns = map[string]ocpp.ConnectorState{}
	if c.cfg.Chargers != nil {
		byKey := map[string]ocpp.ConnectorState{}
		for _, s := range c.cfg.Chargers.Connectors() {
			byKey[s.ChargePoint+"#"+strconv.Itoa(s.Connector)] = s
		}
		for _, sc := range c.site.Chargers {
			i, ok := c.chargeIdx[sc.Charger]
			if !ok {
				continue
			}
			s, seen := byKey[sc.OCPPID+"#"+strconv.Itoa(sc.Connector)]
			key := "charger/" + sc.Charger + ": offline"
			if !seen || !s.Online {
				c.alarm(key, fmt.Sprintf("charge point %s is not connected", sc.OCPPID))
				continue
			}
			c.ok(key)
			c.conns[sc.Charger] = s
			if s.Transaction == 0 {
				continue
			}
			cs := &o.Chargers[i]
			cs.Connected = true
			cs.PowerKW = math.Min(m.Chargers[i].PowerKW, sc.MaxCurrentA*float64(sc.Phases)*sc.VoltageV/1000)
			if s.MaxPowerKW > 0 {
				cs.PowerKW = math.Min(cs.PowerKW, s.MaxPowerKW)
			}
			deliveredKWh := math.Max(0, s.MeterWh-s.MeterStartWh) / 1000
			if s.EnergyNeedKWh > 0 {
				cs.NeedKWh = math.Max(0, s.EnergyNeedKWh-deliveredKWh*cs.Efficiency)
			} else {
				cs.NeedKWh = cs.PowerKW * 8 * cs.Efficiency // unknown need: up to 8 h at full power
			}
			cs.StepsLeft = 1 // unknown departure: as soon as possible
			if !s.DepartureTime.IsZero() {
				cs.StepsLeft = max(1, int(math.Ceil(float64(s.DepartureTime.Sub(at))/float64(c.dt))))
			}
		}
	}

	// Appliance runs waiting for permission.
	c.loadRequests(ctx)
	for _, j := range c.sortedRequests() {
		r := c.requests[j]
		if c.started[j] || r.earliest.After(at) || at.After(r.latestStart) {
			continue
		}
		o.Jobs = append(o.Jobs, policy.JobState{ID: j, LatestStart: c.StepOf(r.latestStart), Len: r.steps, EnergyKWh: r.energyKWh})
	}

	// Car parks, rooms, water.
	o.Lots = make([]policy.LotState, len(m.Parking.Lots))
	for i, l := range m.Parking.Lots {
		o.Lots[i].PriceCNYPerH = m.Parking.FixedCNYPerH
		if p, ok := c.lotPrice[l.Name]; ok {
			o.Lots[i].PriceCNYPerH = p
		}
		for _, sl := range c.site.Lots {
			if sl.Lot == l.Name {
				if v, ok := c.latest(ctx, PointLotOccupancy(sl.Device), at); ok {
					o.Lots[i].Occupancy = v / 100
				}
			}
		}
	}
	o.Rentals = make([]policy.RentalState, len(m.Rentals))
	for i, r := range m.Rentals {
		o.Rentals[i].ADRCNY = r.ADRCNY
	}
	o.Water = policy.WaterState{CapacityM3: m.Water.CapacityM3}
	for _, ca := range m.Water.Catchments {
		o.Water.EffectiveAreaM2 += ca.EffectiveAreaM2
	}
	for _, t := range c.site.Tanks {
		key := "tank/" + t.Device + ": stale"
		if v, ok := c.latest(ctx, PointTankLevel(t.Device), at); ok {
			o.Water.VolumeM3 = v / 100 * m.Water.CapacityM3
			c.ok(key)
		} else {
			c.alarm(key, "no fresh tank level: no release is commanded")
			o.Water.VolumeM3 = 0
			fallbacks = append(fallbacks, t.Device+":no_release")
		}
	}
	if v, ok := c.latest(ctx, PointRainForecast, at); ok {
		o.Water.RainForecast24hMM = v
	}
	return o, fallbacks, nil
}

// loadRequests reads the appliance requests ledgered so far.
func (c *Controller) loadRequests(ctx context.Context) {
	evs, err := c.cfg.Store.Events(ctx, reading.EventKind(EventFlexRequest))
	if err != nil {
		c.log.Warn("read appliance requests", "err", err)
		return
	}
	if len(evs) == c.seenFlex {
		return
	}
	for _, e := range evs[c.seenFlex:] {
		j, err1 := strconv.Atoi(e.Attrs["job"])
		ls, err2 := time.Parse(time.RFC3339, e.Attrs["latest_start"])
		steps, err3 := strconv.Atoi(e.Attrs["steps"])
		kwh, err4 := strconv.ParseFloat(e.Attrs["energy_kwh"], 64)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || steps < 1 || !finite(kwh) || kwh < 0 {
			c.log.Warn("bad appliance request", "source", e.Source, "attrs", e.Attrs)
			continue
		}
		var prof []float64
		for _, f := range strings.Split(e.Attrs["profile_kw"], ",") {
			if v, err := strconv.ParseFloat(f, 64); err == nil && finite(v) {
				prof = append(prof, v)
			}
		}
		c.requests[j] = flexRequest{job: j, device: e.Source, earliest: e.Time, latestStart: ls, steps: steps, energyKWh: kwh, profile: prof}
	}
	c.seenFlex = len(evs)
}

func (c *Controller) sortedRequests() []int {
	out := make([]int, 0, len(c.requests))
	for j := range c.requests {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}
