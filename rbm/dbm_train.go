package rbm

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// DBMTrainer is the model.Trainer of the dbm family (Salakhutdinov & Hinton
// 2009). Epochs [l·K, (l+1)·K) pretrain the RBM of layer l (K =
// PretrainEpochs) greedily with the RBM Trainer (CD-k), on batches pushed up
// through the RBMs below; the RBMs are those of section 3.1 of the paper, whose
// conditionals count the input a layer will get from the other side:
//
//	bottom: p(h_1|v) = σ(2W_1ᵀv + c),    p(v|h_1) = σ(W_1 h_1 + b)    (input doubled)
//	top:    p(h_L|h_{L−1}) = σ(W_Lᵀh_{L−1} + c), p(h_{L−1}|h_L) = σ(2W_L h_L + b)
//	middle: both ways doubled: an RBM of weights 2W_l
//
// A doubled layer is an RBM with two copies of the layer that share weights and
// biases: the RBM Trainer updates both copies and the trainer then averages them,
// which is the update of the tied model (with its learning rate halved, momentum
// and decay included, the update being linear). Then the RBMs are composed into
// the DBM (W_l, halved for middle layers; a hidden layer's bias the mean of the
// two RBMs' biases of it) and the remaining epochs train it jointly: mean-field
// (DBM.MeanField) for the data-dependent expectations and the RBM Trainer's PCD
// on the DBM's bipartite form for the model's, fed the rows [v, μ_2, μ_4, …]
// whose odd layers it takes as σ(·) of them. The persistent chains are part of
// the RBM Trainer's state and so of the model file.
type DBMTrainer struct {
	Net   *DBM // the DBM (its parameters are final after pretraining)
	flags DBMFlags
	sizes []int
	seed  uint64
	epoch int
	phase int      // l < L: pretraining the RBM of layer l; L: joint training
	pre   []*RBM   // the pretrained (doubled) RBMs of the layers below phase
	cur   *Trainer // the RBM trainer of phase (nil before the first epoch)
	prop  *rng.Stream
	bufs  []*tensor.Mat
	batch *tensor.Mat
	dbl   *tensor.Mat
	mf    *MeanField
	last  *tensor.Mat
	final bool
	said  bool
	// mean-field figures of the last epoch
	mfBatches, mfUnconverged int
	mfResidual               float64
	mfIters                  int
	bottom                   *RBM // --bottom, until joint training starts
}

type dbmMeta struct {
	Version  int      `json:"version"`
	Sizes    []int    `json:"sizes"`
	Flags    DBMFlags `json:"flags"`
	Seed     uint64   `json:"seed"`
	Epoch    int      `json:"epoch"`
	Phase    int      `json:"phase"`
	Started  bool     `json:"started"`
	Height   int      `json:"height,omitempty"`
	Width    int      `json:"width,omitempty"`
	Channels int      `json:"channels,omitempty"`
}

