package ingest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/reading"
	"github.com/lifang-community/lifang/store"
)

// ErrTooLarge rejects an Input of more than MaxBatch readings as a whole.
var ErrTooLarge = errors.New("ingest: batch too large")

// DefaultMaxSkew is how far in the future (by the pipeline's clock) a timestamp may be.
const DefaultMaxSkew = 5 * time.Minute

// earliest is the oldest timestamp accepted: anything before is a clock or parse fault.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Pipeline is the Sink that validates, quarantines, stores and logs. It is safe for
// concurrent use; ingests are serialised (one ledger, one writer).
type Pipeline struct {
	store store.Store
	log   *ledger.Log
	now   func() time.Time
	lg    *slog.Logger

	// MaxSkew bounds future timestamps (DefaultMaxSkew when zero).
	MaxSkew time.Duration
	// NoLedger stores readings without leaves or checkpoints: only to measure the
	// ledger's cost (bench ingest's raw figure). Never for real data.
	NoLedger bool

	mu       sync.Mutex
	last     map[string]lastValue // newest accepted value of each cumulative point
	replaced map[string][]int64   // meter replacement times by point (nil: not loaded)
}

type lastValue struct {
	t int64
	v float64
}

// NewPipeline makes a pipeline over a store and its ledger; now is the clock used for
// receive times and the future-timestamp bound.
func NewPipeline(s store.Store, l *ledger.Log, now func() time.Time, lg *slog.Logger) *Pipeline {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{store: s, log: l, now: now, lg: lg, last: map[string]lastValue{}}
}

// Reasons, as counted in Result.Reasons.
const (
	ReasonParse     = "unparseable"
	ReasonName      = "bad point name"
	ReasonUnit      = "unknown unit"
	ReasonValue     = "value out of range"
	ReasonFuture    = "timestamp in the future"
	ReasonOld       = "timestamp too old"
	ReasonConflict  = "conflicting value"
	ReasonBackwards = "cumulative register went backwards"
	ReasonEvent     = "bad event"
)

