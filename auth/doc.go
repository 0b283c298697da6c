// Package auth owns who may call lifang's HTTP API: roles and the permissions they
// grant (Grants), API bearer tokens (Issue, Verify), where token records live
// (TokenStore; SQLStore on the readings SQLite file or PostgreSQL), and the HTTP
// middleware that turns a request's Authorization header into a principal or a
// 401/403 in lifang's one JSON error shape (WriteError).
//
// Tokens follow the usual design for API keys (GitHub, Stripe): a random secret is
// shown once, only its SHA-256 is stored, and a short non-secret prefix identifies
// it in listings and logs. The header syntax is RFC 6750 §2.1 (Bearer) on RFC 9110
// §11 (credentials); denials carry WWW-Authenticate as RFC 6750 §3 describes.
//
// Nothing is cached: every request looks its token up, so a revocation takes effect
// on the next request.
package auth