func newDBMTrainer(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	f := *c.(*DBMFlags)
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := checkBinaryData("dbm", d, s); err != nil {
		return nil, err
	}
	sizes := append([]int{d.Dim()}, f.Hidden...)
	net, err := NewDBM(sizes)
	if err != nil {
		return nil, model.Flagf("hidden", "%v", err)
	}
	if L, n := len(f.Hidden), pretrained(f); s.Epochs < n*f.PretrainEpochs {
		return nil, model.Flagf("epochs", "a %d-layer DBM pretrains %d layers for %d epochs each (--pretrain-epochs): --epochs must be at least %d, got %d",
			L, n, f.PretrainEpochs, n*f.PretrainEpochs, s.Epochs)
	}
	net.Height, net.Width, net.Channels, _ = s.Image()
	t := &DBMTrainer{Net: net, flags: f, sizes: sizes, seed: s.Seed, prop: rng.NewStream(s.Seed, 1<<42-1)}
	if f.Bottom != "" {
		if t.bottom, err = loadBottom(f.Bottom, sizes[0], sizes[1]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// layers returns L.
func (t *DBMTrainer) layers() int { return len(t.sizes) - 1 }

// pretrained returns how many layers greedy pretraining trains: all L, or L − 1
// above a --bottom RBM, or none.
func pretrained(f DBMFlags) int {
	switch {
	case f.PretrainEpochs == 0:
		return 0
	case f.Bottom != "":
		return len(f.Hidden) - 1
	}
	return len(f.Hidden)
}

// onBottom reports whether pretraining starts above a --bottom RBM, which is
// then the RBM of layer 0 (neither doubled nor trained).
func (t *DBMTrainer) onBottom() bool { return t.flags.Bottom != "" && t.flags.PretrainEpochs > 0 }

// pretrainEpochs returns the number of epochs of greedy pretraining.
func (t *DBMTrainer) pretrainEpochs() int { return pretrained(t.flags) * t.flags.PretrainEpochs }

func (t *DBMTrainer) phaseOf(epoch int) int {
	if t.flags.PretrainEpochs == 0 {
		return t.layers()
	}
	first := 0
	if t.onBottom() {
		first = 1
	}
	return min(first+epoch/t.flags.PretrainEpochs, t.layers())
}

// doubledIn reports whether the RBM of layer p has its visible layer doubled,
// doubledOut its hidden one.
func (t *DBMTrainer) doubledIn(p int) bool  { return p == 0 && !t.onBottom() }
func (t *DBMTrainer) doubledOut(p int) bool { return p == t.layers()-1 }

// double returns [x | x] for the bottom RBM's input (l == 0) when it is
// doubled, else x.
func (t *DBMTrainer) double(l int, x *tensor.Mat) *tensor.Mat {
	if l != 0 || !t.doubledIn(0) {
		return x
	}
	t.dbl = tensor.Reuse(t.dbl, x.Rows, 2*x.Cols)
	cols(t.dbl, 0, x.Cols).Copy(x)
	cols(t.dbl, x.Cols, x.Cols).Copy(x)
	return t.dbl
}

// start begins phase p.
func (t *DBMTrainer) start(p int, x *tensor.Mat) error {
	L := t.layers()
	if p == L {
		if t.flags.PretrainEpochs > 0 {
			t.compose()
		} else if err := t.Net.initFromData(x, rng.NewStream(t.seed, 3)); err != nil {
			return err
		}
		if t.bottom != nil { // --bottom without pretraining
			t.Net.setBottom(t.bottom)
			t.bottom = nil
		}
		cfg := Config{Method: PCD, K: t.flags.PCDSteps, BatchSize: t.flags.Batch, LearningRate: t.flags.JointLR,
			Momentum: t.flags.Momentum, WeightDecay: t.flags.L2, Center: t.flags.Center, Seed: layerSeed(t.seed, p)}
		cur, err := NewTrainer(t.Net.R, cfg)
		if err != nil {
			return err
		}
		t.maskUpdates(cur)
		t.cur, t.phase, t.pre = cur, p, nil
		return nil
	}
	if t.onBottom() && len(t.pre) == 0 {
		t.pre, t.bottom = []*RBM{t.bottom}, nil
	}
	in, _ := propagate(x, t.pre[:p], nil, false, nil, t.double)
	nv, nh := t.sizes[p], t.sizes[p+1]
	if t.doubledIn(p) {
		in = t.double(0, in).Clone()
		nv *= 2
	}
	if t.doubledOut(p) {
		nh *= 2
	}
	m, err := New(Bernoulli, nv, nh)
	if err != nil {
		return err
	}
	if err := m.InitFromData(in, rng.NewStream(t.seed, 3+uint64(p))); err != nil {
		return err
	}
	cfg := deepConfig(t.flags.DeepFlags, layerSeed(t.seed, p))
	if t.flags.PretrainPCD {
		cfg.Method = PCD
	}
	if t.cur, err = NewTrainer(m, cfg); err != nil {
		return err
	}
	t.tie(p)
	t.pre = append(t.pre[:p], m)
	t.phase = p
	return nil
}

// tie averages the two copies of a doubled layer of the RBM in training (and
// their velocities), making them one tied layer.
func (t *DBMTrainer) tie(p int) {
	tr, m := t.cur, t.cur.Model
	if t.doubledIn(p) {
		n := m.NumVisible() / 2
		for _, w := range []*tensor.Mat{m.W, tr.vW} {
			for i := 0; i < n; i++ {
				avg(w.Row(i), w.Row(i+n))
			}
		}
		avg(m.B[:n], m.B[n:])
		avg(tr.vB[:n], tr.vB[n:])
	}
	if t.doubledOut(p) {
		n := m.NumHidden() / 2
		for _, w := range []*tensor.Mat{m.W, tr.vW} {
			for i := 0; i < w.Rows; i++ {
				r := w.Row(i)
				avg(r[:n], r[n:])
			}
		}
		avg(m.C[:n], m.C[n:])
		avg(tr.vC[:n], tr.vC[n:])
	}
}

// avg sets a and b to their mean (a + b)/2.
func avg(a, b []float32) {
	for i := range a {
		v := (a[i] + b[i]) / 2
		a[i], b[i] = v, v
	}
}

// compose sets the DBM's parameters from the pretrained RBMs (see DBMTrainer).
func (t *DBMTrainer) compose() {
	d, L := t.Net, t.layers()
	for l := 1; l <= L; l++ {
		m := t.pre[l-1]
		scale := float32(0.5)
		if l == 1 || l == L {
			scale = 1
		}
		w, tr := d.Weights(l)
		for i := 0; i < t.sizes[l-1]; i++ {
			for j, v := range m.W.Row(i)[:t.sizes[l]] {
				if tr {
					w.Set(j, i, scale*v)
				} else {
					w.Set(i, j, scale*v)
				}
			}
		}
	}
	copy(d.Bias(0), t.pre[0].B[:t.sizes[0]])
	copy(d.Bias(L), t.pre[L-1].C[:t.sizes[L]])
	for k := 1; k < L; k++ {
		b := d.Bias(k)
		for j := range b {
			b[j] = (t.pre[k-1].C[j] + t.pre[k].B[j]) / 2
		}
	}
}

// Kind implements model.Model.
func (t *DBMTrainer) Kind() string { return "dbm" }

// Dim implements model.Model.
func (t *DBMTrainer) Dim() int { return t.sizes[0] }

// BatchSize implements model.Trainer.
func (t *DBMTrainer) BatchSize() int { return t.flags.Batch }

// Epoch implements model.Trainer: an epoch of pretraining or of joint
// training. In joint training a batch whose mean-field has not converged within
// --mf-iters updates is counted; the Stats report how many, the largest
// residual, and a line says so through ctx's model.Progress.
func (t *DBMTrainer) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	if p := t.phaseOf(e.Index); t.cur == nil || p != t.phase {
		if err := t.start(p, e.Data.X); err != nil {
			return model.Stats{}, err
		}
	}
	L := t.layers()
	if t.flags.Schedule == "linear" {
		// The step count is the trainer's own, saved with it, so a resumed
		// run continues the same decay.
		n := t.flags.PretrainEpochs
		if t.phase == L {
			n = e.Total - t.pretrainEpochs()
		}
		t.cur.cfg.Schedule = LinearDecay
		t.cur.total = n * e.Steps()
	}
	t.mfBatches, t.mfUnconverged, t.mfResidual, t.mfIters = 0, 0, 0, 0
	for {
		x, _ := e.Next(t.batch)
		if x == nil {
			break
		}
		t.batch = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		if t.phase == L {
			t.mf = t.Net.MeanField(t.mf, x, t.flags.MFIters, t.flags.MFTol)
			t.mfBatches++
			t.mfIters = max(t.mfIters, t.mf.Iters)
			if !t.mf.Converged {
				t.mfUnconverged++
				t.mfResidual = max(t.mfResidual, t.mf.Residual)
			}
			t.cur.Update(t.mf.Even)
			if L > 2 {
				t.Net.mask()
			}
			t.last = x
			continue
		}
		in, bufs := propagate(x, t.pre[:t.phase], t.bufs, t.flags.Propagate == "samples", t.prop, t.double)
		t.bufs = bufs
		if t.doubledIn(t.phase) {
			in = t.double(0, in)
		}
		t.cur.Update(in)
		t.tie(t.phase)
		t.last = in
	}
	t.epoch++
	t.final = e.Index+1 >= e.Total
	var st model.Stats
	if t.phase == L {
		st.Metrics = []model.Metric{{Name: "mf_iters", Value: t.mfIters}, {Name: "mf_unconverged", Value: t.mfUnconverged}}
		if t.mfUnconverged > 0 {
			st.Metrics = append(st.Metrics, model.Metric{Name: "mf_residual", Value: t.mfResidual})
			model.Logf(ctx, "dbm: warning: mean-field did not converge within %d updates (--mf-iters) in %d of %d batches of epoch %d; largest residual %.3g (--mf-tol %g)",
				t.flags.MFIters, t.mfUnconverged, t.mfBatches, e.Index+1, t.mfResidual, t.flags.MFTol)
		}
	}
	return st, nil
}

// Report implements model.Reporter: in pretraining the reconstruction error of
// the RBM in training on its last batch; in joint training the mean-field bound
// on the last batch with the exact log Z where that is cheap, else the
// reconstruction error of the mean-field means.
func (t *DBMTrainer) Report(ctx context.Context, st *model.Stats) error {
	if t.last == nil || t.Check() != nil {
		return nil
	}
	if t.phase < t.layers() {
		st.Loss, st.LossName = t.cur.Model.ReconstructionError(t.last), "reconstruction_error"
		st.Metrics = append(st.Metrics, model.Metric{Name: "pretraining_layer", Value: t.phase + 1})
		return nil
	}
	r := t.Net.R
	if r.CanEnumerate() && r.EnumCost() <= 2e7 {
		lz, err := r.ExactLogZ()
		if err == nil {
			mf := t.Net.MeanField(nil, t.last, t.flags.MFIters, t.flags.MFTol)
			st.Loss, st.LossName = -meanOf(t.Net.LowerBound(nil, mf, lz)), "-mf_bound"
			st.Metrics = append(st.Metrics, model.Metric{Name: "exact_log_z", Value: lz})
			return nil
		}
	}
	mf := t.Net.MeanField(nil, t.last, t.flags.MFIters, t.flags.MFTol)
	st.Loss, st.LossName = t.Net.FirstLayer().reconstructionFrom(t.last, cols(mf.Odd, 0, t.sizes[1])), "mf_reconstruction_error"
	return nil
}

// reconstructionFrom returns the mean over rows of Σ_i (x_i − σ(W h + b)_i)²
// for hidden means h, the visible reconstruction of m.
func (m *RBM) reconstructionFrom(x, h *tensor.Mat) float64 {
	r := m.VisibleMean(nil, h)
	var s float64
	for n := 0; n < x.Rows; n++ {
		rr := r.Row(n)
		for i, v := range x.Row(n) {
			d := float64(v) - float64(rr[i])
			s += d * d
		}
	}
	return s / float64(max(x.Rows, 1))
}

// Check implements model.Checker.
func (t *DBMTrainer) Check() error {
	if t.phase == t.layers() {
		return checkRBMs("dbm", []*RBM{t.Net.R}, t.flags.JointLR)
	}
	return checkRBMs("dbm", t.pre, t.flags.LR)
}

func (t *DBMTrainer) complete() error {
	if t.cur == nil || t.phase < t.layers() {
		return fmt.Errorf("dbm: the model is still in greedy pretraining (epoch %d of %d pretraining epochs); train it for more epochs", t.epoch, t.pretrainEpochs())
	}
	return nil
}

// Sample implements model.Sampler: block-Gibbs chains of the DBM (DBM.Sample).
func (t *DBMTrainer) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if err := t.complete(); err != nil {
		return nil, err
	}
	return deepSample("dbm", t.Net.Sample, o, t.Net.Height, t.Net.Width, t.Net.Channels)
}

// Score implements model.Scorer: the mean-field lower bound on log p(v) of each
// example (DBM.LowerBound) with log Z exact when cheap or asked, else by AIS
// over the DBM (DBM.AISLogZ, base rates from the mean-field means of d). A
// mean-field that does not converge within --mf-iters is reported (a line
// through ctx's model.Progress, and mf_converged false with the residual): the
// bound then still holds, but is looser. Where log Z is exact and the hidden
// layers can be enumerated cheaply, the exact log-likelihood is reported beside it.
func (t *DBMTrainer) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	if err := t.complete(); err != nil {
		return model.Estimate{}, err
	}
	x := d.X
	if err := checkScoreData("dbm", x); err != nil {
		return model.Estimate{}, err
	}
	f := evalFlags(o)
	t0 := nowSeconds()
	// Mean field in chunks of rows, each to its own convergence, keeping the
	// means: the bound needs them once log Z is known.
	const chunk = 1000
	var mfs []*MeanField
	iters, conv, res := 0, true, 0.0
	for r := 0; r < x.Rows; r += chunk {
		model.Step(ctx, "mean field", r, x.Rows)
		mf := t.Net.MeanField(nil, x.Slice(r, min(r+chunk, x.Rows)), f.MFIters, f.MFTol)
		mfs = append(mfs, mf)
		iters, conv, res = max(iters, mf.Iters), conv && mf.Converged, max(res, mf.Residual)
	}
	model.Step(ctx, "mean field", x.Rows, x.Rows)
	if !conv {
		model.Logf(ctx, "dbm: warning: mean-field did not converge within %d updates (--mf-iters); largest residual %.3g (--mf-tol %g): the bound holds but is looser",
			f.MFIters, res, f.MFTol)
	}
	base := func() []float32 { // the base rates of the mean-field means of the even layers
		means := tensor.New(1, t.Net.R.NumVisible())
		sum := make([]float64, means.Cols)
		for _, mf := range mfs {
			for i := 0; i < mf.Even.Rows; i++ {
				for j, v := range mf.Even.Row(i) {
					sum[j] += float64(v)
				}
			}
		}
		for j, v := range sum {
			means.Data[j] = float32(v / float64(x.Rows))
		}
		return mcmc.BaseRateBias(means)
	}
	lz, err := estimateLogZ(ctx, "dbm", t.Net.R, f, o.Seed, base)
	if err != nil {
		return model.Estimate{}, err
	}
	per := make([]float64, 0, x.Rows)
	for _, mf := range mfs {
		per = append(per, t.Net.LowerBound(nil, mf, lz.logZ)...)
	}
	est := model.Estimate{LogLik: meanOf(per), StdErr: lz.stderr, Method: "mf-" + lz.method, Bound: "lower", N: x.Rows, PerExample: per}
	add := func(name string, v any) { est.Extra = append(est.Extra, model.Metric{Name: name, Value: v}) }
	add("layers", sizesString(t.sizes))
	lz.extras(add)
	add("mf_iters", iters)
	add("mf_converged", conv)
	add("mf_residual", res)
	if f.ISK > 0 {
		t1 := nowSeconds()
		is := make([]float64, 0, x.Rows)
		ess := make([]float64, 0, x.Rows)
		first := 0
		for i, mf := range mfs {
			model.Step(ctx, "importance sampling", first, x.Rows)
			r := t.Net.ImportanceLogProb(mf, first, f.ISK, f.ISFloor, o.Seed, lz.logZ)
			is, ess = append(is, r.LogProb...), append(ess, r.ESS...)
			first += mfs[i].Even.Rows
		}
		model.Step(ctx, "importance sampling", x.Rows, x.Rows)
		add("is_log_likelihood", meanOf(is))
		add("is_k", f.ISK)
		add("is_floor", f.ISFloor)
		add("is_ess_median", median(ess))
		add("is_seconds", nowSeconds()-t1)
	}
	nv, ne, no := t.Net.NumVisible(), t.Net.R.NumVisible(), t.Net.R.NumHidden()
	if k := min(ne-nv, no); lz.exact && k <= mcmc.MaxExactUnits && float64(x.Rows)*math.Ldexp(float64(max(ne-nv, no)), k) <= 1e8 {
		if ll, err := t.Net.ExactLogProb(nil, x, lz.exactLogZ); err == nil {
			add("exact_log_likelihood", meanOf(ll))
		}
	}
	add("seconds", nowSeconds()-t0)
	return est, nil
}

