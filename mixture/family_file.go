package mixture

import (
	"encoding/json"
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/model"
)

// familyMeta is the metadata of a gmm or bmm file written by Mixture.Save: the
// keys SaveGaussian and SaveBernoulli write (so that LoadGaussian and
// LoadBernoulli read the kept restart), the settings and every restart's
// progress.
type familyMeta struct {
	K, D       int
	Covariance string  `json:",omitempty"`
	RegCovar   float64 `json:"reg_covar,omitempty"`
	PCA        int     `json:"pca,omitempty"`
	PCAInput   int     `json:"pca_input,omitempty"`
	PriorA     float64 `json:"prior_a,omitempty"`
	PriorB     float64 `json:"prior_b,omitempty"`

	Dim      int             `json:"dim"` // values per example of the data
	Seed     uint64          `json:"seed"`
	Config   json.RawMessage `json:"config,omitempty"`
	Restarts []restartMeta   `json:"restarts,omitempty"`
	Best     int             `json:"best"`
}

type restartMeta struct {
	Iterations    int     `json:"iterations"`
	Converged     bool    `json:"converged"`
	FreeEnergy    float64 `json:"free_energy"`
	LogLikelihood float64 `json:"log_likelihood"`
}

// Save implements model.Model. The kept restart's parameters are the file's
// weights, means and covariances (or probs), as SaveGaussian and SaveBernoulli
// write them; with several restarts every restart's parameters follow
// (restart.R.*), and the trace of F of every restart (trace.R, iterations×2:
// after the E-step, after the M-step).
func (m *Mixture) Save(f *checkpoint.File) error {
	f.Kind = m.kind
	mt := familyMeta{Dim: m.dim, Seed: m.seed, Best: m.best}
	var cfg any = m.gmm
	if m.kind == KindBernoulli {
		cfg = m.bmm
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	mt.Config = b
	if len(m.restarts) > 0 {
		switch k := m.kept().(type) {
		case *GaussianMixture:
			err = SaveGaussian(f, k, m.PCA, nil)
		case *BernoulliMixture:
			err = SaveBernoulli(f, k, nil)
		}
		if err != nil {
			return err
		}
		if err := f.GetMeta(&mt); err != nil {
			return err
		}
	}
	for i, r := range m.restarts {
		mt.Restarts = append(mt.Restarts, restartMeta{Iterations: r.run.Iterations, Converged: r.run.Converged,
			FreeEnergy: r.run.F, LogLikelihood: r.run.LL})
		if len(m.restarts) > 1 {
			p := fmt.Sprintf("restart.%d.", i)
			switch g := r.m.(type) {
			case *GaussianMixture:
				f.AddF64(p+"weights", []int{g.K}, g.Weights)
				f.AddF64(p+"means", []int{g.K, g.D}, g.Means)
				f.AddF64(p+"covariances", g.Covariance.covShape(g.K, g.D), g.Covariances)
			case *BernoulliMixture:
				f.AddF64(p+"weights", []int{g.K}, g.Weights)
				f.AddF64(p+"probs", []int{g.K, g.D}, g.Probs)
			}
		}
		tr := make([]float64, len(r.run.History))
		for j, s := range r.run.History {
			tr[j] = s.F
		}
		f.AddF64(fmt.Sprintf("trace.%d", i), []int{r.run.Iterations, 2}, tr)
	}
	return f.SetMeta(mt)
}

// load reads a gmm or bmm file: one written by Mixture.Save, or by SaveGaussian
// or SaveBernoulli (then a finished model with one restart and no trace).
func load(f *checkpoint.File) (model.Model, error) {
	var mt familyMeta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	m := &Mixture{kind: f.Kind, seed: mt.Seed, best: mt.Best, gmm: *DefaultGMM(), bmm: *DefaultBMM()}
	var cfg any = &m.gmm
	if m.kind == KindBernoulli {
		cfg = &m.bmm
	}
	if mt.Config != nil {
		if err := json.Unmarshal(mt.Config, cfg); err != nil {
			return nil, fmt.Errorf("mixture: the file's settings: %w", err)
		}
		if err := model.Validate(cfg); err != nil {
			return nil, fmt.Errorf("mixture: the file's settings: %w", err)
		}
	}
	if mt.Config != nil && len(mt.Restarts) == 0 { // saved before the first epoch
		if mt.Dim < 1 {
			return nil, fmt.Errorf("mixture: the file has %d values per example", mt.Dim)
		}
		m.dim = mt.Dim
		return m, nil
	}
	var first Model
	switch m.kind {
	case KindGaussian:
		g, p, err := LoadGaussian(f)
		if err != nil {
			return nil, err
		}
		g.FastMath = m.gmm.Fast
		first, m.PCA = g, p
		m.dim = g.D
		if p != nil {
			m.dim = p.D
		}
		if mt.Config == nil { // written by SaveGaussian: its settings from the model
			m.gmm.Components, m.gmm.Covariance, m.gmm.Reg = g.K, g.Covariance.String(), g.RegCovar
			if p != nil {
				m.gmm.PCA = p.Dims
			}
		}
	case KindBernoulli:
		b, err := LoadBernoulli(f)
		if err != nil {
			return nil, err
		}
		b.FastMath = m.bmm.Fast
		first, m.dim = b, b.D
		if mt.Config == nil {
			m.bmm.Components, m.bmm.PriorA, m.bmm.PriorB = b.K, b.PriorA, b.PriorB
		}
	default:
		return nil, fmt.Errorf("mixture: model file kind is %q, want %q or %q", f.Kind, KindGaussian, KindBernoulli)
	}
	if mt.Config == nil {
		m.restarts = []*restart{{m: first, run: emRun{Converged: true}}}
		m.best = 0
		return m, nil
	}
	if mt.Dim != m.dim || len(mt.Restarts) != m.flags().NInit || mt.Best < 0 || mt.Best >= len(mt.Restarts) {
		return nil, fmt.Errorf("mixture: the file's %d restarts (best %d, %d values per example) do not fit its settings (--n-init %d, %d values)",
			len(mt.Restarts), mt.Best, mt.Dim, m.flags().NInit, m.dim)
	}
	for i, rm := range mt.Restarts {
		r := &restart{run: emRun{Iterations: rm.Iterations, Converged: rm.Converged, F: rm.FreeEnergy, LL: rm.LogLikelihood}}
		if rm.Iterations < 0 || rm.Iterations > 1<<30 {
			return nil, fmt.Errorf("mixture: restart %d has %d iterations", i, rm.Iterations)
		}
		switch {
		case len(mt.Restarts) == 1:
			r.m = first
		default:
			mm, err := loadRestart(f, i, first)
			if err != nil {
				return nil, err
			}
			r.m = mm
		}
		tr, err := f.F64(fmt.Sprintf("trace.%d", i), 2*rm.Iterations)
		if err != nil {
			return nil, err
		}
		for j, v := range tr {
			ph := "E"
			if j%2 == 1 {
				ph = "M"
			}
			r.run.History = append(r.run.History, Step{Iter: j/2 + 1, Phase: ph, F: v})
		}
		m.restarts = append(m.restarts, r)
	}
	return m, nil
}

// loadRestart reads the parameters of restart i, shaped as like.
func loadRestart(f *checkpoint.File, i int, like Model) (Model, error) {
	p := fmt.Sprintf("restart.%d.", i)
	switch g := like.(type) {
	case *GaussianMixture:
		w, err := f.F64(p+"weights", g.K)
		if err != nil {
			return nil, err
		}
		mu, err := f.F64(p+"means", g.K*g.D)
		if err != nil {
			return nil, err
		}
		cv, err := f.F64(p+"covariances", g.Covariance.covLen(g.K, g.D))
		if err != nil {
			return nil, err
		}
		r, err := NewGaussianMixture(g.Covariance, w, mu, cv)
		if err != nil {
			return nil, fmt.Errorf("%w (restart %d)", err, i)
		}
		r.RegCovar, r.FastMath = g.RegCovar, g.FastMath
		return r, nil
	case *BernoulliMixture:
		w, err := f.F64(p+"weights", g.K)
		if err != nil {
			return nil, err
		}
		pr, err := f.F64(p+"probs", g.K*g.D)
		if err != nil {
			return nil, err
		}
		r, err := NewBernoulliMixture(w, pr, g.PriorA, g.PriorB)
		if err != nil {
			return nil, fmt.Errorf("%w (restart %d)", err, i)
		}
		r.FastMath = g.FastMath
		return r, nil
	}
	return nil, fmt.Errorf("mixture: unknown model type %T", like)
}
