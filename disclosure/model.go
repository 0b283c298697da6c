package disclosure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"

	"github.com/lifang-community/lifang/finance"
	"github.com/lifang-community/lifang/ingest/citylearn"
	"github.com/lifang-community/lifang/scenario"
	"github.com/lifang-community/lifang/unit"
)

// ModelPolicies are the policies model figures run. The MPC is left out: it is
// the slow one, and verify re-runs the whole simulation.
var ModelPolicies = []string{scenario.Baseline, "rule_based"}

// ModelPaths is the number of Monte Carlo paths behind CFaR95 (as `lifang demo`).
const ModelPaths = 2000

// ModelOptions configure the model figures.
type ModelOptions struct {
	// Unit is the unit file (YAML); nil means no model figures. It is copied
	// into the pack as unit.yaml, so its data must be synthetic (seeded):
	// a csv or citylearn source would leave the pack unable to re-run it.
	Unit []byte
	// Name names the unit file in errors (e.g. its path).
	Name string
	// Seed of the synthetic series; 0 means the unit's data.seed.
	Seed uint64
}

// model is a simulated unit and what its figures need.
type model struct {
	sum      *scenario.Summary
	fin      *finance.Result
	finErr   error
	seed     uint64
	unitHash string
}

// runModel simulates the unit under ModelPolicies and values the rule-based
// year; it is deterministic given the unit bytes and the seed.
func runModel(ctx context.Context, src []byte, name string, seed uint64) (*model, error) {
	u, err := unit.Parse(src, name)
	if err != nil {
		return nil, err
	}
	if u.Data.Source != "synthetic" {
		return nil, fmt.Errorf("%s: data.source %q: model figures need a self-contained unit (data.source: synthetic); the pack copies only the unit file", name, u.Data.Source)
	}
	if seed == 0 {
		seed = u.Data.Seed
	}
	u.Data.Seed = seed
	c, err := scenario.FromUnit(u, seed, ".", citylearn.Options{})
	if err != nil {
		return nil, err
	}
	runs, err := c.Run(ModelPolicies, nil)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(src)
	m := &model{sum: scenario.Summarise(c, runs), seed: seed, unitHash: hex.EncodeToString(h[:])}
	m.fin, m.finErr = scenario.Finance(ctx, c, runs, ModelPaths, nil)
	return m, nil
}

// figures are the model's figures; a finance engine that could not value the
// operation (e.g. it loses money) leaves its figures out with a note.
func (m *model) figures(version string) ([]Figure, []Note) {
	seed := m.seed
	prov := func(policies []string, paths int) Provenance {
		return Provenance{Model: version, UnitFile: UnitFile, UnitSHA256: m.unitHash, Seed: &seed,
			Policies: policies, Paths: paths, GOARCH: runtime.GOARCH}
	}
	var out []Figure
	for _, p := range ModelPolicies {
		ps, ok := m.sum.Policies[p]
		if !ok {
			continue
		}
		zh := map[string]string{scenario.Baseline: "基准运营", "rule_based": "规则运营"}[p]
		out = append(out, Figure{
			ID: "model/noi/" + p, LabelZH: "年度净营运收入（NOI，" + zh + "）", LabelEN: "annual net operating income (NOI, " + p + ")",
			Value: json.Number(finance.FenFromYuan(ps.NOICNY).String()), Unit: "CNY",
			Derivation: "revenue − opex of the settled simulated year under " + p + ", rounded to the fen",
			Provenance: prov([]string{p}, 0),
		})
	}
	if m.fin == nil {
		msg := "no finance engine result"
		if m.finErr != nil {
			msg = m.finErr.Error()
		}
		return out, []Note{{ZH: "未披露财务指标：" + msg, EN: "no finance figures: " + msg}}
	}
	pol := []string{"rule_based"}
	out = append(out, Figure{
		ID: "model/creit/distribution_rate", LabelZH: "C-REIT 首个完整年度分派率", LabelEN: "C-REIT distribution rate, first full year",
		Value: json.Number(strconv.FormatFloat(m.fin.CREIT.DistributionRate, 'g', -1, 64)), Unit: "ratio",
		Derivation: "distribution / issue amount in the first full year of the default C-REIT deal (finance.CommunityDeal) over the rule_based year",
		Provenance: prov(pol, 0),
	})
	if r := m.fin.Risk; r != nil {
		out = append(out, Figure{
			ID: "model/risk/cfar95", LabelZH: "95% 现金流风险值（CFaR95）", LabelEN: "cash flow at risk, 95 % (CFaR95)",
			Value: json.Number(r.CFaR95.String()), Unit: "CNY",
			Derivation: fmt.Sprintf("E[CF] − q₅%%(CF), CF the distributable amount averaged over the first %d years, over %d Monte Carlo paths (seed %d)", r.CFaRYears, r.Paths, r.Seed),
			Provenance: prov(pol, ModelPaths),
		})
	}
	return out, nil
}
