package mixture

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// trained returns an error when the model has no parameters yet.
func (m *Mixture) trained() error {
	if len(m.restarts) == 0 {
		return fmt.Errorf("mixture: the model has not been trained (no EM iteration was run)")
	}
	return nil
}

// project returns the rows of d as the kept mixture models them: checked
// (finite; in [0, 1] for a Bernoulli mixture) and projected by the PCA.
func (m *Mixture) project(d *dataset.Dataset) (*tensor.Mat, error) {
	if err := m.trained(); err != nil {
		return nil, err
	}
	if d.Dim() != m.dim {
		return nil, fmt.Errorf("%s has %d values per example, the model %d", d.Name, d.Dim(), m.dim)
	}
	if err := checkValues(d.X, m.kind == KindBernoulli); err != nil {
		return nil, fmt.Errorf("%s: %w", d.Name, err)
	}
	if m.PCA != nil {
		return m.PCA.Transform(d.X), nil
	}
	return d.X, nil
}

// Score implements model.Scorer: the exact mean log-likelihood
//
//	log p(x) = log Σ_k exp(log π_k + log p(x | θ_k)),
//
// per example, with BIC and AIC of the data scored. With a PCA it is the density
// of the projected data, and the method says so.
func (m *Mixture) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	x, err := m.project(d)
	if err != nil {
		return model.Estimate{}, err
	}
	km := m.kept()
	p := numParams(km)
	est := model.Estimate{LogLik: Score(km, x), Method: "exact", N: x.Rows, PerExample: ScoreSamples(km, nil, x),
		Extra: []model.Metric{{Name: "bic", Value: BIC(km, p, x)}, {Name: "aic", Value: AIC(km, p, x)}}}
	if m.PCA != nil {
		// The density is over the projected data, not the original columns.
		est.Method = fmt.Sprintf("exact, of the %d-dimensional PCA projection", m.PCA.Dims)
		est.Extra = append(est.Extra, model.Metric{Name: "pca", Value: m.PCA.Dims})
	}
	return est, nil
}

// Monitor implements model.Monitor: the exact held-out log-likelihood.
func (m *Mixture) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	x, err := m.project(d)
	if err != nil {
		return nil, err
	}
	return []model.Metric{{Name: "log_likelihood", Value: Score(m.kept(), x)}}, nil
}

// Sample implements model.Sampler: o.N examples from the kept mixture (all from
// component o.Label when it is >= 0), labelled with their components; with a
// PCA, mapped back to the data's space.
func (m *Mixture) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if err := m.trained(); err != nil {
		return nil, err
	}
	k := m.kept().NumComponents()
	if o.Label >= k {
		return nil, model.Flagf("label", "the mixture has components 0 to %d, got %d", k-1, o.Label)
	}
	s := rng.New(o.Seed)
	var x *tensor.Mat
	var labels []int
	switch g := m.kept().(type) {
	case *GaussianMixture:
		x, labels = g.SampleComponent(o.N, o.Label, s)
		if m.PCA != nil {
			x = m.PCA.Inverse(x)
		}
	case *BernoulliMixture:
		x, labels = g.SampleComponent(o.N, o.Label, s)
	}
	return &dataset.Dataset{Name: "samples", X: x, Labels: labels, NumClasses: k, Binary: m.kind == KindBernoulli}, nil
}

// Transform implements model.Transformer: for every example its most probable
// component, its log-likelihood and the responsibilities p(k | x).
func (m *Mixture) Transform(ctx context.Context, d *dataset.Dataset) (*tensor.Mat, []string, error) {
	x, err := m.project(d)
	if err != nil {
		return nil, nil, err
	}
	km := m.kept()
	k := km.NumComponents()
	resp := PredictProba(km, nil, x)
	ll := ScoreSamples(km, nil, x)
	pred := Predict(km, nil, x)
	out := tensor.New(x.Rows, k+2)
	for i := 0; i < x.Rows; i++ {
		r := out.Row(i)
		r[0], r[1] = float32(pred[i]), float32(ll[i])
		for c := 0; c < k; c++ {
			r[2+c] = float32(resp[i*k+c])
		}
	}
	cols := []string{"component", "log_likelihood"}
	for c := 0; c < k; c++ {
		cols = append(cols, fmt.Sprintf("p_%d", c))
	}
	return out, cols, nil
}

// shapeText writes a shape as "3×2×2".
func shapeText(s []int) string {
	t := make([]string, len(s))
	for i, n := range s {
		t[i] = strconv.Itoa(n)
	}
	return strings.Join(t, "×")
}

// Describe implements model.Describer.
func (m *Mixture) Describe() []model.Metric {
	f := m.flags()
	out := []model.Metric{{Name: "model", Value: map[string]string{KindGaussian: "Gaussian mixture", KindBernoulli: "Bernoulli mixture"}[m.kind]},
		{Name: "components", Value: f.Components}}
	dims := strconv.Itoa(m.dim)
	if m.PCA != nil {
		dims = fmt.Sprintf("%d, projected to %d principal components", m.PCA.D, m.PCA.Dims)
	}
	out = append(out, model.Metric{Name: "dimensions", Value: dims})
	if len(m.restarts) == 0 {
		return append(out, model.Metric{Name: "state", Value: "not trained"})
	}
	switch g := m.kept().(type) {
	case *GaussianMixture:
		out = append(out, model.Metric{Name: "covariance", Value: g.Covariance.String()},
			model.Metric{Name: "weights", Value: weightsText(g.Weights)},
			model.Metric{Name: "means", Value: shapeText([]int{g.K, g.D})},
			model.Metric{Name: "covariances", Value: shapeText(g.Covariance.covShape(g.K, g.D))},
			model.Metric{Name: "reg", Value: g.RegCovar},
			model.Metric{Name: "parameters", Value: g.NumParams()})
	case *BernoulliMixture:
		out = append(out, model.Metric{Name: "prior", Value: fmt.Sprintf("Beta(%g, %g) on every probability", g.PriorA, g.PriorB)},
			model.Metric{Name: "weights", Value: weightsText(g.Weights)},
			model.Metric{Name: "probabilities", Value: shapeText([]int{g.K, g.D})},
			model.Metric{Name: "parameters", Value: g.NumParams()})
	}
	r := m.restarts[m.best].run
	if len(m.restarts) > 1 {
		out = append(out, model.Metric{Name: "restarts", Value: fmt.Sprintf("%d, restart %d kept", len(m.restarts), m.best+1)})
	}
	out = append(out, model.Metric{Name: "iterations", Value: r.Iterations}, model.Metric{Name: "converged", Value: r.Converged})
	if r.Iterations > 0 {
		out = append(out, model.Metric{Name: "free_energy", Value: r.F}, model.Metric{Name: "train_log_likelihood", Value: r.LL})
	}
	return out
}

// weightsText lists up to 10 weights, "0.333 0.333 0.334", then "…".
func weightsText(w []float64) string {
	var b strings.Builder
	for i, v := range w {
		if i == 10 {
			fmt.Fprintf(&b, " … (%d in all)", len(w))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.3g", v)
	}
	return b.String()
}
