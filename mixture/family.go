package mixture

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// EMFlags are the settings gmm and bmm share, the flags of `latent train gmm|bmm`
// beside the driver's (for which --epochs is the most EM iterations).
type EMFlags struct {
	// Components is K, the number of mixture components (required).
	Components int `json:"components" flag:"components" help:"number of mixture components K (required)"`
	// Tol stops a restart after an iteration whose F after the E-step differs
	// from the previous one by less than Tol nats per example; 0 never stops early.
	Tol float64 `json:"tol" flag:"tol" help:"stop a restart when F after the E-step changes by less than this, nats per example (0: never)" range:"[0,inf)"`
	// NInit is the number of restarts from different k-means++ seeds (seed
	// streams 0, 1, ...); they run side by side, one EM iteration of each per
	// epoch, and the one with the lowest free energy is kept.
	NInit int `json:"n_init" flag:"n-init" help:"restarts from different k-means++ seeds, run side by side; the lowest free energy is kept" range:"[1,1000]"`
	// InitIters is the number of Lloyd iterations after k-means++ seeding; -1
	// means 10 for gmm and 0 for bmm.
	InitIters int `json:"init_iters" flag:"init-iters" help:"Lloyd iterations after k-means++ seeding (-1: 10 for gmm, 0 for bmm)" range:"[-1,100000]"`
	// Fast runs the O(n·d·K) products through float32 GEMM (sums stay float64).
	Fast bool `json:"fast" flag:"fast" help:"float32 GEMM for the O(n·d·K) products (sums still float64)"`
}

// Validate checks Components (the range tags check the rest).
func (c *EMFlags) Validate() error {
	if c.Components < 1 || c.Components > 1<<20 {
		return model.Flagf("components", "must be between 1 and %d (the number of mixture components K), got %d", 1<<20, c.Components)
	}
	return nil
}

// GMMConfig holds the settings of `latent train gmm`.
type GMMConfig struct {
	EMFlags
	Covariance string  `json:"covariance" flag:"covariance" help:"covariance of each component" choices:"full|diag|spherical|tied"`
	Reg        float64 `json:"reg" flag:"reg" help:"added to every covariance's diagonal (scikit-learn's reg_covar)" range:"[0,inf)"`
	PCA        int     `json:"pca" flag:"pca" help:"model the data's first D principal components (0: the data as they are)" range:"[0,65536]"`
}

// BMMConfig holds the settings of `latent train bmm`.
type BMMConfig struct {
	EMFlags
	PriorA float64 `json:"prior_a" flag:"prior-a" help:"a of the Beta(a, b) prior on every probability (MAP M-step)" range:"[1,inf)"`
	PriorB float64 `json:"prior_b" flag:"prior-b" help:"b of the Beta(a, b) prior on every probability" range:"[1,inf)"`
}

// DefaultGMM returns the defaults of `latent train gmm` (Components must still be set).
func DefaultGMM() *GMMConfig {
	return &GMMConfig{EMFlags: EMFlags{Tol: 1e-3, NInit: 1, InitIters: -1}, Covariance: "full", Reg: DefaultRegCovar}
}

// DefaultBMM returns the defaults of `latent train bmm` (Components must still be set).
func DefaultBMM() *BMMConfig {
	return &BMMConfig{EMFlags: EMFlags{Tol: 1e-3, NInit: 1, InitIters: -1}, PriorA: 2, PriorB: 2}
}

const emDoc = `An epoch is one EM iteration (an E-step and an M-step) over all the data at once,
so --epochs is the most EM iterations, the driver shuffles nothing, and
--binarize dynamic is refused (threshold or stochastic work). Training stops early
when every restart has converged: F after the E-step changed by less than --tol
nats per example. With --n-init R the R restarts (k-means++ seeds from streams 0 to
R-1 of --seed) run side by side, one iteration of each per epoch, each until it
converges or --epochs is reached; the one with the lowest free energy is kept
(used by eval, sample and the next resume). The free energy per example,

  F = -(1/n) Σ_n Σ_k Q(k|x_n) log(p(x_n, k | G) / Q(k|x_n)) - log p(G)/n,

never increases; its trace after every half-step is in train --json
("free_energy_trace") and drawn in --pictures DIR as free-energy.png.
eval reports the exact log-likelihood (and BIC, AIC); --resume continues a run
bit for bit.`

