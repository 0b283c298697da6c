package report

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// ChartKind selects how a Chart draws its series.
type ChartKind string

// Chart kinds. The zero ChartKind draws a Line chart.
const (
	Line       ChartKind = "line"
	Bar        ChartKind = "bar"
	StackedBar ChartKind = "stacked-bar"
)

// Chart is one inline SVG chart.
//
// For a Line chart, X labels point i of every series; labels are thinned so they
// do not overlap, and series longer than maxLinePoints are downsampled keeping
// each bucket's minimum and maximum. For Bar and StackedBar charts, X names the
// categories; bars are grouped (Bar) or stacked with positives up and negatives
// down from zero (StackedBar). NaN values are skipped: a gap in a line, no bar.
type Chart struct {
	Title, XLabel, YLabel string
	Kind                  ChartKind
	X                     []string
	Series                []ChartSeries
}

// ChartSeries is one named series of values; Values[i] belongs to Chart.X[i].
type ChartSeries struct {
	Name   string
	Values []float64
}

// Chart geometry in SVG user units; the SVG scales to the width of its container.
const (
	chartWidth    = 960.0
	plotHeight    = 300.0
	fontSize      = 12.0
	legendRowH    = 20.0
	maxLinePoints = 1500
	// maxAxisLabel caps an axis label's length in runes; the full text stays in
	// the bar's tooltip and the table the chart usually sits next to.
	maxAxisLabel = 24
)

// palette is Okabe & Ito's colour-blind-safe set ("Color Universal Design",
// 2008), with yellow last because it is the weakest on white. Series past the
// eighth reuse the colours; their lines are dashed so they stay distinct.
var palette = [...]string{"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#1F1F1F", "#F0E442"}

const (
	colorText   = "#4B5563"
	colorGrid   = "#E5E7EB"
	colorAxis   = "#9CA3AF"
	colorZero   = "#6B7280"
	colorNoData = "#9CA3AF"
)

