package report

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []float64
	}{
		{0, 937, []float64{0, 200, 400, 600, 800, 1000}},
		{-3.2, 7.9, []float64{-4, -2, 0, 2, 4, 6, 8}},
		{0, 1, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
		{0.3, 0.7, []float64{0.3, 0.4, 0.5, 0.6, 0.7}},
		{0, 1.2e6, []float64{0, 200000, 400000, 600000, 800000, 1e6, 1.2e6}},
		{5, 5, []float64{4.4, 4.6, 4.8, 5, 5.2, 5.4, 5.6}},
		{0, 0, []float64{-1, -0.5, 0, 0.5, 1}},
		{7.9, -3.2, []float64{-4, -2, 0, 2, 4, 6, 8}},
		{math.NaN(), 3, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}},
	}
	for _, tt := range tests {
		got := niceTicks(tt.lo, tt.hi, 5)
		if !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
	}
}

func TestNiceTicksCoverAndStep(t *testing.T) {
	for _, r := range [][2]float64{{0, 937}, {-3.2, 7.9}, {-0.0042, 0.0171}, {12, 13}, {-5e7, 3e8}, {1e-9, 2e-9}} {
		ticks := niceTicks(r[0], r[1], 5)
		if ticks[0] > r[0] || ticks[len(ticks)-1] < r[1] {
			t.Errorf("niceTicks(%v, %v) = %v does not cover the range", r[0], r[1], ticks)
		}
		if len(ticks) < 3 || len(ticks) > 12 {
			t.Errorf("niceTicks(%v, %v) = %v: %d ticks", r[0], r[1], ticks, len(ticks))
		}
		step := ticks[1] - ticks[0]
		m := step / math.Pow(10, math.Floor(math.Log10(step)))
		if !slices.ContainsFunc([]float64{1, 2, 5}, func(n float64) bool { return math.Abs(m-n) < 1e-9 }) {
			t.Errorf("niceTicks(%v, %v): step %v is not 1, 2 or 5 × 10^k", r[0], r[1], step)
		}
	}
}

func TestFormatTicks(t *testing.T) {
	tests := []struct {
		ticks []float64
		want  []string
	}{
		{[]float64{0, 200, 400}, []string{"0", "200", "400"}},
		{[]float64{-0.5, 0, 0.5}, []string{"-0.5", "0", "0.5"}},
		{[]float64{0, 0.2, 0.4}, []string{"0", "0.2", "0.4"}},
		{[]float64{0, 5000, 10000}, []string{"0", "5k", "10k"}},
		{[]float64{0, 500000, 1e6, 1.5e6}, []string{"0", "0.5M", "1.0M", "1.5M"}},
	}
	for _, tt := range tests {
		if got := formatTicks(tt.ticks); !slices.Equal(got, tt.want) {
			t.Errorf("formatTicks(%v) = %q, want %q", tt.ticks, got, tt.want)
		}
	}
}

// hourlyYear is a deterministic 8,760-point load-like series with one
// isolated spike and one isolated dip, the points a careless downsampler drops.
func hourlyYear() []float64 {
	v := make([]float64, 8760)
	for i := range v {
		day := 2 * math.Pi * float64(i%24) / 24
		year := 2 * math.Pi * float64(i) / 8760
		v[i] = 300 + 120*math.Sin(day-1.8) + 60*math.Cos(year) + 15*math.Sin(float64(i)*1.7)
	}
	v[4321] = 990   // spike
	v[6007] = -42.5 // dip
	return v
}

