package rbm

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Method is the negative-phase sampler.
type Method int

const (
	CD  Method = iota // contrastive divergence: chains start at the data (Hinton 2002)
	PCD               // persistent chains carried across updates (Tieleman 2008)
	PT                // parallel tempering over Temperatures persistent replicas (Desjardins et al. 2010)
)

func (m Method) String() string {
	switch m {
	case CD:
		return "cd"
	case PCD:
		return "pcd"
	case PT:
		return "pt"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// Schedule is a learning-rate schedule.
type Schedule int

const (
	Constant    Schedule = iota // lr at every step
	LinearDecay                 // lr·(1 − step/totalSteps), reaching 0 after Epochs epochs
)

// Config sets up training. The zero value trains CD-1 with batches of 100, learning
// rate 0.1 (0.01 for a Gaussian RBM), no momentum or weight decay, seed 0. Zero
// numeric fields mean their defaults; values that cannot be meant (negative, NaN)
// are errors naming the field.
type Config struct {
	Method       Method
	K            int      // Gibbs steps per update (CD-k, PCD-k, PT steps between swaps); 0 means 1
	Temperatures int      // PT replicas, inverse temperatures β_t = 1 − t/(T−1); 0 means 10
	BatchSize    int      // 0 means 100
	LearningRate float64  // 0 means 0.1 (Bernoulli) or 0.01 (Gaussian)
	Schedule     Schedule // Constant or LinearDecay (over the run's steps, see Trainer.Epoch)
	Momentum     float64  // in [0, 1)
	WeightDecay  float64  // L2 coefficient λ on W: the update adds −lr·λ·W
	LearnSigma   bool     // Gaussian RBM: learn log σ_i (else σ = exp(LogSigma) stays fixed)
	// Center turns on the centering trick (Montavon & Müller 2012; Melchior,
	// Fischer & Wiskott 2016, "How to center deep Boltzmann machines"): the
	// gradient is taken in the parameters of the energy
	// −(v−μ)ᵀW(h−λ) − (v−μ)ᵀb' − (h−λ)ᵀc', whose offsets μ and λ track the
	// means of the data and of p(h | data) by a sliding average of rate Center
	// (in (0, 1]; 0: off). The model keeps its usual parameters (b = b' − Wλ,
	// c = c' − Wᵀμ), so the centred model is the same distribution; only the
	// direction of the steps changes. Bernoulli visible units only.
	Center float64
	// Seed derives the trainer's random streams (the Gibbs draws, PT's swaps and
	// the persistent chains' start); the order of the examples is the driver's.
	Seed uint64
	// Dense turns off the sparse products. By default, a Bernoulli RBM whose
	// visible batch (data or negative sample) has fewer than SparseBelow nonzeros
	// per element computes v·W and vᵀ·p with tensor.SpMM, which skips the zeros;
	// the summation order then differs from the dense tensor.Gemm, so results differ
	// from a Dense run in the last bits (both are deterministic, and independent of
	// the number of workers). Gaussian RBMs always use Gemm.
	Dense bool
}

// SparseBelow is the density (fraction of nonzero elements) of a Bernoulli visible
// batch under which the trainer multiplies it by W, and forms its gradient
// products, as a sparse matrix (see Config.Dense). It is about the measured
// break-even of tensor.SpMM against tensor.Gemm on the 784×500, batch-100 shapes,
// including the cost of building the sparse form (go test -bench SpMM
// ./tensor/: v·W breaks even near 0.26, vᵀ·p near 0.33). Thresholded MNIST is
// about 0.13 and CD's negative samples similar, so each of the four products
// then takes about half the time of the dense GEMM.
const SparseBelow = 0.25

func (c Config) withDefaults(v Visible) Config {
	if c.K == 0 {
		c.K = 1
	}
	if c.Temperatures == 0 {
		c.Temperatures = 10
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.LearningRate == 0 {
		c.LearningRate = 0.1
		if v == Gaussian {
			c.LearningRate = 0.01
		}
	}
	return c
}

func (c Config) validate(v Visible) error {
	switch {
	case c.Method < CD || c.Method > PT:
		return fmt.Errorf("rbm: Method must be CD, PCD or PT, got %d", int(c.Method))
	case c.K < 1:
		return fmt.Errorf("rbm: K (Gibbs steps) must be >= 1, got %d", c.K)
	case c.Method == PT && c.Temperatures < 2:
		return fmt.Errorf("rbm: Temperatures must be >= 2 for parallel tempering, got %d", c.Temperatures)
	case c.Method == PT && v == Gaussian:
		return fmt.Errorf("rbm: parallel tempering supports Bernoulli visible units only")
	case c.BatchSize < 1:
		return fmt.Errorf("rbm: BatchSize must be >= 1, got %d", c.BatchSize)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return fmt.Errorf("rbm: LearningRate must be positive and finite, got %g", c.LearningRate)
	case c.Schedule != Constant && c.Schedule != LinearDecay:
		return fmt.Errorf("rbm: Schedule must be Constant or LinearDecay, got %d", int(c.Schedule))
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("rbm: Momentum must be in [0, 1), got %g", c.Momentum)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("rbm: WeightDecay must be >= 0 and finite, got %g", c.WeightDecay)
	case c.LearnSigma && v != Gaussian:
		return fmt.Errorf("rbm: LearnSigma applies to Gaussian visible units only")
	case !(c.Center >= 0 && c.Center <= 1):
		return fmt.Errorf("rbm: Center (the offsets' sliding-average rate) must be in [0, 1], got %g", c.Center)
	case c.Center > 0 && v == Gaussian:
		return fmt.Errorf("rbm: centering supports Bernoulli visible units only")
	}
	return nil
}

// Trainer trains an RBM by stochastic gradient ascent on the log-likelihood, whose
// gradient for a parameter θ is
//
//	∂ log p(x)/∂θ = −⟨∂E/∂θ⟩_data + ⟨∂E/∂θ⟩_model,
//
// the positive phase with h ~ p(h|x) taken in expectation, the negative phase from the
// Config's sampler. For W this is ⟨u hᵀ⟩_data − ⟨u hᵀ⟩_model with u = v (Bernoulli) or
// z/σ (Gaussian). Updates use momentum μ and L2 decay λ (on W only):
//
//	Δ ← μΔ + lr·(g − λW),   θ ← θ + Δ.
//
// A Trainer is the model.Trainer of the rbm and grbm families: model.Train hands
// it the epochs' mini-batches (Epoch), and it samples, scores and draws pictures
// of its RBM (family.go). A warm training step does not allocate. Results do not
// depend on the number of workers. The data rows are read, never written; keep
// them unchanged while training.
type Trainer struct {
	Model *RBM
	cfg   Config

	epoch, step int
	total       int  // steps of the whole run, for LinearDecay (0: constant)
	final       bool // the last epoch run was the run's last
	// pictureSteps are the Gibbs steps of Pictures' chains (0: 1000); modelOnly
	// marks a trainer loaded from a file without training state.
	pictureSteps   int
	modelOnly      bool
	saidNoPictures bool
	streams        []*rng.Stream // row i of temperature t uses streams[t·B + i]
	swap           *rng.Stream
	sampler        *rng.Stream // the fused tensor kernels' draws
	betas          []float32
	swapTried      []int
	swapAcc        []int

	vW             *tensor.Mat
	vB, vC, vS     []float32
	gB, gC, gS     []float64
	sigma, sigInv  []float32
	chainV, chainH []*tensor.Mat // persistent states per temperature (B, nv), (B, nh)
	chainE         [][]float64   // PT: E(v, h) per replica
	betaB, betaC   []float32     // PT: β·b, β·c of the replica being updated
	viewV, viewH   []tensor.Mat  // row views of the chains (no allocation per step)

	// scratch, (B, ·)
	v0, u0, ph0, hs, vk, uk, phk, av, whData, whModel *tensor.Mat
	batch, z0                                         *tensor.Mat // the driver's batch (data units); Gaussian: standardised
	// phAll (3B, nh) holds p(h|v0), p(h|vk) and their difference: ph0, phk and phD
	// are row views of it, and phBoth the view of all three, so that one sparse
	// product takes both phases (see update).
	phAll  *tensor.Mat
	phD    *tensor.Mat
	phBoth tensor.Mat
	spAll  tensor.CSR // the transpose of [v0∖vk; −(vk∖v0); v0∩vk]
	split  bool       // this step's update is the product of spAll (see update)
	// pre is x·W for the visible batch of sparse form preOf (the last one a sparse
	// product was taken of), so that the next Gibbs state's product can be updated
	// from it at the cost of the units that changed (tensor.CSR.DiffRows).
	pre            *tensor.Mat
	preV           tensor.Mat // preView's rows of pre
	preOf          *tensor.CSR
	spDiff, spNext tensor.CSR
	fresh          []bool
	// data are the training rows SetData checked, and dataCSR their sparse form
	// (fixed binary data that is sparse enough), from which Epoch gathers sp0
	// directly; sp0Ready says that sp0 holds the batch passed to update.
	data     *tensor.Mat
	dynamic  bool
	dataCSR  *tensor.CSR
	sp0Ready bool

	sp0, spk, spt sparseBatch // sparse forms of v0, of vk and of PT's other replicas

	// Centering (Config.Center): the offsets μ (visible) and λ (hidden), nil
	// until the first step sets them to its batch's means; vwl = vW·λ and vwm =
	// vWᵀμ of the step; maskV, when set, zeroes the entries of a weight update
	// that are not parameters (a DBM's blocks of non-neighbouring layers).
	offV, offH []float64
	vwl, vwm   []float64
	maskV      func(*tensor.Mat)
	cfn, sfn   func(lo, hi int)
	cInv       float64 // 1/batch rows of the step
	cFirst     bool    // centerRows also corrects vW (its first pass of the step)

	k     kernel
	kfn   func(lo, hi int)
	pfn   func(lo, hi int)
	ufn   func(lo, hi int)
	afn   func(lo, hi int)
	lr    float32
	lrCur float64
}

// rowStreams is the index of the first of the trainer's per-row random streams
// (rng.NewStream(Seed, rowStreams+i)), clear of the driver's streams
// (model.ShuffleStream, model.BinarizeStream) and of the trainer's others.
const rowStreams = 1 << 41

// NewTrainer returns a trainer for m, which must be initialised (InitFromData) or
// loaded. It returns an error for invalid settings. Give it the training data with
// SetData, or let Epoch do that.
func NewTrainer(m *RBM, cfg Config) (*Trainer, error) {
	cfg = cfg.withDefaults(m.Visible)
	if err := cfg.validate(m.Visible); err != nil {
		return nil, err
	}
	nv, nh := m.NumVisible(), m.NumHidden()
	t := &Trainer{Model: m, cfg: cfg}
	B := cfg.BatchSize
	T := 1
	if cfg.Method == PT {
		T = cfg.Temperatures
	}
	t.swap = rng.NewStream(cfg.Seed, 1<<40+1)
	t.sampler = rng.NewStream(cfg.Seed, 1<<40+2)
	t.streams = mcmc.Streams(cfg.Seed, rowStreams, T*B)
	t.vW = weightMat(nv, nh)
	t.vB, t.vC = make([]float32, nv), make([]float32, nh)
	t.gB, t.gC = make([]float64, nv), make([]float64, nh)
	if m.Visible == Gaussian {
		t.vS, t.gS = make([]float32, nv), make([]float64, nv)
		t.sigma, t.sigInv = make([]float32, nv), make([]float32, nv)
		t.z0 = tensor.New(B, nv)
	}
	if cfg.Method != CD {
		t.betas = make([]float32, T)
		t.chainV = make([]*tensor.Mat, T)
		t.chainH = make([]*tensor.Mat, T)
		t.chainE = make([][]float64, T)
		for r := 0; r < T; r++ {
			t.betas[r] = 1
			if T > 1 {
				t.betas[r] = 1 - float32(r)/float32(T-1)
			}
			t.chainV[r] = tensor.New(B, nv)
			t.chainH[r] = tensor.New(B, nh)
			t.chainE[r] = make([]float64, B)
			for i := 0; i < B; i++ { // start at the base rate σ(b) (Gaussian: N(b, σ²))
				s, row := t.streams[r*B+i], t.chainV[r].Row(i)
				for j := range row {
					if m.Visible == Gaussian {
						row[j] = m.B[j] + float32(math.Exp(float64(m.LogSigma[j]))*s.NormFloat64())
					} else if s.Float64() < sigmoid64(float64(m.B[j])) {
						row[j] = 1
					}
				}
			}
		}
		t.swapTried, t.swapAcc = make([]int, T-1), make([]int, T-1)
		t.viewV, t.viewH = make([]tensor.Mat, T), make([]tensor.Mat, T)
		t.betaB, t.betaC = make([]float32, nv), make([]float32, nh)
	}
	for _, p := range []**tensor.Mat{&t.v0, &t.u0, &t.vk, &t.uk, &t.av} {
		*p = tensor.New(B, nv)
	}
	t.hs = tensor.New(B, nh)
	t.phAll = weightMat(3*B, nh) // rows on cache lines, as W's
	t.ph0, t.phk, t.phD = new(tensor.Mat), new(tensor.Mat), new(tensor.Mat)
	t.setPhases(B)
	if cfg.LearnSigma {
		t.whData, t.whModel = tensor.New(B, nv), tensor.New(B, nv)
	}
	if m.Visible == Bernoulli && !cfg.Dense {
		for _, sb := range []*sparseBatch{&t.sp0, &t.spk, &t.spt} {
			if sb == &t.spt && cfg.Method != PT {
				continue
			}
			sb.csr.Reserve(B, B*nv)
			sb.csrT.Reserve(nv, B*nv)
		}
		t.spAll.Reserve(nv, 2*B*nv)
		t.spDiff.Reserve(B, 2*B*nv)
		t.spNext.Reserve(B, B*nv)
		t.pre = weightMat(B, nh)
		t.fresh = make([]bool, B)
	}
	t.kfn = t.k.run
	t.pfn = t.phaseTasks
	t.ufn = t.updateRows
	t.afn = t.addVW
	if cfg.Center > 0 {
		t.vwl, t.vwm = make([]float64, nv), make([]float64, nh)
		t.cfn, t.sfn = t.centerRows, t.centerCols
	}
	return t, nil
}

// SetData gives the trainer the training rows (data units, DataDim columns) that
// Epoch will see batches of. For a Bernoulli RBM it checks that they are binary
// (in [0, 1] when dynamic: each batch is then binarised afresh by the driver)
// and, when they are fixed and sparse enough (and Config.Dense is off), keeps
// their sparse form, from which Epoch gathers each batch's sparse rows directly.
// Epoch calls it when its data change; calling it first keeps that pass out of
// the first epoch's time.
func (t *Trainer) SetData(x *tensor.Mat, dynamic bool) error {
	m := t.Model
	if x.Cols != m.DataDim() {
		return fmt.Errorf("rbm: data has %d columns, model has %d visible units", x.Cols, m.DataDim())
	}
	t.data, t.dynamic, t.dataCSR = x, dynamic, nil
	if m.Visible != Bernoulli {
		return nil
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if dynamic {
				if !(v >= 0 && v <= 1) {
					return fmt.Errorf("rbm: dynamic binarisation needs data in [0, 1]; row %d column %d is %g", i, j, v)
				}
			} else if v != 0 && v != 1 {
				return fmt.Errorf("rbm: a Bernoulli RBM needs binary data; row %d column %d is %g (binarise it, or use a Gaussian RBM)", i, j, v)
			}
		}
	}
	if !t.cfg.Dense && !dynamic {
		var c tensor.CSR
		if c.FromDense(x, false).Density() < SparseBelow {
			t.dataCSR = &c
		}
	}
	return nil
}

// Config returns the settings with defaults filled in.
func (t *Trainer) Config() Config { return t.cfg }

// Epochs returns the number of epochs completed.
func (t *Trainer) Epochs() int { return t.epoch }

// Steps returns the number of updates made.
func (t *Trainer) Steps() int { return t.step }

// Betas returns the PT inverse temperatures (nil unless Method is PT or PCD).
func (t *Trainer) Betas() []float32 { return t.betas }

// Epoch implements model.Trainer: one update per mini-batch of e, in the
// driver's order (e.Next). A LinearDecay schedule runs over the run's
// e.Total·e.Steps() steps, so a resumed run with more epochs stretches it.
// Fixed sparse binary data take their batches' sparse rows straight from the
// sparse form SetData keeps, by the batch's indices (e.NextIndices), without a
// dense copy. The Stats hold PT's swap rates; the loss and the figures of fit
// come from Report, after the epoch's time is taken. Divergence is Check's to
// find.
func (t *Trainer) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	if e.Data.X != t.data || e.Dynamic() != t.dynamic {
		if err := t.SetData(e.Data.X, e.Dynamic()); err != nil {
			return model.Stats{}, err
		}
	}
	t.total = e.Total * e.Steps()
	clear(t.swapTried)
	clear(t.swapAcc)
	gauss := t.Model.Visible == Gaussian
	for {
		var x *tensor.Mat
		if t.dataCSR != nil {
			// Fixed sparse binary data: the batch's sparse rows straight from the
			// data's sparse form, by the driver's indices (the same CSR as FromDense
			// of the gathered rows: same bits, no dense copy). A batch that is not
			// sparse after all is gathered dense.
			idx := e.NextIndices()
			if idx == nil {
				break
			}
			x = tensor.Reuse(t.v0, len(idx), t.Model.NumVisible()) // rows unused when sp0Ready
			if t.sp0Ready = t.sp0.csr.GatherRows(t.dataCSR, idx).Density() < SparseBelow; !t.sp0Ready {
				x = e.Data.Gather(t.v0, idx)
			}
		} else {
			if x, _ = e.Next(t.batch); x == nil {
				break
			}
			t.batch = x
			if gauss {
				x = t.Model.standardizeInto(t.z0, x)
			}
		}
		if err := ctx.Err(); err != nil {
			t.sp0Ready = false
			return model.Stats{}, err
		}
		t.update(x)
	}
	t.epoch++
	t.final = e.Index+1 >= e.Total
	var st model.Stats
	if t.cfg.Method == PT {
		rates := make([]float64, len(t.swapTried))
		for k := range rates {
			if t.swapTried[k] > 0 {
				rates[k] = float64(t.swapAcc[k]) / float64(t.swapTried[k])
			}
		}
		st.Metrics = append(st.Metrics, model.Metric{Name: "swap_rates", Value: rates})
	}
	return st, nil
}

// Check implements model.Checker: an error naming the first parameter that is not
// finite or exceeds MaxParam in magnitude.
func (t *Trainer) Check() error {
	m := t.Model
	for _, p := range []struct {
		name string
		x    []float32
	}{{"W", m.W.Data}, {"b", m.B}, {"c", m.C}, {"log σ", m.LogSigma}} {
		if err := model.CheckFinite(p.name, MaxParam, p.x); err != nil {
			return fmt.Errorf("rbm: %w; the learning rate is %g", err, t.cfg.LearningRate)
		}
	}
	return nil
}

// MaxParam is the largest magnitude of a parameter that Check accepts. A
// weight or bias of 10⁴ saturates every sigmoid of the model; no RBM that
// trained reaches it, and one whose learning rate is far too large passes it
// in its first epoch (while still finite).
const MaxParam = 1e4

// Update makes one gradient step on the batch x (rows in model units: binary for a
// Bernoulli RBM, standardised for a Gaussian one). len(x) must not exceed BatchSize.
// Epoch calls it for each mini-batch; it is exported for callers that bring their
// own batches (a LinearDecay schedule then keeps its first rate).
func (t *Trainer) Update(x *tensor.Mat) {
	if x.Rows > t.cfg.BatchSize || x.Cols != t.Model.NumVisible() {
		panic(fmt.Sprintf("rbm: Update: batch %d×%d, batch size %d, %d visible units", x.Rows, x.Cols, t.cfg.BatchSize, t.Model.NumVisible()))
	}
	t.update(x)
}

// sigmoidRows sets p ← σ(x + bias) and, when s != nil, s ← Bernoulli(p), with the
// fused SIMD kernels of package tensor and the trainer's sampling stream.
func (t *Trainer) sigmoidRows(p, s, x *tensor.Mat, bias []float32) {
	if s == nil {
		tensor.SigmoidBias(p, x, bias)
	} else {
		tensor.SigmoidBiasBernoulli(p, s, x, bias, t.sampler)
	}
}

func (t *Trainer) update(v0 *tensor.Mat) {
	m := t.Model
	r, nv, nh := v0.Rows, m.NumVisible(), m.NumHidden()
	gauss := m.Visible == Gaussian
	if gauss {
		for i, ls := range m.LogSigma {
			t.sigma[i] = float32(math.Exp(float64(ls)))
			t.sigInv[i] = 1 / t.sigma[i]
		}
	}
	// Positive phase.
	u0 := v0
	if gauss {
		u0 = tensor.Reuse(t.u0, r, nv)
		scaleCols(u0, v0, t.sigInv)
	}
	t.setPhases(r)
	ph0, phk := t.ph0, t.phk
	t.preOf = nil
	var a0 *tensor.Mat // v0·W: rows of pre or ph0
	if t.sp0Ready {    // Epoch gathered the batch's sparse form from the data's
		t.sp0Ready = false
		t.sp0.of, t.sp0.sparse, t.sp0.transOK = v0, true, false
		a0 = t.preView(r)
		tensor.SpMM(1, &t.sp0.csr, m.W, 0, a0)
		t.preOf = &t.sp0.csr
	} else {
		a0 = t.mulWPre(&t.sp0, u0, ph0) // (r, nh)
	}
	hs := tensor.Reuse(t.hs, r, nh)
	var vk, uk *tensor.Mat
	switch t.cfg.Method {
	case CD:
		t.sigmoidRows(ph0, hs, a0, m.C) // h ~ p(h | v0)
		vk = tensor.Reuse(t.vk, r, nv)
		uk = vk
		if gauss {
			uk = tensor.Reuse(t.uk, r, nv)
		}
		t.gibbs(vk, uk, hs, phk, t.cfg.K)
	case PCD:
		t.sigmoidRows(ph0, nil, a0, m.C)
		vk = t.chainView(0, r)
		uk = vk
		if gauss {
			uk = tensor.Reuse(t.uk, r, nv)
			scaleCols(uk, vk, t.sigInv)
		}
		ak := t.mulWPre(&t.spk, uk, phk)
		t.sigmoidRows(phk, hs, ak, m.C) // h ~ p(h | chain)
		t.gibbs(vk, uk, hs, phk, t.cfg.K)
	case PT:
		t.sigmoidRows(ph0, nil, a0, m.C)
		t.tempering(r)
		vk = t.chainView(0, r)
		uk = vk
		ak := t.mulW(&t.spk, 1, vk, phk, phk)
		t.sigmoidRows(phk, nil, ak, m.C)
	}
	// Learning rate for this step.
	lr := t.cfg.LearningRate
	if t.cfg.Schedule == LinearDecay && t.total > 0 {
		lr *= max(0, 1-float64(t.step)/float64(t.total))
	}
	t.lrCur = lr
	t.lr = float32(lr)
	// Bias gradients (float64 column sums), W's momentum pre-pass, then the GEMMs.
	inv := 1 / float64(r)
	clear(t.gB)
	clear(t.gC)
	if t.sp0.of == v0 && t.spk.of == vk {
		// Binary batches: the sums are small integers, exact in any order, so
		// summing the nonzeros alone gives the same bits as the dense loop.
		t.sp0.addColSums(t.gB, 1)
		t.spk.addColSums(t.gB, -1)
	} else {
		for i := 0; i < r; i++ {
			for j, x := range v0.Row(i) {
				t.gB[j] += float64(x)
			}
			for j, x := range vk.Row(i) {
				t.gB[j] -= float64(x)
			}
		}
	}
	// Both batches sparse: the weight update below is one product,
	// Δ = lr/r · (v0ᵀ ph0 − vkᵀ phk) as [v0∖vk; −(vk∖v0); v0∩vk]ᵀ [ph0; phk; ph0 − phk],
	// one term per unit on in the data, the sample or both (a reconstruction agrees
	// with its data in most units). phaseTasks builds that split (spAll) on one
	// worker while the others take column ranges of gC and phD = ph0 − phk.
	t.split = t.sp0.sparse && t.sp0.of == u0 && t.spk.sparse && t.spk.of == uk
	tensor.ParallelFor(1+(nh+phaseCols-1)/phaseCols, 1, t.pfn)
	if t.cfg.LearnSigma {
		// −∂E/∂s_i = (z_i − b_i)²/σ_i² − (z_i/σ_i)(Wh)_i with h = p(h|z).
		whd, whm := tensor.Reuse(t.whData, r, nv), tensor.Reuse(t.whModel, r, nv)
		tensor.Gemm(false, true, 1, ph0, m.W, 0, whd)
		tensor.Gemm(false, true, 1, phk, m.W, 0, whm)
		clear(t.gS)
		for i := 0; i < r; i++ {
			z0, zk, a0, ak, q0, qk := v0.Row(i), vk.Row(i), u0.Row(i), uk.Row(i), whd.Row(i), whm.Row(i)
			for j := range t.gS {
				d0 := float64(z0[j]-m.B[j]) * float64(t.sigInv[j])
				dk := float64(zk[j]-m.B[j]) * float64(t.sigInv[j])
				t.gS[j] += d0*d0 - float64(a0[j])*float64(q0[j]) - (dk*dk - float64(ak[j])*float64(qk[j]))
			}
		}
	}
	mom := float32(t.cfg.Momentum)
	center := t.cfg.Center > 0
	for j := range t.vB {
		g := t.gB[j] * inv
		if gauss { // ∂/∂b = (z − b)/σ²: the b terms cancel between the phases
			g *= float64(t.sigInv[j]) * float64(t.sigInv[j])
		}
		t.vB[j] = mom*t.vB[j] + t.lr*float32(g)
		if !center { // centred: b' moves by vB, b by vB − vW·λ (below)
			m.B[j] += t.vB[j]
		}
	}
	for j := range t.vC {
		t.vC[j] = mom*t.vC[j] + t.lr*float32(t.gC[j]*inv)
		if !center {
			m.C[j] += t.vC[j]
		}
	}
	if t.cfg.LearnSigma {
		for j := range t.vS {
			t.vS[j] = mom*t.vS[j] + t.lr*float32(t.gS[j]*inv)
			m.LogSigma[j] += t.vS[j]
		}
	}
	t.k = kernel{mode: -1} // updateRows reads t.lr and the config
	var beta0 float32      // without momentum or decay, vW ← μ vW − lr·λ W is vW ← 0
	if mom != 0 || t.cfg.WeightDecay != 0 {
		tensor.ParallelFor(nv, 64, t.ufn)
		beta0 = 1
	}
	a := float32(lr * inv)
	if t.split {
		// Without momentum or decay the update goes straight into W (vW is then
		// unused).
		if beta0 == 0 && !center {
			tensor.SpMM(a, &t.spAll, &t.phBoth, 1, m.W)
			t.step++
			return
		}
		tensor.SpMM(a, &t.spAll, &t.phBoth, beta0, t.vW)
	} else {
		t.mulTP(&t.sp0, a, u0, ph0, beta0) // += lr/r · u0ᵀ ph0
		t.mulTP(&t.spk, -a, uk, phk, 1)    // −= lr/r · ukᵀ phk
	}
	if center {
		t.centerStep(v0, inv)
	}
	tensor.ParallelFor(nv, 64, t.afn)
	if center {
		t.moveOffsets(v0)
	}
	t.step++
}

// centerStep turns this step's weight update vW (momentum, decay and
// lr·⟨v hᵀ⟩_data − lr·⟨v hᵀ⟩_model) into the centred one by subtracting
// lr·(μ g_cᵀ + g_b λᵀ), g_b and g_c being the bias gradients — since
// ⟨(v−μ)(h−λ)ᵀ⟩ = ⟨v hᵀ⟩ − μ⟨h⟩ᵀ − ⟨v⟩λᵀ + μλᵀ, and the last term cancels
// between the phases —, then moves the biases by the centred steps of b' and c'
// (vB, vC) less vW·λ and vWᵀ·μ: the change of b = b' − Wλ and c = c' − Wᵀμ.
// The offsets are those of the batch's first step (set on the first call).
func (t *Trainer) centerStep(v0 *tensor.Mat, inv float64) {
	if t.offV == nil {
		t.offV, t.offH = make([]float64, len(t.vB)), make([]float64, len(t.vC))
		meanCols(t.offV, v0, 1)
		meanCols(t.offH, t.ph0, 1)
	}
	nv, nh := len(t.vB), len(t.vC)
	t.cInv, t.cFirst = inv, true
	tensor.ParallelFor(nv, 64, t.cfn)
	if t.maskV != nil {
		t.maskV(t.vW)
		t.cFirst = false
		tensor.ParallelFor(nv, 64, t.cfn) // vW·λ of the masked update
	}
	tensor.ParallelFor((nh+63)/64, 1, t.sfn)
	m := t.Model
	for i := range m.B {
		m.B[i] += t.vB[i] - float32(t.vwl[i])
	}
	for j := range m.C {
		m.C[j] += t.vC[j] - float32(t.vwm[j])
	}
}

// centerRows applies centerStep's correction to rows [lo, hi) of vW (when
// cFirst) and sets vwl to vW·λ over them.
func (t *Trainer) centerRows(lo, hi int) {
	lr := float64(t.lr)
	for i := lo; i < hi; i++ {
		v := t.vW.Row(i)
		if t.cFirst {
			mi, gb := t.offV[i], t.gB[i]*t.cInv
			for j := range v {
				v[j] -= float32(lr * (mi*t.gC[j]*t.cInv + gb*t.offH[j]))
			}
		}
		var d float64
		for j, x := range v {
			d += float64(x) * t.offH[j]
		}
		t.vwl[i] = d
	}
}

// centerCols sets vwm to vWᵀ·μ over the column blocks [lo, hi) of 64, adding
// the rows in order.
func (t *Trainer) centerCols(lo, hi int) {
	nh := len(t.vC)
	for b := lo; b < hi; b++ {
		c0, c1 := b*64, min(b*64+64, nh)
		s := t.vwm[c0:c1]
		clear(s)
		for i, mi := range t.offV {
			for j, x := range t.vW.Row(i)[c0:c1] {
				s[j] += float64(x) * mi
			}
		}
	}
}

// moveOffsets moves μ and λ towards the means of the batch v0 and of p(h | v0)
// by the rate Config.Center.
func (t *Trainer) moveOffsets(v0 *tensor.Mat) {
	nu := t.cfg.Center
	scale(t.offV, 1-nu)
	scale(t.offH, 1-nu)
	meanCols(t.offV, v0, nu)
	meanCols(t.offH, t.ph0, nu)
}

// meanCols adds w times the column means of x (rows in order, float64) to dst.
func meanCols(dst []float64, x *tensor.Mat, w float64) {
	w /= float64(x.Rows)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			dst[j] += w * float64(v)
		}
	}
}

