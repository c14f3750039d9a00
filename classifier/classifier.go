// Package classifier trains the digit classifier that judges other models'
// samples: a small convnet (an MLP for data that are not images) whose
// predictions count the classes of generated samples, so that mode collapse
// shows at once, and whose penultimate features give a Fréchet distance
// between generated and real images (FID in this classifier's features, after
// Heusel et al. 2017, who use Inception's). It is a model family like the
// others ("classifier"), trained, saved and loaded the same way.
package classifier

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Kind is the family name.
const Kind = "classifier"

// Config holds the settings.
type Config struct {
	Width    int     `flag:"width" help:"feature maps of the first convolution (images)" range:"[1,1024]"`
	Features int     `flag:"features" help:"size of the feature layer used for FID" range:"[2,4096]"`
	Hidden   []int   `flag:"hidden" help:"hidden sizes before the feature layer (non-image data)" range:"[1,65536]"`
	Dropout  float64 `flag:"dropout" help:"dropout probability after the feature layer" range:"[0,1)"`
	Batch    int     `flag:"batch" help:"examples per step" range:"[1,100000]"`
	LR       float64 `flag:"lr" help:"Adam learning rate" range:"(0,1]"`
}

func init() {
	model.Register(model.Family{
		Name:    Kind,
		Summary: "digit classifier (a small convnet) whose predictions and features score other models' samples (class histogram, FID)",
		Doc: `Images: conv 3×3 → W, conv 4×4/2 → 2W, conv 4×4/2 → 2W (ReLU), dense → --features
(ReLU, the FID features), dropout, dense → classes. Other data: an MLP with --hidden
layers before the feature layer. Trained with softmax cross-entropy and Adam.
eval reports accuracy and the mean log p(y|x) of --data; eval --fid FILE of any
generative model uses a classifier file for the FID and class histogram of its samples.`,
		Config: func() any {
			return &Config{Width: 32, Features: 128, Hidden: []int{256}, Dropout: 0.3, Batch: 128, LR: 1e-3}
		},
		New:    newModel,
		Load:   func(f *checkpoint.File) (model.Model, error) { return Load(f) },
		Needs:  model.Needs{Labels: true},
		Epochs: 5,
	})
}

// Model is the classifier.
type Model struct {
	Cfg      Config
	dim      int
	H, W, C  int
	Classes  int
	Feat     *nn.Sequential // x → features
	Head     *nn.Sequential // features → logits (dropout, dense)
	opt      *nn.Adam
	drop     rng.Stream // dropout's stream, saved
	dropout  *nn.Dropout
	dl       *tensor.Mat
	labels   []int
	nCorrect int
}

func newModel(c any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
	cfg := *c.(*Config)
	m := &Model{Cfg: cfg, dim: d.Dim(), Classes: d.NumClasses}
	if h, w, ch, ok := s.Image(); ok {
		m.H, m.W, m.C = h, w, ch
		if h%4 != 0 || w%4 != 0 {
			return nil, fmt.Errorf("classifier: the convnet halves the image twice and needs height and width divisible by 4; --data %s has %d×%d", s.Data, h, w)
		}
	}
	if m.Classes < 2 {
		return nil, fmt.Errorf("classifier: --data %s has %d class; at least 2 are needed", s.Data, m.Classes)
	}
	m.drop = *rng.NewStream(s.Seed, 1)
	m.build(rng.NewStream(s.Seed, 0))
	return m, nil
}

func (m *Model) build(s *rng.Stream) {
	cfg := m.Cfg
	if m.H > 0 {
		w := cfg.Width
		h2, w2, h4, w4 := m.H/2, m.W/2, m.H/4, m.W/4
		m.Feat = nn.NewSequential(
			nn.NewConv2D(nn.ConvGeom{InH: m.H, InW: m.W, InC: m.C, OutC: w, K: 3, Stride: 1, Pad: 1}, nn.He, s), nn.ReLU(),
			nn.NewConv2D(nn.ConvGeom{InH: m.H, InW: m.W, InC: w, OutC: 2 * w, K: 4, Stride: 2, Pad: 1}, nn.He, s), nn.ReLU(),
			nn.NewConv2D(nn.ConvGeom{InH: h2, InW: w2, InC: 2 * w, OutC: 2 * w, K: 4, Stride: 2, Pad: 1}, nn.He, s), nn.ReLU(),
			nn.NewLinear(h4*w4*2*w, cfg.Features, nn.He, s), nn.ReLU())
	} else {
		m.Feat = nn.NewSequential()
		in := m.dim
		for _, h := range cfg.Hidden {
			m.Feat.Layers = append(m.Feat.Layers, nn.NewLinear(in, h, nn.He, s), nn.ReLU())
			in = h
		}
		m.Feat.Layers = append(m.Feat.Layers, nn.NewLinear(in, cfg.Features, nn.He, s), nn.ReLU())
	}
	if l, ok := m.Feat.Layers[0].(*nn.Conv2D); ok {
		l.NoInputGrad = true
	}
	if l, ok := m.Feat.Layers[0].(*nn.Linear); ok {
		l.NoInputGrad = true
	}
	m.dropout = nn.NewDropout(cfg.Dropout, &m.drop)
	m.Head = nn.NewSequential(m.dropout, nn.NewLinear(cfg.Features, m.Classes, nn.Glorot, s))
	m.opt = nn.NewAdam(cfg.LR)
}

