// Command lifang runs a community operating unit: simulate it for a year under a
// baseline and an operated policy, settle the cash flow and judge it on four KPI
// families. Run `lifang help` for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// exitUsage is the exit code for bad flags or arguments; exitFail for a failed run.
const (
	exitFail  = 1
	exitUsage = 2
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"demo", "simulate the embedded demo community for a year and write summary, time series and report", runDemo},
		{"simulate", "simulate a unit (YAML) or a CityLearn dataset under one or more policies", runSimulate},
		{"sitesim", "emulate a commissioned site over MQTT, Modbus TCP and OCPP 1.6J (hardware in the loop)", runSitesim},
		{"operate", "run the live control loop on a commissioned site: observe, decide, command, ledger the evidence", runOperate},
		{"settle", "settle a month from the ledgered meters and events: the statement, each line with its derivation and checkpoint", runSettle},
		{"validate", "check a unit file and report every problem with file:line", runValidate},
		{"ingest", "ingest readings into a database and its ledger (csv, http, mqtt, ocpp, modbus)", runIngest},
		{"points", "write the point catalogue as a Brick model (Turtle)", runPoints},
		{"quarantine", "list, replay or dismiss rejected input (quarantine list|replay|dismiss)", runQuarantine},
		{"ledger", "the tamper-evident log: checkpoint, prove, consistency, leaf, rotate-key", runLedger},
		{"verify", "the auditor's offline check of a database, an export or a disclosure pack", runVerify},
		{"export", "write a database's signed data for offline verification", runExport},
		{"report", "write a verifiable disclosure pack: report.html/.pdf, pack.json and its signed data", runReport},
		{"serve", "the API, the bilingual dashboard and jobs (auth by token; see lifang token)", runServe},
		{"token", "issue, list and revoke API tokens for lifang serve (token create|list|revoke)", runToken},
		{"forecast", "backtest forecasting models on a CSV of series; score anomaly detectors on NAB", runForecast},
		{"sd", "system dynamics: run an XMILE model, or the conformance suite", runSD},
		{"finance", "the finance engine: run or write a deal, the C-REIT bridge, XIRR (finance run|deal|bridge|xirr)", runFinance},
		{"bench", "time whole runs and print JSON (bench demo|ingest|dispatch|milp|sd|finance|serve)", runBench},
		{"version", "print the version", func([]string, io.Writer, io.Writer) error { fmt.Println(version); return nil }},
	}
}

const version = "lifang 0.1.0"

// usageError marks errors caused by how the command was called.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			if err == nil || errors.Is(err, flag.ErrHelp) {
				return 0
			}
			fmt.Fprintf(stderr, "lifang %s: %v\n", c.name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return exitUsage
			}
			return exitFail
		}
	}
	fmt.Fprintf(stderr, "lifang: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "lifang — a residential community as an operating unit: metered, forecast, optimised, settled, financed.")
	fmt.Fprintln(w, "\nUsage: lifang <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `lifang <command> -h` for a command's flags.")
}

// newFlags makes a flag set that prints its usage to stderr and returns errors.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lifang "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: lifang %s %s\n\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return nil
}
