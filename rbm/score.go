package rbm

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// EnumUnits returns the number of units ExactLogZ enumerates (2^n states): the
// hidden layer of a Gaussian RBM, the smaller layer of a Bernoulli one.
func (m *RBM) EnumUnits() int {
	if m.Visible == Gaussian {
		return m.NumHidden()
	}
	return min(m.NumVisible(), m.NumHidden())
}

// EnumCost returns the number of softplus evaluations ExactLogZ takes: 2^n states
// of the enumerated layer (EnumUnits) times the size of the other.
func (m *RBM) EnumCost() float64 {
	n := m.EnumUnits()
	return math.Ldexp(float64(m.NumVisible()+m.NumHidden()-n), n)
}

// EnumPerMinute is about how many softplus evaluations ExactLogZ does per minute
// on the 2-core development machine (2^20 states × 784 units took 7.5 s). It is
// the default budget under which LogLikelihood enumerates log Z unasked.
const EnumPerMinute = 6.5e9

// enumDescription says what exact log Z of m costs, for log lines.
func (m *RBM) enumDescription() string {
	n := m.EnumUnits()
	return fmt.Sprintf("%.2g softplus evaluations (2^%d states × %d units: about %.1f min on 2 cores)",
		m.EnumCost(), n, m.NumVisible()+m.NumHidden()-n, m.EnumCost()/EnumPerMinute)
}

// LogLikOptions choose how LogLikelihood finds log Z. The zero value enumerates
// log Z when that takes about a minute or less (EnumPerMinute) and runs AIS with
// 100 chains over mcmc.DefaultAISSteps distributions otherwise.
type LogLikOptions struct {
	// Exact enumerates log Z whatever it costs; a model too large to enumerate
	// (CanEnumerate) is an error.
	Exact bool
	// AIS estimates log Z by AIS even when it can be enumerated cheaply; the
	// enumerated value is then reported beside it, to check it against.
	AIS bool
	// AISChains and AISBetas are AIS's chains and number of intermediate
	// distributions (Salakhutdinov & Murray's proportions, mcmc.AISBetas);
	// 0 means 100 and mcmc.DefaultAISSteps. Setting either implies AIS.
	AISChains, AISBetas int
	// AISCheck runs AIS twice more after the first run, from a uniform base
	// over each side of the model (checkAIS), and uses the largest of the
	// three estimates; Bernoulli RBMs only. It implies AIS.
	AISCheck bool
	// MaxEnum is the most softplus evaluations (EnumCost) enumerated without
	// Exact; 0 means EnumPerMinute.
	MaxEnum float64
	// Seed seeds AIS (chain i uses rng.NewStream(Seed, i)).
	Seed uint64
}

// LogLik is the log-likelihood LogLikelihood found, with how it found log Z.
type LogLik struct {
	Mean       float64   // mean log p(x) over the rows, in nats (MeanLogProb at LogZ)
	StdErr     float64   // the standard error of Mean: that of LogZ (0 when exact)
	PerExample []float64 // log p(x_n) of each row at LogZ
	Method     string    // "exact" or "ais"

	LogZ, LogZStdErr float64 // the log Z used (AIS: its delta-method standard error)

	HaveExact    bool    // log Z was enumerated: ExactLogZ and ExactMean hold it
	ExactLogZ    float64 // enumerated log Z
	ExactMean    float64 // mean log p(x) at ExactLogZ
	ExactSeconds float64

	AISChains, AISBetas int // AIS's settings, when it ran
	AISSeconds          float64

	// With AISCheck: the first run's log Z and the two checks' estimates
	// (visible side, hidden side); LogZ is the largest of the three.
	LogZFirst float64
	Checks    []mcmc.AISResult
}