func scale(x []float64, a float64) {
	for i := range x {
		x[i] *= a
	}
}

// phaseCols is the width of the column ranges of phaseTasks.
const phaseCols = 128

// phaseTasks runs tasks [lo, hi) of update's phase statistics: task 0 sets spAll to
// the split of the two sparse batches (when t.split), task p ≥ 1 stores ph0 − phk in
// phD and adds its column sums to gC (rows in order, in float64) over columns
// [(p−1)·phaseCols, p·phaseCols). phD is only read when t.split.
func (t *Trainer) phaseTasks(lo, hi int) {
	nh := t.Model.NumHidden()
	for p := lo; p < hi; p++ {
		if p == 0 {
			if t.split {
				t.spAll.SplitTranspose(&t.sp0.csr, &t.spk.csr, -1)
			}
			continue
		}
		c0 := (p - 1) * phaseCols
		c1 := min(c0+phaseCols, nh)
		g := t.gC[c0:c1]
		for i := 0; i < t.ph0.Rows; i++ {
			p0, pk, d := t.ph0.Row(i)[c0:c1], t.phk.Row(i)[c0:c1], t.phD.Row(i)[c0:c1]
			for j := range p0 {
				d[j] = p0[j] - pk[j]
				g[j] += float64(p0[j]) - float64(pk[j])
			}
		}
	}
}

