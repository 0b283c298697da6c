package site

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lifang-community/lifang/ingest/modbus"
	"github.com/lifang-community/lifang/ingest/ocpp"
	"github.com/lifang-community/lifang/policy"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/unit"
)

// planned is one command the step will send.
type planned struct {
	out   Outcome
	clamp string // what the safety layer changed, "" if nothing
	send  func(ctx context.Context, o Outcome) Outcome
	after func(o Outcome)
}

// Override pins a device's setpoint until it expires.
type Override struct {
	Device string
	Value  float64 // kW for batteries and chargers
	Until  time.Time
	By     string
}

func (c *Controller) overrides(ctx context.Context, at time.Time) map[string]Override {
	evs, err := c.cfg.Store.Events(ctx, reading.EventKind(EventOverride))
	if err != nil {
		return nil
	}
	out := map[string]Override{}
	for _, e := range evs {
		until, err1 := time.Parse(time.RFC3339, e.Attrs["until"])
		v, err2 := strconv.ParseFloat(e.Attrs["value_kw"], 64)
		if err1 != nil || err2 != nil || !finite(v) || e.Time.After(at) || !at.Before(until) {
			continue
		}
		out[e.Attrs["device"]] = Override{Device: e.Attrs["device"], Value: v, Until: until, By: e.Attrs["by"]}
	}
	return out
}

