package disclosure

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lifang-community/lifang/reading"
)

// LeafSource is what metered figures are derived from: the batches stored
// under the log's leaves. store.Store and *audit.Export both provide it, so the
// report derives from the database and verify from the export, by one code path.
type LeafSource interface {
	BatchReadings(ctx context.Context, index int64) (*reading.Batch, error)
}

// HouseholdMetersFile, in data/, lists the meters the unit's commissioning declares
// household-level, one per line: the auditor's copy, under the signed manifest (the
// names are not for publication, so pack.json does not carry them).
const HouseholdMetersFile = "household_meters.txt"

// HouseholdRule says which points are household-level. The declaration is what
// counts: a meter the unit's commissioning (site.meters[].household_level) declares
// household-level is listed in data/household_meters.txt, and its points are those
// named "<meter>/…" — whatever the meter is called (101室, room101, unit-102). A name
// that merely looks like a household's is treated as one as well (never published),
// and the pack notes it as undeclared.
const HouseholdRule = "a point is household-level if its first name segment is a meter listed in data/household_meters.txt " +
	"(declared household_level in the unit's site: section; that meter is the household), or if a segment of its name " +
	`matches (?i)^(household|hh|apt|apartment|flat|home)([-_.]?[0-9][0-9a-z_.-]*)?$` +
	" (then its household is the name up to and including that segment, and the pack notes it as undeclared)"

var householdSegment = regexp.MustCompile(`(?i)^(household|hh|apt|apartment|flat|home)([-_.]?[0-9][0-9a-z_.-]*)?$`)

// households says which points are household-level: the declared meters, then the
// name pattern.
type households map[string]bool

// of returns the household a point belongs to, if it is household-level, and whether
// it was declared.
func (h households) of(point string) (house string, ok, declared bool) {
	segs := strings.Split(point, "/")
	if h[segs[0]] {
		return segs[0], true, true
	}
	for i, s := range segs {
		if householdSegment.MatchString(s) {
			return strings.Join(segs[:i+1], "/"), true, false
		}
	}
	return "", false, false
}

// readHouseholdMeters reads data/household_meters.txt.
func readHouseholdMeters(dataDir string) (households, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, HouseholdMetersFile))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", DataDir, HouseholdMetersFile, err)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%s/%s: not UTF-8 text", DataDir, HouseholdMetersFile)
	}
	var ms []string
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if line == "" {
			continue
		}
		if err := reading.ValidName(line); err != nil || strings.Contains(line, "/") {
			return nil, fmt.Errorf("%s/%s:%d: %q is not a meter id", DataDir, HouseholdMetersFile, i+1, truncate(line, 80))
		}
		ms = append(ms, line)
	}
	return declared(ms), nil
}

// declared is the households of a list of declared meters.
func declared(meters []string) households {
	h := households{}
	for _, m := range meters {
		h[m] = true
	}
	return h
}

// household is households{}.of without declarations (the name pattern only).
func household(point string) (string, bool) {
	h, ok, _ := households(nil).of(point)
	return h, ok
}

type obs struct {
	t int64 // Unix nanoseconds
	v float64
}

// series is one point's readings in one unit, in time order.
type series struct {
	point, unit string
	obs         []obs
}

// metered is the signed data a pack's figures derive from.
type metered struct {
	cp       CheckpointRef
	series   []*series                  // sorted by point, then unit
	replaced map[string][]reading.Event // meter_replaced events by point, in time order
	from, to int64                      // span of all readings
	readings int
	houses   households // declared household meters
}

// collect reads every reading under leaves [0, cp.TreeSize).
func collect(ctx context.Context, src LeafSource, cp CheckpointRef) (*metered, error) {
	m := &metered{cp: cp, replaced: map[string][]reading.Event{}, from: math.MaxInt64, to: math.MinInt64}
	byKey := map[[2]string]*series{}
	for i := range cp.TreeSize {
		b, err := src.BatchReadings(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("leaf %d: %w", i, err)
		}
		for _, r := range b.Readings {
			k := [2]string{r.Point, r.Unit}
			s := byKey[k]
			if s == nil {
				s = &series{point: r.Point, unit: r.Unit}
				byKey[k] = s
				m.series = append(m.series, s)
			}
			t := r.Time.UnixNano()
			s.obs = append(s.obs, obs{t: t, v: r.Value})
			m.from, m.to = min(m.from, t), max(m.to, t)
			m.readings++
		}
		for _, e := range b.Events {
			if e.Kind == reading.MeterReplaced {
				m.replaced[e.Source] = append(m.replaced[e.Source], e)
			}
		}
	}
	slices.SortFunc(m.series, func(a, b *series) int {
		return cmp.Or(strings.Compare(a.point, b.point), strings.Compare(a.unit, b.unit))
	})
	for _, s := range m.series {
		slices.SortStableFunc(s.obs, func(a, b obs) int { return cmp.Compare(a.t, b.t) })
	}
	for _, evs := range m.replaced {
		slices.SortStableFunc(evs, func(a, b reading.Event) int { return a.Time.Compare(b.Time) })
	}
	return m, nil
}

func formatNanos(t int64) string { return reading.FormatTime(time.Unix(0, t)) }

// cumulative reports whether a unit is a register that only grows.
func cumulative(unit string) bool {
	u, ok := reading.LookupUnit(unit)
	return ok && u.Cumulative
}