func init() {
	model.Register(model.Family{
		Name:    KindGaussian,
		Summary: "Gaussian mixture by EM (full, diag, spherical or tied covariances; optional PCA)",
		Doc: `A mixture of K Gaussians, p(x) = Σ_k π_k N(x | μ_k, Σ_k), fitted by maximum
likelihood with EM from k-means++ seeds, as scikit-learn's GaussianMixture.
` + emDoc + `

Flags: --components K; --covariance full (one d×d matrix per component), diag,
spherical (σ_k² I) or tied (one d×d matrix for all); --reg is added to every
covariance diagonal (raise it when a covariance is singular); --pca D models the
first D principal components of the data (eval and sample project and restore);
--init-iters Lloyd iterations after seeding (-1: 10); --fast float32 products.
--pictures: free-energy.png, components.png (2-D data: the points by component,
means and 2σ ellipses), means.png (image data: the component means).`,
		Config: func() any { return DefaultGMM() },
		New:    newGMM,
		Load:   load,
		EvalConfig: func() any {
			return &EvalConfig{}
		},
		Epochs: 100,
	})
	model.Register(model.Family{
		Name:    KindBernoulli,
		Summary: "Bernoulli mixture by EM with a Beta prior (data in [0, 1])",
		Doc: `A mixture of K products of Bernoullis, p(x) = Σ_k π_k Π_d μ_kd^x_d (1 - μ_kd)^(1-x_d),
fitted by EM with a Beta(a, b) prior on every μ_kd (a MAP M-step that keeps μ off 0
and 1), from k-means++ seeds. Values must lie in [0, 1] (binary data, or
--binarize threshold|stochastic).
` + emDoc + `

Flags: --components K; --prior-a a, --prior-b b of the Beta prior (>= 1; 2, 2 is one
pseudo-count each way); --init-iters Lloyd iterations after seeding (-1: none);
--fast float32 products. --pictures: free-energy.png, means.png (image data: the
components' probabilities).`,
		Config:     func() any { return DefaultBMM() },
		New:        newBMM,
		Load:       load,
		EvalConfig: func() any { return &EvalConfig{} },
		Epochs:     100,
	})
}

// EvalConfig holds the flags of `latent eval` for a mixture.
type EvalConfig struct {
	// IWK is accepted, and ignored, so that one eval command line serves every family.
	IWK int `flag:"iw-k" help:"ignored: a mixture's log-likelihood is exact"`
}

// Mixture is a Gaussian or Bernoulli mixture in training or trained by EM (the
// model of a gmm or bmm file): the restarts' parameters and progress, the one
// with the lowest free energy kept, and an optional PCA applied to the data
// first. It implements model.Trainer, Sampler, Scorer, Monitor, Picturer,
// Converger, Transformer and Describer.
type Mixture struct {
	kind string
	gmm  GMMConfig // kind "gmm"
	bmm  BMMConfig // kind "bmm"
	seed uint64
	dim  int // values per example of the data (before any PCA)
	// PCA is the projection applied to the data first (nil: none).
	PCA      *PCA
	restarts []*restart
	best     int

	// not saved: recomputed from the data and the parameters
	// work holds the E-step buffers: one per restart when they fit in
	// workBudget bytes, else one shared (each restart then recomputes its log
	// joints at the start of its iteration).
	work   []emWork
	x, src *tensor.Mat // the data EM fits (projected), and the matrix it came from
}

// workBudget bounds the memory of per-restart E-step buffers (n×K log joints
// and responsibilities, float64). A variable for the tests.
var workBudget float64 = 256 << 20

// restart is one EM run: its parameters and its progress.
type restart struct {
	m   Model // *GaussianMixture or *BernoulliMixture
	run emRun
}

func newGMM(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*GMMConfig)
	if err := checkTrainData(d, cfg.Components, s.Data, false); err != nil {
		return nil, err
	}
	if cfg.PCA > d.Dim() {
		return nil, model.Flagf("pca", "%d is more than the %d values per example of %s", cfg.PCA, d.Dim(), s.Data)
	}
	if cfg.PCA > 0 && d.Len() < 2 {
		return nil, model.Flagf("pca", "needs at least 2 examples, %s has %d", s.Data, d.Len())
	}
	return &Mixture{kind: KindGaussian, gmm: cfg, seed: s.Seed, dim: d.Dim()}, nil
}