// setPhases points ph0 at rows [0, r) of phAll, phk at rows [r, 2r), phD at rows
// [2r, 3r) and phBoth at rows [0, 3r).
func (t *Trainer) setPhases(r int) {
	nh := t.Model.NumHidden()
	ld := t.phAll.Stride
	*t.ph0 = tensor.Mat{Rows: r, Cols: nh, Stride: ld, Data: t.phAll.Data[: r*ld : r*ld]}
	*t.phk = tensor.Mat{Rows: r, Cols: nh, Stride: ld, Data: t.phAll.Data[r*ld : 2*r*ld : 2*r*ld]}
	*t.phD = tensor.Mat{Rows: r, Cols: nh, Stride: ld, Data: t.phAll.Data[2*r*ld : 3*r*ld]}
	t.phBoth = tensor.Mat{Rows: 3 * r, Cols: nh, Stride: ld, Data: t.phAll.Data[:3*r*ld]}
}

// preView returns rows [0, r) of pre.
func (t *Trainer) preView(r int) *tensor.Mat {
	t.preV = tensor.Mat{Rows: r, Cols: t.pre.Cols, Stride: t.pre.Stride, Data: t.pre.Data[:r*t.pre.Stride]}
	return &t.preV
}

// mulWPre computes x·W as mulW does and returns the matrix holding it: rows of pre
// when x is a sparse batch (pre and preOf then describe x, for mulWNext), else dst.
func (t *Trainer) mulWPre(sb *sparseBatch, x, dst *tensor.Mat) *tensor.Mat {
	t.preOf = nil
	if t.pre == nil {
		return t.mulW(sb, 1, x, dst, dst)
	}
	out := t.mulW(sb, 1, x, dst, t.preView(x.Rows))
	if sb.sparse {
		t.preOf = &sb.csr
	}
	return out
}

