package demo

import (
	"math"
	"slices"
	"testing"

	"github.com/lifang-community/lifang/twin"
)

func TestResidentWindows(t *testing.T) {
	_, m, in := demoYear(t, 7)
	type key struct{ lot, space int }
	bySpace := map[key][]twin.ResidentWindow{}
	for i, w := range in.ResidentWindows {
		if w.To <= w.From || w.From < 0 || w.To > in.Steps || w.Space >= m.Parking.Lots[w.Lot].ShareableSpaces {
			t.Fatalf("window %d: %+v", i, w)
		}
		bySpace[key{w.Lot, w.Space}] = append(bySpace[key{w.Lot, w.Space}], w)
	}
	for k, ws := range bySpace {
		slices.SortFunc(ws, func(a, b twin.ResidentWindow) int { return a.From - b.From })
		for i := 1; i < len(ws); i++ {
			if ws[i].From < ws[i-1].To {
				t.Fatalf("lot %d space %d: windows %+v and %+v overlap", k.lot, k.space, ws[i-1], ws[i])
			}
		}
	}
	// A working day: ~90 % of shareable spaces are offered at noon; at 2 h none.
	spaces := m.Parking.Lots[0].ShareableSpaces
	const monday = 5 * 24 // 6 January 2025
	noon, night := 0, 0
	for _, w := range in.ResidentWindows {
		if w.From <= monday+12 && monday+12 < w.To {
			noon++
		}
		if w.From <= monday+2 && monday+2 < w.To {
			night++
		}
	}
	if float64(noon) < 0.8*float64(spaces) || float64(noon) > 0.97*float64(spaces) || night != 0 {
		t.Errorf("Monday noon %d of %d spaces offered, 2 h %d", noon, spaces, night)
	}
}

func TestParkingRequests(t *testing.T) {
	u, m, in := demoYear(t, 7)
	perLot := make([]int, len(m.Parking.Lots))
	var wtp []float64
	over := 0
	for i, r := range in.ParkingRequests {
		if r.Depart <= r.Arrive || r.Lot < 0 || r.Lot >= len(perLot) || r.OverstaySteps < 0 || r.OverstaySteps > 2 || r.WTPCNYPerHour <= 0 {
			t.Fatalf("request %d: %+v", i, r)
		}
		perLot[r.Lot]++
		wtp = append(wtp, r.WTPCNYPerHour)
		if r.OverstaySteps > 0 {
			over++
		}
	}
	n := float64(len(in.ParkingRequests))
	perDay := n / 365
	t.Logf("%.0f requests a day (%v per lot), %.1f %% overstay", perDay, perLot, 100*float64(over)/n)
	if want := u.Parking.VisitorRequestsPerDay; math.Abs(perDay-want) > 0.03*want {
		t.Errorf("%.0f requests a day, want %.0f ± 3 %%", perDay, want)
	}
	// Lots in proportion to the spaces visitors can use: underground 160 + 220, surface 80.
	if share := float64(perLot[1]) / n; math.Abs(share-80.0/460) > 0.01 {
		t.Errorf("surface lot share %.3f, want %.3f", share, 80.0/460)
	}
	if f := float64(over) / n; math.Abs(f-overstayP) > 0.01 {
		t.Errorf("overstay share %.3f, want %.2f", f, overstayP)
	}
	slices.Sort(wtp)
	if med, want := wtp[len(wtp)/2], wtpOverFixed*m.Parking.FixedCNYPerH; math.Abs(med-want) > 0.03*want {
		t.Errorf("median WTP %.2f CNY/h, want %.2f", med, want)
	}
	// Working days bring commuters at 7–10 h; days off more short visits.
	var wdMorning, offMorning, wd, off float64
	g := demoGen(t, 7)
	for _, r := range in.ParkingRequests {
		d := g.cal.days[r.Arrive/24]
		morning := r.Arrive%24 >= 7 && r.Arrive%24 < 11
		if d.offWork {
			off++
			if morning {
				offMorning++
			}
		} else {
			wd++
			if morning {
				wdMorning++
			}
		}
	}
	if wdMorning/wd < 1.5*offMorning/off {
		t.Errorf("morning share: working days %.2f, days off %.2f", wdMorning/wd, offMorning/off)
	}
}