// Pictures implements model.Picturer: the first layer's filters after every
// epoch and, after the last, samples.png (the means of 64 chains after
// --picture-steps Gibbs steps).
func (t *DBMTrainer) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	if t.Net.Height == 0 || t.cur == nil {
		if !t.said && t.Net.Height == 0 {
			t.said = true
			model.Logf(ctx, "dbm: the data have no image shape: no pictures")
		}
		return nil, nil
	}
	first := t.Net.FirstLayer()
	if t.phase < t.layers() {
		first = firstLayerView(t.pre[0], t.sizes[0], t.Net.Height, t.Net.Width, t.Net.Channels)
	}
	var samples *tensor.Mat
	if final && t.complete() == nil {
		_, samples = t.Net.Sample(SampleConfig{N: 64, Steps: t.flags.PictureSteps, Seed: seed})
	}
	return savePictures(dir, first, samples)
}

// Describe implements model.Describer.
func (t *DBMTrainer) Describe() []model.Metric {
	params := 0
	for l := 0; l < len(t.sizes); l++ {
		params += t.sizes[l]
		if l > 0 {
			params += t.sizes[l-1] * t.sizes[l]
		}
	}
	phase := "joint training"
	if t.phase < t.layers() {
		phase = fmt.Sprintf("pretraining layer %d", t.phase+1)
	}
	decay := ""
	if t.flags.Schedule == "linear" {
		decay = ", linear decay to 0"
	}
	center := ""
	if t.flags.Center > 0 {
		center = fmt.Sprintf(", centred (offsets' rate %g)", t.flags.Center)
	}
	return []model.Metric{{Name: "layers", Value: sizesString(t.sizes)},
		{Name: "parameters", Value: params},
		{Name: "pretraining", Value: t.pretraining(decay)},
		{Name: "joint training", Value: fmt.Sprintf("mean-field (≤ %d updates, tol %g), %d persistent chains, pcd-%d, lr %g%s%s", t.flags.MFIters, t.flags.MFTol, t.flags.Batch, t.flags.PCDSteps, t.flags.JointLR, decay, center)},
		{Name: "trained", Value: fmt.Sprintf("%d epochs; now %s", t.epoch, phase)}}
}

