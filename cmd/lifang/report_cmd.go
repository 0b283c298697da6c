package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lifang-community/lifang/disclosure"
	"github.com/lifang-community/lifang/examples"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/privacy"
	"github.com/lifang-community/lifang/unit"
)

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "--db PATH --out DIR [--unit FILE.yaml|demo] [--seed N] [--epsilon E] [--mechanism laplace|gaussian] [--privacy-ledger FILE]", stderr)
	db := fs.String("db", "", "SQLite database or postgres:// DSN whose signed readings the pack discloses")
	out := fs.String("out", "", "pack directory to write (new or empty): report.html, report.pdf, pack.json, data/, …")
	unitFile := fs.String("unit", "", "unit file (YAML, data.source: synthetic) for the operating and finance figures; \"demo\" for the embedded demo unit; empty: none")
	seed := fs.Uint64("seed", 0, "seed of the model's synthetic series (0: the unit's data.seed)")
	eps := fs.Float64("epsilon", disclosure.DefaultEpsilon, "ε this release spends on the private household aggregate")
	mech := fs.String("mechanism", disclosure.DefaultMechanism, "noise of the private aggregate: laplace (pure ε-DP) or gaussian ((ε, δ)-DP)")
	delta := fs.Float64("delta", 0, "δ of the gaussian mechanism (default 1e-6); must be 0 for laplace")
	budgetEps := fs.Float64("budget-epsilon", disclosure.DefaultBudgetEps, "total ε the dataset's privacy budget allows over all releases")
	budgetDelta := fs.Float64("budget-delta", disclosure.DefaultBudgetDelta, "total δ the dataset's privacy budget allows over all releases")
	ledgerPath := fs.String("privacy-ledger", "", "privacy budget ledger (JSON Lines); default: DB.privacy-ledger.jsonl next to a SQLite database")
	maxKWh := fs.Float64("household-max-kwh", disclosure.DefaultMaxKWh, "bound on one household's consumption over the period (kWh); larger totals are clamped")
	noPrivate := fs.Bool("no-private", false, "release no private aggregate (spend no budget)")
	browser := fs.String("browser", os.Getenv("LIFANG_BROWSER"), "Chromium to print report.pdf with; \"none\" prints no PDF (default: $LIFANG_BROWSER, else /usr/bin/chromium or chromium on PATH)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *out == "" {
		return usageError{"--db and --out are required"}
	}
	if *mech != "laplace" && *mech != "gaussian" {
		return usageError{fmt.Sprintf("--mechanism %q: want laplace or gaussian", *mech)}
	}
	if *mech == "laplace" && *delta != 0 {
		return usageError{"--delta applies to --mechanism gaussian; the Laplace mechanism is pure ε-DP"}
	}
	remote := strings.Contains(*db, "://")
	if !remote {
		if _, err := os.Stat(*db); err != nil {
			return err
		}
	}
	if *ledgerPath == "" && !*noPrivate {
		if remote {
			return usageError{"--privacy-ledger FILE is required with a PostgreSQL database (the budget must outlive any one pack)"}
		}
		*ledgerPath = *db + ".privacy-ledger.jsonl"
	}
	opt := disclosure.Options{
		Out: *out, Browser: *browser, Version: version,
		Privacy: disclosure.PrivacyOptions{Mechanism: *mech, Epsilon: *eps, Delta: *delta,
			Budget:     privacy.Budget{Epsilon: *budgetEps, Delta: *budgetDelta},
			LedgerPath: *ledgerPath, MaxKWh: *maxKWh, Skip: *noPrivate},
	}
	// The manifest is signed with the log's key: LIFANG_LEDGER_SKEY when it
	// holds it (as for ingest), else the database's, which Build finds.
	if env := os.Getenv("LIFANG_LEDGER_SKEY"); env != "" {
		s, err := ledger.NewSigner(env)
		if err != nil {
			return fmt.Errorf("LIFANG_LEDGER_SKEY: %w", err)
		}
		opt.Signer = s
	}
	switch *unitFile {
	case "":
	case "demo":
		opt.Model = disclosure.ModelOptions{Unit: examples.Community, Name: "examples/community.yaml", Seed: *seed}
	default:
		b, err := os.ReadFile(*unitFile)
		if err != nil {
			return err
		}
		opt.Model = disclosure.ModelOptions{Unit: b, Name: *unitFile, Seed: *seed}
		// The commissioning declares which meters are households'.
		u, err := unit.Parse(b, *unitFile)
		if err != nil {
			return err
		}
		if u.Site != nil {
			for _, m := range u.Site.Meters {
				if m.HouseholdLevel {
					opt.HouseholdMeters = append(opt.HouseholdMeters, m.ID)
				}
			}
		}
	}
	ctx := context.Background()
	st, err := openStore(ctx, *db, sqliteOptions())
	if err != nil {
		return err
	}
	defer st.Close()
	p, err := disclosure.Build(ctx, st, opt)
	if err != nil {
		return err
	}
	kinds := map[string]int{}
	for _, f := range p.Figures {
		k, _, _ := strings.Cut(f.ID, "/")
		kinds[k]++
	}
	fmt.Fprintf(stdout, "%s: %d figures (%d metered, %d private, %d model) from checkpoint %s@%d (root %s)\n",
		*out, len(p.Figures), kinds["meter"], kinds["private"], kinds["model"], p.Checkpoint.Origin, p.Checkpoint.TreeSize, p.Checkpoint.Root)
	for _, f := range p.Figures {
		if f.Privacy != nil {
			b := f.Privacy.Budget
			fmt.Fprintf(stdout, "  %s: %s %s (%s, ε %v, δ %v); budget of %s: spent ε %v of %v, δ %v of %v (%s)\n", f.ID, f.Value, f.Unit,
				f.Privacy.Mechanism, f.Privacy.Epsilon, f.Privacy.Delta, b.Scope, b.SpentEpsilon, b.TotalEpsilon, b.SpentDelta, b.TotalDelta, *ledgerPath)
		}
	}
	if p.PDF.Printed {
		fmt.Fprintf(stdout, "wrote %s/{report.html,report.pdf,pack.json,data/}\n", *out)
	} else {
		fmt.Fprintf(stdout, "no PDF: %s\nwrote %s/{report.html,pack.json,data/}\n", p.PDF.Note, *out)
	}
	fmt.Fprintf(stdout, "check it with: lifang verify --pack %s\n", *out)
	return nil
}