// mulWNext is mulWPre for a batch x that follows the one pre holds the product of
// (the next state of the same Gibbs chains): rows of x that changed in fewer units
// than they have on are updated from pre by the changes alone (tensor.CSR.DiffRows),
// with the same result up to rounding.
func (t *Trainer) mulWNext(sb *sparseBatch, x, dst *tensor.Mat) *tensor.Mat {
	if t.preOf == nil || t.preOf.Rows() != x.Rows {
		return t.mulWPre(sb, x, dst)
	}
	prev := t.preOf
	t.preOf = nil
	t.spNext.FromDense(x, false)
	if t.spNext.Density() >= SparseBelow {
		sb.csr, t.spNext = t.spNext, sb.csr
		sb.of, sb.sparse, sb.transOK = x, false, false
		tensor.Gemm(false, false, 1, x, t.Model.W, 0, dst)
		return dst
	}
	t.spDiff.DiffRows(prev, &t.spNext, t.fresh)
	pre := t.preView(x.Rows)
	for i := 0; i < x.Rows; i++ {
		if t.fresh[i] {
			clear(pre.Row(i))
		}
	}
	tensor.SpMM(1, &t.spDiff, t.Model.W, 1, pre)
	// sb takes x's sparse form; prev (possibly sb's old one) is no longer needed.
	sb.csr, t.spNext = t.spNext, sb.csr
	sb.of, sb.sparse, sb.transOK = x, true, false
	t.preOf = &sb.csr
	return pre
}