// LogLikelihood returns the log-likelihood of the rows of x (data units; binary for
// a Bernoulli RBM), finding log Z as o says: enumerated when asked (Exact) or
// when cheap (EnumCost ≤ MaxEnum), else by AIS (mcmc.AIS from the base-rate model
// of x for a Bernoulli RBM, mcmc.AISGaussian for a Gaussian one). AIS's Ẑ is
// unbiased for Z, so its log Ẑ is low and the log-likelihood high in expectation.
// A choice worth knowing (AIS where --exact could enumerate, at a cost) is
// reported through ctx's model.Progress. Invalid options are errors.
func (m *RBM) LogLikelihood(ctx context.Context, x *tensor.Mat, o LogLikOptions) (LogLik, error) {
	m.checkData(x)
	var r LogLik
	if x.Rows == 0 {
		return r, fmt.Errorf("rbm: no examples to score")
	}
	if o.AISChains < 0 || o.AISBetas < 0 || (o.AISBetas > 0 && o.AISBetas < 3) {
		return r, fmt.Errorf("rbm: AIS needs chains >= 1 and at least 3 distributions, got %d and %d", o.AISChains, o.AISBetas)
	}
	askedAIS := o.AIS || o.AISChains > 0 || o.AISBetas > 0 || o.AISCheck
	if o.AISCheck && m.Visible == Gaussian {
		return r, fmt.Errorf("rbm: --ais-check anneals over either side of a Bernoulli RBM; a %s has Gaussian visible units", m.Kind())
	}
	if o.Exact && askedAIS {
		return r, fmt.Errorf("rbm: choose one estimator of log Z: exact or AIS")
	}
	if o.Exact && !m.CanEnumerate() {
		need := fmt.Sprintf("a layer of at most %d units is needed", mcmc.MaxExactUnits)
		if m.Visible == Gaussian {
			need = fmt.Sprintf("at most %d hidden units are needed", mcmc.MaxExactUnits)
		}
		return r, fmt.Errorf("rbm: a %d×%d %s cannot be enumerated (%s); use AIS", m.NumVisible(), m.NumHidden(), m.Kind(), need)
	}
	budget := o.MaxEnum
	if budget == 0 {
		budget = EnumPerMinute
	}
	cheap := m.CanEnumerate() && m.EnumCost() <= budget
	switch {
	case o.Exact && !cheap:
		model.Logf(ctx, "%s: enumerating log Z: %s", m.Kind(), m.enumDescription())
	case !o.Exact && !askedAIS && m.CanEnumerate() && !cheap:
		model.Logf(ctx, "%s: enumerating log Z would take %s; estimating it by AIS instead (exact enumeration on request)", m.Kind(), m.enumDescription())
	}
	if o.Exact || cheap {
		t0 := time.Now()
		lz, err := m.ExactLogZ()
		if err != nil {
			return r, err
		}
		r.HaveExact, r.ExactLogZ, r.ExactSeconds = true, lz, time.Since(t0).Seconds()
		r.ExactMean = m.MeanLogProb(x, lz)
		r.Method, r.LogZ, r.Mean = "exact", lz, r.ExactMean
	}
	if askedAIS || !r.HaveExact {
		r.AISChains, r.AISBetas = o.AISChains, o.AISBetas
		if r.AISChains == 0 {
			r.AISChains = 100
		}
		if r.AISBetas == 0 {
			r.AISBetas = mcmc.DefaultAISSteps
		}
		// AIS keeps chains × (visible + hidden) states and probabilities, and
		// the products' scratch: about 16 bytes per unit per chain.
		if err := model.CheckMemory("ais-chains", 16*float64(r.AISChains)*float64(m.NumVisible()+m.NumHidden())); err != nil {
			return r, err
		}
		cfg := mcmc.AISConfig{Chains: r.AISChains, Betas: mcmc.AISBetas(r.AISBetas), Seed: o.Seed, Progress: aisProgress(ctx), Stop: ctx.Err}
		if m.Visible == Bernoulli {
			cfg.BaseBias = mcmc.BaseRateBias(x)
		}
		t0 := time.Now()
		a, err := m.AISLogZ(cfg)
		if err != nil {
			return r, err
		}
		r.LogZFirst = a.LogZ
		if o.AISCheck {
			if a, r.Checks, err = checkAIS(ctx, m.Kind(), m.Bipartite(), cfg, a); err != nil {
				return r, err
			}
		}
		r.AISSeconds = time.Since(t0).Seconds()
		r.Method, r.LogZ, r.LogZStdErr, r.StdErr = "ais", a.LogZ, a.StdErr, a.StdErr
		r.Mean = m.MeanLogProb(x, a.LogZ)
	}
	r.PerExample = m.LogProb(nil, x, r.LogZ)
	return r, nil
}