func TestDownsample(t *testing.T) {
	vals := hourlyYear()
	idx := downsample(vals, maxLinePoints)
	if len(idx) > maxLinePoints {
		t.Fatalf("downsample kept %d points, want ≤ %d", len(idx), maxLinePoints)
	}
	if len(idx) < maxLinePoints/2 {
		t.Errorf("downsample kept only %d points", len(idx))
	}
	if !slices.IsSorted(idx) || len(slices.Compact(slices.Clone(idx))) != len(idx) {
		t.Errorf("downsample indices are not strictly increasing")
	}
	if idx[0] != 0 || idx[len(idx)-1] != len(vals)-1 {
		t.Errorf("downsample dropped the first or last point: %d..%d", idx[0], idx[len(idx)-1])
	}
	kept := make([]float64, len(idx))
	for i, j := range idx {
		kept[i] = vals[j]
	}
	if slices.Max(kept) != slices.Max(vals) || slices.Min(kept) != slices.Min(vals) {
		t.Errorf("downsample lost the extremes: kept [%v, %v], want [%v, %v]",
			slices.Min(kept), slices.Max(kept), slices.Min(vals), slices.Max(vals))
	}
	if again := downsample(vals, maxLinePoints); !slices.Equal(idx, again) {
		t.Errorf("downsample is not deterministic")
	}
}

func TestDownsampleShortAndNaN(t *testing.T) {
	if got := downsample([]float64{1, 2, 3}, maxLinePoints); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("short series: got %v", got)
	}
	if got := downsample(nil, maxLinePoints); len(got) != 0 {
		t.Errorf("empty series: got %v", got)
	}
	nan := make([]float64, 5000)
	for i := range nan {
		nan[i] = math.NaN()
	}
	if got := downsample(nan, 100); len(got) > 100 {
		t.Errorf("all-NaN series: kept %d points", len(got))
	}
}