// sparseBatch is the sparse form of a visible batch, when it is sparse enough.
type sparseBatch struct {
	of        *tensor.Mat // the batch csr was last built from (by mulW), or nil
	sparse    bool        // csr is in use (density < SparseBelow)
	csr, csrT tensor.CSR
	transOK   bool // csrT = csrᵀ is up to date
}

// mulW computes alpha·x·W, as a sparse product into spDst when x is a sparse enough
// Bernoulli batch and as a GEMM into dst otherwise, records in sb which form was
// used for x, and returns the matrix it wrote.
func (t *Trainer) mulW(sb *sparseBatch, alpha float32, x, dst, spDst *tensor.Mat) *tensor.Mat {
	sb.of, sb.sparse, sb.transOK = nil, false, false
	if t.cfg.Dense || t.Model.Visible != Bernoulli {
		tensor.Gemm(false, false, alpha, x, t.Model.W, 0, dst)
		return dst
	}
	sb.csr.FromDense(x, false)
	sb.of = x
	if sb.csr.Density() >= SparseBelow {
		tensor.Gemm(false, false, alpha, x, t.Model.W, 0, dst)
		return dst
	}
	sb.sparse = true
	tensor.SpMM(alpha, &sb.csr, t.Model.W, 0, spDst)
	return spDst
}

