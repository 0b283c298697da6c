package twin

// rental simulates a group of rentable sub-units. Short-term rooms sell nights to
// guests whose willingness to pay reaches tonight's ADR, if a room is free for the
// whole stay; long-term units earn rent on the days a tenancy covers
// (REFERENCES: occupancy = sold/available, ADR = revenue/sold, RevPAR = ADR × occupancy).
type rental struct {
	spec     RentalSpec
	freeFrom []int // short-term: per room, first day it is free
	soldDay  []int // unit-nights sold per day
	requests map[int][]RentalRequest
	tot      RentalTotals
}

func newRental(spec RentalSpec, days, months int) *rental {
	r := &rental{spec: spec, freeFrom: make([]int, spec.Units), soldDay: make([]int, days), requests: map[int][]RentalRequest{}}
	r.tot = RentalTotals{Name: spec.Name, ShortTerm: spec.ShortTerm, UnitNights: spec.Units * days, MonthlyRevCNY: make([]float64, months)}
	return r
}

// day sells day d's requests at price adr; monthOf maps a day to its month index.
func (r *rental) day(d int, adr float64, monthOf func(day int) int) {
	days := len(r.soldDay)
	for _, q := range r.requests[d] {
		r.tot.Requests++
		if q.WTPCNY < adr {
			r.tot.Refused++
			continue
		}
		room := -1
		for i, f := range r.freeFrom {
			if f <= d {
				room = i
				break
			}
		}
		if room < 0 {
			r.tot.Refused++
			continue
		}
		r.freeFrom[room] = d + q.Nights
		for n := d; n < min(d+q.Nights, days); n++ {
			r.soldDay[n]++
			r.tot.SoldNights++
			r.tot.RevenueCNY += adr
			r.tot.MonthlyRevCNY[monthOf(n)] += adr
		}
	}
	delete(r.requests, d)
}

// lease books the days of a long-term tenancy; rent accrues daily (monthly rent × 12/365).
func (r *rental) lease(tn Tenancy, monthOf func(day int) int) {
	daily := r.spec.RentCNYPerMonth * 12 / 365
	for d := max(tn.From, 0); d < min(tn.To, len(r.soldDay)); d++ {
		r.soldDay[d]++
		r.tot.SoldNights++
		r.tot.RevenueCNY += daily
		r.tot.MonthlyRevCNY[monthOf(d)] += daily
	}
}

// occupancyLast7 is the share of unit-nights sold over the seven days before d.
func (r *rental) occupancyLast7(d int) float64 {
	if d == 0 || r.spec.Units == 0 {
		return 0
	}
	sold, n := 0, 0
	for k := max(0, d-7); k < d; k++ {
		sold += r.soldDay[k]
		n += r.spec.Units
	}
	return float64(sold) / float64(n)
}

// soldShare is the share of units sold on night d (0 outside the run).
func (r *rental) soldShare(d int) float64 {
	if d < 0 || d >= len(r.soldDay) || r.spec.Units == 0 {
		return 0
	}
	return float64(r.soldDay[d]) / float64(r.spec.Units)
}

func (r *rental) finish() RentalTotals {
	t := r.tot
	if t.UnitNights > 0 {
		t.Occupancy = float64(t.SoldNights) / float64(t.UnitNights)
	}
	if t.SoldNights > 0 {
		t.ADRCNY = t.RevenueCNY / float64(t.SoldNights)
	}
	t.RevPARCNY = t.ADRCNY * t.Occupancy
	return t
}
