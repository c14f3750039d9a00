package mixture

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// Model is a mixture family that EM can fit. Implementations hold their current
// parameters G and update them in MStep.
type Model interface {
	// NumComponents returns K.
	NumComponents() int
	// LogJoint sets dst[n*K+k] = log π_k + log p(x_n | θ_k) for the current
	// parameters. dst has len x.Rows*K.
	LogJoint(dst []float64, x *tensor.Mat)
	// MStep sets the parameters to argmax_G Σ_n Σ_k resp[n*K+k] log p(x_n, k | G) +
	// log p(G). It returns an error when no valid parameters exist (for example a
	// singular covariance).
	MStep(x *tensor.Mat, resp []float64) error
	// LogPrior returns log p(G) for the current parameters (0 for maximum likelihood).
	LogPrior() float64
}

// Step is one entry of the free-energy trace.
type Step struct {
	Iter  int     `json:"iter"`  // EM iteration, from 1
	Phase string  `json:"phase"` // "E" or "M": F was measured after this half-step
	F     float64 `json:"f"`     // free energy per example, nats
}

// Result reports how EM went. Not converging is a result, not an error.
type Result struct {
	Converged  bool   // |ΔF| between successive E-steps fell below Tol
	Iterations int    // EM iterations run (each is one E-step and one M-step)
	History    []Step // F after every half-step, of the run that was kept
	// FreeEnergy is F after a final E-step with the returned parameters:
	// -(L + log p(G))/n.
	FreeEnergy float64
	// LogLikelihood is L/n, the mean log-likelihood per example of the returned
	// parameters.
	LogLikelihood float64
	Init          int       // index of the restart that was kept
	InitF         []float64 // final FreeEnergy of every restart
}

// EMConfig holds the settings of the EM loop.
type EMConfig struct {
	MaxIter int     // most EM iterations; 0 means 100
	Tol     float64 // stop when |ΔF| per example between E-steps < Tol; 0 means 1e-3, <0 never
	// OnStep, when set, is called with every new trace entry (for progress reports).
	OnStep func(Step)
}

func (c EMConfig) withDefaults() EMConfig {
	if c.MaxIter == 0 {
		c.MaxIter = 100
	}
	if c.Tol == 0 {
		c.Tol = 1e-3
	}
	return c
}

// EM runs expectation-maximisation on m from its current parameters. Iteration i
// is an E-step, which sets Q(k|x_n) = p(k|x_n, G) and records
//
//	F_E = -(1/n) Σ_n log Σ_k exp(log p(x_n, k | G)) - log p(G)/n,
//
// then an M-step, which updates G and records F_M = F(Q, G_new) with the Q of that
// E-step. EM stops after an iteration whose F_E differs from the previous F_E by less
// than Tol (as scikit-learn's GaussianMixture does), or after MaxIter iterations.
// A final E-step gives Result.FreeEnergy and LogLikelihood.
//
// The returned error is non-nil when the M-step fails or F becomes NaN.
func EM(m Model, x *tensor.Mat, cfg EMConfig) (Result, error) {
	cfg = cfg.withDefaults()
	if x.Rows == 0 {
		return Result{}, fmt.Errorf("mixture: no data")
	}
	var r emRun
	var w emWork
	for r.Iterations < cfg.MaxIter && !r.Converged {
		if err := r.iterate(m, &w, x, cfg.Tol, cfg.OnStep); err != nil {
			return r.result(), err
		}
	}
	return r.result(), nil
}

// emRun is the progress of one EM run between iterations: with the model's
// parameters, everything a resumed run needs.
type emRun struct {
	Iterations int
	Converged  bool
	History    []Step
	// F and LL are the free energy and the mean log-likelihood per example of
	// the current parameters (after the last iteration's closing E-step).
	F, LL float64
}

// emWork holds the n×K buffers of an E-step: the log joints and the
// responsibilities. One emWork may serve several runs in turn.
type emWork struct {
	logJ, resp []float64
	// fresh is the run whose current parameters logJ and resp belong to (nil:
	// none, they must be recomputed).
	fresh *emRun
}

func (r *emRun) result() Result {
	return Result{Converged: r.Converged, Iterations: r.Iterations, History: r.History,
		FreeEnergy: r.F, LogLikelihood: r.LL}
}

// eStep computes the log joints of m's current parameters into w and closes the
// E-step (closeE).
func (r *emRun) eStep(m Model, w *emWork, x *tensor.Mat) error {
	n, k := x.Rows, m.NumComponents()
	w.logJ, w.resp = resize(w.logJ, n*k), resize(w.resp, n*k)
	m.LogJoint(w.logJ, x)
	return r.closeE(m, w, n, k)
}

// closeE turns w.logJ into responsibilities and sets F = -(L + log p(G))/n and
// LL = L/n for the current parameters.
func (r *emRun) closeE(m Model, w *emWork, n, k int) error {
	ll := eStep(w.resp, w.logJ, n, k)
	r.LL = ll / float64(n)
	r.F = -(ll + m.LogPrior()) / float64(n)
	if math.IsNaN(r.F) || math.IsInf(r.F, 0) {
		w.fresh = nil
		return fmt.Errorf("mixture: free energy is %v at iteration %d (E-step)", r.F, r.Iterations+1)
	}
	w.fresh = r
	return nil
}