// mulTP sets vW ← alpha·xᵀ·p + beta·vW, reusing the sparse form of x that mulW
// built when x is the batch it was built from.
func (t *Trainer) mulTP(sb *sparseBatch, alpha float32, x, p *tensor.Mat, beta float32) {
	if sb.of != x || !sb.sparse {
		tensor.Gemm(true, false, alpha, x, p, beta, t.vW)
		return
	}
	if !sb.transOK {
		sb.csrT.Transpose(&sb.csr)
		sb.transOK = true
	}
	tensor.SpMM(alpha, &sb.csrT, p, beta, t.vW)
}

// addColSums adds sign·(column sums) of the batch sb was built from to g.
func (sb *sparseBatch) addColSums(g []float64, sign float64) {
	for i := 0; i < sb.csr.Rows(); i++ {
		idx, val := sb.csr.Row(i)
		for k, j := range idx {
			g[j] += sign * float64(val[k])
		}
	}
}

// updateRows applies vW ← μ vW − lr·λ W on rows [lo, hi).
func (t *Trainer) updateRows(lo, hi int) {
	mom := float32(t.cfg.Momentum)
	dec := t.lr * float32(t.cfg.WeightDecay)
	for i := lo; i < hi; i++ {
		v, w := t.vW.Row(i), t.Model.W.Row(i)
		if dec == 0 {
			for j := range v {
				v[j] *= mom
			}
			continue
		}
		for j := range v {
			v[j] = mom*v[j] - dec*w[j]
		}
	}
}

