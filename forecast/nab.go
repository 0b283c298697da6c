package forecast

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Numenta Anomaly Benchmark scoring (Lavin & Ahmad 2015; REFERENCES.md, data README):
// labelled anomaly windows; the first min(15 %, 750) rows of a file are probationary;
// within a window only the earliest detection counts and scores tpWeight·σ(p), with
// σ(p) = 2/(1+e^{5p}) − 1 and p = −(window end − i + 1)/window length (≈ 1 at the
// window's start, 0 at its end); a detection outside every window costs
// fpWeight·σ(p) with p its distance after the previous window in window lengths
// (−fpWeight before any window); each missed window costs fnWeight. Scores are
// normalised over the corpus so the null detector scores 0 and the perfect one 100.

// Profile is a NAB cost matrix.
type Profile struct {
	TP, FP, FN float64
}

// StandardProfile is NAB's standard profile.
var StandardProfile = Profile{TP: 1, FP: 0.11, FN: 1}

// NABFile is one data file with its windows as row ranges [start, end] (inclusive).
type NABFile struct {
	Name    string
	Times   []time.Time
	Values  []float64
	Windows [][2]int
}

func scaledSigmoid(p float64) float64 {
	if p > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*p)) - 1
}

func probation(n int) int { return int(math.Min(math.Floor(0.15*float64(n)), 750)) }

// rawScore scores detections (row indexes, ascending) on one file.
func (f *NABFile) rawScore(detections []int, prof Profile) float64 {
	score := 0.0
	hit := make([]bool, len(f.Windows))
	prob := probation(len(f.Values))
	for _, i := range detections {
		if i < prob {
			continue
		}
		in := -1
		prev := -1
		for w, win := range f.Windows {
			if i >= win[0] && i <= win[1] {
				in = w
				break
			}
			if win[1] < i {
				prev = w
			}
		}
		switch {
		case in >= 0:
			if !hit[in] {
				win := f.Windows[in]
				length := float64(win[1] - win[0] + 1)
				score += prof.TP * scaledSigmoid(-float64(win[1]-i+1)/length)
				hit[in] = true
			}
		case prev >= 0:
			win := f.Windows[prev]
			length := float64(win[1] - win[0] + 1)
			score += prof.FP * scaledSigmoid(math.Abs(float64(win[1]-i))/length)
		default:
			score -= prof.FP
		}
	}
	for w := range f.Windows {
		if !hit[w] {
			score -= prof.FN
		}
	}
	return score
}

// NABResult is a detector's normalised score with the threshold that gave it.
type NABResult struct {
	Score     float64            `json:"score"`
	Threshold float64            `json:"threshold"`
	Raw       float64            `json:"raw"`
	Files     map[string]float64 `json:"raw_by_file"`
	Windows   int                `json:"windows"`
	Detected  int                `json:"windows_detected"`
}

// ScoreNAB normalises a detector's per-row anomaly scores over the files, choosing the
// threshold that maximises the corpus score, as NAB's optimiser does.
func ScoreNAB(files []*NABFile, scores [][]float64, prof Profile) NABResult {
	var null, perfect float64
	for _, f := range files {
		null -= prof.FN * float64(len(f.Windows))
		var starts []int
		for _, w := range f.Windows {
			starts = append(starts, w[0])
		}
		perfect += f.rawScore(starts, prof)
	}
	var cands []float64
	for _, s := range scores {
		for _, v := range s {
			if v > 0.5 {
				cands = append(cands, v)
			}
		}
	}
	slices.Sort(cands)
	cands = slices.Compact(cands)
	if len(cands) > 400 { // a sweep of 400 quantiles of the candidate thresholds
		sub := make([]float64, 0, 400)
		for k := range 400 {
			sub = append(sub, cands[k*len(cands)/400])
		}
		cands = sub
	}
	best := NABResult{Score: math.Inf(-1)}
	for _, th := range cands {
		raw, per := 0.0, map[string]float64{}
		det := 0
		for fi, f := range files {
			var d []int
			for i, v := range scores[fi] {
				if v >= th {
					d = append(d, i)
				}
			}
			r := f.rawScore(d, prof)
			per[f.Name] = r
			raw += r
			for _, w := range f.Windows {
				for _, i := range d {
					if i >= w[0] && i <= w[1] && i >= probation(len(f.Values)) {
						det++
						break
					}
				}
			}
		}
		if s := 100 * (raw - null) / (perfect - null); s > best.Score {
			best = NABResult{Score: s, Threshold: th, Raw: raw, Files: per, Detected: det}
		}
	}
	for _, f := range files {
		best.Windows += len(f.Windows)
	}
	return best
}

// LoadNAB reads the named data files of a NAB directory (data/<name>, with windows from
// labels/combined_windows.json) — e.g. "realKnownCause/nyc_taxi.csv".
func LoadNAB(dir string, names []string) ([]*NABFile, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "labels", "combined_windows.json"))
	if err != nil {
		return nil, fmt.Errorf("nab: %w", err)
	}
	var windows map[string][][2]string
	if err := json.Unmarshal(raw, &windows); err != nil {
		return nil, fmt.Errorf("nab: labels/combined_windows.json: %w", err)
	}
	var out []*NABFile
	for _, name := range names {
		ss, err := ReadCSV(filepath.Join(dir, "data", name), "timestamp", []string{"value"})
		if err != nil {
			return nil, fmt.Errorf("nab: %w", err)
		}
		f := &NABFile{Name: name, Times: ss[0].Times, Values: ss[0].Values}
		for _, w := range windows[name] {
			a, err1 := ParseTime(w[0][:19])
			b, err2 := ParseTime(w[1][:19])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("nab: %s: bad window %v", name, w)
			}
			// Rows are matched by timestamp, not by order: one file has a timestamp that
			// goes backwards, so the window is the first to last row inside it.
			lo, hi := -1, -1
			for i, t := range f.Times {
				if !t.Before(a) && !t.After(b) {
					if lo < 0 {
						lo = i
					}
					hi = i
				}
			}
			if lo >= 0 {
				f.Windows = append(f.Windows, [2]int{lo, hi})
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// StagedNAB are the NAB files shipped in ../shared/data/forecast/NAB.
var StagedNAB = []string{
	"realKnownCause/ambient_temperature_system_failure.csv",
	"realKnownCause/machine_temperature_system_failure.csv",
	"realKnownCause/nyc_taxi.csv",
}