func newBMM(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*BMMConfig)
	if err := checkTrainData(d, cfg.Components, s.Data, true); err != nil {
		return nil, err
	}
	return &Mixture{kind: KindBernoulli, bmm: cfg, seed: s.Seed, dim: d.Dim()}, nil
}

// checkTrainData checks that the data can be fitted with k components: finite
// values (in [0, 1] for a Bernoulli mixture) and at least k examples. The CLI
// names the data in front of an error that is not a flag's.
func checkTrainData(d *dataset.Dataset, k int, spec string, unit bool) error {
	if k > d.Len() {
		return model.Flagf("components", "%d is more than the %d examples in %s", k, d.Len(), spec)
	}
	return checkValues(d.X, unit)
}

// checkValues returns an error naming the first value of x that is not finite,
// or, with unit set, not in [0, 1].
func checkValues(x *tensor.Mat, unit bool) error {
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("row %d column %d is %v", i, j, v)
			}
			if unit && (v < 0 || v > 1) {
				return fmt.Errorf("row %d column %d is %v, and a Bernoulli mixture needs values in [0, 1] (scale the data, or --binarize)", i, j, v)
			}
		}
	}
	return nil
}

func (m *Mixture) flags() *EMFlags {
	if m.kind == KindGaussian {
		return &m.gmm.EMFlags
	}
	return &m.bmm.EMFlags
}

// Kind implements model.Model: "gmm" or "bmm".
func (m *Mixture) Kind() string { return m.kind }

// Dim implements model.Model: the values per example of the data (before any PCA).
func (m *Mixture) Dim() int { return m.dim }

// BatchSize implements model.Trainer: 0, EM uses all the data at once.
func (m *Mixture) BatchSize() int { return 0 }

// Converged implements model.Converger: every restart has converged.
func (m *Mixture) Converged() bool {
	if len(m.restarts) == 0 {
		return false
	}
	for _, r := range m.restarts {
		if !r.run.Converged {
			return false
		}
	}
	return true
}

// Gaussian returns the kept Gaussian mixture (nil for a bmm or before training).
func (m *Mixture) Gaussian() *GaussianMixture {
	if len(m.restarts) == 0 {
		return nil
	}
	g, _ := m.restarts[m.best].m.(*GaussianMixture)
	return g
}

// Bernoulli returns the kept Bernoulli mixture (nil for a gmm or before training).
func (m *Mixture) Bernoulli() *BernoulliMixture {
	if len(m.restarts) == 0 {
		return nil
	}
	b, _ := m.restarts[m.best].m.(*BernoulliMixture)
	return b
}

// Result reports the kept restart's EM run, with every restart's free energy.
func (m *Mixture) Result() Result {
	if len(m.restarts) == 0 {
		return Result{}
	}
	r := m.restarts[m.best].run.result()
	r.Init = m.best
	for _, s := range m.restarts {
		r.InitF = append(r.InitF, s.run.F)
	}
	return r
}

func (m *Mixture) kept() Model { return m.restarts[m.best].m }

// Epoch implements model.Trainer: one EM iteration of every restart that has
// not converged. The first epoch fits the PCA (if any) and initialises the
// restarts from k-means++ seeds.
func (m *Mixture) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	x, _ := e.Next(nil)
	if more, _ := e.Next(nil); more != nil {
		return model.Stats{}, fmt.Errorf("mixture: EM wants all the data in one batch")
	}
	if x == nil || x.Cols != m.dim {
		return model.Stats{}, fmt.Errorf("mixture: the data have %d values per example, the model %d", colsOf(x), m.dim)
	}
	if err := m.prepare(ctx, x); err != nil {
		return model.Stats{}, err
	}
	f := m.flags()
	for i, r := range m.restarts {
		if r.run.Converged {
			continue
		}
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		if err := r.run.iterate(r.m, &m.work[i%len(m.work)], m.x, f.Tol, nil); err != nil {
			return model.Stats{}, m.explain(err, i)
		}
	}
	m.pickBest()
	return m.stats(), nil
}

func colsOf(x *tensor.Mat) int {
	if x == nil {
		return 0
	}
	return x.Cols
}

