package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a token may do, as a name; Grants maps it to permissions.
type Role string

// The roles. A token has exactly one.
const (
	// Admin runs the installation: everything, including managing tokens.
	Admin Role = "admin"
	// Operator runs the community day to day: meters, configuration, jobs.
	Operator Role = "operator"
	// Investor follows the money: financial results and privacy-protected aggregates.
	Investor Role = "investor"
	// Auditor checks the books independently: read-only data, the ledger, exports.
	Auditor Role = "auditor"
)

// roles lists the roles in the order error messages and help show them.
var roles = []Role{Admin, Operator, Investor, Auditor}

// Roles returns the valid roles, most powerful first.
func Roles() []Role { return slices.Clone(roles) }

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// ParseRole parses a role name (exact, lower case as listed by Roles).
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q: valid roles are %s", s, roleList())
	}
	return r, nil
}

func roleList() string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Permission names one kind of API access; a handler requires exactly one.
// Health checks and the OpenAPI document are anonymous and need none.
type Permission string

// The permissions.
const (
	// ReadOperations: the operational time series (energy, parking, water, rentals)
	// and KPIs, at full resolution.
	ReadOperations Permission = "read:operations"
	// ReadAggregates: privacy-protected aggregates (no household-level series).
	ReadAggregates Permission = "read:aggregates"
	// ReadFinance: financial results (cash flows, NOI, valuations, settlements).
	ReadFinance Permission = "read:finance"
	// ReadLedger: the tamper-evident log's checkpoints and proofs.
	ReadLedger Permission = "read:ledger"
	// Ingest: POST readings.
	Ingest Permission = "ingest"
	// Configure: change the unit's configuration.
	Configure Permission = "configure"
	// Run: start simulation, scenario and Monte Carlo jobs.
	Run Permission = "run"
	// Export: bulk export of signed data for offline verification.
	Export Permission = "export"
	// AdminTokens: issue, list and revoke API tokens.
	AdminTokens Permission = "admin:tokens"
)

// permissions lists every permission, for the admin grant's test and for docs.
var permissions = []Permission{
	ReadOperations, ReadAggregates, ReadFinance, ReadLedger,
	Ingest, Configure, Run, Export, AdminTokens,
}

// Permissions returns every defined permission.
func Permissions() []Permission { return slices.Clone(permissions) }

// Grants is the whole access policy: what each role may do. A role or permission
// not listed here is denied. Keep the reason for each grant next to it.
var Grants = map[Role][]Permission{
	// Admin can do everything, token management included; admin tokens are for
	// people setting up the installation, not for automation.
	Admin: {
		ReadOperations, ReadAggregates, ReadFinance, ReadLedger,
		Ingest, Configure, Run, Export, AdminTokens,
	},
	// Operator runs the community: feeds readings in (ingest), changes the unit
	// (configure), starts jobs (run) and reads everything needed to do so, including
	// the finance results their decisions move and the ledger to check their own
	// data landed. Aggregates are derived from the series they already read, so
	// withholding them would only break dashboards. Not: export (bulk egress is the
	// auditor's and the admin's) and token management.
	Operator: {ReadOperations, ReadAggregates, ReadFinance, ReadLedger, Ingest, Configure, Run},
	// Investor sees returns, never residents: financial results and the
	// privacy-protected aggregates only. No raw operational series (household-level
	// data), no ledger internals, nothing that writes or starts work.
	Investor: {ReadFinance, ReadAggregates},
	// Auditor checks independently and changes nothing: the ledger's checkpoints and
	// proofs, exports to verify offline, and the operational data the ledger commits
	// to (plus the aggregates derived from it). Not finance: the audit is of the
	// metered data; financial statements have their own auditors and an admin can
	// issue a separate token if needed.
	Auditor: {ReadLedger, Export, ReadOperations, ReadAggregates},
}

// Can reports whether role r is granted permission p. It denies unknown roles and
// unknown or empty permissions.
func (r Role) Can(p Permission) bool {
	return p != "" && slices.Contains(Grants[r], p)
}