// addVW applies W ← W + vW on rows [lo, hi).
func (t *Trainer) addVW(lo, hi int) {
	for i := lo; i < hi; i++ {
		v, w := t.vW.Row(i), t.Model.W.Row(i)
		for j := range v {
			w[j] += v[j]
		}
	}
}

// gibbs runs k block-Gibbs steps from the hidden sample hs, leaving the visible sample in
// vk (and u = vk/σ in uk for Gaussian units) and p(h | vk) in phk.
func (t *Trainer) gibbs(vk, uk, hs, phk *tensor.Mat, k int) {
	m := t.Model
	for s := 1; s <= k; s++ {
		if m.Visible == Gaussian {
			av := tensor.Reuse(t.av, vk.Rows, vk.Cols)
			tensor.Gemm(false, true, 1, hs, m.W, 0, av) // (r, nv) = h Wᵀ
			t.k = kernel{mode: kGaussVis, a: av, s: vk, u: uk, bias: m.B, sigma: t.sigma, sigInv: t.sigInv, streams: t.streams}
			tensor.ParallelFor(vk.Rows, 4, t.kfn)
		} else {
			tensor.Gemm(false, true, 1, hs, m.W, 0, vk)
			t.sigmoidRows(vk, vk, vk, m.B) // v ~ p(v | h), in place
		}
		ak := t.mulWNext(&t.spk, uk, phk)
		if s < k {
			t.sigmoidRows(phk, hs, ak, m.C)
		} else {
			t.sigmoidRows(phk, nil, ak, m.C)
		}
	}
}

