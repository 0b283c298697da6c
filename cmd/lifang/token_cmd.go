package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lifang-community/lifang/auth"
	"github.com/lifang-community/lifang/store/sqlite"
)

const tokenSynopsis = "(create --db PATH --role ROLE [--name NAME] | list --db PATH [--json] | revoke --db PATH --id ID)"

// runToken issues, lists and revokes the API tokens `lifang serve` accepts. Tokens
// live in the database they grant access to (table api_tokens).
func runToken(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintf(stderr, "Usage: lifang token %s\n\nRoles: %s\n", tokenSynopsis, roleNames())
			return nil
		}
		return usageError{"usage: lifang token " + tokenSynopsis}
	}
	switch sub := args[0]; sub {
	case "create":
		return tokenCreate(args[1:], stdout, stderr)
	case "list":
		return tokenList(args[1:], stdout, stderr)
	case "revoke":
		return tokenRevoke(args[1:], stdout, stderr)
	default:
		return usageError{fmt.Sprintf("unknown subcommand %q: usage: lifang token %s", sub, tokenSynopsis)}
	}
}

func tokenCreate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", "--db PATH --role ROLE [--name NAME]", stderr)
	db := fs.String("db", "", "SQLite database (created if absent) or postgres:// DSN")
	role := fs.String("role", "", "the token's role: "+roleNames())
	name := fs.String("name", "", "who or what holds the token, shown by `token list`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *db == "" || *role == "" {
		return usageError{"--db and --role are required (roles: " + roleNames() + ")"}
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usageError{"--role: " + err.Error()}
	}
	ctx := context.Background()
	plain, rec, err := auth.Issue(r, *name)
	if err != nil {
		return usageError{err.Error()}
	}
	s, err := openTokens(ctx, *db, true)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Create(ctx, rec); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created token %s role=%s name=%s\n", rec.Prefix, rec.Role, logfmtValue(rec.Name))
	fmt.Fprintln(stderr, "The token follows; it is shown only this once. Send it as \"Authorization: Bearer <token>\".")
	fmt.Fprintln(stdout, plain) // last line of stdout, so scripts can `| tail -n 1`
	return nil
}

func tokenList(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", "--db PATH [--json]", stderr)
	db := fs.String("db", "", "SQLite database or postgres:// DSN")
	asJSON := fs.Bool("json", false, "print the records as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	s, err := openTokens(ctx, *db, false)
	if err != nil {
		return err
	}
	defer s.Close()
	ts, err := s.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if ts == nil {
			ts = []auth.Token{}
		}
		return printJSON(stdout, ts) // Token.Hash is not marshalled
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tROLE\tNAME\tCREATED\tSTATUS")
	for _, t := range ts {
		status := "active"
		if t.RevokedAt != nil {
			status = "revoked " + t.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Prefix, t.Role, logfmtValue(t.Name), t.CreatedAt.Format(time.RFC3339), status)
	}
	return tw.Flush()
}

func tokenRevoke(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", "--db PATH --id ID", stderr)
	db := fs.String("db", "", "SQLite database or postgres:// DSN")
	id := fs.String("id", "", "the token's ID (from `token list`; the part after lf_ in its prefix)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *id == "" {
		return usageError{"--id is required"}
	}
	ctx := context.Background()
	s, err := openTokens(ctx, *db, false)
	if err != nil {
		return err
	}
	defer s.Close()
	// Accept the prefix as printed by `token create` as well as the bare ID.
	tid := strings.TrimPrefix(*id, "lf_")
	if err := s.Revoke(ctx, tid); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			return fmt.Errorf("no token with id %q (see `lifang token list`)", tid)
		}
		return err
	}
	fmt.Fprintf(stdout, "revoked token %s\n", tid)
	return nil
}

// tokenStore is an auth.TokenStore that holds a database open.
type tokenStore struct {
	*auth.SQLStore
	close func() error
}

func (s tokenStore) Close() error { return s.close() }

// openTokens opens the token store in db: a SQLite file, opened as the readings
// store so the file gets the whole schema, or a postgres:// DSN (with lifang's
// "schema" parameter, as openStore takes it). Only create makes a missing file.
func openTokens(ctx context.Context, db string, create bool) (tokenStore, error) {
	if db == "" {
		return tokenStore{}, usageError{"--db PATH (a SQLite file or a postgres:// DSN) is required"}
	}
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		u, err := url.Parse(db)
		if err != nil {
			return tokenStore{}, usageError{fmt.Sprintf("--db: %v", err)}
		}
		q := u.Query()
		schema := q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		s, err := auth.OpenPostgres(ctx, u.String(), schema)
		if err != nil {
			return tokenStore{}, err
		}
		return tokenStore{s, s.Close}, nil
	}
	if !create {
		if _, err := os.Stat(db); err != nil {
			return tokenStore{}, err
		}
	}
	st, err := sqlite.Open(db, sqliteOptions())
	if err != nil {
		return tokenStore{}, err
	}
	s, err := auth.NewSQLStore(ctx, st.DB(), auth.SQLite)
	if err != nil {
		st.Close()
		return tokenStore{}, err
	}
	return tokenStore{s, st.Close}, nil
}

func roleNames() string {
	var names []string
	for _, r := range auth.Roles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// logfmtValue prints s bare when that is unambiguous, quoted otherwise.
func logfmtValue(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"=\\") || strconv.Quote(s) != `"`+s+`"` {
		return strconv.Quote(s)
	}
	return s
}
