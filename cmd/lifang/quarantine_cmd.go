package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lifang-community/lifang/ingest"
)

// runQuarantine lists rejected input, replays a fixed entry, or dismisses one.
func runQuarantine(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: lifang quarantine (list|replay|dismiss) --db PATH …"}
	}
	sub := args[0]
	fs := newFlags("quarantine "+sub, "--db PATH [--status S] [--id N] [--csv 'point,timestamp,value,unit']", stderr)
	db := fs.String("db", "", "SQLite database")
	status := fs.String("status", "open", "list: open, replayed, dismissed or all")
	id := fs.Int64("id", 0, "replay/dismiss: quarantine entry id")
	fixed := fs.String("csv", "", "replay: the corrected reading as point,timestamp,value,unit (default: the entry as it was)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openData(ctx, *db, "", sqliteOptions())
	if err != nil {
		return err
	}
	defer d.Close()
	switch sub {
	case "list":
		st := *status
		if st == "all" {
			st = ""
		}
		items, err := d.st.Quarantined(ctx, st, 0)
		if err != nil {
			return err
		}
		return printJSON(stdout, items)
	case "replay", "dismiss":
		if *id <= 0 {
			return usageError{"--id is required"}
		}
		items, err := d.st.Quarantined(ctx, "", 0)
		if err != nil {
			return err
		}
		var raw string
		found := false
		for _, it := range items {
			if it.ID == *id {
				raw, found = it.Raw, true
				if it.Status != "open" {
					return fmt.Errorf("quarantine entry %d is %s, not open", *id, it.Status)
				}
			}
		}
		if !found {
			return fmt.Errorf("no quarantine entry %d", *id)
		}
		if sub == "dismiss" {
			return d.st.SetQuarantineStatus(ctx, *id, "dismissed")
		}
		line := *fixed
		if line == "" {
			line = stripLocation(raw)
		}
		var res ingest.Result
		err = ingest.ReadCSV(strings.NewReader("point,timestamp,value,unit\n"+line+"\n"), "replay:"+strconv.FormatInt(*id, 10), 1,
			func(in ingest.Input) error {
				r, err := d.pipeline(nil).Ingest(ctx, in)
				res.Add(r)
				return err
			})
		if err != nil {
			return err
		}
		if res.Accepted+res.Duplicates == 1 {
			if err := d.st.SetQuarantineStatus(ctx, *id, "replayed"); err != nil {
				return err
			}
		}
		return printJSON(stdout, res)
	}
	return usageError{"unknown quarantine command " + strconv.Quote(sub)}
}

// stripLocation drops the "source:line: " prefix the CSV reader puts on raw lines.
func stripLocation(raw string) string {
	if i := strings.LastIndex(raw, ": "); i >= 0 && strings.Count(raw[:i], ":") >= 1 && !strings.Contains(raw[:i], ",") {
		return raw[i+2:]
	}
	return raw
}