// tempering advances the PT replicas (rows [0, r) of every temperature) by K Gibbs
// steps each, then proposes swaps between neighbours (even pairs on even steps, odd
// pairs on odd steps), row by row.
func (t *Trainer) tempering(r int) {
	m := t.Model
	nv, nh := m.NumVisible(), m.NumHidden()
	for rep, beta := range t.betas {
		V := t.chainView(rep, r)
		H := &t.viewH[rep]
		*H = tensor.Mat{Rows: r, Cols: nh, Stride: t.chainH[rep].Stride, Data: t.chainH[rep].Data[:r*t.chainH[rep].Stride]}
		ph := t.phk // rows [r, 2r) of phAll, set by update
		av := tensor.Reuse(t.av, r, nv)
		pv := tensor.Reuse(t.uk, r, nv)
		for j := range t.betaC {
			t.betaC[j] = beta * m.C[j]
		}
		for i := range t.betaB {
			t.betaB[i] = beta * m.B[i]
		}
		for s := 0; s < t.cfg.K; s++ {
			t.mulW(&t.spt, beta, V, ph, ph)                             // β·VW
			tensor.SigmoidBiasBernoulli(nil, H, ph, t.betaC, t.sampler) // h ~ σ(β(Wᵀv + c))
			tensor.Gemm(false, true, 1, H, m.W, 0, av)                  // A = HWᵀ
			for i := 0; i < r; i++ {
				a, p := av.Row(i), pv.Row(i)
				for j := range a {
					p[j] = beta * a[j]
				}
			}
			tensor.SigmoidBiasBernoulli(nil, V, pv, t.betaB, t.sampler) // v ~ σ(β(Wh + b))
			t.k = kernel{mode: kPTEnergy, a: av, s: V, h: H, bias: m.B, c: m.C, e: t.chainE[rep]}
			tensor.ParallelFor(r, 8, t.kfn)
		}
	}
	for p := t.step % 2; p+1 < len(t.betas); p += 2 {
		ea, eb := t.chainE[p], t.chainE[p+1]
		for i := 0; i < r; i++ {
			t.swapTried[p]++
			la := mcmc.SwapLogAccept(float64(t.betas[p]), float64(t.betas[p+1]), ea[i], eb[i])
			if la >= 0 || t.swap.Float64() < math.Exp(la) {
				t.swapAcc[p]++
				swapRows(t.chainV[p].Row(i)[:nv], t.chainV[p+1].Row(i)[:nv])
				swapRows(t.chainH[p].Row(i)[:nh], t.chainH[p+1].Row(i)[:nh])
				ea[i], eb[i] = eb[i], ea[i]
			}
		}
	}
}

// chainView returns rows [0, r) of the visible chains of replica rep, as a view kept
// in the trainer.
func (t *Trainer) chainView(rep, r int) *tensor.Mat {
	c, v := t.chainV[rep], &t.viewV[rep]
	*v = tensor.Mat{Rows: r, Cols: c.Cols, Stride: c.Stride, Data: c.Data[:r*c.Stride]}
	return v
}

func swapRows(a, b []float32) {
	for j := range a {
		a[j], b[j] = b[j], a[j]
	}
}

// scaleCols sets dst[i,j] = src[i,j]·s[j].
func scaleCols(dst, src *tensor.Mat, s []float32) {
	for i := 0; i < src.Rows; i++ {
		d := dst.Row(i)
		for j, x := range src.Row(i) {
			d[j] = x * s[j]
		}
	}
}
