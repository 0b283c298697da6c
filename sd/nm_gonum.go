package sd

import "gonum.org/v1/gonum/optimize"

// nelderMead minimises f from x0 with gonum's Nelder–Mead.
//
// Built with -tags gonumopt: gonum/optimize imports gonum/stat/distmv, which
// needs golang.org/x/tools (container/intsets) in go.mod/go.sum; add it with
// `go get golang.org/x/tools/container/intsets`, then drop the tags here and
// in nm_local.go.
func nelderMead(f func([]float64) float64, x0 []float64) ([]float64, float64, error) {
	settings := &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-14, Relative: 1e-14, Iterations: 200},
		FuncEvaluations: 20000,
	}
	res, err := optimize.Minimize(optimize.Problem{Func: f}, x0, settings, &optimize.NelderMead{})
	if res == nil {
		return nil, 0, err
	}
	if err != nil && res.Status == optimize.FunctionEvaluationLimit {
		err = nil
	}
	return res.X, res.F, err
}
