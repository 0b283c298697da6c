package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/lifang-community/lifang/sd"
)

// runSD runs an XMILE model or the conformance suite.
func runSD(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "run" && args[0] != "conformance") {
		return usageError{"usage: lifang sd (run MODEL.xmile [--method euler|rk2|rk4] [--out FILE.csv] | conformance --dir DIR [--json])"}
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
