package auth

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

var tokenRE = regexp.MustCompile(`^lf_[a-z2-7]{8}_[a-z2-7]{52}$`)

func TestIssueFormat(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))
	is := Issuer{Now: func() time.Time { return now }}
	plain, rec, err := is.Issue(Operator, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !tokenRE.MatchString(plain) || !wellFormed(plain) {
		t.Errorf("plaintext %q has the wrong layout", plain)
	}
	if rec.Prefix != plain[:11] || rec.Prefix != "lf_"+rec.ID {
		t.Errorf("prefix %q, id %q, token %q", rec.Prefix, rec.ID, plain)
	}
	if rec.Hash != HashToken(plain) || len(rec.Hash) != 64 || strings.Contains(rec.Hash, plain) {
		t.Errorf("hash %q", rec.Hash)
	}
	if !rec.CreatedAt.Equal(now) || rec.CreatedAt.Location() != time.UTC {
		t.Errorf("created %v, want %v in UTC", rec.CreatedAt, now)
	}
	if rec.Role != Operator || rec.Name != "ci" || rec.RevokedAt != nil {
		t.Errorf("record %+v", rec)
	}
	plain2, rec2, _ := Issue(Operator, "ci")
	if plain2 == plain || rec2.ID == rec.ID {
		t.Error("two issued tokens are equal")
	}
}

func TestIssueDeterministicWithRand(t *testing.T) {
	seed := bytes.Repeat([]byte{0xab}, idBytes+secretBytes)
	is := Issuer{Now: time.Now, Rand: bytes.NewReader(seed)}
	plain, _, err := is.Issue(Admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "lf_vov2xk5l_" + b32.EncodeToString(seed[idBytes:]); plain != want {
		t.Errorf("got %q, want %q", plain, want)
	}
	if _, _, err := (Issuer{Rand: bytes.NewReader(nil)}).Issue(Admin, ""); err == nil {
		t.Error("Issue with an empty random source succeeded")
	}
}

func TestIssueRejects(t *testing.T) {
	if _, _, err := Issue("root", "x"); err == nil || !strings.Contains(err.Error(), "valid roles are") {
		t.Errorf("bad role: %v", err)
	}
	if _, _, err := Issue(Admin, "a\nb"); err == nil {
		t.Error("control character in name accepted")
	}
	if _, _, err := Issue(Admin, strings.Repeat("x", maxNameLen+1)); err == nil {
		t.Error("overlong name accepted")
	}
}

func TestWellFormed(t *testing.T) {
	good, _, _ := Issue(Auditor, "")
	bad := []string{
		"", "lf_", good[:len(good)-1], good + "a", strings.ToUpper(good),
		"lx_" + good[3:], good[:11] + "-" + good[12:], good[:20] + "1" + good[21:],
		good[:20] + "=" + good[21:],
	}
	if !wellFormed(good) {
		t.Errorf("%q not well formed", good)
	}
	for _, s := range bad {
		if wellFormed(s) {
			t.Errorf("%q well formed", s)
		}
	}
}

// fakeLookup is a Lookup over a map, counting calls.
type fakeLookup struct {
	byHash map[string]Token
	err    error
	calls  int
}

func (f *fakeLookup) ByHash(_ context.Context, h string) (Token, error) {
	f.calls++
	if f.err != nil {
		return Token{}, f.err
	}
	t, ok := f.byHash[h]
	if !ok {
		return Token{}, ErrNotFound
	}
	return t, nil
}

func TestVerify(t *testing.T) {
	ctx := t.Context()
	plain, rec, _ := Issue(Investor, "fund")
	revokedPlain, revoked, _ := Issue(Investor, "old")
	at := time.Now()
	revoked.RevokedAt = &at
	f := &fakeLookup{byHash: map[string]Token{rec.Hash: rec, revoked.Hash: revoked}}

	got, err := Verify(ctx, f, plain)
	if err != nil || got.ID != rec.ID {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	if _, err := Verify(ctx, f, revokedPlain); !errors.Is(err, ErrRevoked) {
		t.Errorf("revoked: %v", err)
	}
	other, _, _ := Issue(Investor, "")
	if _, err := Verify(ctx, f, other); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("unknown: %v", err)
	}
	calls := f.calls
	if _, err := Verify(ctx, f, "lf_nope"); !errors.Is(err, ErrInvalidToken) || f.calls != calls {
		t.Errorf("malformed: %v, %d store calls", err, f.calls-calls)
	}
	// A store that returns a record with another hash must not authenticate.
	f.byHash[HashToken(other)] = rec
	if _, err := Verify(ctx, f, other); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("mismatched hash: %v", err)
	}
	boom := errors.New("disk on fire")
	if _, err := Verify(ctx, &fakeLookup{err: boom}, plain); !errors.Is(err, boom) || errors.Is(err, ErrInvalidToken) {
		t.Errorf("store failure: %v", err)
	}
}