// Ingest implements Sink.
func (p *Pipeline) Ingest(ctx context.Context, in Input) (Result, error) {
	res := Result{LeafIndex: -1}
	if len(in.Readings) > MaxBatch {
		return res, fmt.Errorf("%w: %d readings, at most %d in one batch", ErrTooLarge, len(in.Readings), MaxBatch)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now().UTC()
	var rej []store.Rejected
	reject := func(raw, kind, detail string) {
		rej = append(rej, store.Rejected{Source: in.Source, Received: now, Raw: raw, Reason: kind + ": " + detail})
		if res.Reasons == nil {
			res.Reasons = map[string]int{}
		}
		res.Reasons[kind]++
	}
	for _, r := range in.Rejected {
		r.Received, r.Source = now, cmp.Or(r.Source, in.Source)
		rej = append(rej, r)
		if res.Reasons == nil {
			res.Reasons = map[string]int{}
		}
		res.Reasons[ReasonParse]++
	}
	res.Quarantined += len(in.Rejected)

	// Per-reading checks.
	skew := cmp.Or(p.MaxSkew, DefaultMaxSkew)
	type cand struct {
		r reading.Reading
		i int // index into in.Readings, for its raw text if it is rejected
	}
	cands := make([]cand, 0, len(in.Readings))
	rawOf := func(i int) string {
		if i < len(in.Raw) && in.Raw[i] != "" {
			return in.Raw[i]
		}
		r := in.Readings[i]
		return fmt.Sprintf("%s,%s,%s,%s", r.Point, reading.FormatTime(r.Time), reading.FormatValue(r.Value), r.Unit)
	}
	for i, r := range in.Readings {
		raw := func() string { return rawOf(i) }
		if err := reading.ValidName(r.Point); err != nil {
			reject(raw(), ReasonName, err.Error())
			continue
		}
		u, ok := reading.LookupUnit(r.Unit)
		if !ok {
			reject(raw(), ReasonUnit, fmt.Sprintf("%q is not a known unit (known: %s)", r.Unit, knownUnits()))
			continue
		}
		r.Unit = u.Symbol
		if r.Value == 0 {
			r.Value = 0 // −0 is 0: SQLite does not keep the sign of a zero REAL
		}
		if !reading.Finite(r.Value) || r.Value < u.Min || r.Value > u.Max {
			reject(raw(), ReasonValue, fmt.Sprintf("%s %s outside [%g, %g]", reading.FormatValue(r.Value), u.Symbol, u.Min, u.Max))
			continue
		}
		r.Time = r.Time.UTC()
		if r.Time.After(now.Add(skew)) {
			reject(raw(), ReasonFuture, fmt.Sprintf("%s is %s ahead of the receive time %s (bound %s)", reading.FormatTime(r.Time), r.Time.Sub(now).Round(time.Second), reading.FormatTime(now), skew))
			continue
		}
		if r.Time.Before(earliest) {
			reject(raw(), ReasonOld, fmt.Sprintf("%s is before %s", reading.FormatTime(r.Time), reading.FormatTime(earliest)))
			continue
		}
		cands = append(cands, cand{r: r, i: i})
	}

	// Duplicates: within the input, then against the store.
	seen := make(map[reading.Key]float64, len(cands))
	keys := make([]reading.Key, 0, len(cands))
	uniq := cands[:0]
	for _, c := range cands {
		k := c.r.Key()
		if v, dup := seen[k]; dup {
			if v == c.r.Value {
				res.Duplicates++
			} else {
				reject(rawOf(c.i), ReasonConflict, fmt.Sprintf("%s already has %s at %s in this batch", c.r.Point, reading.FormatValue(v), reading.FormatTime(c.r.Time)))
			}
			continue
		}
		seen[k] = c.r.Value
		keys = append(keys, k)
		uniq = append(uniq, c)
	}
	existing, err := p.store.Existing(ctx, keys)
	if err != nil {
		return Result{}, fmt.Errorf("ingest: %w", err)
	}
	fresh := uniq[:0]
	for _, c := range uniq {
		if v, ok := existing[c.r.Key()]; ok {
			if v == c.r.Value {
				res.Duplicates++
			} else {
				reject(rawOf(c.i), ReasonConflict, fmt.Sprintf("%s already stored %s at %s", c.r.Point, reading.FormatValue(v), reading.FormatTime(c.r.Time)))
			}
			continue
		}
		fresh = append(fresh, c)
	}

	// Cumulative registers must not go backwards (rollover excepted).
	accepted := make([]reading.Reading, 0, len(fresh))
	rs := make([]reading.Reading, len(fresh))
	for i, c := range fresh {
		rs[i] = c.r
	}
	// Meter replacements in this very input apply to its readings.
	pending := map[string][]int64{}
	for _, e := range in.Events {
		if e.Kind == reading.MeterReplaced && validEvent(e, now, skew) == nil {
			pending[e.Source] = append(pending[e.Source], e.Time.UnixNano())
		}
	}
	ok, err := p.monotonic(ctx, rs, pending)
	if err != nil {
		return Result{}, err
	}
	for i, c := range fresh {
		if why := ok[i]; why != "" {
			reject(rawOf(c.i), ReasonBackwards, why)
			continue
		}
		accepted = append(accepted, c.r)
	}

	var events []reading.Event
	for _, e := range in.Events {
		if err := validEvent(e, now, skew); err != nil {
			reject(fmt.Sprintf("%s,%s,%s", e.Kind, reading.FormatTime(e.Time), e.Source), ReasonEvent, err.Error())
			continue
		}
		e.Time = e.Time.UTC()
		events = append(events, e)
	}

	// Quarantine first: rejected input is durable before anything is acknowledged.
	if len(rej) > 0 {
		if _, err := p.store.Quarantine(ctx, rej); err != nil {
			return Result{}, fmt.Errorf("ingest: %w", err)
		}
	}
	res.Quarantined = len(rej)
	if len(accepted) == 0 && len(events) == 0 {
		res.TreeSize = p.treeSize()
		return res, nil
	}
	b := &reading.Batch{Source: in.Source, Received: now, Readings: accepted, Events: events}
	if err := p.commit(ctx, b, &res); err != nil {
		return Result{}, err
	}
	for _, e := range events {
		if e.Kind == reading.MeterReplaced {
			p.replaced[e.Source] = append(p.replaced[e.Source], e.Time.UnixNano())
			delete(p.last, e.Source)
		}
	}
	for _, r := range accepted {
		if u, _ := reading.LookupUnit(r.Unit); u.Cumulative {
			if lv, ok := p.last[r.Point]; !ok || r.Time.UnixNano() > lv.t {
				p.last[r.Point] = lastValue{t: r.Time.UnixNano(), v: r.Value}
			}
		}
	}
	res.Accepted, res.Events = len(accepted), len(events)
	return res, nil
}

func (p *Pipeline) treeSize() int64 {
	if p.log == nil {
		return 0
	}
	return p.log.Size()
}

// MaxLeafBytes bounds a leaf: the C2SP tlog-tiles entry bundle prefixes each entry
// with a 16-bit length, so a batch larger than this is split into several leaves.
const MaxLeafBytes = 1<<16 - 1

// leafBudget leaves room for the header lines under MaxLeafBytes.
const leafBudget = MaxLeafBytes - 1024

// split cuts a batch into batches whose canonical form fits in a leaf.
func split(b *reading.Batch) []*reading.Batch {
	var out []*reading.Batch
	cur := &reading.Batch{Source: b.Source, Received: b.Received}
	size := 0
	push := func() {
		out = append(out, cur)
		cur = &reading.Batch{Source: b.Source, Received: b.Received}
		size = 0
	}
	for _, r := range b.Readings {
		// point, time (≤ 35), value (≤ 24), unit, quality (≤ 11), 5 separators.
		n := len(r.Point) + len(r.Unit) + 75
		if size+n > leafBudget {
			push()
		}
		cur.Readings = append(cur.Readings, r)
		size += n
	}
	for _, e := range b.Events {
		n := len(e.Kind) + len(e.Source) + 40
		for k, v := range e.Attrs {
			n += len(k) + len(v) + 2
		}
		if size+n > leafBudget && (len(cur.Readings) > 0 || len(cur.Events) > 0) {
			push()
		}
		cur.Events = append(cur.Events, e)
		size += n
	}
	if len(cur.Readings) > 0 || len(cur.Events) > 0 {
		push()
	}
	return out
}

// commit stores the batch as one or more leaves in one transaction and signs a
// checkpoint covering them.
func (p *Pipeline) commit(ctx context.Context, b *reading.Batch, res *Result) error {
	parts := split(b)
	if p.NoLedger || p.log == nil {
		cs := make([]*store.Commit, len(parts))
		for i, part := range parts {
			cs[i] = &store.Commit{Index: -1, Batch: part}
		}
		if err := p.store.Commit(ctx, cs...); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		return nil
	}
	leaves := make([][]byte, len(parts))
	for i, part := range parts {
		leaves[i] = part.Canonical()
		if len(leaves[i]) > MaxLeafBytes {
			return fmt.Errorf("ingest: leaf of %d bytes exceeds %d", len(leaves[i]), MaxLeafBytes)
		}
	}
	first, hashes, err := p.log.PrepareMany(leaves)
	if err != nil {
		return fmt.Errorf("ingest: ledger: %w", err)
	}
	base := tlog.StoredHashIndex(0, first)
	cs := make([]*store.Commit, len(parts))
	for i, part := range parts {
		idx := first + int64(i)
		lo, hi := tlog.StoredHashIndex(0, idx)-base, tlog.StoredHashCount(idx+1)-base
		cs[i] = &store.Commit{Index: idx, Leaf: leaves[i], Batch: part, Hashes: hashes[lo:hi]}
	}
	if err := p.store.Commit(ctx, cs...); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	for _, c := range cs {
		if err := p.log.Advance(c.Index, c.Hashes); err != nil {
			return fmt.Errorf("ingest: ledger: %w", err)
		}
	}
	res.LeafIndex, res.TreeSize = cs[len(cs)-1].Index, p.log.Size()
	note, err := p.log.Sign()
	if err != nil && !errors.Is(err, ledger.ErrNoSigner) {
		return fmt.Errorf("ingest: sign checkpoint: %w", err)
	}
	if err == nil {
		if err := p.store.SaveCheckpoint(ctx, p.log.Size(), note); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		res.Checkpoint = string(note)
	}
	return nil
}

// monotonic checks cumulative registers: returns, per reading, "" when it may be
// accepted or the reason it may not. A register may grow or stay; a drop is accepted
// only as a rollover (the previous value was at least 90 % of the next power of ten
// and the new one is below 10 % of it: a counter that wrapped).
func (p *Pipeline) monotonic(ctx context.Context, rs []reading.Reading, pending map[string][]int64) ([]string, error) {
	why := make([]string, len(rs))
	if err := p.loadReplacements(ctx); err != nil {
		return nil, err
	}
	// segment numbers the meters a point has had: readings are compared only with
	// readings of the same meter (between two replacements).
	segment := func(pt string, t int64) int {
		n := 0
		for _, r := range p.replaced[pt] {
			if r <= t {
				n++
			}
		}
		for _, r := range pending[pt] {
			if r <= t {
				n++
			}
		}
		return n
	}
	byPoint := map[string][]int{}
	for i, r := range rs {
		if u, _ := reading.LookupUnit(r.Unit); u.Cumulative {
			byPoint[r.Point] = append(byPoint[r.Point], i)
		}
	}
	points := make([]string, 0, len(byPoint))
	for pt := range byPoint {
		points = append(points, pt)
	}
	slices.Sort(points)
	for _, pt := range points {
		idx := byPoint[pt]
		slices.SortStableFunc(idx, func(a, b int) int { return rs[a].Time.Compare(rs[b].Time) })
		first, lastT := rs[idx[0]].Time, rs[idx[len(idx)-1]].Time
		// Stored readings that bracket or interleave with the batch.
		type obs struct {
			t      int64
			v      float64
			stored bool
			i      int
			seg    int
		}
		var seq []obs
		replacedMeter := len(p.replaced[pt])+len(pending[pt]) > 0
		if lv, ok := p.last[pt]; ok && lv.t < first.UnixNano() && !replacedMeter {
			seq = append(seq, obs{t: lv.t, v: lv.v, stored: true})
		} else {
			prev, _, err := p.store.Neighbours(ctx, pt, first)
			if err != nil {
				return nil, fmt.Errorf("ingest: %w", err)
			}
			if prev != nil {
				seq = append(seq, obs{t: prev.Time.UnixNano(), v: prev.Value, stored: true})
			}
			inside, err := p.store.Range(ctx, pt, first, lastT.Add(time.Nanosecond))
			if err != nil {
				return nil, fmt.Errorf("ingest: %w", err)
			}
			for _, r := range inside {
				seq = append(seq, obs{t: r.Time.UnixNano(), v: r.Value, stored: true})
			}
			_, next, err := p.store.Neighbours(ctx, pt, lastT)
			if err != nil {
				return nil, fmt.Errorf("ingest: %w", err)
			}
			if next != nil {
				seq = append(seq, obs{t: next.Time.UnixNano(), v: next.Value, stored: true})
			}
		}
		for _, i := range idx {
			seq = append(seq, obs{t: rs[i].Time.UnixNano(), v: rs[i].Value, i: i})
		}
		slices.SortStableFunc(seq, func(a, b obs) int { return cmp.Compare(a.t, b.t) })
		for k := range seq {
			seq[k].seg = segment(pt, seq[k].t)
		}
		nextStored := func(k int) (float64, bool) {
			for _, o := range seq[k+1:] {
				if o.seg != seq[k].seg {
					break
				}
				if o.stored {
					return o.v, true
				}
			}
			return 0, false
		}
		// Walk in time order; a candidate must not be below the last good value before
		// it nor above the first stored value after it, on the same meter.
		lastGood, have, seg := 0.0, false, -1
		for k, o := range seq {
			if o.seg != seg {
				have, seg = false, o.seg
			}
			if o.stored {
				lastGood, have = o.v, true
				continue
			}
			if have && o.v < lastGood && !rollover(lastGood, o.v) {
				why[o.i] = fmt.Sprintf("%s fell from %s to %s at %s", pt, reading.FormatValue(lastGood), reading.FormatValue(o.v), reading.FormatTime(time.Unix(0, o.t)))
				continue
			}
			if nv, ok := nextStored(k); ok && o.v > nv && !rollover(o.v, nv) {
				why[o.i] = fmt.Sprintf("%s %s at %s is above the later stored %s", pt, reading.FormatValue(o.v), reading.FormatTime(time.Unix(0, o.t)), reading.FormatValue(nv))
				continue
			}
			lastGood, have = o.v, true
		}
	}
	return why, nil
}

// loadReplacements reads the meter replacements once.
func (p *Pipeline) loadReplacements(ctx context.Context) error {
	if p.replaced != nil {
		return nil
	}
	evs, err := p.store.Events(ctx, reading.MeterReplaced)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	p.replaced = map[string][]int64{}
	for _, e := range evs {
		p.replaced[e.Source] = append(p.replaced[e.Source], e.Time.UnixNano())
	}
	return nil
}

// rollover reports whether a drop from prev to v is a counter wrapping at a power of ten.
func rollover(prev, v float64) bool {
	if prev <= 0 || v < 0 {
		return false
	}
	limit := math.Pow(10, math.Ceil(math.Log10(prev+1)))
	return prev >= 0.9*limit && v <= 0.1*limit
}

func validEvent(e reading.Event, now time.Time, skew time.Duration) error {
	if err := reading.ValidName(string(e.Kind)); err != nil {
		return fmt.Errorf("kind: %w", err)
	}
	if err := reading.ValidName(e.Source); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	for k, v := range e.Attrs {
		if err := reading.ValidName(k); err != nil {
			return fmt.Errorf("attribute: %w", err)
		}
		if v != "" {
			if err := reading.ValidAttrValue(v); err != nil {
				return fmt.Errorf("attribute %s: %w", k, err)
			}
		}
	}
	if e.Time.After(now.Add(skew)) || e.Time.Before(earliest) {
		return fmt.Errorf("timestamp %s outside [%s, now + %s]", reading.FormatTime(e.Time), reading.FormatTime(earliest), skew)
	}
	return nil
}

func knownUnits() string {
	s := make([]string, len(reading.Units))
	for i, u := range reading.Units {
		s[i] = u.Symbol
	}
	return strings.Join(s, ", ")
}
