package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/lifang-community/lifang/finance"
)

// financeCommands are the `lifang finance` subcommands. Other files add theirs from an
// init function, so runFinance looks them up here rather than switching on names.
var financeCommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"bridge": runFinanceBridge,
	"xirr":   runFinanceXIRR,
}

// financeStdin is where `finance xirr` reads flows when no file is given.
var financeStdin io.Reader = os.Stdin

// runFinance dispatches `lifang finance SUBCOMMAND`.
func runFinance(args []string, stdout, stderr io.Writer) error {
	names := slices.Sorted(maps.Keys(financeCommands))
	if len(args) == 0 {
		return usageError{fmt.Sprintf("usage: lifang finance (%s) [flags]", strings.Join(names, "|"))}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(stdout, "Usage: lifang finance (%s) [flags]\n\nRun `lifang finance SUBCOMMAND -h` for its flags.\n", strings.Join(names, "|"))
		return nil
	}
	cmd, ok := financeCommands[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown finance command %q: want one of %s", args[0], strings.Join(names, ", "))}
	}
	return cmd(args[1:], stdout, stderr)
}

// adjustFlags collects repeated --adjust NAME=VALUE flags.
type adjustFlags []finance.Adjustment

func (a *adjustFlags) String() string {
	if a == nil {
		return ""
	}
	s := make([]string, len(*a))
	for i, x := range *a {
		s[i] = x.Name + "=" + x.Amount.String()
	}
	return strings.Join(s, " ")
}

func (a *adjustFlags) Set(v string) error {
	x, err := finance.ParseAdjustment(v)
	if err != nil {
		return err
	}
	*a = append(*a, x)
	return nil
}

// runFinanceBridge computes the C-REIT distributable-amount bridge from reported figures.
func runFinanceBridge(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("finance bridge", "--net-profit X --da Y --interest Z --income-tax W [--adjust NAME=VALUE ...] [--json]", stderr)
	var in finance.BridgeInput
	amounts := []struct {
		flag, help string
		dst        *finance.Fen
		val        *string
	}{
		{flag: "net-profit", help: "net profit (元, exact decimal)", dst: &in.NetProfit},
		{flag: "da", help: "depreciation and amortisation (元)", dst: &in.DA},
		{flag: "interest", help: "interest expense (元)", dst: &in.Interest},
		{flag: "income-tax", help: "income tax expense (元; a tax credit is negative)", dst: &in.IncomeTax},
	}
	for i := range amounts {
		amounts[i].val = fs.String(amounts[i].flag, "", amounts[i].help+" (required)")
	}
	var adj adjustFlags
	fs.Var(&adj, "adjust", "adjustment NAME=VALUE added to EBITDA (repeatable; NAME one of "+strings.Join(finance.AdjustmentNames(), ", ")+")")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	var missing []string
	for _, a := range amounts {
		if strings.TrimSpace(*a.val) == "" {
			missing = append(missing, "--"+a.flag)
		}
	}
	if len(missing) > 0 {
		return usageError{fmt.Sprintf("missing %s (required: --net-profit, --da, --interest, --income-tax)", strings.Join(missing, ", "))}
	}
	for _, a := range amounts {
		v, err := finance.ParseFen(*a.val)
		if err != nil {
			return usageError{fmt.Sprintf("--%s: %v", a.flag, err)}
		}
		*a.dst = v
	}
	in.Adjustments = adj
	b := finance.ComputeBridge(in)
	if *asJSON {
		return printJSON(stdout, b)
	}
	row := func(label string, v finance.Fen) { fmt.Fprintf(stdout, "%-26s %20s\n", label, v) }
	row("net profit", b.NetProfit)
	row("+ D&A", b.DA)
	row("+ interest", b.Interest)
	row("+ income tax", b.IncomeTax)
	row("= EBITDA", b.EBITDA)
	for _, a := range b.Adjustments {
		row("+ "+a.Name, a.Amount)
	}
	row("= distributable amount", b.DistributableAmount)
	return nil
}

// runFinanceXIRR computes the XIRR of a CSV of dated flows.
func runFinanceXIRR(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("finance xirr", "[--in FILE.csv]", stderr)
	path := fs.String("in", "", "CSV with columns date (YYYY-MM-DD) and amount (元); default: standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	r, name := financeStdin, "stdin"
	if *path != "" && *path != "-" {
		f, err := os.Open(*path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, *path
	}
	flows, err := finance.ReadFlowsCSV(r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	x, err := finance.XIRR(flows)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	first, last := flows[0].Date, flows[0].Date
	for _, f := range flows[1:] {
		if f.Date.Before(first) {
			first = f.Date
		}
		if f.Date.After(last) {
			last = f.Date
		}
	}
	return printJSON(stdout, struct {
		XIRR  float64 `json:"xirr"`
		Flows int     `json:"flows"`
		First string  `json:"first"`
		Last  string  `json:"last"`
	}{x, len(flows), first.Format("2006-01-02"), last.Format("2006-01-02")})
}