// iterate runs one EM iteration on m: the E-step (already done when w is fresh
// for r), the M-step, and the next E-step, which gives F of the new
// parameters. It records F after both half-steps, calling onStep (when not
// nil) with each, and sets Converged when F after this E-step differs from F
// after the previous one by less than tol.
func (r *emRun) iterate(m Model, w *emWork, x *tensor.Mat, tol float64, onStep func(Step)) error {
	n, k := x.Rows, m.NumComponents()
	if w.fresh != r || len(w.logJ) != n*k {
		if err := r.eStep(m, w, x); err != nil {
			return err
		}
	}
	it := r.Iterations + 1
	fE := r.F
	r.record(Step{it, "E", fE}, onStep)
	w.fresh = nil
	if err := m.MStep(x, w.resp); err != nil {
		return fmt.Errorf("%w (iteration %d)", err, it)
	}
	m.LogJoint(w.logJ, x)
	fM := -(expectedLogJoint(w.resp, w.logJ, n, k) + m.LogPrior()) / float64(n)
	if math.IsNaN(fM) {
		return fmt.Errorf("mixture: free energy is NaN at iteration %d (M-step)", it)
	}
	r.record(Step{it, "M", fM}, onStep)
	r.Iterations = it
	if it > 1 && math.Abs(fE-r.History[len(r.History)-4].F) < tol {
		r.Converged = true
	}
	return r.closeE(m, w, n, k)
}

func (r *emRun) record(s Step, onStep func(Step)) {
	r.History = append(r.History, s)
	if onStep != nil {
		onStep(s)
	}
}

// eStep turns log joints into responsibilities, resp[n,k] = exp(logJ[n,k] - lse_n),
// and returns Σ_n lse_n, lse_n = log Σ_k exp(logJ[n,k]). Rows are processed in
// fixed chunks and the per-chunk sums added in chunk order.
func eStep(resp, logJ []float64, n, k int) float64 {
	return chunkSum(n, func(lo, hi int) float64 {
		var s float64
		for i := lo; i < hi; i++ {
			row := logJ[i*k : (i+1)*k]
			lse := tensor.LogSumExp64(row)
			r := resp[i*k : (i+1)*k]
			for j, v := range row {
				r[j] = math.Exp(v - lse)
			}
			s += lse
		}
		return s
	})
}

// expectedLogJoint returns Σ_n Σ_k Q_nk (logJ_nk - log Q_nk), terms with Q_nk = 0
// counting 0.
func expectedLogJoint(resp, logJ []float64, n, k int) float64 {
	return chunkSum(n, func(lo, hi int) float64 {
		var s float64
		for i := lo * k; i < hi*k; i++ {
			if q := resp[i]; q > 0 {
				s += q * (logJ[i] - math.Log(q))
			}
		}
		return s
	})
}

// rowChunk is the number of rows per piece of parallel work. Results never depend on
// the number of workers, only on this constant.
const rowChunk = 512

// chunkSum evaluates f over fixed row chunks in parallel and adds the chunk results
// in chunk order.
func chunkSum(n int, f func(lo, hi int) float64) float64 {
	nc := (n + rowChunk - 1) / rowChunk
	part := make([]float64, nc)
	tensor.ParallelFor(n, rowChunk, func(lo, hi int) { part[lo/rowChunk] = f(lo, hi) })
	var s float64
	for _, v := range part {
		s += v
	}
	return s
}

// fitRestarts runs init then EM nInit times and keeps the run with the lowest final
// free energy. save copies the current parameters, restore reinstates a saved copy.
func fitRestarts(nInit int, m Model, x *tensor.Mat, cfg EMConfig,
	init func(i int) error, save func() any, restore func(any)) (Result, error) {
	if nInit <= 0 {
		nInit = 1
	}
	var best Result
	var bestParams any
	var fs []float64
	for i := 0; i < nInit; i++ {
		if err := init(i); err != nil {
			return Result{}, err
		}
		r, err := EM(m, x, cfg)
		if err != nil {
			if nInit > 1 {
				err = fmt.Errorf("%w (restart %d)", err, i)
			}
			return Result{}, err
		}
		fs = append(fs, r.FreeEnergy)
		if bestParams == nil || r.FreeEnergy < best.FreeEnergy {
			best, bestParams = r, save()
			best.Init = i
		}
	}
	restore(bestParams)
	best.InitF = fs
	return best, nil
}

// checkData returns an error naming the first non-finite value of x.
func checkData(x *tensor.Mat, k int) error {
	if x.Rows == 0 || x.Cols == 0 {
		return fmt.Errorf("mixture: data is empty (%d×%d)", x.Rows, x.Cols)
	}
	if k < 1 {
		return fmt.Errorf("mixture: Components must be >= 1, got %d", k)
	}
	if k > x.Rows {
		return fmt.Errorf("mixture: Components = %d is larger than the number of examples %d", k, x.Rows)
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("mixture: data row %d column %d is %v", i, j, v)
			}
		}
	}
	return nil
}
