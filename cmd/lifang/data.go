package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/lifang-community/lifang/ingest"
	"github.com/lifang-community/lifang/ledger"
	"github.com/lifang-community/lifang/store"
	"github.com/lifang-community/lifang/store/postgres"
	"github.com/lifang-community/lifang/store/sqlite"
)

// DefaultOrigin names the log of a database created without --origin.
const DefaultOrigin = "lifang.local/unit"

// dataset is an open database with its ledger.
type dataset struct {
	st        store.Store
	log       *ledger.Log
	origin    string
	verifiers note.Verifiers
	vkeys     []string
}

// openStore opens the store a --db value names: a PostgreSQL DSN (postgres://…) or a
// SQLite file path.
func openStore(ctx context.Context, db string, opt sqlite.Options) (store.Store, error) {
	if db == "" {
		return nil, usageError{"--db PATH (a SQLite file or a postgres:// DSN) is required"}
	}
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		// A "schema" query parameter selects (and creates) the schema; it is lifang's,
		// not a server parameter, so it is taken off the DSN.
		u, err := url.Parse(db)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--db: %v", err)}
		}
		q := u.Query()
		schema := q.Get("schema")
		q.Del("schema")
		u.RawQuery = q.Encode()
		return postgres.Open(ctx, u.String(), schema)
	}
	return sqlite.Open(db, opt)
}

// openData opens the database db (see openStore), creating its signing key on first
// use (named by origin), and loads the ledger. The signing key lives in the database
// unless LIFANG_LEDGER_SKEY holds one (then the database keeps only public keys).
func openData(ctx context.Context, db, origin string, opt sqlite.Options) (*dataset, error) {
	st, err := openStore(ctx, db, opt)
	if err != nil {
		return nil, err
	}
	d := &dataset{st: st}
	if err := d.load(ctx, origin); err != nil {
		st.Close()
		return nil, err
	}
	return d, nil
}

func (d *dataset) load(ctx context.Context, origin string) error {
	skeys, vkeys, err := d.st.Keys(ctx)
	if err != nil {
		return err
	}
	if len(skeys) == 0 {
		if origin == "" {
			origin = DefaultOrigin
		}
		sk, vk, err := ledger.GenerateKey(origin)
		if err != nil {
			return err
		}
		stored := sk
		if os.Getenv("LIFANG_LEDGER_SKEY") != "" {
			stored = ""
		}
		if err := d.st.SaveKey(ctx, origin, stored, vk, time.Now()); err != nil {
			return err
		}
		skeys, vkeys = []string{stored}, []string{vk}
	}
	d.vkeys = vkeys
	var vs []note.Verifier
	for _, vk := range vkeys {
		v, err := ledger.NewVerifier(vk)
		if err != nil {
			return fmt.Errorf("stored public key: %w", err)
		}
		vs = append(vs, v)
	}
	d.verifiers = note.VerifierList(vs...)
	d.origin = keyName(vkeys[0])
	if origin != "" && origin != d.origin {
		return usageError{fmt.Sprintf("--origin %q, but this database's log is %q", origin, d.origin)}
	}
	skey := skeys[0]
	if env := os.Getenv("LIFANG_LEDGER_SKEY"); env != "" {
		skey = env
	}
	var signer note.Signer
	if skey != "" {
		if signer, err = ledger.NewSigner(skey); err != nil {
			return fmt.Errorf("signing key: %w", err)
		}
	}
	size, err := d.st.TreeSize(ctx)
	if err != nil {
		return err
	}
	_, last, err := d.st.LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if d.log, err = ledger.New(d.origin, d.st, size, signer, last, d.verifiers); err != nil {
		return err
	}
	return d.reconcile(ctx)
}

// reconcile signs a checkpoint for leaves a crash left between their commit and their
// checkpoint, so every stored leaf is covered by a signed tree head again.
func (d *dataset) reconcile(ctx context.Context) error {
	cpSize, _, err := d.st.LatestCheckpoint(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if d.log.Size() == 0 || cpSize == d.log.Size() {
		return nil
	}
	note, err := d.log.Sign()
	if errors.Is(err, ledger.ErrNoSigner) {
		return nil // no signing key here: an operator with the key will sign
	}
	if err != nil {
		return fmt.Errorf("reconcile: sign tree of %d leaves: %w", d.log.Size(), err)
	}
	slog.Info("reconciled ledger after restart", "checkpoint_size", cpSize, "tree_size", d.log.Size())
	return d.st.SaveCheckpoint(ctx, d.log.Size(), note)
}

// keyName is the name part of a note verifier key "name+hash+key".
func keyName(vkey string) string {
	name, _, _ := strings.Cut(vkey, "+")
	return name
}

func (d *dataset) pipeline(lg *slog.Logger) *ingest.Pipeline {
	return ingest.NewPipeline(d.st, d.log, time.Now, lg)
}

func (d *dataset) Close() error { return d.st.Close() }
