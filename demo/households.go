package demo

import (
	"math"

	"github.com/lifang-community/lifang/twin"
	"github.com/lifang-community/lifang/unit"
)

// Household model.
//
// Each building's households form five income-quintile groups (households/5 each, the
// remainder in the top group; a building of fewer than five households is one group at
// the mean income). Income is log-normal with the unit's median and σ; a group's
// income is the closed-form mean of its quintile,
//
//	E[X | q_{k−1} < F(X) ≤ q_k] = e^{μ+σ²/2} (Φ(z_k − σ) − Φ(z_{k−1} − σ)) / 0.2,
//
// z_k = Φ⁻¹(k/5), times a building factor lognormal(σ 0.1, mean 1) (some towers are
// better off). Electricity rises with income with elasticity incomeElasticityLoad =
// 0.3: LoadShare ∝ count × (income/median)^0.3, normalised per building. Potable
// water likewise with elasticity 0.2, scaled so the community's households use
// households.water_m3_per_year on average.
const (
	incomeElasticityLoad  = 0.3
	incomeElasticityWater = 0.2
	buildingIncomeSigma   = 0.1
	quintiles             = 5
)

func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// quintileMeans returns the mean of each quintile of a log-normal with median 1 and
// shape sigma.
func quintileMeans(sigma float64) [quintiles]float64 {
	var out [quintiles]float64
	mean := math.Exp(sigma * sigma / 2)
	lo := 0.0 // Φ(z_0 − σ), z_0 = −∞
	for k := range quintiles {
		hi := 1.0
		if k < quintiles-1 {
			z := math.Sqrt2 * math.Erfinv(2*float64(k+1)/quintiles-1)
			hi = normCDF(z - sigma)
		}
		out[k] = mean * (hi - lo) * quintiles
		lo = hi
	}
	return out
}

func (g *gen) households() []twin.HouseholdGroup {
	h := g.u.Households
	median := orDefault(h.MedianIncomeCNYPerYear, unit.DefaultMedianIncomeCNYPerYear)
	sigma := orDefault(h.IncomeSigma, unit.DefaultIncomeSigma)
	water := orDefault(h.WaterM3PerYear, unit.DefaultWaterM3PerYear)
	qm := quintileMeans(sigma)
	r := g.stream(streamHouseholds)

	var out []twin.HouseholdGroup
	for b, bs := range g.m.Buildings {
		mult := lognormal(r, math.Exp(-buildingIncomeSigma*buildingIncomeSigma/2), buildingIncomeSigma)
		n := bs.Households
		if n <= 0 {
			continue
		}
		first := len(out)
		if n < quintiles {
			out = append(out, twin.HouseholdGroup{Building: b, Count: n, IncomeCNYPerYear: math.Round(median * math.Exp(sigma*sigma/2) * mult)})
		} else {
			for k := range quintiles {
				c := n / quintiles
				if k == quintiles-1 {
					c = n - c*(quintiles-1)
				}
				out = append(out, twin.HouseholdGroup{Building: b, Count: c, IncomeCNYPerYear: math.Round(median * qm[k] * mult)})
			}
		}
		sum := 0.0
		for i := first; i < len(out); i++ {
			out[i].LoadShare = float64(out[i].Count) * math.Pow(out[i].IncomeCNYPerYear/median, incomeElasticityLoad)
			sum += out[i].LoadShare
		}
		for i := first; i < len(out); i++ {
			out[i].LoadShare /= sum
		}
	}
	// Water: elasticity around the community mean.
	var wSum, nSum float64
	for _, o := range out {
		wSum += float64(o.Count) * math.Pow(o.IncomeCNYPerYear/median, incomeElasticityWater)
		nSum += float64(o.Count)
	}
	for i := range out {
		out[i].WaterM3PerYear = water * math.Pow(out[i].IncomeCNYPerYear/median, incomeElasticityWater) * nSum / wSum
	}
	return out
}
