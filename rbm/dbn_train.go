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

// DBNTrainer is the model.Trainer of the dbn family: greedy layer-wise training
// (Hinton, Osindero & Teh 2006). Epochs [l·K, (l+1)·K) train the RBM of layer l
// (K = LayerEpochs) with the RBM Trainer, on batches pushed up through the RBMs
// below; the top RBM trains from epoch (L−1)·K to the end. The RBM of a layer is
// initialised (RBM.InitFromData) when its first epoch starts, from the
// recognition probabilities of the whole training set.
type DBNTrainer struct {
	Net   *DBN // the RBMs started so far; RBMs[phase] is the one training
	flags DBNFlags
	sizes []int
	seed  uint64
	epoch int
	phase int
	cur   *Trainer // the RBM trainer of phase (nil before the first epoch)
	prop  *rng.Stream
	bufs  []*tensor.Mat
	batch *tensor.Mat
	last  *tensor.Mat // the last batch's input to cur, for Report
	final bool
	said  bool
	// ud fine-tunes the DBN once the greedy epochs are over (nil before);
	// ftEpochs counts its epochs.
	ud       *UpDown
	ftEpochs int
}

// dbnMeta is the model-file metadata of a DBN.
type dbnMeta struct {
	Version int      `json:"version"`
	Sizes   []int    `json:"sizes"`
	Flags   DBNFlags `json:"flags"`
	Seed    uint64   `json:"seed"`
	Epoch   int      `json:"epoch"`
	Phase   int      `json:"phase"`
	Started bool     `json:"started"`
	// Untied: up-down fine-tuning has begun (the file holds the recognition
	// weights, rec/l/, and the stream rng/updown); Finetuned its epochs.
	Untied    bool `json:"untied,omitempty"`
	Finetuned int  `json:"finetuned,omitempty"`
	Height    int  `json:"height,omitempty"`
	Width     int  `json:"width,omitempty"`
	Channels  int  `json:"channels,omitempty"`
}

func newDBNTrainer(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	f := *c.(*DBNFlags)
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if err := checkBinaryData("dbn", d, s); err != nil {
		return nil, err
	}
	sizes := append([]int{d.Dim()}, f.Hidden...)
	if _, err := NewDBN(sizes); err != nil {
		return nil, model.Flagf("hidden", "%v", err)
	}
	var bottom *RBM
	if f.Bottom != "" {
		var err error
		if bottom, err = loadBottom(f.Bottom, sizes[0], sizes[1]); err != nil {
			return nil, err
		}
	}
	if L := len(f.Hidden) - f.skip(); s.Epochs <= (L-1)*f.LayerEpochs+f.FinetuneEpochs {
		ft := ""
		if f.FinetuneEpochs > 0 {
			ft = fmt.Sprintf(" and fine-tunes for the last %d (--finetune-epochs)", f.FinetuneEpochs)
		}
		return nil, model.Flagf("epochs", "a %d-layer DBN trains its lower RBMs for %d epochs each (--layer-epochs)%s: --epochs must be more than %d to train the top one, got %d",
			L, f.LayerEpochs, ft, (L-1)*f.LayerEpochs+f.FinetuneEpochs, s.Epochs)
	}
	t := &DBNTrainer{Net: &DBN{}, flags: f, sizes: sizes, seed: s.Seed, prop: rng.NewStream(s.Seed, 1<<42-1)}
	t.Net.Height, t.Net.Width, t.Net.Channels, _ = s.Image()
	if bottom != nil {
		bottom.Height, bottom.Width, bottom.Channels = t.Net.Height, t.Net.Width, t.Net.Channels
		t.Net.RBMs, t.phase = []*RBM{bottom}, 1
	}
	return t, nil
}

// skip is the number of trained layers the run starts with: 1 with --bottom.
func (f *DBNFlags) skip() int {
	if f.Bottom != "" {
		return 1
	}
	return 0
}

