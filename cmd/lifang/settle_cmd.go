package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/settle"
	"github.com/lifang-community/lifang/store"
)

// runSettle settles a month of a commissioned unit from its ledgered readings and events.
func runSettle(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("settle", "--db PATH --unit FILE --month YYYY-MM [--json|--csv]", stderr)
	db := fs.String("db", "", "the unit's database (SQLite file or postgres:// DSN)")
	unitFile := fs.String("unit", "", "the commissioned unit (YAML with a site: section) or demo-site")
	month := fs.String("month", "", "the month to settle, YYYY-MM (the unit's local time)")
	asJSON := fs.Bool("json", false, "print the statement as JSON")
	asCSV := fs.Bool("csv", false, "print the lines as CSV")
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