// energyKWh is the factor from an energy unit to kWh; ok is false for other units.
func energyKWh(unit string) (*big.Rat, bool) {
	switch unit {
	case "kWh":
		return big.NewRat(1, 1), true
	case "Wh":
		return big.NewRat(1, 1000), true
	case "MWh":
		return big.NewRat(1000, 1), true
	}
	return nil, false
}

// consumptionDerivation is the derivation text of a register's consumption.
const consumptionDerivation = "Σ (vᵢ − vᵢ₋₁) over consecutive readings of one meter in time order, in exact decimals; " +
	"a wrap at 10ᵏ (as the ingest pipeline accepts it) adds 10ᵏ − vᵢ₋₁ + vᵢ; across a meter_replaced event " +
	"adds (old_final − vᵢ₋₁) and (vᵢ − new_initial) where the event gives them"

// consumption is the register advance of a cumulative series over its readings,
// and the number of drops that were neither a wrap nor a replacement (counted as
// a restart from the lower value; the pipeline does not accept them, so they
// only appear in data it did not validate).
func consumption(s *series, repl []reading.Event) (total *big.Rat, restarts int) {
	total = new(big.Rat)
	segment := func(t int64) int {
		n := 0
		for _, e := range repl {
			if e.Time.UnixNano() <= t {
				n++
			}
		}
		return n
	}
	for i := 1; i < len(s.obs); i++ {
		p, c := s.obs[i-1], s.obs[i]
		pv, cv := ratOf(p.v), ratOf(c.v)
		if sp, sc := segment(p.t), segment(c.t); sp != sc {
			// Replacements between the two readings: the old register's final and
			// the new one's initial value, where the events carry them.
			first, last := repl[sp], repl[sc-1]
			if f, ok := parseDecimal(first.Attrs["old_final"]); ok && f.Cmp(pv) >= 0 {
				total.Add(total, f.Sub(f, pv))
			}
			if n, ok := parseDecimal(last.Attrs["new_initial"]); ok && n.Cmp(cv) <= 0 {
				total.Add(total, n.Sub(cv, n))
			}
			continue
		}
		switch {
		case cv.Cmp(pv) >= 0:
			total.Add(total, new(big.Rat).Sub(cv, pv))
		case rollover(p.v, c.v):
			k := int(math.Ceil(math.Log10(p.v + 1)))
			d := pow10(k)
			d.Sub(d, pv)
			total.Add(total, d.Add(d, cv))
		default:
			restarts++
		}
	}
	return total, restarts
}

// rollover is the ingest pipeline's test for a counter wrapping at a power of
// ten (ingest/pipeline.go), so consumption counts exactly the wraps it accepted.
func rollover(prev, v float64) bool {
	if prev <= 0 || v < 0 {
		return false
	}
	limit := math.Pow(10, math.Ceil(math.Log10(prev+1)))
	return prev >= 0.9*limit && v <= 0.1*limit
}

// meteredFigures are the per-point figures: count, and consumption or sum. When
// households exist their points are left out (they enter only the private
// aggregate), and the names of those left out are not listed.
func meteredFigures(m *metered, withHouseholds bool) []Figure {
	cp := m.cp
	units := map[string]int{}
	for _, s := range m.series {
		units[s.point]++
	}
	var out []Figure
	for _, s := range m.series {
		if _, hh, _ := m.houses.of(s.point); hh && withHouseholds {
			continue
		}
		name := s.point
		if units[s.point] > 1 {
			name += "[" + s.unit + "]"
		}
		prov := Provenance{Checkpoint: &cp, Points: []string{s.point},
			From: formatNanos(s.obs[0].t), To: formatNanos(s.obs[len(s.obs)-1].t)}
		leaves := fmt.Sprintf("leaves 0…%d of checkpoint %s@%d", cp.TreeSize-1, cp.Origin, cp.TreeSize)
		out = append(out, Figure{
			ID: "meter/" + name + "/readings", LabelZH: name + " 读数条数", LabelEN: name + " readings",
			Value: json.Number(strconv.Itoa(len(s.obs))), Unit: "readings",
			Derivation: fmt.Sprintf("count of readings of %s in %s (unit %s)", s.point, leaves, s.unit),
			Provenance: prov,
		})
		if cumulative(s.unit) {
			total, restarts := consumption(s, m.replaced[s.point])
			d := consumptionDerivation + "; readings in " + leaves
			if restarts > 0 {
				d += fmt.Sprintf("; %d drop(s) that were neither a wrap nor a replacement counted as restarts", restarts)
			}
			out = append(out, Figure{
				ID: "meter/" + name + "/consumption", LabelZH: name + " 用量（寄存器增量）", LabelEN: name + " consumption (register advance)",
				Value: json.Number(decimalString(total)), Unit: s.unit, Derivation: d, Provenance: prov,
			})
			continue
		}
		sum := new(big.Rat)
		for _, o := range s.obs {
			sum.Add(sum, ratOf(o.v))
		}
		out = append(out, Figure{
			ID: "meter/" + name + "/sum", LabelZH: name + " 读数之和", LabelEN: name + " sum of readings",
			Value: json.Number(decimalString(sum)), Unit: s.unit,
			Derivation: "Σ vᵢ over every reading, in exact decimals; readings in " + leaves,
			Provenance: prov,
		})
	}
	return out
}