// loadBottom reads the RBM of --bottom and checks it fits a DBN's or DBM's bottom layer
// of nv visible and nh hidden units.
func loadBottom(path string, nv, nh int) (*RBM, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, model.Flagf("bottom", "%v", err)
	}
	if f.Kind != "rbm" {
		return nil, model.Flagf("bottom", "%s is a %q model file, want a Bernoulli rbm", path, f.Kind)
	}
	m, err := Load(f)
	if err != nil {
		return nil, model.Flagf("bottom", "%s: %v", path, err)
	}
	if m.Visible != Bernoulli || m.NumVisible() != nv || m.NumHidden() != nh {
		return nil, model.Flagf("bottom", "%s is a %d×%d RBM; the data have %d values and --hidden starts with %d", path, m.NumVisible(), m.NumHidden(), nv, nh)
	}
	return m, nil
}

func (t *DBNTrainer) phaseOf(epoch int) int {
	return min(t.flags.skip()+epoch/t.flags.LayerEpochs, len(t.sizes)-2)
}

// phaseEpochs is the number of epochs the RBM of the current phase trains in a
// run of total epochs: LayerEpochs below the top, the rest before fine-tuning
// for the top one.
func (t *DBNTrainer) phaseEpochs(total int) int {
	if top := len(t.sizes) - 2; t.phase < top {
		return t.flags.LayerEpochs
	}
	return total - (len(t.sizes)-2-t.flags.skip())*t.flags.LayerEpochs - t.flags.FinetuneEpochs
}

// start begins phase p: a new RBM for layer p initialised from the data pushed up.
func (t *DBNTrainer) start(p int, x *tensor.Mat) error {
	in := t.Net.Up(x, p)
	m, err := New(Bernoulli, t.sizes[p], t.sizes[p+1])
	if err != nil {
		return err
	}
	if p == 0 {
		m.Height, m.Width, m.Channels = t.Net.Height, t.Net.Width, t.Net.Channels
	}
	if err := m.InitFromData(in, rng.NewStream(t.seed, 3+uint64(p))); err != nil {
		return err
	}
	if p > 0 && t.flags.UpInit == "transpose" {
		if err := upsideDown(m, t.Net.RBMs[p-1]); err != nil {
			return err
		}
	}
	cfg := deepConfig(t.flags.DeepFlags, layerSeed(t.seed, p))
	if t.flags.PCD {
		cfg.Method = PCD
	}
	if t.cur, err = NewTrainer(m, cfg); err != nil {
		return err
	}
	t.Net.RBMs = append(t.Net.RBMs[:p], m)
	t.phase = p
	return nil
}

// upsideDown sets the RBM m (visible: below's hidden units) to below turned
// upside down: m's visible biases are below's hidden biases, and m's first
// below.NumVisible() hidden units take below's weights (transposed) and visible
// biases; its other hidden units keep m's small random weights and get zero
// biases. m's marginal over its visible units is then below's marginal over its
// hidden units (the extra units add a near-constant factor, exactly constant at
// zero weights), so the DBN with m on top has below's log-likelihood as its
// bound, and training m on samples of below's posterior raises the bound
// (Hinton, Osindero & Teh 2006, section 4).
func upsideDown(m, below *RBM) error {
	nv, nh := below.NumVisible(), below.NumHidden()
	if m.NumVisible() != nh || m.NumHidden() < nv {
		return model.Flagf("up-init", "transpose needs an RBM of %d visible and at least %d hidden units above the %d×%d one; got %d×%d", nh, nv, nv, nh, m.NumVisible(), m.NumHidden())
	}
	copy(m.B, below.C)
	clear(m.C)
	copy(m.C, below.B)
	for i := 0; i < nv; i++ {
		for j, w := range below.W.Row(i) {
			m.W.Set(j, i, w)
		}
	}
	return nil
}

// Kind implements model.Model.
func (t *DBNTrainer) Kind() string { return "dbn" }

// Dim implements model.Model.
func (t *DBNTrainer) Dim() int { return t.sizes[0] }