// renderChart draws c as a standalone <svg> element; id makes its <title> and
// <desc> ids unique within the page.
func renderChart(c Chart, id string) (string, error) {
	kind := c.Kind
	if kind == "" {
		kind = Line
	}
	if kind != Line && kind != Bar && kind != StackedBar {
		return "", fmt.Errorf("unknown chart kind %q (want %q, %q or %q)", c.Kind, Line, Bar, StackedBar)
	}

	// Points (line) or categories (bar). A line label without a value draws
	// nothing, so only bar charts widen the axis for extra labels.
	n := 0
	for _, s := range c.Series {
		n = max(n, len(s.Values))
	}
	if kind != Line {
		n = max(n, len(c.X))
	}

	lo, hi, ok := valueRange(c.Series, kind == StackedBar)
	if !ok {
		lo, hi = 0, 1
	}
	switch {
	case kind != Line: // bars grow from zero
		lo, hi = min(lo, 0), max(hi, 0)
	case lo > 0 && lo <= hi/2:
		lo = 0
	case hi < 0 && hi >= lo/2:
		hi = 0
	}
	ticks := niceTicks(lo, hi, 5)
	y0, y1 := ticks[0], ticks[len(ticks)-1]
	tickLabels := formatTicks(ticks)

	// Horizontal layout: y tick labels and the rotated y label on the left.
	left := 10.0
	if c.YLabel != "" {
		left += fontSize + 10
	}
	maxTickW := 0.0
	for _, t := range tickLabels {
		maxTickW = max(maxTickW, textWidth(t, fontSize))
	}
	left += maxTickW + 8
	right := 16.0

	// X labels: show every one if they fit, else rotate them, else thin them.
	labels := make([]string, len(c.X))
	for i, l := range c.X {
		labels[i] = truncate(l, maxAxisLabel)
	}
	maxLabelW := 0.0
	for _, l := range labels {
		maxLabelW = max(maxLabelW, textWidth(l, fontSize))
	}
	if kind == Line && len(labels) > 0 && n > 1 {
		// The last label is centred on the right edge of the plot.
		right = max(right, textWidth(labels[min(n, len(labels))-1], fontSize)/2+4)
	}
	plotW := chartWidth - left - right
	slot := plotW / float64(max(n, 1)) // bar band width
	if kind == Line && n > 1 {
		slot = plotW / float64(n-1)
	}
	stride, rotate := labelPlan(maxLabelW, slot, plotW)
	stride = niceStride(stride, n)
	labelsH := 0.0
	if maxLabelW > 0 {
		labelsH = fontSize + 8
		if rotate {
			labelsH = maxLabelW*math.Sqrt2/2 + fontSize + 6
		}
	}
	if kind == Line && rotate {
		right = 16 // rotated labels end at their point
		plotW = chartWidth - left - right
	}

	// Legend above the plot, wrapped to the plot width.
	type legendItem struct{ x, y float64 }
	var legend []legendItem
	hasLegend := false
	for _, s := range c.Series {
		if s.Name != "" {
			hasLegend = true
		}
	}
	top := 14.0
	if hasLegend {
		x, row := left, 0
		for _, s := range c.Series {
			w := 22 + textWidth(s.Name, fontSize) + 18
			if x+w > chartWidth-right && x > left {
				x, row = left, row+1
			}
			legend = append(legend, legendItem{x, 4 + float64(row)*legendRowH})
			x += w
		}
		top = 4 + float64(row+1)*legendRowH + 10
	}
	bottom := 6 + labelsH
	if c.XLabel != "" {
		bottom += fontSize + 12
	}
	height := math.Ceil(top + plotHeight + bottom)

	ys := func(v float64) float64 { return top + plotHeight*(y1-v)/(y1-y0) }
	xs := func(i int) float64 { // x of point i (line) or centre of category i (bar)
		if kind != Line {
			return left + (float64(i)+0.5)*plotW/float64(max(n, 1))
		}
		if n <= 1 {
			return left + plotW/2
		}
		return left + float64(i)*plotW/float64(n-1)
	}

	var b strings.Builder
	title := c.Title
	if title == "" {
		title = "Chart"
	}
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-t %s-d" font-size="%s">`,
		ff(chartWidth), ff(height), id, id, ff(fontSize))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, id, esc(title), id, esc(describe(c, kind, n)))

	// Legend.
	for i, s := range c.Series {
		if !hasLegend {
			break
		}
		it := legend[i]
		col := seriesColor(i)
		if kind == Line {
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="3" stroke-linecap="round"%s/>`,
				ff(it.x+1), ff(it.y+8), ff(it.x+17), ff(it.y+8), col, dash(i))
		} else {
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="12" height="12" rx="2" fill="%s"/>`, ff(it.x+3), ff(it.y+2), col)
		}
		fmt.Fprintf(&b, `<text x="%s" y="%s" fill="#1F2937">%s</text>`, ff(it.x+22), ff(it.y+12), esc(s.Name))
	}

	// Grid and y ticks.
	b.WriteString(`<g stroke="` + colorGrid + `" stroke-width="1">`)
	for _, t := range ticks {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s"/>`, ff(left), ff(ys(t)), ff(left+plotW), ff(ys(t)))
	}
	b.WriteString(`</g>`)
	fmt.Fprintf(&b, `<g fill="%s" text-anchor="end">`, colorText)
	for i, t := range ticks {
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, ff(left-8), ff(ys(t)+4), esc(tickLabels[i]))
	}
	b.WriteString(`</g>`)

	// Data.
	if ok && n > 0 {
		switch kind {
		case Line:
			drawLines(&b, c.Series, n, xs, ys)
		case Bar:
			drawBars(&b, c, n, plotW, xs, ys)
		case StackedBar:
			drawStacked(&b, c, n, plotW, xs, ys)
		}
	} else {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="%s" font-size="16">No data</text>`,
			ff(left+plotW/2), ff(top+plotHeight/2), colorNoData)
	}

	// Baseline and zero line on top of the data.
	fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, ff(left), ff(top+plotHeight), ff(left+plotW), ff(top+plotHeight), colorAxis)
	if y0 < 0 && y1 > 0 {
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.25"/>`, ff(left), ff(ys(0)), ff(left+plotW), ff(ys(0)), colorZero)
	}

	// X labels.
	if maxLabelW > 0 && n > 0 {
		base := top + plotHeight
		fmt.Fprintf(&b, `<g fill="%s">`, colorText)
		for i := 0; i < n && i < len(labels); i += stride {
			x := xs(i)
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`, ff(x), ff(base), ff(x), ff(base+4), colorAxis)
			if rotate {
				fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end" transform="rotate(-45 %s %s)">%s</text>`,
					ff(x+3), ff(base+14), ff(x+3), ff(base+14), esc(labels[i]))
				continue
			}
			anchor := "middle"
			if kind == Line && n > 1 && i == 0 && textWidth(labels[i], fontSize)/2 > left {
				anchor = "start"
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s">%s</text>`, ff(x), ff(base+fontSize+6), anchor, esc(labels[i]))
		}
		b.WriteString(`</g>`)
	}

	// Axis titles.
	if c.XLabel != "" {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#374151">%s</text>`,
			ff(left+plotW/2), ff(height-8), esc(c.XLabel))
	}
	if c.YLabel != "" {
		cx, cy := 10+fontSize/2+2, top+plotHeight/2
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle" fill="#374151" transform="rotate(-90 %s %s)">%s</text>`,
			ff(cx), ff(cy), ff(cx), ff(cy), esc(c.YLabel))
	}
	b.WriteString(`</svg>`)
	return b.String(), nil
}