func (m *Model) params() []*nn.Param { return append(m.Feat.Params(), m.Head.Params()...) }

// Kind implements model.Model.
func (m *Model) Kind() string { return Kind }

// Dim implements model.Model.
func (m *Model) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *Model) BatchSize() int { return m.Cfg.Batch }

// Epoch implements model.Trainer: softmax cross-entropy, Adam.
func (m *Model) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	if e.Data.Labels == nil {
		return model.Stats{}, fmt.Errorf("classifier: the data have no labels")
	}
	var buf *tensor.Mat
	var loss float64
	n, correct := 0, 0
	m.Feat.SetTraining(true)
	m.Head.SetTraining(true)
	for x, idx := e.Next(buf); x != nil; x, idx = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		m.labels = m.labels[:0]
		for _, i := range idx {
			m.labels = append(m.labels, e.Data.Labels[i])
		}
		logits := m.Head.Forward(m.Feat.Forward(x))
		correct += countCorrect(logits, m.labels)
		m.dl = tensor.Reuse(m.dl, logits.Rows, logits.Cols)
		l := nn.SoftmaxCrossEntropy(m.dl, logits, m.labels)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			return model.Stats{}, e.Err("the cross-entropy is %v", l)
		}
		m.Feat.Backward(m.Head.Backward(m.dl))
		m.opt.Step(m.params())
		loss += l * float64(x.Rows)
		n += x.Rows
	}
	return model.Stats{Loss: loss / float64(n), LossName: "cross-entropy",
		Metrics: []model.Metric{{Name: "train_accuracy", Value: float64(correct) / float64(n)}}}, nil
}

func countCorrect(logits *tensor.Mat, labels []int) int {
	c := 0
	for i := 0; i < logits.Rows; i++ {
		if argmax(logits.Row(i)) == labels[i] {
			c++
		}
	}
	return c
}

func argmax(v []float32) int {
	b := 0
	for j, x := range v {
		if x > v[b] {
			b = j
		}
	}
	return b
}

// forward runs the network in evaluation mode over x in chunks, calling fn
// with each chunk's features and logits.
func (m *Model) forward(ctx context.Context, x *tensor.Mat, fn func(lo int, feat, logits *tensor.Mat)) error {
	m.Feat.SetTraining(false)
	m.Head.SetTraining(false)
	defer m.Feat.SetTraining(true)
	defer m.Head.SetTraining(true)
	const chunk = 500
	for lo := 0; lo < x.Rows; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(x.Rows, lo+chunk)
		f := m.Feat.Forward(x.Slice(lo, hi))
		fn(lo, f, m.Head.Forward(f))
		model.Step(ctx, "classify", hi, x.Rows)
	}
	return nil
}

// Predict returns the most probable class of every row of x.
func (m *Model) Predict(ctx context.Context, x *tensor.Mat) ([]int, error) {
	if x.Cols != m.dim {
		return nil, fmt.Errorf("classifier: rows have %d values, the classifier takes %d", x.Cols, m.dim)
	}
	out := make([]int, x.Rows)
	err := m.forward(ctx, x, func(lo int, _, logits *tensor.Mat) {
		for i := 0; i < logits.Rows; i++ {
			out[lo+i] = argmax(logits.Row(i))
		}
	})
	return out, err
}

// Features returns the feature-layer activations of every row of x (rows ×
// Config.Features), the space the Fréchet distance is measured in.
func (m *Model) Features(ctx context.Context, x *tensor.Mat) (*tensor.Mat, error) {
	if x.Cols != m.dim {
		return nil, fmt.Errorf("classifier: rows have %d values, the classifier takes %d", x.Cols, m.dim)
	}
	out := tensor.New(x.Rows, m.Cfg.Features)
	err := m.forward(ctx, x, func(lo int, f, _ *tensor.Mat) {
		out.Slice(lo, lo+f.Rows).Copy(f)
	})
	return out, err
}