// BatchSize implements model.Trainer.
func (t *DBNTrainer) BatchSize() int { return t.flags.Batch }

// updownStream is the index of the stream of up-down fine-tuning's draws.
const updownStream = 1<<43 + 1

// Epoch implements model.Trainer: one epoch of the RBM of the current layer or,
// in the last FinetuneEpochs epochs of the run (once every layer has started),
// of up-down fine-tuning; once begun, fine-tuning goes on in every later epoch.
func (t *DBNTrainer) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	if t.ud == nil && t.flags.FinetuneEpochs > 0 && e.Index >= e.Total-t.flags.FinetuneEpochs && t.complete() == nil {
		t.ud = NewUpDown(t.Net, t.flags.FinetuneLR, t.flags.FinetuneCD, rng.NewStream(t.seed, updownStream))
	}
	if t.ud != nil {
		return t.finetune(ctx, e)
	}
	if p := t.phaseOf(e.Index); t.cur == nil || p != t.phase {
		if err := t.start(p, e.Data.X); err != nil {
			return model.Stats{}, err
		}
	}
	if t.flags.Schedule == "linear" {
		// The step count is the trainer's own, saved with it, so a resumed
		// run continues the same decay.
		t.cur.cfg.Schedule = LinearDecay
		t.cur.total = t.phaseEpochs(e.Total) * e.Steps()
	}
	below := t.Net.RBMs[:t.phase]
	for {
		x, _ := e.Next(t.batch)
		if x == nil {
			break
		}
		t.batch = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		var in *tensor.Mat
		in, t.bufs = propagate(x, below, t.bufs, t.flags.Propagate == "samples", t.prop, nil)
		t.cur.Update(in)
		t.last = in
	}
	t.epoch++
	t.final = e.Index+1 >= e.Total
	return model.Stats{}, nil
}

// finetune runs one epoch of up-down fine-tuning.
func (t *DBNTrainer) finetune(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	for {
		x, _ := e.Next(t.batch)
		if x == nil {
			break
		}
		t.batch = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		t.ud.Step(x)
	}
	t.epoch++
	t.ftEpochs++
	t.final = e.Index+1 >= e.Total
	return model.Stats{}, nil
}

// Report implements model.Reporter: the reconstruction error of the RBM in
// training on its last batch is the loss, with the layer it trains; in
// fine-tuning, −log p(v | h_1) of the last batch (h_1 its up-pass draw, the
// generative weights before the batch's update), with the fine-tuning epoch.
func (t *DBNTrainer) Report(ctx context.Context, st *model.Stats) error {
	if t.ud != nil {
		if t.Check() == nil {
			st.Loss, st.LossName = -t.ud.WakeLogCond(), "wake_nll"
			st.Metrics = append(st.Metrics, model.Metric{Name: "finetune_epoch", Value: t.ftEpochs})
		}
		return nil
	}
	if t.last == nil || t.Check() != nil {
		return nil
	}
	st.Loss, st.LossName = t.cur.Model.ReconstructionError(t.last), "reconstruction_error"
	st.Metrics = append(st.Metrics, model.Metric{Name: "layer", Value: t.phase + 1})
	return nil
}

// Check implements model.Checker.
func (t *DBNTrainer) Check() error {
	if t.ud != nil {
		if err := checkRBMs("dbn", t.Net.RBMs, t.flags.FinetuneLR); err != nil {
			return err
		}
		return checkRBMs("dbn recognition", t.Net.Rec, t.flags.FinetuneLR)
	}
	return checkRBMs("dbn", t.Net.RBMs, t.flags.LR)
}

// complete returns an error unless every layer has started training.
func (t *DBNTrainer) complete() error {
	if len(t.Net.RBMs) < len(t.sizes)-1 {
		return fmt.Errorf("dbn: the model has trained %d of its %d layers (epoch %d; --layer-epochs %d); train it for more epochs", len(t.Net.RBMs), len(t.sizes)-1, t.epoch, t.flags.LayerEpochs)
	}
	return nil
}

