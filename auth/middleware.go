package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// Authenticator checks bearer tokens against a store on every request.
type Authenticator struct {
	tokens Lookup
	log    *slog.Logger
}

// NewAuthenticator returns an Authenticator looking tokens up in l (a TokenStore)
// and logging denials to log (slog.Default() if nil). It caches nothing, so a
// revoked token is refused on its next request.
func NewAuthenticator(l Lookup, log *slog.Logger) *Authenticator {
	if log == nil {
		log = slog.Default()
	}
	return &Authenticator{tokens: l, log: log}
}

// Middleware returns a wrapper that lets a request through only with a valid token
// whose role has permission p: no, malformed, unknown or revoked token → 401, valid
// token without p → 403, store failure → 500, each as an ErrorBody. The handler
// finds the token with FromContext.
func (a *Authenticator) Middleware(p Permission) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return a.Require(p, h) }
}

// Require wraps h like Middleware(p)(h).
func (a *Authenticator) Require(p Permission, h http.Handler) http.Handler {
	return a.require(p, false, h)
}

// Authenticated lets through any valid token, whatever its role (for "who am I").
func (a *Authenticator) Authenticated(h http.Handler) http.Handler {
	return a.require("", true, h)
}

func (a *Authenticator) require(p Permission, anyRole bool, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		t, status, reason := a.authenticate(ctx, r)
		if status == http.StatusOK && !anyRole && !t.Role.Can(p) {
			status, reason = http.StatusForbidden, "permission"
		}
		if status != http.StatusOK {
			a.deny(w, r, p, t, status, reason)
			return
		}
		h.ServeHTTP(w, r.WithContext(NewContext(ctx, t)))
	})
}

// authenticate returns the request's token, or the status and a log reason.
func (a *Authenticator) authenticate(ctx context.Context, r *http.Request) (Token, int, string) {
	vals := r.Header.Values("Authorization")
	switch {
	case len(vals) == 0:
		return Token{}, http.StatusUnauthorized, "missing"
	case len(vals) > 1:
		return Token{}, http.StatusUnauthorized, "malformed"
	}
	plaintext, err := ParseBearer(vals[0])
	if err != nil {
		return Token{}, http.StatusUnauthorized, "malformed"
	}
	t, err := Verify(ctx, a.tokens, plaintext)
	switch {
	case err == nil:
		return t, http.StatusOK, ""
	case errors.Is(err, ErrRevoked):
		return t, http.StatusUnauthorized, "revoked"
	case errors.Is(err, ErrInvalidToken):
		return Token{}, http.StatusUnauthorized, "invalid"
	default:
		a.log.ErrorContext(ctx, "auth: token lookup failed", slog.Any("err", err))
		return Token{}, http.StatusInternalServerError, "store"
	}
}

// deny writes the error response and logs the denial: reason, route, and the
// token's non-secret ID when there is a known token, never the presented value.
func (a *Authenticator) deny(w http.ResponseWriter, r *http.Request, p Permission, t Token, status int, reason string) {
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.String("reason", reason),
		slog.String("permission", string(p)),
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("remote", r.RemoteAddr),
	}
	if t.ID != "" {
		attrs = append(attrs, slog.String("token_id", t.ID), slog.String("role", string(t.Role)))
	}
	a.log.LogAttrs(r.Context(), slog.LevelWarn, "auth: request denied", attrs...)

	w.Header().Set("Cache-Control", "no-store")
	switch status {
	case http.StatusUnauthorized:
		msg := "missing bearer token: send Authorization: Bearer <token>"
		challenge := `Bearer realm="lifang"`
		switch reason {
		case "malformed":
			msg = `malformed Authorization header: want "Bearer <token>"`
			challenge += `, error="invalid_request"`
		case "invalid", "revoked":
			// One message for both, so the response does not tell whether a
			// guessed or stolen token ever existed.
			msg = "invalid or revoked token"
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		WriteError(w, status, CodeUnauthorized, msg)
	case http.StatusForbidden:
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="lifang", error="insufficient_scope", scope=%q`, string(p)))
		WriteError(w, status, CodeForbidden, fmt.Sprintf("role %s lacks permission %s", t.Role, p))
	default:
		WriteError(w, status, CodeInternal, "cannot check the token now; try again")
	}
}

// ParseBearer returns the token of an Authorization header value of the form
// "Bearer <token>" (RFC 6750 §2.1: scheme case-insensitive, token68 syntax). It
// checks syntax only; Verify decides whether the token is any good.
func ParseBearer(header string) (string, error) {
	scheme, rest, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errors.New("auth: Authorization is not a Bearer credential")
	}
	tok := strings.TrimLeft(rest, " ")
	if !token68(tok) {
		return "", errors.New("auth: malformed bearer token")
	}
	return tok, nil
}

// maxTokenLen bounds what is accepted as a token before hashing: far above ours,
// far below anything abusive.
const maxTokenLen = 512

// token68 reports whether s matches 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
// "+" / "/" ) *"=" (RFC 9110 §11.2), at most maxTokenLen bytes.
func token68(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

type ctxKey struct{}

// NewContext returns ctx carrying the authenticated token, without its Hash.
func NewContext(ctx context.Context, t Token) context.Context {
	t.Hash = ""
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the token the middleware authenticated the request with.
func FromContext(ctx context.Context) (Token, bool) {
	t, ok := ctx.Value(ctxKey{}).(Token)
	return t, ok
}
