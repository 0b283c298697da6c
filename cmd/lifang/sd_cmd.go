package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/lifang-community/lifang/sd"
)

// runSD runs an XMILE model or the conformance suite.
func runSD(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "scenarios" {
		return sdScenarios(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "drivers" {
		return sdDrivers(args[1:], stdout, stderr)
	}
	if len(args) == 0 || (args[0] != "run" && args[0] != "conformance") {
		return usageError{"usage: lifang sd (run MODEL.xmile [--method euler|rk2|rk4] [--out FILE.csv] | conformance --dir DIR [--json] | scenarios --model FILE --levers FILE.yaml --out DIR | drivers [--model FILE])"}
	}
	if args[0] == "conformance" {
		fs := newFlags("sd conformance", "--dir DIR [--json]", stderr)
		dir := fs.String("dir", "", "directory of test models (walked recursively)")
		asJSON := fs.Bool("json", false, "print JSON")
		if err := parse(fs, args[1:]); err != nil {
			return err
		}
		if *dir == "" {
			return usageError{"--dir is required"}
		}
		c, err := sd.RunConformance(*dir)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, c)
		}
		fmt.Fprintf(stdout, "%d of %d cases pass\n", c.Passed, c.Total)
		for _, f := range c.Failed {
			fmt.Fprintf(stdout, "  %s: %s\n", f.Model, f.Reason)
		}
		return nil
	}
	fs := newFlags("sd run", "MODEL.xmile [--method euler|rk2|rk4] [--out FILE.csv]", stderr)
	method := fs.String("method", "euler", "integration method: euler, rk2 or rk4")
	out := fs.String("out", "", "CSV file to write (default: standard output)")
	// The model path may come before the flags.
	rest := args[1:]
	var model string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		model, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if model == "" && fs.NArg() == 1 {
		model = fs.Arg(0)
	}
	if model == "" {
		return usageError{"want one model file"}
	}
	m := map[string]sd.Method{"euler": sd.Euler, "rk2": sd.RK2, "rk4": sd.RK4}
	meth, ok := m[*method]
	if !ok {
		return usageError{"--method: want euler, rk2 or rk4"}
	}
	mod, err := sd.ParseFile(model)
	if err != nil {
		return err
	}
	res, err := mod.Run(meth)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return writeResult(w, res)
}

// levers is the YAML a scenario run reads.
type leversFile struct {
	Output    string     `yaml:"output"`
	At        float64    `yaml:"at"`
	Levers    []sd.Lever `yaml:"levers"`
	Scenarios []struct {
		Name string             `yaml:"name"`
		Set  map[string]float64 `yaml:"set"`
	} `yaml:"scenarios"`
}

// sdScenarios runs named scenarios and a tornado sensitivity of one output.
func sdScenarios(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sd scenarios", "--model FILE.xmile --levers FILE.yaml --out DIR", stderr)
	model := fs.String("model", "", "XMILE model")
	leversPath := fs.String("levers", "", "YAML: output, at (time), levers [{name, base, low, high}], scenarios [{name, set: {lever: value}}]")
	out := fs.String("out", "", "directory for one CSV per scenario and tornado.csv")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" || *leversPath == "" || *out == "" {
		return usageError{"--model, --levers and --out are required"}
	}
	m, err := sd.ParseFile(*model)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*leversPath)
	if err != nil {
		return err
	}
	var lf leversFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&lf); err != nil {
		return fmt.Errorf("%s: %w", *leversPath, err)
	}
	if lf.Output == "" {
		return fmt.Errorf("%s: output: the variable to study is required", *leversPath)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	summary := map[string]any{}
	for _, sc := range lf.Scenarios {
		res, err := sd.RunScenario(m, sc.Set)
		if err != nil {
			return fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
		if err := writeResultCSV(filepath.Join(*out, sc.Name+".csv"), res); err != nil {
			return err
		}
		v, err := res.At(lf.Output, lf.At)
		if err != nil {
			return fmt.Errorf("scenario %q: %w", sc.Name, err)
		}
		summary[sc.Name] = v
	}
	var bars []sd.TornadoBar
	if len(lf.Levers) > 0 {
		if bars, err = sd.Tornado(m, lf.Output, lf.At, lf.Levers); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(*out, "tornado.csv"))
		if err != nil {
			return err
		}
		cw := csv.NewWriter(f)
		cw.Write([]string{"lever", "low", "high"})
		for _, b := range bars {
			cw.Write([]string{b.Lever, strconv.FormatFloat(b.Low, 'g', -1, 64), strconv.FormatFloat(b.High, 'g', -1, 64)})
		}
		cw.Flush()
		f.Close()
	}
	return printJSON(stdout, map[string]any{"output": lf.Output, "at": lf.At, "scenarios": summary, "tornado": bars})
}

func writeResultCSV(path string, res *sd.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := writeResult(f, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeResult writes a run as CSV: a Time column and one column per variable.
func writeResult(w io.Writer, res *sd.Result) error {
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"Time"}, res.Names...))
	for r, t := range res.Times {
		row := []string{strconv.FormatFloat(t, 'g', -1, 64)}
		for v := range res.Names {
			row = append(row, strconv.FormatFloat(res.Values[v][r], 'g', -1, 64))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// benchSD times one 30-year monthly run of a model and a sensitivity of many runs.
func benchSD(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench sd", "[--model FILE.xmile] [--runs N]", stderr)
	model := fs.String("model", "sd/models/operating_unit.xmile", "XMILE model")
	runs := fs.Int("runs", 1000, "sensitivity runs")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := sd.ParseFile(*model)
	if err != nil {
		return err
	}
	one, sens, err := sd.Benchmark(m, *runs)
	if err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"benchmark": "sd", "model": *model, "one_run_seconds": one, "runs": *runs, "sensitivity_seconds": sens})
}

// sdDrivers exports the long-term model's annual driver paths for the finance engine and
// its strategic bounds for the optimiser.
func sdDrivers(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sd drivers", "[--model FILE.xmile] [--life YEARS] [--out FILE.json]", stderr)
	model := fs.String("model", "sd/models/operating_unit.xmile", "XMILE model (the operating-unit model by default)")
	life := fs.Float64("life", 10, "battery life (years) the cycle bound must preserve")
	out := fs.String("out", "", "JSON file (default: standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := sd.ParseFile(*model)
	if err != nil {
		return err
	}
	res, err := m.Run(sd.Euler)
	if err != nil {
		return err
	}
	d, err := sd.AnnualDrivers(res, []string{"Occupancy", "Tariff Index", "Rent Index", "Parking Price Index", "Cost Index",
		"PV Capacity", "Effective Battery Capacity", "Replacement Capex", "NOI", "Debt Service", "Reserve Fund"})
	if err != nil {
		return err
	}
	constant := func(name string) (float64, error) {
		v, err := m.Constant(name)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", *model, err)
		}
		return v, nil
	}
	thr, err := constant("Replacement Threshold")
	if err != nil {
		return err
	}
	cal, err := constant("Calendar Fade Rate")
	if err != nil {
		return err
	}
	cyc, err := constant("Cycle Fade")
	if err != nil {
		return err
	}
	doc := map[string]any{
		"model":   *model,
		"drivers": d,
		"strategic_bounds": map[string]any{
			"battery_max_cycles_per_year": sd.BatteryCycleBound(thr, cal, cyc, *life),
			"battery_life_years":          *life,
		},
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return printJSON(w, doc)
}