// Sample implements model.Sampler: Gibbs in the top RBM, then down (DBN.Sample).
func (t *DBNTrainer) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	if err := t.complete(); err != nil {
		return nil, err
	}
	return deepSample("dbn", t.Net.Sample, o, t.Net.Height, t.Net.Width, t.Net.Channels)
}

// Score implements model.Scorer: the variational lower bound of Salakhutdinov &
// Murray (2008) (DBN.LowerBound) with the top RBM's log Z, exact when cheap or
// asked, else by AIS from the base rates of the recognition probabilities of d.
// Where the intermediate layers can be enumerated and log Z is exact, the exact
// log-likelihood is reported beside it. A one-layer DBN is an RBM: its figure is
// log p(v) itself.
func (t *DBNTrainer) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	if err := t.complete(); err != nil {
		return model.Estimate{}, err
	}
	x := d.X
	if err := checkScoreData("dbn", x); err != nil {
		return model.Estimate{}, err
	}
	f := evalFlags(o)
	t0 := nowSeconds()
	L := len(t.Net.RBMs)
	lz, err := estimateLogZ(ctx, "dbn", t.Net.Top(), f, o.Seed, func() []float32 { return mcmc.BaseRateBias(t.Net.Up(x, L-1)) })
	if err != nil {
		return model.Estimate{}, err
	}
	b := t.Net.LowerBound(x, f.Samples, o.Seed+1, lz.logZ)
	est := model.Estimate{LogLik: b.Mean, StdErr: math.Hypot(lz.stderr, b.MCStdErr), N: x.Rows, PerExample: b.PerExample}
	switch {
	case L == 1 && lz.method == "exact":
		est.Method = "exact"
	case L == 1:
		est.Method, est.Bound = "ais", "upper"
	default:
		est.Method, est.Bound = "vlb-"+lz.method, "lower"
	}
	add := func(name string, v any) { est.Extra = append(est.Extra, model.Metric{Name: name, Value: v}) }
	add("layers", sizesString(t.sizes))
	if L > 1 {
		q := "greedy: tied to the generative weights"
		if t.Net.Rec != nil {
			q = fmt.Sprintf("untied: up-down fine-tuned for %d epochs", t.ftEpochs)
		}
		add("recognition", q)
	}
	lz.extras(add)
	if L > 1 {
		add("bound_samples", max(f.Samples, 1))
		add("bound_mc_stderr", b.MCStdErr)
		k := 0
		for _, m := range t.Net.RBMs[:L-1] {
			k += m.NumHidden()
		}
		if lz.exact && k <= MaxDBNEnumUnits && float64(x.Rows)*math.Ldexp(1, k) <= 1e7 {
			ll, err := t.Net.ExactLogProb(nil, x, lz.exactLogZ)
			if err == nil {
				add("exact_log_likelihood", meanOf(ll))
			}
		}
	}
	add("seconds", nowSeconds()-t0)
	return est, nil
}

// Pictures implements model.Picturer: the first layer's filters after every
// epoch and, after the last, samples.png (64 samples' means after
// --picture-steps Gibbs steps of the top RBM).
func (t *DBNTrainer) Pictures(ctx context.Context, dir string, d *dataset.Dataset, final bool, seed uint64) ([]string, error) {
	if t.Net.Height == 0 || len(t.Net.RBMs) == 0 {
		if !t.said {
			t.said = true
			model.Logf(ctx, "dbn: the data have no image shape: no pictures")
		}
		return nil, nil
	}
	var samples *tensor.Mat
	if final && t.complete() == nil {
		_, samples = t.Net.Sample(SampleConfig{N: 64, Steps: t.flags.PictureSteps, Seed: seed})
	}
	first := firstLayerView(t.Net.RBMs[0], t.sizes[0], t.Net.Height, t.Net.Width, t.Net.Channels)
	return savePictures(dir, first, samples)
}

