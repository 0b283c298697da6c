package demo

import "time"

// day is what the models need to know about one day of the generated period.
type day struct {
	weekday time.Weekday
	month   int // 1–12
	yday    int // 1–366
	// holiday: a public holiday period (Spring Festival, the May and October Golden
	// Weeks, 1–7 May and 1–7 Oct as simplified here).
	holiday bool
	// offWork: weekend or holiday.
	offWork bool
	// festival: the two weeks around Spring Festival when many residents of a
	// Guangzhou community have gone home (load −30 %).
	festival bool
}

type calendar struct {
	days []day
	// hourOfDay[h] is the local clock hour of absolute hour h after the start.
	hourOfDay []int8
}

// springFestival is the first day of the lunar year (Gregorian month, day).
var springFestival = map[int][2]int{
	2020: {1, 25}, 2021: {2, 12}, 2022: {2, 1}, 2023: {1, 22}, 2024: {2, 10}, 2025: {1, 29},
	2026: {2, 17}, 2027: {2, 6}, 2028: {1, 26}, 2029: {2, 13}, 2030: {2, 3}, 2031: {1, 23},
	2032: {2, 11}, 2033: {1, 31}, 2034: {2, 19}, 2035: {2, 8},
}

// springFestivalDate returns Spring Festival of year y; outside the table, 5 February,
// the mean date.
func springFestivalDate(y int, loc *time.Location) time.Time {
	md, ok := springFestival[y]
	if !ok {
		md = [2]int{2, 5}
	}
	return time.Date(y, time.Month(md[0]), md[1], 12, 0, 0, 0, loc)
}

func newCalendar(start time.Time, days int) calendar {
	loc := start.Location()
	c := calendar{days: make([]day, days), hourOfDay: make([]int8, days*24)}
	for d := range c.days {
		noon := start.Add(time.Duration(d*24+12) * time.Hour)
		y, mo, md := noon.Date()
		sf := int(noon.Sub(springFestivalDate(y, loc)).Hours() / 24)
		if mo >= 11 { // days before next year's festival
			sf = int(noon.Sub(springFestivalDate(y+1, loc)).Hours() / 24)
		}
		di := day{weekday: noon.Weekday(), month: int(mo), yday: noon.YearDay()}
		di.holiday = (sf >= -1 && sf <= 6) || ((mo == time.May || mo == time.October) && md <= 7)
		di.festival = sf >= -5 && sf < 9
		di.offWork = di.holiday || di.weekday == time.Saturday || di.weekday == time.Sunday
		c.days[d] = di
	}
	for h := range c.hourOfDay {
		c.hourOfDay[h] = int8(start.Add(time.Duration(h) * time.Hour).Hour())
	}
	return c
}