// plan turns the policy's setpoints into device commands within the assets' limits.
func (c *Controller) plan(ctx context.Context, k int, at time.Time, o *policy.Observation, sp policy.Setpoints, attempt int) []planned {
	m, u := c.cfg.Model, c.cfg.Unit
	id := func(dev string) string { return fmt.Sprintf("%s-%d-%d-%s", c.cfg.RunID, k, attempt, dev) }
	ovr := c.overrides(ctx, at)
	var out []planned

	// Charger limits first: the import limit sheds EV charging before battery charging.
	type evCmd struct {
		i     int
		kw    float64
		clamp []string
	}
	var evs []evCmd
	evTotal := 0.0
	for _, sc := range c.site.Chargers {
		i, ok := c.chargeIdx[sc.Charger]
		if !ok || !o.Chargers[i].Connected {
			continue
		}
		kw := sp.ChargerKW[sc.Charger]
		var clamp []string
		if ov, ok := ovr[sc.Charger]; ok {
			kw = ov.Value
			clamp = append(clamp, "override by "+ov.By+" until "+ov.Until.Format(time.RFC3339))
		}
		maxKW := sc.MaxCurrentA * float64(sc.Phases) * sc.VoltageV / 1000
		if !finite(kw) || kw < 0 {
			clamp = append(clamp, fmt.Sprintf("%g kW is not a charging power: 0", kw))
			kw = 0
		}
		if kw > maxKW {
			clamp = append(clamp, fmt.Sprintf("%.3f kW above max_current_a (%.3f kW)", kw, maxKW))
			kw = maxKW
		}
		evs = append(evs, evCmd{i, kw, clamp})
		evTotal += math.Min(kw, o.Chargers[i].PowerKW)
	}
	batKW := map[string]float64{}
	batClamp := map[string][]string{}
	batTotal := 0.0
	for i, b := range m.Batteries {
		if _, ok := c.cfg.Batteries[b.Name]; !ok {
			continue
		}
		kw := sp.BatteryKW[b.Name]
		var clamp []string
		if ov, ok := ovr[b.Name]; ok {
			kw = ov.Value
			clamp = append(clamp, "override by "+ov.By+" until "+ov.Until.Format(time.RFC3339))
		}
		if !finite(kw) {
			clamp = append(clamp, fmt.Sprintf("%g kW: 0", kw))
			kw = 0
		}
		nameplate := u.Batteries[i].PowerKW
		hi, lo := nameplate, nameplate
		if bs, ok := c.bats[b.Name]; ok {
			hi, lo = math.Min(hi, bs.MaxChargeKW), math.Min(lo, bs.MaxDischargeKW)
			// SoC ceiling and floor as the controller knows them (the unit's range).
			room := (o.Batteries[i].MaxKWh - bs.EnergyKWh) / (b.EtaCharge * c.dt.Hours())
			avail := (bs.EnergyKWh - o.Batteries[i].MinKWh) * b.EtaDischarge / c.dt.Hours()
			hi, lo = math.Max(0, math.Min(hi, room)), math.Max(0, math.Min(lo, avail))
		}
		if kw > hi+1e-9 {
			clamp = append(clamp, fmt.Sprintf("charge %.3f kW above the %.3f kW the battery can take (nameplate, SoC ceiling)", kw, hi))
			kw = hi
		}
		if kw < -lo-1e-9 {
			clamp = append(clamp, fmt.Sprintf("discharge %.3f kW above the %.3f kW the battery can give (nameplate, SoC floor)", -kw, lo))
			kw = -lo
		}
		batKW[b.Name], batClamp[b.Name] = kw, clamp
		batTotal += kw
	}
	// Site import limit: the estimated import of the step.
	if lim := o.ImportLimitKW; lim > 0 {
		net := o.LoadKW + o.FlexKW + evTotal + batTotal - o.PVKW
		if net > lim && evTotal > 0 {
			f := math.Min((net-lim)/evTotal, 1)
			for j := range evs {
				evs[j].clamp = append(evs[j].clamp, fmt.Sprintf("import limit %.0f kW: EV charging shed by %.0f %%", lim, 100*f))
				evs[j].kw *= 1 - f
			}
			net -= f * evTotal
		}
		if net > lim {
			charging := 0.0
			for _, v := range batKW {
				charging += math.Max(v, 0)
			}
			if charging > 0 {
				f := math.Min((net-lim)/charging, 1)
				for name, v := range batKW {
					if v > 0 {
						batKW[name] = v * (1 - f)
						batClamp[name] = append(batClamp[name], fmt.Sprintf("import limit %.0f kW: battery charging shed by %.0f %%", lim, 100*f))
					}
				}
			}
		}
	}
	// Batteries.
	for _, sb := range c.site.Batteries {
		dev := c.cfg.Batteries[sb.Battery]
		if dev == nil {
			continue
		}
		name := sb.Battery
		if err := c.batErr[name]; err != nil {
			out = append(out, planned{out: Outcome{ID: id(name), Device: name, Protocol: "modbus", Action: "standby", Value: "0"},
				clamp: "safe state: the battery could not be read",
				send: func(ctx context.Context, o Outcome) Outcome {
					return modbusOutcome(o, dev.Standby(ctx))
				}})
			continue
		}
		kw := math.Round(batKW[name]*1000) / 1000
		timeout := uint16(min(sb.CommTimeoutS, 65535))
		out = append(out, planned{out: Outcome{ID: id(name), Device: name, Protocol: "modbus", Action: "set_power", Value: strconv.FormatFloat(kw, 'f', 3, 64)},
			clamp: strings.Join(batClamp[name], "; "),
			send: func(ctx context.Context, o Outcome) Outcome {
				return modbusOutcome(o, dev.SetPower(ctx, kw, timeout))
			}})
	}
	// Chargers: a new limit when it changed (or for a new transaction).
	for _, e := range evs {
		sc := c.chargerSpec(m.Chargers[e.i].Name)
		st := c.conns[sc.Charger]
		limit := ocpp.Limit{Unit: sc.LimitUnit, Phases: sc.Phases}
		switch sc.LimitUnit {
		case "A":
			a := e.kw * 1000 / (sc.VoltageV * float64(sc.Phases))
			if a > 0 && a < sc.MinCurrentA { // IEC 61851: a charger cannot go below its minimum
				if a >= sc.MinCurrentA/2 {
					e.clamp = append(e.clamp, fmt.Sprintf("%.1f A raised to the %.0f A minimum", a, sc.MinCurrentA))
					a = sc.MinCurrentA
				} else {
					e.clamp = append(e.clamp, fmt.Sprintf("%.1f A below half the %.0f A minimum: paused", a, sc.MinCurrentA))
					a = 0
				}
			}
			limit.Value = math.Round(a*10) / 10
		default:
			limit.Value = math.Round(e.kw * 1000)
		}
		key := fmt.Sprintf("%s#%d#%d", sc.OCPPID, sc.Connector, st.Transaction)
		if prev, ok := c.lastLimit[key]; ok && prev == limit.Value {
			continue
		}
		cs, conn, lim := sc.OCPPID, sc.Connector, limit
		out = append(out, planned{out: Outcome{ID: id(sc.OCPPID + "." + strconv.Itoa(sc.Connector)), Device: sc.Charger, Protocol: "ocpp",
			Action: "set_charging_profile", Value: strconv.FormatFloat(limit.Value, 'f', -1, 64) + " " + limit.Unit},
			clamp: strings.Join(e.clamp, "; "),
			send: func(ctx context.Context, o Outcome) Outcome {
				r := c.cfg.Chargers.SetLimit(ctx, cs, conn, at, lim)
				o.Attempts, o.Detail = r.Attempts, r.Detail
				switch r.Status {
				case "Accepted":
					o.Status = Acked
					if !r.Confirmed {
						o.Detail = strings.TrimSpace(o.Detail + " (composite schedule not confirmed)")
					}
				case "Rejected", "NotSupported", "Unknown":
					o.Status = Rejected
				default:
					o.Status = TimedOut
				}
				return o
			},
			after: func(o Outcome) {
				akey := "charger/" + sc.Charger + ": profile refused"
				switch o.Status {
				case Acked:
					c.lastLimit[key] = lim.Value
					c.ok(akey)
				case Rejected:
					c.lastLimit[key] = lim.Value // do not resend every step; the EV charges at the charger's default
					c.alarm(akey, "the charger refused the charging profile ("+o.Detail+"); the EV charges at the charger's default limit")
				}
			}})
	}
	// Appliance groups: start permissions.
	byDev := map[string][]int{}
	for _, j := range sp.StartJobs {
		r, ok := c.requests[j]
		if !ok || c.started[j] {
			continue
		}
		byDev[r.device] = append(byDev[r.device], j)
	}
	devs := make([]string, 0, len(byDev))
	for d := range byDev {
		devs = append(devs, d)
	}
	slices.Sort(devs)
	for _, d := range devs {
		jobs := byDev[d]
		slices.Sort(jobs)
		txt := make([]string, len(jobs))
		for i, j := range jobs {
			txt[i] = strconv.Itoa(j)
		}
		out = append(out, c.mqttCommand(Command{ID: id(d), Time: at, Action: "start", Jobs: jobs}, d, strings.Join(txt, ","), func(o Outcome) {
			if o.Status == Acked {
				for _, j := range jobs {
					c.started[j] = true
				}
			}
		}))
	}
	// Tank.
	if sp.TankReleaseM3 > 0 {
		for _, t := range c.site.Tanks {
			v := math.Min(sp.TankReleaseM3, o.Water.VolumeM3)
			if v <= 0 {
				continue
			}
			out = append(out, c.mqttCommand(Command{ID: id(t.Device), Time: at, Action: "release", ReleaseM3: v}, t.Device, strconv.FormatFloat(v, 'f', 3, 64), nil))
		}
	}
	// Car parks: a new price or rule when it changed.
	for _, l := range m.Parking.Lots {
		for _, sl := range c.site.Lots {
			if sl.Lot != l.Name || !(sp.LotPriceCNYPerH[l.Name] > 0) {
				continue
			}
			p := math.Min(math.Max(sp.LotPriceCNYPerH[l.Name], m.Parking.MinCNYPerH), m.Parking.MaxCNYPerH)
			key := fmt.Sprintf("%.2f/%t/%d", p, sp.ParkingBestFit, sp.ParkingBufferSteps)
			if c.lotSent[sl.Device] == key {
				continue
			}
			lot := l.Name
			out = append(out, c.mqttCommand(Command{ID: id(sl.Device), Time: at, Action: "set_price", PriceCNYPerH: p, BestFit: sp.ParkingBestFit,
				BufferSteps: sp.ParkingBufferSteps}, sl.Device, key, func(o Outcome) {
				if o.Status == Acked {
					c.lotSent[sl.Device] = key
					c.lotPrice[lot] = p
				}
			}))
		}
	}
	return out
}

func (c *Controller) mqttCommand(cmd Command, device, value string, after func(Outcome)) planned {
	return planned{out: Outcome{ID: cmd.ID, Device: device, Protocol: "mqtt", Action: cmd.Action, Value: value},
		send: func(ctx context.Context, o Outcome) Outcome {
			if c.cfg.Commands == nil {
				o.Status, o.Detail = TimedOut, "no MQTT link"
				return o
			}
			r := c.cfg.Commands.Send(ctx, device, cmd)
			o.Status, o.Detail, o.Attempts = r.Status, r.Detail, r.Attempts
			return o
		}, after: after}
}

// chargerSpec is the commissioning of a charging point.
func (c *Controller) chargerSpec(name string) unit.SiteCharger {
	for _, sc := range c.site.Chargers {
		if sc.Charger == name {
			return sc
		}
	}
	return unit.SiteCharger{}
}

func modbusOutcome(o Outcome, r modbus.CommandResult) Outcome {
	o.Attempts, o.Detail = r.Attempts, r.Detail
	switch r.Status {
	case modbus.StatusAccepted:
		o.Status = Acked
	case modbus.StatusMismatch:
		o.Status = Rejected
	default:
		o.Status = TimedOut
	}
	return o
}
