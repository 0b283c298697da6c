package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lifang-community/lifang/forecast"
)

func runForecast(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "backtest" && args[0] != "nab") {
		return usageError{"usage: lifang forecast (backtest --csv FILE … | nab --dir DIR)"}
	}
	if args[0] == "nab" {
		return runNAB(args[1:], stdout, stderr)
	}
	p := forecast.DefaultProtocol()
	fs := newFlags("forecast backtest", "--csv FILE [--time-column timestamp] [--columns a,b] [--season 24] [--horizon 24] [--step 24] [--test-days N] [--json]", stderr)
	path := fs.String("csv", "", "CSV file: a time column and one column per series")
	timeCol := fs.String("time-column", "timestamp", "name of the time column")
	columns := fs.String("columns", "", "comma-separated series to use (default: every other column)")
	fs.IntVar(&p.Season, "season", p.Season, "seasonal period m (steps)")
	fs.IntVar(&p.Horizon, "horizon", p.Horizon, "steps forecast from each origin")
	fs.IntVar(&p.Step, "step", p.Step, "steps between origins")
	fs.IntVar(&p.TestDays, "test-days", p.TestDays, "origins at each midnight of the last N days")
	fs.IntVar(&p.ScaleRows, "scale-rows", 0, "MASE scale over rows [0, N) instead of all rows before each origin (ETTh1: 8640)")
	fs.IntVar(&p.FirstOrigin, "first-origin", 0, "with --end-row: first row of the test range (ETTh1: 11520)")
	fs.IntVar(&p.EndRow, "end-row", 0, "end of the test range, exclusive (ETTh1: 14400)")
	fs.IntVar(&p.Calibration, "calibration", p.Calibration, "earlier origins used for interval calibration and combination weights")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *path == "" {
		return usageError{"--csv FILE is required"}
	}
	var cols []string
	if *columns != "" {
		cols = strings.Split(*columns, ",")
	}
	series, err := forecast.ReadCSV(*path, *timeCol, cols)
	if err != nil {
		return err
	}
	res, err := forecast.Backtest(series, forecast.DefaultModels(p.Season, forecast.DefaultCalendar()), p)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(stdout, res)
	}
	fmt.Fprintf(stdout, "%d series × %d origins, horizon %d, in %.1f s\n", len(res.Series), res.Origins, p.Horizon, res.Seconds)
	fmt.Fprintf(stdout, "%-18s %8s %8s %8s %10s\n", "model", "MASE", "sMAPE", "RMSSE", "cover80")
	for _, m := range res.Models {
		fmt.Fprintf(stdout, "%-18s %8.4f %8.3f %8.4f %10.3f\n", m.Name, m.MASE, m.SMAPE, m.RMSSE, m.Coverage80)
	}
	fmt.Fprintf(stdout, "best: %s (MASE %.4f)\n", res.Best.Name, res.Best.MASE)
	return nil
}