// pretraining describes how the layers were initialised.
func (t *DBMTrainer) pretraining(decay string) string {
	method := "cd"
	if t.flags.PretrainPCD {
		method = "pcd"
	}
	switch {
	case t.onBottom():
		return fmt.Sprintf("layer 1 from the rbm %s; the layers above as doubled RBMs on its hidden units, %s-%d, %d epochs per layer, lr %g%s",
			t.flags.Bottom, method, t.flags.CD, t.flags.PretrainEpochs, t.flags.LR, decay)
	case t.flags.Bottom != "":
		return "none: layer 1 from the rbm " + t.flags.Bottom + ", the layers above small random weights"
	case t.flags.PretrainEpochs == 0:
		return "none: small random weights"
	}
	return fmt.Sprintf("doubled RBMs, %s-%d, %d epochs per layer, lr %g%s", method, t.flags.CD, t.flags.PretrainEpochs, t.flags.LR, decay)
}

// Save implements model.Model: the pretrained RBMs (in pretraining), the
// training state of the RBM trainer in use (in joint training the DBM's
// bipartite form with its velocities, persistent chains and random streams) and
// the stream of the propagated samples.
func (t *DBMTrainer) Save(f *checkpoint.File) error {
	f.Kind = "dbm"
	f.Tensors = nil
	meta := dbmMeta{Version: 1, Sizes: t.sizes, Flags: t.flags, Seed: t.seed, Epoch: t.epoch, Phase: t.phase, Started: t.cur != nil,
		Height: t.Net.Height, Width: t.Net.Width, Channels: t.Net.Channels}
	if err := f.SetMeta(meta); err != nil {
		return err
	}
	if t.phase < t.layers() {
		for l := 0; l < t.phase; l++ {
			if err := putRBM(f, fmt.Sprintf("pre/%d/", l), t.pre[l]); err != nil {
				return err
			}
		}
	}
	if t.cur != nil {
		if err := putTrainer(f, "cur/", t.cur); err != nil {
			return err
		}
	}
	return putStream(f, "rng/propagate", t.prop)
}