// Describe implements model.Describer.
func (t *DBNTrainer) Describe() []model.Metric {
	params := 0
	for l := 0; l+1 < len(t.sizes); l++ {
		params += t.sizes[l]*t.sizes[l+1] + t.sizes[l] + t.sizes[l+1]
	}
	neg := fmt.Sprintf("cd-%d", t.flags.CD)
	if t.flags.PCD {
		neg = fmt.Sprintf("pcd-%d", t.flags.CD)
	}
	if t.Net.Rec != nil {
		for _, m := range t.Net.Rec {
			params += m.NumVisible()*m.NumHidden() + m.NumHidden()
		}
	}
	d := []model.Metric{{Name: "layers", Value: sizesString(t.sizes)},
		{Name: "parameters", Value: params},
		{Name: "layer-wise training", Value: fmt.Sprintf("%s, %d epochs per layer below the top, on %s", neg, t.flags.LayerEpochs, t.flags.Propagate)},
		{Name: "trained", Value: fmt.Sprintf("%d epochs; layers started: %d of %d", t.epoch, len(t.Net.RBMs), len(t.sizes)-1)}}
	if t.flags.Bottom != "" {
		d = append(d, model.Metric{Name: "bottom layer", Value: "trained beforehand: " + t.flags.Bottom})
	}
	if t.flags.Schedule == "linear" {
		d = append(d, model.Metric{Name: "learning rate", Value: fmt.Sprintf("%g, linear decay to 0 over each RBM's epochs", t.flags.LR)})
	}
	if t.flags.FinetuneEpochs > 0 {
		d = append(d, model.Metric{Name: "fine-tuning", Value: fmt.Sprintf("up-down, the last %d epochs (lr %g, cd-%d); done: %d", t.flags.FinetuneEpochs, t.flags.FinetuneLR, t.flags.FinetuneCD, t.ftEpochs)})
	}
	return d
}

// Save implements model.Model: the trained RBMs, the training state of the RBM
// in training (LoadTrainer's, persistent chains included), the stream of the
// propagated samples and, once fine-tuning has begun, the recognition weights
// and the stream of its draws.
func (t *DBNTrainer) Save(f *checkpoint.File) error {
	f.Kind = "dbn"
	f.Tensors = nil
	meta := dbnMeta{Version: 1, Sizes: t.sizes, Flags: t.flags, Seed: t.seed, Epoch: t.epoch, Phase: t.phase, Started: t.cur != nil,
		Untied: t.ud != nil, Finetuned: t.ftEpochs, Height: t.Net.Height, Width: t.Net.Width, Channels: t.Net.Channels}
	if err := f.SetMeta(meta); err != nil {
		return err
	}
	for l := 0; l < t.phase; l++ {
		if err := putRBM(f, fmt.Sprintf("layer/%d/", l), t.Net.RBMs[l]); err != nil {
			return err
		}
	}
	if t.cur != nil {
		if err := putTrainer(f, "cur/", t.cur); err != nil {
			return err
		}
	}
	if t.ud != nil {
		for l, m := range t.Net.Rec {
			if err := putRBM(f, fmt.Sprintf("rec/%d/", l), m); err != nil {
				return err
			}
		}
		if err := putStream(f, "rng/updown", t.ud.S); err != nil {
			return err
		}
	}
	return putStream(f, "rng/propagate", t.prop)
}