// checkAIS checks first, an AIS estimate of the log Z of b run with cfg: it
// runs AIS twice more with cfg's chains and schedule from a uniform base (the
// first usually starts from the data's base rates), over the visible side and
// then over the hidden side (the transposed model, the visible units summed
// out), with seeds cfg.Seed+1 and +2. It returns the largest of the three
// estimates with its standard error, and the two checks; a warning through ctx
// names a first estimate more than max(1, 3 s.e.) below the largest. AIS's
// estimate is below log Z in expectation, and when its chains miss modes it can
// be far below with a small standard error (session 19: a 500-2000 top RBM's
// log Z from the hidden side with base rates came out 13.5 nats under the
// other three runs, ± 0.09), so the largest is the safer choice.
func checkAIS(ctx context.Context, kind string, b mcmc.Bipartite, cfg mcmc.AISConfig, first mcmc.AISResult) (best mcmc.AISResult, checks []mcmc.AISResult, err error) {
	best = first
	for side, bb := range []mcmc.Bipartite{b, transposeBipartite(b)} {
		c := cfg
		c.BaseBias, c.Seed = nil, cfg.Seed+1+uint64(side)
		a, err := mcmc.AIS(bb, c)
		if err != nil {
			return first, nil, err
		}
		checks = append(checks, a)
		if a.LogZ > best.LogZ {
			best = a
		}
	}
	if gap := best.LogZ - first.LogZ; gap > max(1, 3*best.StdErr) {
		model.Logf(ctx, "%s: warning: --ais-check: the first AIS estimate of log Z, %.2f, is %.2f nats below the largest, %.2f: its chains missed part of the distribution; the largest is used", kind, first.LogZ, gap, best.LogZ)
	}
	return best, checks, nil
}

// checkExtras adds checkAIS's figures to eval --json's: the first run's log Z
// and each check's estimate and standard error.
func checkExtras(add func(string, any), first float64, checks []mcmc.AISResult) {
	if len(checks) != 2 {
		return
	}
	add("log_z_first", first)
	add("log_z_check_visible", checks[0].LogZ)
	add("log_z_check_visible_stderr", checks[0].StdErr)
	add("log_z_check_hidden", checks[1].LogZ)
	add("log_z_check_hidden_stderr", checks[1].StdErr)
}

// LogProb sets dst[n] = log p(x_n) = −F(z_n) − log Z − Σ_i log Std_i for the rows
// x_n of x (dst allocated when nil) given log Z, and returns dst. See MeanLogProb.
func (m *RBM) LogProb(dst []float64, x *tensor.Mat, logZ float64) []float64 {
	dst = m.FreeEnergy(dst, x)
	var jac float64
	if m.Visible == Gaussian {
		for _, sd := range m.Std {
			jac += math.Log(float64(sd))
		}
	}
	for n := range dst {
		dst[n] = -dst[n] - jac - logZ
	}
	return dst
}

// monitorRows returns the first rows of x that the per-epoch figures use: 1000,
// fewer for big models, so that the all-bits pseudo-likelihood (nv·nh softplus per
// row) stays near 1e8 evaluations (255 rows for 784×500).
func (m *RBM) monitorRows(x *tensor.Mat) *tensor.Mat {
	n := min(x.Rows, 1000)
	n = max(1, min(n, int(1e8/float64(m.NumVisible()*m.NumHidden()))))
	return x.Slice(0, n)
}

// fitMetrics returns the figures of fit on rows x (data units): the
// reconstruction error, and when full is set or the cost is small (≤ 2e7
// softplus evaluations), the pseudo-log-likelihood (Bernoulli, binary rows) and the
// exact log-likelihood when enumerating log Z costs at most 2e7 evaluations (1e8
// when full). Training reports them on its first rows after every epoch, the full
// set after the last; --test on held-out rows.
func (m *RBM) fitMetrics(x *tensor.Mat, full bool) (recon float64, ms []model.Metric) {
	recon = m.ReconstructionError(x)
	ms = []model.Metric{{Name: "monitor_n", Value: x.Rows}}
	if !full && float64(x.Rows)*float64(m.NumVisible()*m.NumHidden()) > 2e7 {
		return recon, ms
	}
	binary := m.Visible == Bernoulli && isBinary(x)
	if binary {
		if pl, err := m.PseudoLogLikelihood(x); err == nil {
			ms = append(ms, model.Metric{Name: "pseudo_log_likelihood", Value: pl})
		}
	}
	budget := 2e7
	if full {
		budget = 1e8
	}
	if m.CanEnumerate() && m.EnumCost() <= budget && (m.Visible == Gaussian || binary) {
		if lz, err := m.ExactLogZ(); err == nil {
			ms = append(ms, model.Metric{Name: "exact_log_likelihood", Value: m.MeanLogProb(x, lz)},
				model.Metric{Name: "exact_log_z", Value: lz})
		}
	}
	return recon, ms
}

func isBinary(x *tensor.Mat) bool {
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}
