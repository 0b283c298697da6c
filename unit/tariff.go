package unit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseHourRange parses "10-12" into [10, 12): start inclusive, end exclusive, 0 ≤ from < to ≤ 24.
func ParseHourRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return 0, 0, fmt.Errorf("hour range %q: want FROM-TO, e.g. \"10-12\"", s)
	}
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("hour range %q: hours must be integers 0-24", s)
	}
	if from < 0 || to > 24 || from >= to {
		return 0, 0, fmt.Errorf("hour range %q: want 0 <= from < to <= 24", s)
	}
	return from, to, nil
}

// HourTable maps each hour of the day to the index of the range list that covers it
// (-1 where none does). It reports the first hour covered twice.
func HourTable(lists [][]string) (table [24]int, err error) {
	for h := range table {
		table[h] = -1
	}
	for i, l := range lists {
		for _, r := range l {
			from, to, err := ParseHourRange(r)
			if err != nil {
				return table, err
			}
			for h := from; h < to; h++ {
				if table[h] >= 0 {
					return table, fmt.Errorf("hour %d is covered twice (%q overlaps an earlier range)", h, r)
				}
				table[h] = i
			}
		}
	}
	return table, nil
}

// seasonOf returns the season index for a month (1–12), or -1.
func (e *Electricity) seasonOf(month int) int {
	for i, s := range e.Seasons {
		for _, m := range s.Months {
			if m == month {
				return i
			}
		}
	}
	return -1
}

// ImportPrice returns the TOU energy price and period name in force at local time t.
// It assumes a validated tariff; outside any period it returns 0 and "".
func (e *Electricity) ImportPrice(t time.Time) (float64, string) {
	si := e.seasonOf(int(t.Month()))
	if si < 0 {
		return 0, ""
	}
	s := &e.Seasons[si]
	h := t.Hour()
	for _, p := range s.Periods {
		for _, r := range p.Hours {
			from, to, err := ParseHourRange(r)
			if err == nil && h >= from && h < to {
				return p.PriceCNYPerKWh, p.Name
			}
		}
	}
	return 0, ""
}

// WaterBill is the annual bill of a household using m3 under the tiered tariff.
func (w *WaterTariff) WaterBill(m3 float64) float64 {
	bill, prev := 0.0, 0.0
	for _, tr := range w.Tiers {
		upper := tr.UpToM3
		if upper == 0 || m3 <= upper {
			return bill + (m3-prev)*tr.PriceCNYPerM3
		}
		bill += (upper - prev) * tr.PriceCNYPerM3
		prev = upper
	}
	return bill
}

// MarginalWaterPrice is the price of the next m³ for a household that already used m3.
func (w *WaterTariff) MarginalWaterPrice(m3 float64) float64 {
	for _, tr := range w.Tiers {
		if tr.UpToM3 == 0 || m3 < tr.UpToM3 {
			return tr.PriceCNYPerM3
		}
	}
	return 0
}
