package auth

import (
	"encoding/json"
	"net/http"
)

// ErrorBody is lifang's one JSON error shape for the HTTP API:
//
//	{"error":{"status":401,"code":"unauthorized","message":"..."}}
//
// The server writes its own errors with WriteError too, so clients parse one shape.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody. Status repeats the HTTP status; Code is
// a stable machine-readable word (snake_case); Message is for people.
type ErrorDetail struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes the middleware writes.
const (
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeInternal     = "internal"
)

// WriteError writes an ErrorBody with the given status. Headers meant for the
// response (WWW-Authenticate, Retry-After) must be set before calling it.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	body, err := json.Marshal(ErrorBody{ErrorDetail{Status: status, Code: code, Message: message}})
	if err != nil { // cannot happen: three plain fields
		body = []byte(`{"error":{"status":500,"code":"internal","message":"encoding error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