// prepare projects x (fitting the PCA the first time) and initialises the
// restarts when it has not been done.
func (m *Mixture) prepare(ctx context.Context, x *tensor.Mat) error {
	if m.src != x {
		if m.kind == KindGaussian && m.gmm.PCA > 0 && m.PCA == nil {
			p, err := FitPCA(x, m.gmm.PCA)
			if err != nil {
				return err
			}
			m.PCA = p
			model.Logf(ctx, "pca: %d → %d dimensions", x.Cols, p.Dims)
		}
		m.x, m.src = x, x
		if m.PCA != nil {
			m.x = m.PCA.Transform(x)
		}
		f := m.flags()
		n := 1
		if float64(f.NInit)*float64(m.x.Rows)*float64(f.Components)*16 <= workBudget {
			n = f.NInit
		}
		m.work = make([]emWork, n)
	}
	if len(m.restarts) > 0 {
		return nil
	}
	f := m.flags()
	for i := 0; i < f.NInit; i++ {
		if err := ctx.Err(); err != nil {
			m.restarts = nil
			return err
		}
		var mm Model
		iters := f.InitIters
		if m.kind == KindGaussian {
			ct, err := ParseCovariance(m.gmm.Covariance)
			if err != nil {
				return err
			}
			mm = newGaussian(f.Components, m.x.Cols, ct, m.gmm.Reg, f.Fast)
			if iters < 0 {
				iters = 10
			}
		} else {
			mm = newBernoulli(f.Components, m.x.Cols, m.bmm.PriorA, m.bmm.PriorB, f.Fast)
			iters = max(iters, 0)
		}
		if err := initKMeans(mm, m.x, iters, rng.NewStream(m.seed, uint64(i))); err != nil {
			m.restarts = nil
			return m.explain(err, i)
		}
		m.restarts = append(m.restarts, &restart{m: mm})
	}
	return nil
}

// explain adds the restart to err when there are several, and names the flag
// that helps for a singular covariance.
func (m *Mixture) explain(err error, i int) error {
	var pd *NotPDError
	if errors.As(err, &pd) {
		what := fmt.Sprintf("the covariance of component %d (%s)", pd.Component, pd.Covariance)
		if pd.Component < 0 {
			what = "the tied covariance"
		}
		err = fmt.Errorf("%s is not positive definite (singular or collapsed data): raise --reg (now %g), or use fewer --components or another --covariance", what, pd.RegCovar)
	}
	if len(m.restarts) > 1 || m.flags().NInit > 1 {
		err = fmt.Errorf("%w (restart %d of %d)", err, i+1, m.flags().NInit)
	}
	return err
}

// pickBest keeps the restart with the lowest free energy (the first of equals).
func (m *Mixture) pickBest() {
	m.best = 0
	for i, r := range m.restarts {
		if r.run.F < m.restarts[m.best].run.F {
			m.best = i
		}
	}
}

func numParams(mm Model) int {
	switch g := mm.(type) {
	case *GaussianMixture:
		return g.NumParams()
	case *BernoulliMixture:
		return g.NumParams()
	}
	return 0
}

// stats are the figures of the kept restart after an epoch: the free energy
// (the loss), the training log-likelihood, BIC and AIC, with several restarts
// the kept one (counted from 1), and, for train --json, every restart's F and
// the trace of F.
func (m *Mixture) stats() model.Stats {
	b := m.restarts[m.best]
	n := float64(m.x.Rows)
	p := float64(numParams(b.m))
	ll := b.run.LL
	st := model.Stats{Loss: b.run.F, LossName: "free_energy", Metrics: []model.Metric{
		{Name: "log_likelihood", Value: ll},
		{Name: "bic", Value: -2*ll*n + p*math.Log(n)},
		{Name: "aic", Value: -2*ll*n + 2*p},
		{Name: "iterations", Value: b.run.Iterations},
	}}
	if len(m.restarts) > 1 {
		fs := make([]float64, len(m.restarts))
		for i, r := range m.restarts {
			fs[i] = r.run.F
		}
		st.Metrics = append(st.Metrics, model.Metric{Name: "restart", Value: m.best + 1},
			model.Metric{Name: "restart_free_energies", Value: fs})
	}
	st.Metrics = append(st.Metrics, model.Metric{Name: "free_energy_trace", Value: b.run.History})
	return st
}