// runVerifyPack is `lifang verify --pack DIR`.
func runVerifyPack(dir, key string, trusted []byte, asJSON bool, stdout io.Writer) error {
	opt := disclosure.VerifyOptions{Version: version, TrustedCheckpoint: trusted}
	if key != "" {
		k, err := readKeyFlag(key)
		if err != nil {
			return err
		}
		opt.Keys = []string{k}
	}
	rep, err := disclosure.Verify(context.Background(), dir, opt)
	if rep != nil {
		if asJSON {
			printJSON(stdout, rep)
		} else {
			printPackReport(stdout, rep)
		}
	}
	return err
}

func printPackReport(w io.Writer, r *disclosure.Report) {
	status := "OK"
	if !r.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "pack %s: %s — %d figures checked against checkpoint %s@%d (root %s)\n",
		r.Dir, status, r.Figures, r.Checkpoint.Origin, r.Checkpoint.TreeSize, r.Checkpoint.Root)
	if r.KeyFromPack {
		fmt.Fprintln(w, "note: the public key came from the pack itself; pass --key with the published key, or --trusted-checkpoint with a checkpoint saved earlier, for an independent check")
	}
	fmt.Fprintln(w, "note: a private figure's noise cannot be re-derived: its exact clamped sum is recomputed from data/ and the released value must lie within the mechanism's 1 − 1e-9 tail bound of it")
	for _, c := range r.Checks {
		fmt.Fprintln(w, "  "+c.String())
	}
}
