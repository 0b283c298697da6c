package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Token is the stored record of an API token. It never holds the plaintext; Hash
// is the hex SHA-256 of it and is kept out of JSON and logs.
type Token struct {
	// ID identifies the token in listings and for revocation. It is random, not
	// derived from the secret, and is part of the plaintext (see Prefix).
	ID   string `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Prefix is the start of the plaintext, "lf_" + ID: enough to tell which token
	// a user holds, nothing of the secret.
	Prefix    string     `json:"prefix"`
	Hash      string     `json:"-"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Revoked reports whether the token has been revoked.
func (t Token) Revoked() bool { return t.RevokedAt != nil }

// LogValue keeps the hash out of logs even when a whole Token is logged.
func (t Token) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", t.ID),
		slog.String("name", t.Name),
		slog.String("role", string(t.Role)),
	)
}

var _ slog.LogValuer = Token{}

// Errors that callers branch on. The HTTP middleware maps all of them to 401.
var (
	// ErrInvalidToken: the presented token is malformed or unknown.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrRevoked: the token was valid and has been revoked.
	ErrRevoked = errors.New("auth: token revoked")
)

// The plaintext layout: "lf_" + ID + "_" + secret, all lower-case base32
// (RFC 4648 alphabet, no padding) so a token survives case-insensitive handling
// badly rather than subtly, and double-clicking selects all of it.
const (
	tokenScheme = "lf_"
	idBytes     = 5  // 40 bits: 8 characters; unique by constraint, not by luck
	secretBytes = 32 // 256 bits from crypto/rand
	idLen       = 8
	secretLen   = 52
	tokenLen    = len(tokenScheme) + idLen + 1 + secretLen // 64
)

var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Issuer makes new tokens. The zero value uses the wall clock and crypto/rand.
type Issuer struct {
	Now  func() time.Time // default time.Now
	Rand io.Reader        // default crypto/rand.Reader; tests only may replace it
}

// Issue makes a token for role with a human name (who or what holds it). It returns
// the plaintext, to be shown once, and the record to store (TokenStore.Create).
func Issue(role Role, name string) (plaintext string, rec Token, err error) {
	return Issuer{}.Issue(role, name)
}

// Issue is the package-level Issue with is's clock and randomness.
func (is Issuer) Issue(role Role, name string) (plaintext string, rec Token, err error) {
	if !role.Valid() {
		_, err := ParseRole(string(role))
		return "", Token{}, err
	}
	if err := validName(name); err != nil {
		return "", Token{}, err
	}
	now, rnd := is.Now, is.Rand
	if now == nil {
		now = time.Now
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var buf [idBytes + secretBytes]byte
	if _, err := io.ReadFull(rnd, buf[:]); err != nil {
		return "", Token{}, fmt.Errorf("auth: issue token: %w", err)
	}
	id := b32.EncodeToString(buf[:idBytes])
	plaintext = tokenScheme + id + "_" + b32.EncodeToString(buf[idBytes:])
	clear(buf[:])
	rec = Token{
		ID:        id,
		Name:      name,
		Role:      role,
		Prefix:    tokenScheme + id,
		Hash:      HashToken(plaintext),
		CreatedAt: now().UTC(),
	}
	return plaintext, rec, nil
}

// maxNameLen bounds a token's name, which is free text shown in listings.
const maxNameLen = 200

func validName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("auth: token name is %d bytes, at most %d allowed", len(name), maxNameLen)
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f || c == '\uFFFD' {
			return fmt.Errorf("auth: token name %q has a control character or invalid UTF-8", name)
		}
	}
	return nil
}

// HashToken returns the hex SHA-256 of a plaintext token: what the store keeps.
// A fast hash is enough: the secret has 256 bits, so there is nothing to brute-force.
func HashToken(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// wellFormed reports whether s has the layout Issue produces, so garbage is
// rejected before it reaches the database.
func wellFormed(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenScheme) || s[len(tokenScheme)+idLen] != '_' {
		return false
	}
	for i := len(tokenScheme); i < len(s); i++ {
		c := s[i]
		if i == len(tokenScheme)+idLen {
			continue
		}
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// Lookup finds a token record by the hash of its plaintext; TokenStore has it.
type Lookup interface {
	ByHash(ctx context.Context, hash string) (Token, error)
}

// Verify returns the record of a presented plaintext token. It fails with
// ErrInvalidToken for a malformed or unknown token, ErrRevoked for a revoked one
// (returning its record too, so the denial can be logged by ID), and a wrapped store
// error when the lookup itself fails.
func Verify(ctx context.Context, l Lookup, plaintext string) (Token, error) {
	if !wellFormed(plaintext) {
		return Token{}, ErrInvalidToken
	}
	h := HashToken(plaintext)
	t, err := l.ByHash(ctx, h)
	if errors.Is(err, ErrNotFound) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("auth: verify token: %w", err)
	}
	// The store matched on the hash already; comparing again in constant time keeps
	// the decision independent of how the store compares (collation, prefix indexes).
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) != 1 {
		return Token{}, ErrInvalidToken
	}
	if t.Revoked() {
		return t, ErrRevoked
	}
	return t, nil
}