func drawLines(b *strings.Builder, series []ChartSeries, n int, xs func(int) float64, ys func(float64) float64) {
	markers := n <= 40
	width := "1.75"
	if n > 500 { // dense lines merge into bands; thinner lines show more of them
		width = "1.25"
	}
	for si, s := range series {
		col := seriesColor(si)
		fmt.Fprintf(b, `<path fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round" stroke-linecap="round"%s d="`, col, width, dash(si))
		seg := 0 // points in the current segment
		for _, i := range downsample(s.Values, maxLinePoints) {
			v := s.Values[i]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if seg == 1 {
					b.WriteString("h0") // an isolated point shows as a dot
				}
				seg = 0
				continue
			}
			if seg == 0 {
				b.WriteByte('M')
			} else {
				b.WriteByte('L')
			}
			b.WriteString(ff(xs(i)) + " " + ff(ys(v)))
			seg++
		}
		if seg == 1 {
			b.WriteString("h0")
		}
		b.WriteString(`">`)
		if s.Name != "" {
			b.WriteString(`<title>` + esc(s.Name) + `</title>`)
		}
		b.WriteString(`</path>`)
		if markers {
			fmt.Fprintf(b, `<g fill="%s">`, col)
			for i, v := range s.Values {
				if finite(v) {
					fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3"/>`, ff(xs(i)), ff(ys(v)))
				}
			}
			b.WriteString(`</g>`)
		}
	}
}

func drawBars(b *strings.Builder, c Chart, n int, plotW float64, xs func(int) float64, ys func(float64) float64) {
	band := plotW / float64(n)
	k := len(c.Series)
	group := band * 0.8
	switch {
	case band < 4: // gaps narrower than a pixel only blur dense bars
		group = band
	case k == 1:
		group = band * 0.7
	}
	w := group / float64(k)
	inner := w
	if w >= 4 {
		inner = w * 0.9
	}
	for si, s := range c.Series {
		fmt.Fprintf(b, `<g fill="%s">`, seriesColor(si))
		for i, v := range s.Values {
			if !finite(v) {
				continue
			}
			x := xs(i) - group/2 + float64(si)*w + (w-inner)/2
			bar(b, x, inner, ys(max(v, 0)), ys(min(v, 0)), tooltip(c, si, i, v))
		}
		b.WriteString(`</g>`)
	}
}

func drawStacked(b *strings.Builder, c Chart, n int, plotW float64, xs func(int) float64, ys func(float64) float64) {
	w := plotW / float64(n)
	if w >= 4 {
		w *= 0.7
	}
	pos := make([]float64, n)
	neg := make([]float64, n)
	sep := ""
	if w >= 6 {
		sep = ` stroke="#FFFFFF" stroke-width="0.75"`
	}
	for si, s := range c.Series {
		fmt.Fprintf(b, `<g fill="%s"%s>`, seriesColor(si), sep)
		for i, v := range s.Values {
			if !finite(v) || v == 0 {
				continue
			}
			var from, to float64
			if v > 0 {
				from, to = pos[i], pos[i]+v
				pos[i] = to
			} else {
				from, to = neg[i]+v, neg[i]
				neg[i] = from
			}
			bar(b, xs(i)-w/2, w, ys(to), ys(from), tooltip(c, si, i, v))
		}
		b.WriteString(`</g>`)
	}
}

// bar draws one rectangle from yTop down to yBottom with a native tooltip.
func bar(b *strings.Builder, x, w, yTop, yBottom float64, tip string) {
	h := max(yBottom-yTop, 0.5) // a zero still shows as a hairline
	fmt.Fprintf(b, `<rect x="%s" y="%s" width="%s" height="%s"><title>%s</title></rect>`,
		ff(x), ff(min(yTop, yBottom-0.5)), ff(w), ff(h), esc(tip))
}

