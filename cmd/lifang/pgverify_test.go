package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL too, changing, deleting or inserting one stored reading makes
// `lifang verify` fail and name the reading.
func TestVerifyPostgresTampering(t *testing.T) {
	dsn := os.Getenv("LIFANG_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("LIFANG_POSTGRES_DSN unset: skipping the PostgreSQL verify test (CI sets it)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	dir := t.TempDir()
	csv := filepath.Join(dir, "r.csv")
	var b strings.Builder
	b.WriteString("point,timestamp,value,unit\n")
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		fmt.Fprintf(&b, "m%d/elec,%s,%g,kWh\n", i%3, t0.Add(time.Duration(i/3)*15*time.Minute).Format(time.RFC3339), 1000+float64(i/3)*0.25)
	}
	os.WriteFile(csv, []byte(b.String()), 0o644)
	target := "m1/elec@2026-03-01T02:30:00Z"
	ts := t0.Add(10 * 15 * time.Minute).UnixNano()
	cases := []struct{ name, sql, want string }{
		{"altered", fmt.Sprintf(`UPDATE readings SET value = value + 1 WHERE point = 'm1/elec' AND ts = %d`, ts), "altered (leaf 0): " + target},
		{"deleted", fmt.Sprintf(`DELETE FROM readings WHERE point = 'm1/elec' AND ts = %d`, ts), "removed (leaf 0): " + target},
		{"inserted", fmt.Sprintf(`INSERT INTO readings(point, ts, value, unit, quality, batch, seq) VALUES ('m1/elec', %d, 7, 'kWh', 0, 0, 100000)`, ts+1), "added (leaf 0): m1/elec@2026-03-01T02:30:00.000000001Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema := fmt.Sprintf("lifang_verify_%s_%d", c.name, time.Now().UnixNano())
			u, _ := url.Parse(dsn)
			q := u.Query()
			q.Set("schema", schema)
			u.RawQuery = q.Encode()
			db := u.String()
			t.Cleanup(func() { conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
			if code, _, stderr := runCLI(t, "ingest", "csv", "--db", db, csv); code != 0 {
				t.Fatal(stderr)
			}
			if code, out, stderr := runCLI(t, "verify", "--db", db); code != 0 {
				t.Fatalf("untouched data failed: %s %s", out, stderr)
			}
			if _, err := conn.Exec(ctx, "SET search_path TO "+schema+"; "+c.sql); err != nil {
				t.Fatal(err)
			}
			code, out, _ := runCLI(t, "verify", "--db", db)
			if code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, report:\n%s\nwant a line %q", code, out, c.want)
			}
		})
	}
}
