package demo

import (
	"cmp"
	"math"
	"slices"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Parking model (REFERENCES.md "Shared parking": residential demand is full at night and
// empties by day, commuter demand mirrors it).
//
// Resident windows: every shareable space belongs to a commuting owner with a habitual
// leaving time U(7.2, 8.8) h and return time U(17.3, 19.7) h. On a working day the
// owner declares the space free from the step after leaving (habit + N(0, 0.3 h),
// 6:30–9:30) to the step before returning (habit + N(0, 0.5 h), 16:30–21:00); on 10 %
// of days the car stays and there is no window. 30 % of owners also share on days
// off: from N(10 h, 1 h) for 4–8 h (until 21:00 at the latest). One window per space
// and day, so a space's windows never overlap.
//
// Visitor requests: parking.visitor_requests_per_day in total over the lots, shared in
// proportion to the spaces visitors can use (public + shareable). Two classes:
//
//   - commuters (45 % on working days, × 0.3 on days off): arrival N(8.8 h, 0.6 h)
//     within 7–11 h, stay lognormal(median 9 h, σ 0.12) within 6–11 h;
//   - visitors/shoppers (55 %, × 1.4 on days off): 25 % arrive 8–14 h, 75 % N(17.5 h,
//     2 h) within 14–21:30; stay lognormal(median 1.8 h, σ 0.5) within 0.5–5 h.
//
// The daily means are normalised so the first year averages the configured rate;
// counts are Poisson. Willingness to pay is lognormal with median 1.3 × the fixed price
// (σ 0.35), so about a quarter of visitors balk at 1.6 × the fixed price. 8 % of
// visitors overstay by 1–2 steps.
const (
	windowSkipP          = 0.10
	weekendSharerP       = 0.30
	commuterShare        = 0.45
	commuterOffWork      = 0.3
	visitorOffWork       = 1.4
	wtpOverFixed         = 1.3
	wtpSigma             = 0.35
	overstayP            = 0.08
	defaultVisitorPerDay = 300
)

func (g *gen) residentWindows() []twin.ResidentWindow {
	r := g.stream(streamParkingResident)
	days := g.genDays - 1
	var out []twin.ResidentWindow
	for li, l := range g.m.Parking.Lots {
		for s := range l.ShareableSpaces {
			leave, ret := uniform(r, 7.2, 8.8), uniform(r, 17.3, 19.7)
			weekend := r.Float64() < weekendSharerP
			for d := range days {
				skip := r.Float64() < windowSkipP
				z1, z2 := r.NormFloat64(), r.NormFloat64()
				u := r.Float64()
				var from, to float64
				if g.cal.days[d].offWork {
					if !weekend {
						continue
					}
					from = math.Min(math.Max(10+z1, 8), 13)
					to = math.Min(from+4+4*u, 21)
				} else {
					from = math.Min(math.Max(leave+0.3*z1, 6.5), 9.5)
					to = math.Min(math.Max(ret+0.5*z2, 16.5), 21)
				}
				if skip {
					continue
				}
				f, t := g.stepCeil(d, from), g.stepOf(d, to)
				if f >= g.steps {
					continue
				}
				t = min(t, g.steps)
				if t > f {
					out = append(out, twin.ResidentWindow{Lot: li, Space: s, From: f, To: t})
				}
			}
		}
	}
	// (From, Lot, Space) is unique: the order is total and deterministic.
	slices.SortFunc(out, func(a, b twin.ResidentWindow) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Lot, b.Lot), cmp.Compare(a.Space, b.Space))
	})
	return out
}

func (g *gen) parkingRequests() []twin.ParkingRequest {
	lots := g.m.Parking.Lots
	if len(lots) == 0 {
		return nil
	}
	r := g.stream(streamParkingVisitor)
	rate := g.u.Parking.VisitorRequestsPerDay
	if rate <= 0 {
		rate = defaultVisitorPerDay
	}
	fixed := orDefault(g.m.Parking.FixedCNYPerH, unit.DefaultFixedCNYPerHour)
	weights := make([]float64, len(lots))
	total := 0.0
	for i, l := range lots {
		weights[i] = float64(max(l.PublicSpaces(), 0) + l.ShareableSpaces)
		total += weights[i]
	}
	if total == 0 {
		return nil
	}
	factor := func(off bool) (c, v float64) {
		if off {
			return commuterShare * commuterOffWork, (1 - commuterShare) * visitorOffWork
		}
		return commuterShare, 1 - commuterShare
	}
	mean := 0.0
	for _, d := range g.cal.days[:365] {
		c, v := factor(d.offWork)
		mean += (c + v) / 365
	}
	days := g.genDays - 1
	out := make([]twin.ParkingRequest, 0, int(rate*float64(days)*1.05))
	perDay := 24 * g.sph
	counts := make([]int, perDay+1)
	var tmp []twin.ParkingRequest
	for d := range days {
		first := len(out)
		c, v := factor(g.cal.days[d].offWork)
		for li := range lots {
			share := rate / mean * weights[li] / total
			for class, lambda := range [2]float64{c * share, v * share} {
				for range poisson(r, lambda) {
					var arr, stay float64
					if class == 0 {
						arr = normalClip(r, 8.8, 0.6, 7, 11)
						stay = math.Min(math.Max(lognormal(r, 9, 0.12), 6), 11)
					} else {
						if r.Float64() < 0.25 {
							arr = uniform(r, 8, 14)
						} else {
							arr = normalClip(r, 17.5, 2, 14, 21.5)
						}
						stay = math.Min(math.Max(lognormal(r, 1.8, 0.5), 0.5), 5)
					}
					wtp := lognormal(r, wtpOverFixed*fixed, wtpSigma)
					over := 0
					if r.Float64() < overstayP {
						over = 1 + r.IntN(2)
					}
					a := g.stepOf(d, arr)
					dep := max(g.stepCeil(d, arr+stay), a+1)
					if a >= g.steps {
						continue
					}
					out = append(out, twin.ParkingRequest{Lot: li, Arrive: a, Depart: min(dep, g.steps),
						WTPCNYPerHour: math.Round(wtp*100) / 100, OverstaySteps: over})
				}
			}
		}
		// Every arrival of day d falls in day d: a stable counting sort of each day
		// by arrival step sorts the year deterministically.
		day := out[first:]
		base := d * perDay
		clear(counts)
		for _, q := range day {
			counts[q.Arrive-base+1]++
		}
		for i := 1; i < len(counts); i++ {
			counts[i] += counts[i-1]
		}
		tmp = append(tmp[:0], day...)
		for _, q := range tmp {
			day[counts[q.Arrive-base]] = q
			counts[q.Arrive-base]++
		}
	}
	return out
}