func tooltip(c Chart, si, i int, v float64) string {
	var parts []string
	if c.Series[si].Name != "" {
		parts = append(parts, c.Series[si].Name)
	}
	if i < len(c.X) && c.X[i] != "" {
		parts = append(parts, c.X[i])
	}
	parts = append(parts, formatValue(v))
	return strings.Join(parts, " · ")
}

// valueRange is the smallest and largest finite value (or, stacked, the most
// negative and most positive stack); ok is false when there is none.
func valueRange(series []ChartSeries, stacked bool) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	if stacked {
		var pos, neg []float64
		for _, s := range series {
			for i, v := range s.Values {
				if !finite(v) {
					continue
				}
				for len(pos) <= i {
					pos, neg = append(pos, 0), append(neg, 0)
				}
				if v > 0 {
					pos[i] += v
				} else {
					neg[i] += v
				}
				ok = true
			}
		}
		for i := range pos {
			lo, hi = min(lo, neg[i]), max(hi, pos[i])
		}
		return lo, hi, ok
	}
	for _, s := range series {
		for _, v := range s.Values {
			if finite(v) {
				lo, hi, ok = min(lo, v), max(hi, v), true
			}
		}
	}
	return lo, hi, ok
}

// niceTicks returns evenly spaced tick values on a 1-2-5 step, about target
// intervals, whose first tick is ≤ lo and last ≥ hi. It always returns at least
// two ticks; a degenerate or non-finite range is widened.
func niceTicks(lo, hi float64, target int) []float64 {
	if !finite(lo) || !finite(hi) {
		lo, hi = 0, 1
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	if lo == hi {
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	target = max(target, 1)
	raw := (hi - lo) / float64(target)
	exp := math.Floor(math.Log10(raw))
	f := raw / math.Pow(10, exp)
	var m float64
	switch {
	case f < 1.5:
		m = 1
	case f < 3:
		m = 2
	case f < 7:
		m = 5
	default:
		m, exp = 1, exp+1
	}
	// Tick i is i·m·10^exp; dividing by 10^-exp keeps 0.1, 0.2, ... exact.
	val := func(i float64) float64 {
		if exp < 0 {
			return i * m / math.Pow(10, -exp)
		}
		return i * m * math.Pow(10, exp)
	}
	step := val(1)
	first := math.Floor(lo/step + 1e-9)
	last := math.Ceil(hi/step - 1e-9)
	ticks := make([]float64, 0, int(last-first)+1)
	for i := first; i <= last; i++ {
		ticks = append(ticks, val(i)+0) // +0 turns -0 into 0
	}
	if len(ticks) < 2 {
		ticks = append(ticks, val(last+1))
	}
	return ticks
}

// formatTicks labels ticks with just enough decimals for their step, scaling
// large values to k/M/B so the labels stay short.
func formatTicks(ticks []float64) []string {
	big := max(math.Abs(ticks[0]), math.Abs(ticks[len(ticks)-1]))
	scale, suffix := 1.0, ""
	switch {
	case big >= 1e9:
		scale, suffix = 1e9, "B"
	case big >= 1e6:
		scale, suffix = 1e6, "M"
	case big >= 1e4:
		scale, suffix = 1e3, "k"
	}
	step := (ticks[1] - ticks[0]) / scale
	dp := 0
	for dp < 6 && math.Abs(step*math.Pow(10, float64(dp))-math.Round(step*math.Pow(10, float64(dp)))) > 1e-6 {
		dp++
	}
	out := make([]string, len(ticks))
	for i, t := range ticks {
		out[i] = FormatNumber(t/scale, dp) + suffix
		if t == 0 {
			out[i] = "0"
		}
	}
	return out
}

// downsample returns the indices of at most maxPoints values of vals, in order,
// keeping the first and last value and the minimum and maximum of each of
// (maxPoints-2)/2 equal buckets, so the global extremes and every spike survive.
// A bucket with no finite value keeps one NaN index so a gap stays a gap.
func downsample(vals []float64, maxPoints int) []int {
	n := len(vals)
	if n <= maxPoints || maxPoints < 4 {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	buckets := (maxPoints - 2) / 2
	idx := make([]int, 0, maxPoints)
	add := func(i int) {
		if len(idx) == 0 || idx[len(idx)-1] < i {
			idx = append(idx, i)
		}
	}
	add(0)
	for k := range buckets {
		from, to := 1+k*(n-2)/buckets, 1+(k+1)*(n-2)/buckets
		lo, hi := -1, -1
		for i := from; i < to; i++ {
			if !finite(vals[i]) {
				continue
			}
			if lo < 0 || vals[i] < vals[lo] {
				lo = i
			}
			if hi < 0 || vals[i] > vals[hi] {
				hi = i
			}
		}
		switch {
		case lo < 0:
			if from < to {
				add(from)
			}
		default:
			add(min(lo, hi))
			add(max(lo, hi))
		}
	}
	add(n - 1)
	return idx
}

// labelPlan decides how x labels of width labelW fit one per slot on an axis of
// width plotW: every label flat if it fits, every label rotated 45° if the
// rotated text fits, else every stride-th label, flat when short, rotated when long.
func labelPlan(labelW, slot, plotW float64) (stride int, rotate bool) {
	if labelW == 0 {
		return 1, false
	}
	const gap, rotSlot = 10.0, fontSize + 4
	switch {
	case labelW+gap <= slot:
		return 1, false
	case rotSlot <= slot:
		return 1, true
	case plotW/(labelW+gap) >= 6:
		return int(math.Ceil((labelW + gap) / slot)), false
	default:
		return int(math.Ceil(rotSlot / slot)), true
	}
}

// niceStride rounds a label stride up to 1, 2 or 5 × 10^k so labelled points
// are evenly spaced in round numbers; an axis of whole days of hourly points
// (n a multiple of 24) is labelled at whole days, so every label is a midnight.
func niceStride(stride, n int) int {
	if stride <= 1 {
		return 1
	}
	unit := 1
	if n%24 == 0 && stride > 24 {
		unit = 24
	}
	q := (stride + unit - 1) / unit
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= q {
				return m * p * unit
			}
		}
	}
}

// describe is the chart's <desc>: what it shows and a min/mean/max per series,
// so a screen reader (or a text-only reader) gets the gist.
func describe(c Chart, kind ChartKind, n int) string {
	var b strings.Builder
	switch kind {
	case Line:
		fmt.Fprintf(&b, "Line chart of %d series over %d points.", len(c.Series), n)
	case Bar:
		fmt.Fprintf(&b, "Bar chart of %d series over %d categories.", len(c.Series), n)
	case StackedBar:
		fmt.Fprintf(&b, "Stacked bar chart of %d series over %d categories.", len(c.Series), n)
	}
	if c.XLabel != "" {
		b.WriteString(" X axis: " + c.XLabel + ".")
	}
	if c.YLabel != "" {
		b.WriteString(" Y axis: " + c.YLabel + ".")
	}
	for i, s := range c.Series {
		name := s.Name
		if name == "" {
			name = "Series " + strconv.Itoa(i+1)
		}
		cnt, sum, lo, hi := 0, 0.0, math.Inf(1), math.Inf(-1)
		for _, v := range s.Values {
			if finite(v) {
				cnt, sum, lo, hi = cnt+1, sum+v, min(lo, v), max(hi, v)
			}
		}
		if cnt == 0 {
			fmt.Fprintf(&b, " %s: no data.", name)
			continue
		}
		fmt.Fprintf(&b, " %s: min %s, mean %s, max %s.", name, formatValue(lo), formatValue(sum/float64(cnt)), formatValue(hi))
	}
	return b.String()
}

// formatValue formats a data value for tooltips and descriptions with
// decimals that suit its size.
func formatValue(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return FormatNumber(v, 0)
	case a >= 10:
		return FormatNumber(v, 1)
	case a >= 0.1 || a == 0:
		return FormatNumber(v, 2)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

func seriesColor(i int) string { return palette[i%len(palette)] }

// dash makes series past the palette's length distinguishable from the first round.
func dash(i int) string {
	if i < len(palette) {
		return ""
	}
	return ` stroke-dasharray="6 3"`
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ff formats an SVG coordinate with one decimal, dropping a trailing ".0".
func ff(v float64) string {
	s := strconv.FormatFloat(math.Round(v*10)/10+0, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == "-0" {
		s = "0"
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// textWidth estimates the rendered width of s at size px in a sans-serif
// font; CJK and full-width characters are square.
func textWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
			(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF):
			w += 1
		case r == ' ' || r == '.' || r == ',' || r == ':' || r == '\'' || r == 'i' || r == 'l' || r == 'j':
			w += 0.3
		case unicode.IsUpper(r) || r == 'm' || r == 'w':
			w += 0.7
		default:
			w += 0.56
		}
	}
	return w * size
}
