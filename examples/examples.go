// Package examples holds documented unit files; Community is the unit `lifang demo` runs.
package examples

import _ "embed"

// Community is examples/community.yaml: the demo community of about 1,000 households.
//
//go:embed community.yaml
var Community []byte

// Site is examples/site.yaml: the demo community commissioned for live operation
// (`lifang sitesim --unit demo-site`).
//
//go:embed site.yaml
var Site []byte
