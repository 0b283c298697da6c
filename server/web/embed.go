// Package web holds the dashboard of lifang serve: plain HTML, CSS and JavaScript
// modules in static/, committed as they are served (no build step, no network), and
// embedded into the binary. static/i18n.json holds the zh-CN and en dictionaries.
package web

import (
	"embed"
	"io/fs"
)

// FS is the dashboard's files under "static/".
//
//go:embed static
var FS embed.FS

// Static returns the static subtree, to be served at "/".
func Static() fs.FS {
	sub, err := fs.Sub(FS, "static")
	if err != nil { // cannot happen: "static" is a valid path embedded above
		panic(err)
	}
	return sub
}