// Score implements model.Scorer: the mean log p(y|x) of the labelled data,
// with the accuracy.
func (m *Model) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	if d.Labels == nil {
		return model.Estimate{}, fmt.Errorf("classifier: --data %s has no labels to score", o.Data)
	}
	per := make([]float64, d.Len())
	correct := 0
	err := m.forward(ctx, d.X, func(lo int, _, logits *tensor.Mat) {
		for i := 0; i < logits.Rows; i++ {
			y := d.Labels[lo+i]
			if y < 0 || y >= m.Classes {
				per[lo+i] = math.Inf(-1)
				continue
			}
			r := logits.Row(i)
			if argmax(r) == y {
				correct++
			}
			per[lo+i] = float64(r[y]) - logSumExp(r)
		}
	})
	if err != nil {
		return model.Estimate{}, err
	}
	var sum, sum2 float64
	for _, v := range per {
		sum += v
	}
	mean := sum / float64(len(per))
	for _, v := range per {
		sum2 += (v - mean) * (v - mean)
	}
	n := float64(len(per))
	return model.Estimate{LogLik: mean, StdErr: math.Sqrt(sum2/max(n-1, 1)) / math.Sqrt(n), Method: "exact",
		Quantity: "log p(y|x)", N: len(per), PerExample: per,
		Extra: []model.Metric{{Name: "accuracy", Value: float64(correct) / n}, {Name: "errors", Value: len(per) - correct}}}, nil
}

// Monitor implements model.Monitor: held-out accuracy.
func (m *Model) Monitor(ctx context.Context, d *dataset.Dataset) ([]model.Metric, error) {
	e, err := m.Score(ctx, d, model.ScoreOptions{})
	if err != nil {
		return nil, err
	}
	return e.Extra[:1], nil
}

// Check implements model.Checker.
func (m *Model) Check() error {
	for _, p := range m.params() {
		if err := model.CheckFinite(p.Name, 1e8, p.W); err != nil {
			return err
		}
	}
	return nil
}

// Describe implements model.Describer.
func (m *Model) Describe() []model.Metric {
	n := 0
	for _, p := range m.params() {
		n += len(p.W)
	}
	arch := "mlp"
	if m.H > 0 {
		arch = fmt.Sprintf("convnet on %d×%d×%d images", m.H, m.W, m.C)
	}
	return []model.Metric{{Name: "architecture", Value: arch}, {Name: "classes", Value: m.Classes},
		{Name: "features", Value: m.Cfg.Features}, {Name: "parameters", Value: n}}
}

type meta struct {
	Config  Config `json:"config"`
	Dim     int    `json:"dim"`
	H       int    `json:"height,omitempty"`
	W       int    `json:"width,omitempty"`
	C       int    `json:"channels,omitempty"`
	Classes int    `json:"classes"`
}

// Save implements model.Model.
func (m *Model) Save(f *checkpoint.File) error {
	f.Kind = Kind
	if err := f.SetMeta(meta{Config: m.Cfg, Dim: m.dim, H: m.H, W: m.W, C: m.C, Classes: m.Classes}); err != nil {
		return err
	}
	nn.SaveLayer(f, "feat", m.Feat)
	nn.SaveLayer(f, "head", m.Head)
	m.opt.Save(f, "adam")
	return f.AddState("dropout", &m.drop)
}

// Load reads a classifier file.
func Load(f *checkpoint.File) (*Model, error) {
	var mt meta
	if err := f.GetMeta(&mt); err != nil {
		return nil, err
	}
	if mt.Dim < 1 || mt.Classes < 2 || mt.Config.Features < 1 {
		return nil, fmt.Errorf("classifier: bad sizes in the file")
	}
	m := &Model{Cfg: mt.Config, dim: mt.Dim, H: mt.H, W: mt.W, C: mt.C, Classes: mt.Classes}
	m.build(rng.New(0))
	if err := nn.LoadLayer(f, "feat", m.Feat); err != nil {
		return nil, err
	}
	if err := nn.LoadLayer(f, "head", m.Head); err != nil {
		return nil, err
	}
	if err := m.opt.Load(f, "adam", m.params()); err != nil {
		return nil, err
	}
	if err := f.State("dropout", &m.drop); err != nil {
		return nil, err
	}
	return m, nil
}

// logSumExp returns log Σ exp(v) in float64.
func logSumExp(v []float32) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, float64(x))
	}
	var s float64
	for _, x := range v {
		s += math.Exp(float64(x) - m)
	}
	return m + math.Log(s)
}