func loadDBMTrainer(f *checkpoint.File) (model.Model, error) {
	var meta dbmMeta
	if err := f.GetMeta(&meta); err != nil {
		return nil, err
	}
	if meta.Version != 1 {
		return nil, fmt.Errorf("dbm: model file version %d, this build reads version 1", meta.Version)
	}
	net, err := NewDBM(meta.Sizes)
	if err != nil {
		return nil, err
	}
	L := len(meta.Sizes) - 1
	if meta.Phase < 0 || meta.Phase > L {
		return nil, fmt.Errorf("dbm: model file has phase %d of %d layers", meta.Phase, L)
	}
	net.Height, net.Width, net.Channels = meta.Height, meta.Width, meta.Channels
	t := &DBMTrainer{Net: net, flags: meta.Flags, sizes: meta.Sizes, seed: meta.Seed, epoch: meta.Epoch, phase: meta.Phase,
		prop: rng.NewStream(meta.Seed, 1<<42-1)}
	if meta.Phase < L {
		for l := 0; l < meta.Phase; l++ {
			m, err := getRBM(f, fmt.Sprintf("pre/%d/", l))
			if err != nil {
				return nil, err
			}
			t.pre = append(t.pre, m)
		}
	}
	if meta.Started {
		if t.cur, err = getTrainer(f, "cur/"); err != nil {
			return nil, err
		}
		if meta.Phase == L {
			if t.Net, err = dbmFromRBM(meta.Sizes, t.cur.Model); err != nil {
				return nil, err
			}
			t.Net.Height, t.Net.Width, t.Net.Channels = meta.Height, meta.Width, meta.Channels
			t.maskUpdates(t.cur)
		} else {
			t.pre = append(t.pre, t.cur.Model)
		}
	}
	if err := getStream(f, "rng/propagate", t.prop); err != nil {
		return nil, err
	}
	return t, nil
}

