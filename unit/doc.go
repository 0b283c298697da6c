// Package unit owns the community spec: the YAML file that describes one community
// operating unit (buildings, PV, batteries, EV charging, flexible loads, parking,
// rentals, rainwater, tariffs, costs and the data source) and the Go types it decodes to.
//
// A unit file goes through the same steps as a Prometheus or evcc config:
//
//  1. strict decode (Parse): unknown keys, wrong types, duplicate keys, malformed YAML,
//     empty files and multiple documents are errors; so are files beyond the limits of
//     bounds.go (MaxBytes, MaxNodes through aliases, MaxDepth) and aliases that contain
//     themselves, checked before anything follows an alias;
//  2. defaults (ApplyDefaults): omitted (zero) fields take the values documented in
//     defaults.go;
//  3. validation (Validate): every problem is reported, not just the first.
//
// Every problem is an *Error naming the file, the line, the field path
// ("batteries[0].capacity_kwh") and what would be valid; Parse returns them all as
// Errors. examples/community.yaml is the documented example.
//
// References: time-of-use structure per the Guangdong 2021 TOU notice; runoff
// coefficients are the mid-points of GB 50400-2016 (建筑与小区雨水控制及利用工程技术规范)
// table 3.1.3; battery ageing per NREL BLAST-Lite (LFP-Gr 250 Ah).
package unit