func TestRenderChart(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		c    Chart
		want []string // substrings of the SVG
	}{
		{"empty", Chart{Title: "Empty"}, []string{"No data"}},
		{"empty series", Chart{Kind: Bar, Series: []ChartSeries{{Name: "a"}}}, []string{"No data"}},
		{"all NaN line", Chart{Series: []ChartSeries{{Name: "a", Values: []float64{nan, nan}}}}, []string{"No data", "a: no data."}},
		{"all NaN stacked", Chart{Kind: StackedBar, X: []string{"x"}, Series: []ChartSeries{{Values: []float64{nan}}}}, []string{"No data"}},
		{"Inf", Chart{Series: []ChartSeries{{Values: []float64{math.Inf(1), 1, 2}}}}, []string{"<path"}},
		{"one point", Chart{X: []string{"only"}, Series: []ChartSeries{{Values: []float64{3}}}}, []string{"h0", ">only<"}},
		{"NaN gap", Chart{Series: []ChartSeries{{Values: []float64{1, 2, nan, 3, 4}}}}, []string{`d="M`, "M"}},
		{"negative bars", Chart{Kind: Bar, X: []string{"Jan", "Feb", "Mar"}, Series: []ChartSeries{
			{Name: "saving", Values: []float64{-120, 40, nan}},
			{Name: "cost", Values: []float64{300, -80.5, 10}},
		}}, []string{"<rect", "saving · Jan · -120", "cost · Feb · -80.5", `stroke-width="1.25"`}},
		{"stacked mixed signs", Chart{Kind: StackedBar, X: []string{"a", "b"}, Series: []ChartSeries{
			{Name: "pv", Values: []float64{5, 6}}, {Name: "grid", Values: []float64{-2, 3}},
		}}, []string{"<rect", "grid · a · -2.00"}},
		{"escaping", Chart{Title: `<b>"x"</b>`, XLabel: "<x>", YLabel: "&y", X: []string{"<a>"}, Series: []ChartSeries{{Name: "<s>", Values: []float64{1, 2}}}},
			[]string{"&lt;b&gt;&#34;x&#34;&lt;/b&gt;", "&lt;x&gt;", "&amp;y", "&lt;s&gt;"}},
		{"many series", Chart{Series: func() []ChartSeries {
			s := make([]ChartSeries, 10)
			for i := range s {
				s[i] = ChartSeries{Name: strings.Repeat("n", i+1), Values: []float64{float64(i), float64(i + 1)}}
			}
			return s
		}()}, []string{`stroke-dasharray="6 3"`}},
		{"many categories", Chart{Kind: Bar, X: func() []string {
			x := make([]string, 365)
			for i := range x {
				x[i] = "day " + FormatNumber(float64(i+1), 0)
			}
			return x
		}(), Series: []ChartSeries{{Values: make([]float64, 365)}}}, []string{">day 1<"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svg, err := renderChart(tt.c, "c")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(svg, "<svg ") || !strings.HasSuffix(svg, "</svg>") || strings.Count(svg, "<svg") != 1 {
				t.Errorf("not one <svg> element: %.80q", svg)
			}
			for _, s := range []string{`role="img"`, `<title id="c-t">`, `<desc id="c-d">`, `aria-labelledby="c-t c-d"`} {
				if !strings.Contains(svg, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tt.want {
				if !strings.Contains(svg, s) {
					t.Errorf("missing %q in\n%s", s, svg)
				}
			}
			for _, bad := range []string{"NaN", "Inf", "<b>", "<s>"} {
				if strings.Contains(svg, bad) {
					t.Errorf("SVG contains %q", bad)
				}
			}
		})
	}
}

func TestRenderChartThinsLabels(t *testing.T) {
	vals := hourlyYear()
	x := make([]string, len(vals))
	for i := range x {
		x[i] = "d" + FormatNumber(float64(i/24+1), 0) + " " + FormatNumber(float64(i%24), 0) + ":00"
	}
	svg, err := renderChart(Chart{Title: "Load", X: x, Series: []ChartSeries{{Name: "load", Values: vals}}}, "c")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(svg, "<text"); n > 40 {
		t.Errorf("%d text elements for 8,760 labels; want them thinned", n)
	}
	_, d, _ := strings.Cut(svg, ` d="`)
	d, _, _ = strings.Cut(d, `"`)
	if n := strings.Count(d, "L") + 1; n > maxLinePoints {
		t.Errorf("line has %d points, want ≤ %d", n, maxLinePoints)
	}
	if len(svg) > 40_000 {
		t.Errorf("SVG for one 8,760-point series is %d bytes", len(svg))
	}
}

func TestRenderChartUnknownKind(t *testing.T) {
	if _, err := renderChart(Chart{Kind: "pie"}, "c"); err == nil || !strings.Contains(err.Error(), `"pie"`) {
		t.Errorf("err = %v, want unknown kind", err)
	}
}

func TestLabelPlan(t *testing.T) {
	tests := []struct {
		labelW, slot, plotW float64
		stride              int
		rotate              bool
	}{
		{20, 80, 800, 1, false}, // fit flat
		{90, 40, 800, 1, true},  // fit rotated
		{20, 2, 800, 15, false}, // short labels, thinned flat
		{200, 2, 800, 8, true},  // long labels, thinned and rotated
		{0, 0.1, 800, 1, false}, // no labels
	}
	for _, tt := range tests {
		s, r := labelPlan(tt.labelW, tt.slot, tt.plotW)
		if s != tt.stride || r != tt.rotate {
			t.Errorf("labelPlan(%v, %v, %v) = %d, %v; want %d, %v", tt.labelW, tt.slot, tt.plotW, s, r, tt.stride, tt.rotate)
		}
	}
}

func TestNiceStride(t *testing.T) {
	tests := []struct{ stride, n, want int }{
		{0, 10, 1}, {1, 10, 1}, {3, 365, 5}, {13, 365, 20}, {101, 1000, 200},
		{730, 8760, 1200}, // 30.4 days → 50 days
		{30, 48, 48},
		{30, 50, 50},
	}
	for _, tt := range tests {
		if got := niceStride(tt.stride, tt.n); got != tt.want {
			t.Errorf("niceStride(%d, %d) = %d, want %d", tt.stride, tt.n, got, tt.want)
		}
	}
}