func loadDBNTrainer(f *checkpoint.File) (model.Model, error) {
	var meta dbnMeta
	if err := f.GetMeta(&meta); err != nil {
		return nil, err
	}
	if meta.Version != 1 {
		return nil, fmt.Errorf("dbn: model file version %d, this build reads version 1", meta.Version)
	}
	if _, err := NewDBN(meta.Sizes); err != nil {
		return nil, err
	}
	if meta.Flags.LayerEpochs < 1 || meta.Phase < 0 || meta.Phase > len(meta.Sizes)-2 {
		return nil, fmt.Errorf("dbn: model file has phase %d of %d layers, %d epochs per layer", meta.Phase, len(meta.Sizes)-1, meta.Flags.LayerEpochs)
	}
	t := &DBNTrainer{Net: &DBN{Height: meta.Height, Width: meta.Width, Channels: meta.Channels}, flags: meta.Flags, sizes: meta.Sizes,
		seed: meta.Seed, epoch: meta.Epoch, phase: meta.Phase, prop: rng.NewStream(meta.Seed, 1<<42-1)}
	for l := 0; l < meta.Phase; l++ {
		m, err := getRBM(f, fmt.Sprintf("layer/%d/", l))
		if err != nil {
			return nil, err
		}
		t.Net.RBMs = append(t.Net.RBMs, m)
	}
	if meta.Started {
		cur, err := getTrainer(f, "cur/")
		if err != nil {
			return nil, err
		}
		t.cur = cur
		t.Net.RBMs = append(t.Net.RBMs, cur.Model)
	}
	for l, m := range t.Net.RBMs {
		if m.NumVisible() != meta.Sizes[l] || m.NumHidden() != meta.Sizes[l+1] {
			return nil, fmt.Errorf("dbn: layer %d of the file is %d×%d, want %d×%d", l+1, m.NumVisible(), m.NumHidden(), meta.Sizes[l], meta.Sizes[l+1])
		}
	}
	if len(t.Net.RBMs) > 0 {
		r := t.Net.RBMs[0]
		r.Height, r.Width, r.Channels = meta.Height, meta.Width, meta.Channels
	}
	if err := getStream(f, "rng/propagate", t.prop); err != nil {
		return nil, err
	}
	if meta.Untied {
		if len(t.Net.RBMs) != len(meta.Sizes)-1 || len(t.Net.RBMs) < 2 || !(meta.Flags.FinetuneLR > 0) || meta.Flags.FinetuneCD < 1 {
			return nil, fmt.Errorf("dbn: model file is fine-tuning a DBN of %d trained layers (of %d), lr %g, cd %d", len(t.Net.RBMs), len(meta.Sizes)-1, meta.Flags.FinetuneLR, meta.Flags.FinetuneCD)
		}
		for l := 0; l+1 < len(t.Net.RBMs); l++ {
			m, err := getRBM(f, fmt.Sprintf("rec/%d/", l))
			if err != nil {
				return nil, err
			}
			if m.NumVisible() != meta.Sizes[l] || m.NumHidden() != meta.Sizes[l+1] {
				return nil, fmt.Errorf("dbn: recognition layer %d of the file is %d×%d, want %d×%d", l+1, m.NumVisible(), m.NumHidden(), meta.Sizes[l], meta.Sizes[l+1])
			}
			t.Net.Rec = append(t.Net.Rec, m)
		}
		s := rng.NewStream(meta.Seed, updownStream)
		if err := getStream(f, "rng/updown", s); err != nil {
			return nil, err
		}
		t.ud = NewUpDown(t.Net, meta.Flags.FinetuneLR, meta.Flags.FinetuneCD, s)
		t.ftEpochs = meta.Finetuned
	}
	return t, nil
}

// Monitor implements model.Monitor (train --test): on the first rows of d (up
// to 1000), the reconstruction error of the first RBM and, once every layer has
// started and the top RBM's log Z is cheap to enumerate, the variational bound
// (one draw per example).
func (t *DBNTrainer) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	if len(t.Net.RBMs) == 0 {
		return nil, nil
	}
	x := d.X.Slice(0, min(d.Len(), 1000))
	if err := binaryScoreData("dbn", x); err != nil {
		return nil, err
	}
	out := []model.Metric{{Name: "monitor_n", Value: x.Rows}, {Name: "reconstruction_error", Value: t.Net.RBMs[0].ReconstructionError(x)}}
	if top := t.Net.Top(); t.complete() == nil && top.CanEnumerate() && top.EnumCost() <= 2e7 {
		if lz, err := top.ExactLogZ(); err == nil {
			out = append(out, model.Metric{Name: "bound", Value: t.Net.LowerBound(x, 1, 0, lz).Mean})
		}
	}
	return out, nil
}
