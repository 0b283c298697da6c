package demo

import (
	"math"
	"testing"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// sellShortTerm replays the twin's first-free-room allocation at a fixed ADR and
// returns the occupancy over days.
func sellShortTerm(reqs []twin.RentalRequest, rental, units, days int, adr float64) float64 {
	freeFrom := make([]int, units)
	sold := 0
	for _, q := range reqs { // sorted by day
		if q.Rental != rental || q.WTPCNY < adr {
			continue
		}
		for i, f := range freeFrom {
			if f <= q.Day {
				freeFrom[i] = q.Day + q.Nights
				sold += min(q.Day+q.Nights, days) - q.Day
				break
			}
		}
	}
	return float64(sold) / float64(units*days)
}

func TestShortTermRentals(t *testing.T) {
	u, m, in := demoYear(t, 7)
	for ri, rs := range m.Rentals {
		if !rs.ShortTerm {
			continue
		}
		target := u.Rentals[ri].TargetOccupancy
		occ := sellShortTerm(in.RentalRequests, ri, rs.Units, 365, rs.ADRCNY)
		lower := sellShortTerm(in.RentalRequests, ri, rs.Units, 365, 1.3*rs.ADRCNY)
		t.Logf("%s: occupancy %.3f at ADR (target %.2f), %.3f at 1.3 × ADR", rs.Name, occ, target, lower)
		if math.Abs(occ-target) > 0.05 {
			t.Errorf("%s: occupancy at ADR %.3f, want %.2f ± 0.05", rs.Name, occ, target)
		}
		if lower > occ-0.1 {
			t.Errorf("%s: raising the price 30 %% only lowers occupancy from %.2f to %.2f", rs.Name, occ, lower)
		}
	}
	// Fridays and holidays are busier than Tuesdays.
	g := demoGen(t, 7)
	var fri, tue float64
	for _, q := range in.RentalRequests {
		switch d := g.cal.days[q.Day]; {
		case d.weekday == 5 && !d.holiday:
			fri++
		case d.weekday == 2 && !d.holiday:
			tue++
		}
		if q.Nights < 1 || q.Nights > 4 {
			t.Fatalf("request %+v", q)
		}
	}
	if fri < 1.3*tue {
		t.Errorf("%.0f Friday requests, %.0f Tuesday ones", fri, tue)
	}
}

func TestTenancies(t *testing.T) {
	for _, seed := range []uint64{7, 8, 9} {
		u, m := community(t, nil)
		in, err := Generate(u, m, seed)
		if err != nil {
			t.Fatal(err)
		}
		for ri, rs := range m.Rentals {
			if rs.ShortTerm {
				continue
			}
			occupied := make([][]bool, rs.Units)
			for k := range occupied {
				occupied[k] = make([]bool, 365)
			}
			nights := 0
			for _, tn := range in.Tenancies {
				if tn.Rental != ri {
					continue
				}
				if tn.To <= tn.From || tn.From < 0 || tn.To > 365 || tn.Unit < 0 || tn.Unit >= rs.Units {
					t.Fatalf("tenancy %+v", tn)
				}
				for d := tn.From; d < tn.To; d++ {
					if occupied[tn.Unit][d] {
						t.Fatalf("unit %d let twice on day %d", tn.Unit, d)
					}
					occupied[tn.Unit][d] = true
					nights++
				}
			}
			occ := float64(nights) / float64(rs.Units*365)
			target := u.Rentals[ri].TargetOccupancy
			t.Logf("seed %d %s: occupancy %.3f (target %.2f)", seed, rs.Name, occ, target)
			if math.Abs(occ-target) > 0.05 {
				t.Errorf("seed %d %s: occupancy %.3f, want %.2f ± 0.05", seed, rs.Name, occ, target)
			}
		}
	}
}

func TestLowOccupancyTenancies(t *testing.T) {
	u, m := community(t, func(u *unit.Unit) { u.Rentals[1].TargetOccupancy, u.Rentals[1].Units = 0.6, 400 })
	in, err := Generate(u, m, 5)
	if err != nil {
		t.Fatal(err)
	}
	nights := 0
	for _, tn := range in.Tenancies {
		nights += tn.To - tn.From
	}
	if occ := float64(nights) / (400 * 365); math.Abs(occ-0.6) > 0.05 {
		t.Errorf("occupancy %.3f, want 0.6 ± 0.05", occ)
	}
}
