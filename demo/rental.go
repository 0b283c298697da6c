package demo

import (
	"cmp"
	"math"
	"slices"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Rental model (REFERENCES.md "Rentable sub-units").
//
// Short-term rooms: guests ask for 1–4 nights (truncated geometric, p = 1/2: 8/15,
// 4/15, 2/15, 1/15; mean 26/15) with willingness to pay lognormal(median 1.15 × ADR,
// σ 0.3), so P(WTP ≥ ADR) = Φ(ln 1.15/0.3) ≈ 0.68. Requests for day d are
// Poisson(λ·m_d) with
//
//	λ = units × target_occupancy / mean nights / P(WTP ≥ ADR) × rentalSlack
//
// and the day factor m_d = 1.35 on Fridays and Saturdays, 0.85 on Sundays, 0.9 Monday
// to Thursday, 1.6 on public holidays (Spring Festival, Golden Weeks), normalised to
// mean 1 over the first year. rentalSlack = 1.04 makes up for guests turned away on
// full nights: with first-free-room allocation at ADR the demo's 24 rooms sell ≈ 70 %.
// Stays are cut at the horizon.
//
// Long-term units: leases of 12 months (80 %) or 6 months; between leases a vacancy
// gap, exponential with mean L̄(1 − target)/target days (L̄ = 328.5 days), so the
// occupancy is the target. At the start a unit is let with probability target (its
// lease then has a uniform remaining part), otherwise it is in a gap. Days count from
// the start; tenancies are cut at the horizon.
const (
	rentalSlack    = 1.04
	rentalWTPRatio = 1.15
	rentalWTPSigma = 0.3
	defaultADRCNY  = 300
	leaseLongDays  = 365
	leaseShortDays = 182
	leaseLongP     = 0.8
)

// nightsP is the distribution of stay lengths 1–4.
var nightsP = [4]float64{8.0 / 15, 4.0 / 15, 2.0 / 15, 1.0 / 15}

func (g *gen) rentals() ([]twin.RentalRequest, []twin.Tenancy) {
	var reqs []twin.RentalRequest
	var tens []twin.Tenancy
	horizonDays := (g.hours + 23) / 24
	days := g.genDays - 1
	dayFactor := func(d day) float64 {
		switch {
		case d.holiday:
			return 1.6
		case d.weekday == 5 || d.weekday == 6:
			return 1.35
		case d.weekday == 0:
			return 0.85
		default:
			return 0.9
		}
	}
	meanFactor := 0.0
	for _, d := range g.cal.days[:365] {
		meanFactor += dayFactor(d) / 365
	}
	meanNights := 0.0
	for i, p := range nightsP {
		meanNights += float64(i+1) * p
	}
	pAccept := 0.5 * math.Erfc(-math.Log(rentalWTPRatio)/rentalWTPSigma/math.Sqrt2)

	for ri, rs := range g.u.Rentals {
		if rs.Units <= 0 {
			continue
		}
		r := g.stream(familyRental<<32 | uint64(ri))
		if g.m.Rentals[ri].ShortTerm {
			target := orDefault(rs.TargetOccupancy, unit.DefaultShortTermOccupancy)
			adr := orDefault(rs.ADRCNY, defaultADRCNY)
			lambda := float64(rs.Units) * target / meanNights / pAccept * rentalSlack
			for d := range days {
				for range poisson(r, lambda*dayFactor(g.cal.days[d])/meanFactor) {
					u, nights := r.Float64(), 4
					c := 0.0
					for i, p := range nightsP {
						if c += p; u < c {
							nights = i + 1
							break
						}
					}
					wtp := lognormal(r, rentalWTPRatio*adr, rentalWTPSigma)
					if d >= horizonDays {
						continue
					}
					reqs = append(reqs, twin.RentalRequest{Rental: ri, Day: d, Nights: min(nights, horizonDays-d),
						WTPCNY: math.Round(wtp)})
				}
			}
			continue
		}
		target := orDefault(rs.TargetOccupancy, unit.DefaultLongTermOccupancy)
		target = math.Min(target, 0.999)
		meanLease := leaseLongP*leaseLongDays + (1-leaseLongP)*leaseShortDays
		meanGap := meanLease * (1 - target) / target
		lease := func() int {
			if r.Float64() < leaseLongP {
				return leaseLongDays
			}
			return leaseShortDays
		}
		for k := range rs.Units {
			var d int
			if r.Float64() < target {
				end := 1 + r.IntN(lease())
				tens = append(tens, twin.Tenancy{Rental: ri, Unit: k, From: 0, To: end})
				d = end
			}
			for d < days {
				d += int(math.Round(meanGap * r.ExpFloat64()))
				from := d
				d += lease()
				tens = append(tens, twin.Tenancy{Rental: ri, Unit: k, From: from, To: d})
			}
		}
	}
	// Day order across rental groups (stable: within a day, group then draw order).
	slices.SortStableFunc(reqs, func(a, b twin.RentalRequest) int { return cmp.Compare(a.Day, b.Day) })
	// Cut to the horizon.
	cut := tens[:0]
	for _, t := range tens {
		if t.From < horizonDays {
			t.To = min(t.To, horizonDays)
			if t.To > t.From {
				cut = append(cut, t)
			}
		}
	}
	return reqs, cut
}
