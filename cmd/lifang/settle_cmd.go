package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// runSettle settles a month of a commissioned unit from its ledgered readings and events.
func runSettle(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("settle", "--db PATH --unit FILE --month YYYY-MM [--json|--csv]", stderr)
	db := fs.String("db", "", "the unit's database (SQLite file or postgres:// DSN)")
	unitFile := fs.String("unit", "", "the commissioned unit (YAML with a site: section) or demo-site")
	month := fs.String("month", "", "the month to settle, YYYY-MM (the unit's local time)")
	asJSON := fs.Bool("json", false, "print the statement as JSON")
	asCSV := fs.Bool("csv", false, "print the lines as CSV")
	versus := fs.String("versus-twin", "", "also simulate the covered period under this policy and print the settled lines beside the twin's, with variance")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *month == "" {
		return usageError{"--month YYYY-MM is required"}
	}
	if *asJSON && *asCSV {
		return usageError{"give --json or --csv, not both"}
	}
	u, _, err := loadSiteUnit(*unitFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	var cp settle.Checkpoint
	if _, note, err := d.st.LatestCheckpoint(ctx); err == nil {
		c, err := ledger.ParseCheckpoint(note, d.origin, d.verifiers)
		if err != nil {
			return fmt.Errorf("settle: the database's latest checkpoint: %w", err)
		}
		cp = settle.Checkpoint{Origin: c.Origin, TreeSize: c.Size, RootHash: c.Root.String()}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s, err := settle.Metered(ctx, d.st, u, *month, cp)
	if err != nil {
		return err
	}
	if *versus != "" {
		v, err := versusTwin(u, s, *versus)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(stdout, map[string]any{"statement": s, "versus_twin": v})
		}
		fmt.Fprintf(stdout, "%s %s: settled from the ledger vs the twin (%s), %s – %s\n", s.Unit, s.Month, v.Policy, v.From, v.To)
		fmt.Fprintf(stdout, "  %-28s %14s %14s %12s %8s\n", "item", "settled", "twin", "variance", "%")
		for _, l := range v.Lines {
			fmt.Fprintf(stdout, "  %-28s %14s %14s %12s %8s\n", l.Item, l.SettledCNY, l.ProjectedCNY, l.VarianceCNY, l.VariancePct)
		}
		fmt.Fprintf(stdout, "  %s\n", v.Note)
		return nil
	}
	switch {
	case *asJSON:
		return printJSON(stdout, s)
	case *asCSV:
		w := csv.NewWriter(stdout)
		w.Write([]string{"subsystem", "item", "amount_cny", "method", "points", "events", "from", "to", "quantity", "checkpoint_size", "checkpoint_root"})
		for _, l := range s.Lines {
			dv := l.Derivation
			w.Write([]string{l.Subsystem, l.Item, l.AmountCNY, dv.Method, strings.Join(dv.Points, " "), strings.Join(dv.Events, " "), dv.From, dv.To, dv.Quantity,
				fmt.Sprint(l.Checkpoint.TreeSize), l.Checkpoint.RootHash})
		}
		w.Flush()
		return w.Error()
	}
	fmt.Fprintf(stdout, "%s %s, settled from the ledger (%s, %d leaves, root %s)\n", s.Unit, s.Month, cp.Origin, cp.TreeSize, cp.RootHash)
	for _, l := range s.Lines {
		fmt.Fprintf(stdout, "  %-10s %-34s %16s  %s\n", l.Subsystem, l.Item, l.AmountCNY, l.Derivation.Quantity)
	}
	fmt.Fprintf(stdout, "  %-45s %16s\n", "NOI", s.NOICNY)
	for _, f := range s.Flags {
		fmt.Fprintf(stdout, "  flag %s %s %s–%s: %s\n", f.Kind, f.Point, f.From, f.To, f.Detail)
	}
	for _, x := range s.Unsettled {
		fmt.Fprintf(stdout, "  not settled: %s\n", x)
	}
	return nil
}

// versusTwin simulates the statement's covered period (whole local days) under a policy
// and sets the settled grid lines beside the twin's.
func versusTwin(u *unit.Unit, s *settle.MeteredStatement, policy string) (*settle.Versus, error) {
	if err := scenario.CheckPolicy(policy); err != nil {
		return nil, usageError{"--versus-twin: " + err.Error()}
	}
	if s.CoveredFrom == "" {
		return nil, fmt.Errorf("settle: %s has no grid register readings to compare with a projection", s.Month)
	}
	from, _ := time.Parse(time.RFC3339, s.CoveredFrom)
	to, _ := time.Parse(time.RFC3339, s.CoveredTo)
	loc, err := time.LoadLocation(u.Location.TimeZone)
	if err != nil {
		return nil, err
	}
	f := from.In(loc)
	day0 := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	days := int(math.Ceil(to.Sub(day0).Hours() / 24))
	c, err := scenario.FromUnit(u, u.Data.Seed, ".", citylearn.Options{})
	if err != nil {
		return nil, err
	}
	if c, err = c.Window(day0, days); err != nil {
		return nil, err
	}
	runs, err := c.Run([]string{policy}, nil)
	if err != nil {
		return nil, err
	}
	var res *twin.Result
	for _, r := range runs {
		if r.Name == policy || (policy == "bau" && r.Name == scenario.Baseline) || (policy == "rb" && r.Name == "rule_based") {
			res = r.Result
		}
	}
	proj := settle.TwinGrid(u, res, from, to)
	note := fmt.Sprintf("projection: the twin under %s on the unit's %s data (seed %d) for %s – %s, hourly means, planning with each hour's measured load; settled: the ledgered grid registers × the same tariff",
		policy, u.Data.Source, u.Data.Seed, s.CoveredFrom, s.CoveredTo)
	return settle.Compare(s, proj, policy, s.CoveredFrom, s.CoveredTo, note), nil
}
