package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/audit"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/store/sqlite"
)

func sqliteOptions() sqlite.Options { return sqlite.Options{} }

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "(--db PATH | --export DIR | --pack DIR) [--key VKEY|@FILE] [--trusted-checkpoint FILE] [--json]", stderr)
	db := fs.String("db", "", "SQLite database to verify")
	dir := fs.String("export", "", "export directory (from `lifang export`) to verify")
	pack := fs.String("pack", "", "disclosure pack (from `lifang report`): re-derive and check every figure")
	key := fs.String("key", "", "the log's public key (note verifier key, or @FILE); default: the key the data carries")
	trusted := fs.String("trusted-checkpoint", "", "a checkpoint of the log saved earlier (as `lifang ledger checkpoint` prints it): the data's must have its origin and key and extend it")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *pack != "" && (*db != "" || *dir != "") {
		return usageError{"give exactly one of --db PATH, --export DIR or --pack DIR"}
	}
	var trustedNote []byte
	if *trusted != "" {
		b, err := os.ReadFile(*trusted)
		if err != nil {
			return fmt.Errorf("--trusted-checkpoint: %w", err)
		}
		trustedNote = b
	}
	if *pack != "" {
		return runVerifyPack(*pack, *key, trustedNote, *asJSON, stdout)
	}
	if (*db == "") == (*dir == "") {
		return usageError{"give exactly one of --db PATH, --export DIR or --pack DIR"}
	}
	ctx := context.Background()
	var src audit.Source
	var vkeys []string
	if *db != "" {
		if !strings.Contains(*db, "://") {
			if _, err := os.Stat(*db); err != nil {
				return err
			}
		}
		st, err := openStore(ctx, *db, sqliteOptions())
		if err != nil {
			return err
		}
		defer st.Close()
		_, vkeys, err = st.Keys(ctx)
		if err != nil {
			return err
		}
		src = st
	} else {
		ex, err := audit.OpenExport(*dir)
		if err != nil {
			return err
		}
		src, vkeys = ex, ex.PublicKeys
	}
	fromData := true
	if *key != "" {
		k, err := readKeyFlag(*key)
		if err != nil {
			return err
		}
		vkeys, fromData = []string{k}, false
	}
	if len(vkeys) == 0 {
		return errors.New("no public key: pass --key")
	}
	var vs []note.Verifier
	for _, vk := range vkeys {
		v, err := ledger.NewVerifier(vk)
		if err != nil {
			return fmt.Errorf("public key %q: %w", vk, err)
		}
		vs = append(vs, v)
	}
	rep, err := audit.Verify(ctx, src, keyName(vkeys[0]), note.VerifierList(vs...))
	if rep != nil && trustedNote != nil {
		if _, terr := audit.CheckTrusted(ctx, src, trustedNote, note.VerifierList(vs...)); terr != nil {
			detail := strings.TrimPrefix(terr.Error(), audit.ErrFailed.Error()+": ")
			rep.Findings = append(rep.Findings, audit.Finding{Leaf: -1, Kind: "trusted", Detail: detail})
			rep.OK = false
			if err == nil {
				err = fmt.Errorf("%w: not consistent with --trusted-checkpoint", audit.ErrFailed)
			}
		}
	}
	if rep != nil {
		rep.KeyFromDB = fromData
		if *asJSON {
			printJSON(stdout, rep)
		} else {
			printReport(stdout, rep)
		}
	}
	return err
}

func printReport(w io.Writer, r *audit.Report) {
	status := "OK"
	if !r.OK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s: %s — %d leaves, %d readings checked against the signed checkpoint of size %d (root %s)\n",
		r.Origin, status, r.Leaves, r.Readings, r.TreeSize, r.Root)
	if r.KeyFromDB {
		fmt.Fprintln(w, "note: the public key came from the data itself; pass --key with the published key for an independent check")
	}
	for _, f := range r.Findings {
		fmt.Fprintln(w, "  "+f.String())
	}
}

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "--db PATH --out DIR", stderr)
	db := fs.String("db", "", "SQLite database")
	out := fs.String("out", "", "directory to write (readings, events, leaves, checkpoint, public keys)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *out == "" {
		return usageError{"--db and --out are required"}
	}
	if !strings.Contains(*db, "://") {
		if _, err := os.Stat(*db); err != nil {
			return err
		}
	}
	st, err := openStore(context.Background(), *db, sqliteOptions())
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := audit.WriteExport(context.Background(), st, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d leaves to %s\n", n, *out)
	return nil
}

// readKeyFlag is a --key value: a verifier key, or @FILE holding one.
func readKeyFlag(k string) (string, error) {
	if !strings.HasPrefix(k, "@") {
		return k, nil
	}
	b, err := os.ReadFile(k[1:])
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
