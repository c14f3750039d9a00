package mixture

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
)

// Checkpoint kinds of the mixture models.
const (
	KindGaussian  = "gmm"
	KindBernoulli = "bmm"
)

type gaussianMeta struct {
	K, D       int
	Covariance string
	RegCovar   float64 `json:"reg_covar"`
	PCA        int     `json:"pca,omitempty"` // 0: no projection
	PCAInput   int     `json:"pca_input,omitempty"`
	Extra      any     `json:"extra,omitempty"`
}

// SaveGaussian writes g (and, when p is non-nil, the PCA projection applied to the
// data before g) into f with kind "gmm". extra is stored in the metadata as is.
func SaveGaussian(f *checkpoint.File, g *GaussianMixture, p *PCA, extra any) error {
	f.Kind = KindGaussian
	m := gaussianMeta{K: g.K, D: g.D, Covariance: g.Covariance.String(), RegCovar: g.RegCovar, Extra: extra}
	if p != nil {
		m.PCA, m.PCAInput = p.Dims, p.D
	}
	if err := f.SetMeta(m); err != nil {
		return err
	}
	f.AddF64("weights", []int{g.K}, g.Weights)
	f.AddF64("means", []int{g.K, g.D}, g.Means)
	f.AddF64("covariances", g.Covariance.covShape(g.K, g.D), g.Covariances)
	if p != nil {
		f.AddF64("pca.mean", []int{p.D}, p.Mean)
		f.AddF64("pca.w", []int{p.D, p.Dims}, p.W)
		f.AddF64("pca.variance", []int{p.Dims}, p.Variance)
	}
	return nil
}

// LoadGaussian reads a model written by SaveGaussian; the PCA is nil when none was
// saved.
func LoadGaussian(f *checkpoint.File) (*GaussianMixture, *PCA, error) {
	if f.Kind != KindGaussian {
		return nil, nil, fmt.Errorf("mixture: model file kind is %q, want %q", f.Kind, KindGaussian)
	}
	var m gaussianMeta
	if err := f.GetMeta(&m); err != nil {
		return nil, nil, err
	}
	ct, err := ParseCovariance(m.Covariance)
	if err != nil {
		return nil, nil, err
	}
	if m.K < 1 || m.D < 1 || m.K > 1<<20 || m.D > 1<<16 {
		return nil, nil, fmt.Errorf("mixture: model file has K=%d D=%d", m.K, m.D)
	}
	w, err := f.F64("weights", m.K)
	if err != nil {
		return nil, nil, err
	}
	mu, err := f.F64("means", m.K*m.D)
	if err != nil {
		return nil, nil, err
	}
	cv, err := f.F64("covariances", ct.covLen(m.K, m.D))
	if err != nil {
		return nil, nil, err
	}
	g, err := NewGaussianMixture(ct, w, mu, cv)
	if err != nil {
		return nil, nil, err
	}
	g.RegCovar = m.RegCovar
	var p *PCA
	if m.PCA > 0 {
		if m.PCA != m.D || m.PCAInput < m.D {
			return nil, nil, fmt.Errorf("mixture: model file PCA %d→%d does not fit D=%d", m.PCAInput, m.PCA, m.D)
		}
		p = &PCA{D: m.PCAInput, Dims: m.PCA}
		if p.Mean, err = f.F64("pca.mean", p.D); err != nil {
			return nil, nil, err
		}
		if p.W, err = f.F64("pca.w", p.D*p.Dims); err != nil {
			return nil, nil, err
		}
		if p.Variance, err = f.F64("pca.variance", p.Dims); err != nil {
			return nil, nil, err
		}
	}
	return g, p, nil
}

// SaveBernoulli writes m into f with kind "bmm".
func SaveBernoulli(f *checkpoint.File, m *BernoulliMixture, extra any) error {
	f.Kind = KindBernoulli
	if err := f.SetMeta(struct {
		K, D   int
		PriorA float64 `json:"prior_a"`
		PriorB float64 `json:"prior_b"`
		Extra  any     `json:"extra,omitempty"`
	}{m.K, m.D, m.PriorA, m.PriorB, extra}); err != nil {
		return err
	}
	f.AddF64("weights", []int{m.K}, m.Weights)
	f.AddF64("probs", []int{m.K, m.D}, m.Probs)
	return nil
}

// LoadBernoulli reads a model written by SaveBernoulli.
func LoadBernoulli(f *checkpoint.File) (*BernoulliMixture, error) {
	if f.Kind != KindBernoulli {
		return nil, fmt.Errorf("mixture: model file kind is %q, want %q", f.Kind, KindBernoulli)
	}
	var m struct {
		K, D   int
		PriorA float64 `json:"prior_a"`
		PriorB float64 `json:"prior_b"`
	}
	if err := f.GetMeta(&m); err != nil {
		return nil, err
	}
	if m.K < 1 || m.D < 1 || m.K > 1<<20 || m.D > 1<<24 {
		return nil, fmt.Errorf("mixture: model file has K=%d D=%d", m.K, m.D)
	}
	w, err := f.F64("weights", m.K)
	if err != nil {
		return nil, err
	}
	p, err := f.F64("probs", m.K*m.D)
	if err != nil {
		return nil, err
	}
	return NewBernoulliMixture(w, p, m.PriorA, m.PriorB)
}