// maskUpdates has the joint trainer cur zero the update's blocks between
// layers that are not neighbours before centring reads it (a DBM of three or
// more hidden layers; W itself is masked after every step).
func (t *DBMTrainer) maskUpdates(cur *Trainer) {
	if t.layers() > 2 {
		cur.maskV = t.Net.maskMat
	}
}

// Monitor implements model.Monitor (train --test): on the first rows of d (up
// to 1000), the mean-field bound with the exact log Z where that is cheap, else
// the reconstruction error of the mean-field means; nothing in pretraining.
func (t *DBMTrainer) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	if t.complete() != nil {
		return nil, nil
	}
	x := d.X.Slice(0, min(d.Len(), 1000))
	if err := binaryScoreData("dbm", x); err != nil {
		return nil, err
	}
	mf := t.Net.MeanField(nil, x, t.flags.MFIters, t.flags.MFTol)
	out := []model.Metric{{Name: "monitor_n", Value: x.Rows}}
	if r := t.Net.R; r.CanEnumerate() && r.EnumCost() <= 2e7 {
		if lz, err := r.ExactLogZ(); err == nil {
			return append(out, model.Metric{Name: "mf_bound", Value: meanOf(t.Net.LowerBound(nil, mf, lz))}), nil
		}
	}
	return append(out, model.Metric{Name: "mf_reconstruction_error", Value: t.Net.FirstLayer().reconstructionFrom(x, cols(mf.Odd, 0, t.sizes[1]))}), nil
}

// Retune takes --joint-lr from cfg (the *DBMFlags of a resumed run's command
// line) when changed names it: the one rate a resumed DBM run may change (the
// pretraining rate belongs to a finished or running stage and stays). In joint
// training the persistent chains and momentum are kept and, under --schedule
// linear, the rate decays from the new value over the rest of the run; during
// pretraining the new rate is the one joint training starts with.
func (t *DBMTrainer) Retune(cfg any, changed []string) error {
	f, ok := cfg.(*DBMFlags)
	if !ok {
		return fmt.Errorf("dbm: retune: want *rbm.DBMFlags, got %T", cfg)
	}
	for _, k := range changed {
		if k != "joint-lr" {
			return fmt.Errorf("dbm: --%s cannot change when a run is resumed", k)
		}
		t.flags.JointLR = f.JointLR
		if t.cur != nil && t.phase == t.layers() {
			t.cur.cfg.LearningRate = f.JointLR
		}
	}
	return nil
}
