package gan

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

// Family names.
const (
	KindMLP   = "gan"
	KindDCGAN = "dcgan"
)

// Config holds the settings of both architectures.
type Config struct {
	Latent         int     `flag:"latent" help:"dimension of z" range:"[1,4096]"`
	GHidden        []int   `flag:"g-hidden" help:"generator hidden sizes, z to x (gan)" range:"[1,65536]"`
	DHidden        []int   `flag:"d-hidden" help:"discriminator hidden sizes, x to 1 (gan)" range:"[1,65536]"`
	GNorm          bool    `flag:"g-batchnorm" help:"BatchNorm after the generator's hidden layers but the first (gan)"`
	Width          int     `flag:"width" help:"feature maps of the widest convolution (dcgan)" range:"[1,4096]"`
	Conditional    bool    `flag:"conditional" help:"condition G and D on the labels (a conditional GAN; sample --label)"`
	Batch          int     `flag:"batch" help:"examples per step" range:"[1,100000]"`
	LR             float64 `flag:"lr" help:"Adam learning rate of both networks (of G alone with --d-lr); a resumed run may change it" range:"(0,1]" resume:"free"`
	Beta1          float64 `flag:"beta1" help:"Adam's β1" range:"[0,1)"`
	DSteps         int     `flag:"d-steps" help:"discriminator steps per generator step" range:"[1,100]"`
	Slope          float64 `flag:"leaky-slope" help:"negative slope of the discriminator's LeakyReLU" range:"[0,1)"`
	EMA            float64 `flag:"ema" help:"decay of the generator's weight average used for samples (0: none)" range:"[0,1)"`
	MBStd          bool    `flag:"mbstd" help:"give the discriminator's last layer the batch's mean feature standard deviation (Karras et al. 2018), against mode collapse"`
	SpecNorm       bool    `flag:"spectral-norm" help:"spectral normalisation of every discriminator layer with weights (Miyato et al. 2018); the discriminator's BatchNorm is dropped"`
	Loss           string  `flag:"loss" help:"bce: the cross-entropy game with the non-saturating generator loss; hinge: max(0, 1 − D(x)) + max(0, 1 + D(G(z))) for D and −D(G(z)) for G (Miyato et al. 2018)" choices:"bce|hinge"`
	DLR            float64 `flag:"d-lr" help:"the discriminator's Adam learning rate (0: --lr); a different rate for each network is Heusel et al.'s two time-scale rule; a resumed run may change it" range:"[0,1]" resume:"free"`
	DDropout       float64 `flag:"d-dropout" help:"dropout probability after each of the discriminator's LeakyReLUs (as the TensorFlow DCGAN tutorial's 0.3), another brake on an overconfident D; 0: none" range:"[0,1)"`
	RealLabel      float64 `flag:"real-label" help:"D's target on real data with --loss bce: below 1 is one-sided label smoothing (Salimans et al. 2016 use 0.9), which keeps D from growing overconfident; generated data keep target 0" range:"(0,1]"`
	Info           int     `flag:"info" help:"categories of an InfoGAN code (Chen et al. 2016): G gets a one-hot code drawn uniformly beside z and D a second head Q(c | x) that must recover it from G(z, c), which makes each code a mode of the data (the digit classes, found without labels); samples cycle through the codes (sample --label picks one); 0: none" range:"[0,1000]"`
	InfoWeight     float64 `flag:"info-weight" help:"λ, the weight of the code's mutual-information term −λ E log Q(c | G(z, c)) in the losses of G and D (--info)" range:"[0,100]"`
	InfoCont       int     `flag:"info-cont" help:"continuous InfoGAN codes (Chen et al. 2016): the first N entries of z, which D's head Q must also recover from G(z) (a Gaussian Q of unit variance: the loss λ_c·½‖μ − z₁..N‖²), so that they take up continuous style (slant, width) and leave the categorical code (--info) the digit; z stays N(0, I), so the log-likelihood is unchanged; 0: none" range:"[0,4096]"`
	InfoContWeight float64 `flag:"info-cont-weight" help:"λ_c, the weight of the continuous codes' term (--info-cont)" range:"[0,100]"`
	Init           string  `flag:"init" help:"weight initialisation: he (He et al. 2015 for the layers before a ReLU or LeakyReLU, Glorot for the last layers; biases 0) or lecun-uniform (PyTorch's default for every layer: weights and biases U(±1/√fan_in))" choices:"he|lecun-uniform"`
	FC             int     `flag:"fc" help:"units of a fully connected hidden layer after z in G and before the output in D, with BatchNorm (dcgan): the MNIST networks of InfoGAN (Chen et al. 2016) have 1024; 0: none" range:"[0,65536]"`
	Pack           int     `flag:"pack" help:"examples the discriminator judges together, stacked as channels (PacGAN, Lin et al. 2018), against mode collapse; 1: one at a time; --batch must be a multiple" range:"[1,16]"`
}

func defaults(kind string) *Config {
	c := &Config{Latent: 100, GHidden: []int{256, 512, 1024}, DHidden: []int{512, 256}, GNorm: true, Width: 64,
		Batch: 64, LR: 2e-4, Beta1: 0.5, DSteps: 1, Slope: 0.2, EMA: 0.999, Loss: "bce", Pack: 1, RealLabel: 1, InfoWeight: 1, InfoContWeight: 0.1,
		Init: "he"}
	if kind == KindMLP {
		c.Latent = 50
	}
	return c
}

func init() {
	for _, kind := range []string{KindMLP, KindDCGAN} {
		kind := kind
		sum := "GAN with MLP generator and discriminator (Goodfellow et al. 2014); log-likelihood by AIS on the generator"
		if kind == KindDCGAN {
			sum = "DCGAN for 28×28 images (Radford et al. 2016): transposed convolutions with BatchNorm; AIS log-likelihood"
		}
		model.Register(model.Family{
			Name: kind, Summary: sum, Doc: familyDoc,
			Config: func() any { return defaults(kind) },
			New: func(cfg any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
				return newTrainer(kind, *cfg.(*Config), d, s)
			},
			Load:       func(f *checkpoint.File) (model.Model, error) { return Load(f) },
			EvalConfig: func() any { return DefaultEvalConfig() },
			Epochs:     20,
		})
	}
}

const familyDoc = `The generator's last layer is a sigmoid: the data must lie in [0, 1] (images
are scaled so). Each epoch takes every mini-batch once: --d-steps discriminator
steps (each on a fresh batch of z against the same real batch) and one generator
step with the non-saturating loss −log D(G(z)) (--loss hinge: the hinge losses of
Miyato et al. 2018); Adam with β1 = 0.5 for both, as in pytorch/examples dcgan
(--d-lr gives D its own rate). --spectral-norm normalises every weight matrix of D
by its largest singular value, estimated by power iteration, and drops D's BatchNorm.
--info K makes an InfoGAN (Chen et al. 2016): G also takes a one-hot code of K
categories drawn uniformly, D gets K more outputs Q(c | x), and both losses add
λ·(−log Q(c | G(z, c))) (--info-weight), so that each code becomes one mode of
the data (on MNIST with K = 10, mostly one digit each) and sampling the codes
uniformly spreads the samples over the modes; its log-likelihood is the
mixture over codes. --info-cont N makes the first N entries of z continuous
codes that Q must also recover (Chen et al.'s slant and width), so that the
categories are left the digits; z keeps its prior, so the likelihood is unchanged.
--fc adds InfoGAN's fully connected layers to the DCGAN. --real-label and
--d-dropout are brakes on an overconfident
D. --pictures DIR leaves a grid of samples from one fixed
batch of z after every epoch (one row per class for a conditional GAN) and the
curves of both losses, D(x) and D(G(z)).`

// Model is a GAN: generator, discriminator, their optimisers and the
// generator's moving average.
type Model struct {
	Arch    string // KindMLP or KindDCGAN
	Cfg     Config
	dim     int // values per example
	H, W, C int // image shape (zeros for an MLP GAN on vectors)
	Classes int // labels conditioned on (0: unconditional)
	// Codes is the number of categories of the InfoGAN code (Config.Info; 0:
	// none). G's input is z, then Classes + Codes one-hot values; D's last
	// layer gives 1 + Codes values, the logit and Q(c | x)'s logits.
	Codes int
	G, D  *nn.Sequential
	// EMA holds the moving average of G's parameters.
	EMA *nn.EMA
	// EMAStats holds the BatchNorm running statistics of G (G.Buffers(), in
	// order) that belong to the moving-average weights: recomputed from the
	// averaged network itself at the end of every epoch (recalibrate), since
	// the live running statistics describe the trained weights, not their
	// average. Nil when G has no BatchNorm.
	EMAStats [][]float32
	gOpt     *nn.Adam
	dOpt     *nn.Adam
	// gParams and dParams are G.Params() and D.Params(), listed once by build.
	gParams, dParams []*nn.Param
	// Noise draws z and nothing else during training; its state is saved.
	Noise rng.Stream
	// Drop draws the discriminator's dropout masks (Config.DDropout); its
	// state is saved.
	Drop rng.Stream
	// History holds one entry per epoch.
	History []EpochLog
	// Steps counts generator steps (the moving average's warm-up).
	Steps int
	// Seed of the run (the fixed picture noise derives from it).
	Seed uint64

	// scratch
	zin, fake, din, dl, dfake *tensor.Mat
	dGrad                     [][]float32
	labels, codes             []int
	ql, dql                   *tensor.Mat // Q's logits and their gradient
	lastLogits                *tensor.Mat // D's output in the last discLoss
}

// EpochLog is one epoch's mean losses and discriminator outputs.
type EpochLog struct {
	DLoss, GLoss float64 // per example, nats (an InfoGAN's include the Info term)
	DReal, DFake float64 // mean D(x) and D(G(z)) (after the D step)
	// Info is an InfoGAN's λ·(−log Q(c | G(z, c))) in the generator's step
	// (ln Codes·λ when Q learns nothing, 0 when it recovers every code).
	Info float64 `json:",omitempty"`
}

func newTrainer(kind string, cfg Config, d *dataset.Dataset, s *model.Settings) (*Model, error) {
	if err := dataset.CheckUnit(d); err != nil {
		return nil, fmt.Errorf("gan: the generator's sigmoid output lies in [0, 1]: %w", err)
	}
	m := &Model{Arch: kind, Cfg: cfg, dim: d.Dim(), Seed: s.Seed}
	if h, w, c, ok := s.Image(); ok {
		m.H, m.W, m.C = h, w, c
	}
	if cfg.Conditional {
		if d.Labels == nil {
			return nil, model.Flagf("conditional", "--data %s has no labels to condition on", s.Data)
		}
		m.Classes = d.NumClasses
	}
	if cfg.Info > 0 {
		if cfg.Conditional {
			return nil, model.Flagf("info", "--info %d and --conditional: an InfoGAN's code stands in for the labels it has none of; use one or the other", cfg.Info)
		}
		if cfg.Pack > 1 {
			return nil, model.Flagf("info", "--info %d and --pack %d: Q(c | x) recovers the code of one example, and a packed D sees %d at once", cfg.Info, cfg.Pack, cfg.Pack)
		}
		if cfg.Info < 2 {
			return nil, model.Flagf("info", "--info %d: a code needs at least 2 categories", cfg.Info)
		}
		m.Codes = cfg.Info
	}
	if cfg.InfoCont > 0 {
		if cfg.InfoCont > cfg.Latent {
			return nil, model.Flagf("info-cont", "--info-cont %d: the continuous codes are the first entries of z, and --latent is %d", cfg.InfoCont, cfg.Latent)
		}
		if cfg.Pack > 1 {
			return nil, model.Flagf("info-cont", "--info-cont %d and --pack %d: Q recovers the codes of one example, and a packed D sees %d at once", cfg.InfoCont, cfg.Pack, cfg.Pack)
		}
	}
	if cfg.FC > 0 && kind != KindDCGAN {
		return nil, model.Flagf("fc", "--fc %d is the dcgan's; the hidden layers of %s are --g-hidden and --d-hidden", cfg.FC, kind)
	}
	if cfg.Pack > 1 && cfg.Batch%cfg.Pack != 0 {
		return nil, model.Flagf("batch", "--batch %d is not a multiple of --pack %d", cfg.Batch, cfg.Pack)
	}
	if cfg.RealLabel != 1 && cfg.Loss == "hinge" {
		return nil, model.Flagf("real-label", "--real-label %g applies to --loss bce; the hinge loss has no target to smooth", cfg.RealLabel)
	}
	if kind == KindDCGAN && (m.H != 28 || m.W != 28) {
		return nil, fmt.Errorf("dcgan: takes 28×28 images (7×7 feature maps upsampled twice); --data %s has %s", s.Data, shapeText(m))
	}
	if err := m.build(rng.NewStream(s.Seed, 0)); err != nil {
		return nil, err
	}
	m.Noise = *rng.NewStream(s.Seed, 1)
	m.Drop = *rng.NewStream(s.Seed, 2)
	m.initOpt()
	return m, nil
}

func shapeText(m *Model) string {
	if m.H == 0 {
		return fmt.Sprintf("rows of %d values and no image shape", m.dim)
	}
	return fmt.Sprintf("%d×%d×%d images", m.H, m.W, m.C)
}

func (m *Model) initOpt() {
	m.gOpt, m.dOpt = nn.NewAdam(m.Cfg.LR), nn.NewAdam(m.dLR())
	m.gOpt.Beta1, m.dOpt.Beta1 = m.Cfg.Beta1, m.Cfg.Beta1
}

// dLR is the discriminator's learning rate: --d-lr, or --lr when that is 0.
func (m *Model) dLR() float64 {
	if m.Cfg.DLR > 0 {
		return m.Cfg.DLR
	}
	return m.Cfg.LR
}

// Retune takes --lr and --d-lr from cfg (the *Config of a resumed run's command
// line) when changed names them: the settings a resumed GAN may change, as one
// lowers the rates for the last epochs. Both Adams keep their moments and step
// counts. With --d-lr 0 (the default) the discriminator follows --lr.
func (m *Model) Retune(cfg any, changed []string) error {
	c, ok := cfg.(*Config)
	if !ok {
		return fmt.Errorf("gan: retune: want *gan.Config, got %T", cfg)
	}
	for _, k := range changed {
		switch k {
		case "lr":
			m.Cfg.LR = c.LR
		case "d-lr":
			m.Cfg.DLR = c.DLR
		default:
			return fmt.Errorf("gan: --%s cannot change when a run is resumed", k)
		}
	}
	m.gOpt.LR, m.dOpt.LR = m.Cfg.LR, m.dLR()
	return nil
}

// build makes G and D with weights drawn from s.
func (m *Model) build(s *rng.Stream) error {
	switch m.Arch {
	case KindMLP:
		m.G, m.D = buildMLP(m.Cfg, m.dim, m.Classes, m.Codes, s, &m.Drop)
	case KindDCGAN:
		m.G, m.D = buildDCGAN(m.Cfg, m.C, m.Classes, m.Codes, s, &m.Drop)
	default:
		return fmt.Errorf("gan: unknown kind %q", m.Arch)
	}
	m.gParams, m.dParams = m.G.Params(), m.D.Params()
	m.EMA = nn.NewEMA(m.gParams)
	m.EMAStats = nil
	for _, b := range m.G.Buffers() {
		m.EMAStats = append(m.EMAStats, append([]float32(nil), b.W...))
	}
	return nil
}

// Recalibration draws: the averaged generator's BatchNorm statistics are the
// means over recalBatches batches of recalRows draws of z.
const (
	recalBatches = 20
	recalRows    = 256
)

// swapEMA exchanges the live weights and BatchNorm statistics of G with the
// moving average's (call it again to undo).
func (m *Model) swapEMA() {
	m.EMA.Swap()
	for k, b := range m.G.Buffers() {
		s := m.EMAStats[k]
		for i, v := range b.W {
			b.W[i], s[i] = s[i], v
		}
	}
}

// recalibrate recomputes EMAStats: the averaged generator is run in training
// mode on recalBatches batches of fresh z, and each BatchNorm's running mean and
// variance become the averages of its batch means and (unbiased) batch
// variances (momentum 1/k for the k-th batch, PyTorch's momentum=None), so
// that evaluation mode normalises the averaged network by its own statistics
// rather than by those of the trained weights (the "standing statistics" of
// Brock et al. 2019). z comes from a stream seeded by the run's seed and step
// count, so the result does not depend on when the model was saved or resumed.
// A no-op without a moving average or without BatchNorm in G.
func (m *Model) recalibrate() {
	var bns []*nn.BatchNorm
	for _, l := range m.G.Layers {
		if b, ok := l.(*nn.BatchNorm); ok {
			bns = append(bns, b)
		}
	}
	if len(bns) == 0 || m.Cfg.EMA == 0 {
		return
	}
	m.swapEMA()
	defer m.swapEMA()
	saved := make([]float64, len(bns))
	for i, b := range bns {
		saved[i] = b.Momentum
	}
	s := rng.New(m.Seed ^ 0x7265_6361_6c69_6272 ^ uint64(m.Steps)) // "recalibr"
	k := m.Classes + m.Codes
	labels := make([]int, recalRows)
	for i := range labels {
		if k > 0 {
			labels[i] = i % k
		}
	}
	for j := range recalBatches {
		for _, b := range bns {
			b.Momentum = 1 / float64(j+1)
		}
		lab := labels
		if m.Classes == 0 {
			lab = nil // an InfoGAN draws its codes in fillZ
		}
		m.G.Forward(m.fillZ(recalRows, lab, s))
	}
	for i, b := range bns {
		b.Momentum = saved[i]
	}
}

// buildMLP returns G: z(+y) → hidden (ReLU; BatchNorm after all but the first)
// → dim (sigmoid) and
// D: x(+y) → hidden (LeakyReLU) → 1 logit.
func buildMLP(cfg Config, dim, classes, codes int, s, drop *rng.Stream) (g, d *nn.Sequential) {
	hid, last := inits(cfg)
	g, d = nn.NewSequential(), nn.NewSequential()
	in := cfg.Latent + classes + codes
	for i, h := range cfg.GHidden {
		g.Layers = append(g.Layers, nn.NewLinear(in, h, hid, s))
		if i > 0 && cfg.GNorm { // BatchNorm after every hidden layer but the first, as PyTorch-GAN's gan.py
			g.Layers = append(g.Layers, nn.NewBatchNorm(h))
		}
		g.Layers = append(g.Layers, nn.ReLU())
		in = h
	}
	g.Layers = append(g.Layers, nn.NewLinear(in, dim, last, s), nn.Sigmoid())
	in = (dim + classes) * packOf(cfg)
	for _, h := range cfg.DHidden {
		d.Layers = append(d.Layers, dLayer(cfg, nn.NewLinear(in, h, hid, s), s), nn.LeakyReLU(float32(cfg.Slope)))
		d.Layers = dDropout(cfg, d.Layers, drop)
		in = h
	}
	if cfg.MBStd {
		d.Layers = append(d.Layers, nn.NewMinibatchStd(1, 1, in))
		in++
	}
	d.Layers = append(d.Layers, dLayer(cfg, nn.NewLinear(in, 1+codes+cfg.InfoCont, last, s), s))
	return g, d
}

// inits returns the initialisation of the hidden layers and of the last layers
// (Config.Init; files from before --init have none and get he).
func inits(cfg Config) (hidden, last nn.Init) {
	if cfg.Init == "lecun-uniform" {
		return nn.LeCunUniform, nn.LeCunUniform
	}
	return nn.He, nn.Glorot
}

// dLayer returns l, wrapped in spectral normalisation (its vector drawn from s)
// with Config.SpecNorm.
func dLayer(cfg Config, l nn.Layer, s *rng.Stream) nn.Layer {
	if cfg.SpecNorm {
		return nn.NewSpectralNorm(l, s)
	}
	return l
}

// buildDCGAN returns the DCGAN of pytorch/examples dcgan, sized for 28×28×c
// images (W = Config.Width):
//
//	G: z(+y) → Linear → 7×7×2W, BN, ReLU → ConvT 4×4/2 → 14×14×W, BN, ReLU
//	   → ConvT 4×4/2 → 28×28×c, sigmoid
//	D: x(+y planes) → Conv 4×4/2 → 14×14×W, LeakyReLU → Conv 4×4/2 → 7×7×2W,
//	   BN, LeakyReLU → Linear → 1 logit
//
// With Config.FC, G has a Linear → FC, BN, ReLU between z and its first layer,
// and D a Linear → FC, BN, LeakyReLU before its last: the MNIST networks of
// Chen et al. 2016 (table 1 of their appendix) with FC = 1024 and W = 64.
//
// With Config.DDropout, a Dropout follows each of D's LeakyReLUs. An InfoGAN's
// G takes the one-hot code after z, and D's Linear gives the code's logits
// after its own (Q shares D's layers, as in Chen et al. 2016 but for Q's own
// hidden layer).
// With Config.MBStd, D's last feature maps get one more channel, the batch's
// mean feature standard deviation (nn.MinibatchStd), before the Linear. With
// Config.SpecNorm, D's convolutions and Linear are spectrally normalised and
// its BatchNorm is left out, as in Miyato et al. 2018.
func buildDCGAN(cfg Config, c, classes, codes int, s, drop *rng.Stream) (g, d *nn.Sequential) {
	w := cfg.Width
	hid, last := inits(cfg)
	in := cfg.Latent + classes + codes
	g = nn.NewSequential()
	if cfg.FC > 0 {
		g.Layers = append(g.Layers, nn.NewLinear(in, cfg.FC, hid, s), nn.NewBatchNorm(cfg.FC), nn.ReLU())
		in = cfg.FC
	}
	g.Layers = append(g.Layers,
		nn.NewLinear(in, 7*7*2*w, hid, s), nn.NewBatchNorm2D(7, 7, 2*w), nn.ReLU(),
		nn.NewConvTranspose2D(7, 7, 2*w, 14, 14, w, 4, 2, 1, hid, s), nn.NewBatchNorm2D(14, 14, w), nn.ReLU(),
		nn.NewConvTranspose2D(14, 14, w, 28, 28, c, 4, 2, 1, last, s), nn.Sigmoid())
	slope := float32(cfg.Slope)
	d = nn.NewSequential(
		dLayer(cfg, nn.NewConv2D(nn.ConvGeom{InH: 28, InW: 28, InC: (c + classes) * packOf(cfg), OutC: w, K: 4, Stride: 2, Pad: 1}, hid, s), s), nn.LeakyReLU(slope))
	d.Layers = dDropout(cfg, d.Layers, drop)
	d.Layers = append(d.Layers, dLayer(cfg, nn.NewConv2D(nn.ConvGeom{InH: 14, InW: 14, InC: w, OutC: 2 * w, K: 4, Stride: 2, Pad: 1}, hid, s), s))
	if !cfg.SpecNorm {
		d.Layers = append(d.Layers, nn.NewBatchNorm2D(7, 7, 2*w))
	}
	d.Layers = append(d.Layers, nn.LeakyReLU(slope))
	d.Layers = dDropout(cfg, d.Layers, drop)
	feat := 7 * 7 * 2 * w
	if cfg.MBStd {
		d.Layers = append(d.Layers, nn.NewMinibatchStd(7, 7, 2*w))
		feat = 7 * 7 * (2*w + 1)
	}
	if cfg.FC > 0 {
		d.Layers = append(d.Layers, dLayer(cfg, nn.NewLinear(feat, cfg.FC, hid, s), s))
		if !cfg.SpecNorm {
			d.Layers = append(d.Layers, nn.NewBatchNorm(cfg.FC))
		}
		d.Layers = append(d.Layers, nn.LeakyReLU(slope))
		d.Layers = dDropout(cfg, d.Layers, drop)
		feat = cfg.FC
	}
	d.Layers = append(d.Layers, dLayer(cfg, nn.NewLinear(feat, 1+codes+cfg.InfoCont, last, s), s))
	return g, d
}

// dDropout appends a Dropout drawing from drop to layers when
// Config.DDropout > 0.
func dDropout(cfg Config, layers []nn.Layer, drop *rng.Stream) []nn.Layer {
	if cfg.DDropout > 0 {
		layers = append(layers, nn.NewDropout(cfg.DDropout, drop))
	}
	return layers
}

// realLabelOf returns D's target on real data (Config.RealLabel; files written
// before the setting existed hold 0, meaning 1).
func realLabelOf(cfg Config) float64 {
	if cfg.RealLabel == 0 {
		return 1
	}
	return cfg.RealLabel
}

// packOf returns the examples D judges together (Config.Pack; files written
// before the setting existed hold 0, one at a time).
func packOf(cfg Config) int { return max(1, cfg.Pack) }

// Kind implements model.Model.
func (m *Model) Kind() string { return m.Arch }

// Dim implements model.Model.
func (m *Model) Dim() int { return m.dim }

// BatchSize implements model.Trainer.
func (m *Model) BatchSize() int { return m.Cfg.Batch }

// fillZ sets the first Latent columns of m.zin (n rows) to N(0, 1) draws from s
// and the rest to the one-hot codes of labels (conditional), or of InfoGAN
// codes drawn uniformly from s after each row's z (kept in m.codes).
func (m *Model) fillZ(n int, labels []int, s *rng.Stream) *tensor.Mat {
	m.zin = tensor.Reuse(m.zin, n, m.Cfg.Latent+m.Classes+m.Codes)
	m.codes = m.codes[:0]
	for i := 0; i < n; i++ {
		r := m.zin.Row(i)
		s.FillNormal(r[:m.Cfg.Latent], 0, 1)
		for j := m.Cfg.Latent; j < len(r); j++ {
			r[j] = 0
		}
		switch {
		case m.Classes > 0:
			r[m.Cfg.Latent+labels[i]] = 1
		case m.Codes > 0:
			c := s.IntN(m.Codes)
			m.codes = append(m.codes, c)
			r[m.Cfg.Latent+c] = 1
		}
	}
	return m.zin
}

// discInput returns D's input for x: x itself, or for a conditional GAN x with
// the one-hot label appended (to the row for the MLP; as extra channels of
// every pixel for the DCGAN, whose rows are NHWC images). With Config.Pack = P
// > 1 (PacGAN), row i of D's input holds examples P·i, …, P·i+P−1 side by side:
// for the MLP their rows one after the other, for the DCGAN their channels at
// every pixel (pixel p: example P·i's channels and label planes, then P·i+1's,
// …), so D judges P examples at once. Rows of x beyond the last whole pack are
// left out.
func (m *Model) discInput(x *tensor.Mat, labels []int) *tensor.Mat {
	pk := packOf(m.Cfg)
	if m.Classes == 0 && pk == 1 {
		return x
	}
	pos, c := 1, m.dim
	if m.Arch == KindDCGAN {
		pos, c = m.H*m.W, m.C
	}
	w := c + m.Classes
	rows := x.Rows / pk
	m.din = tensor.Reuse(m.din, rows, pos*w*pk)
	for i := range rows {
		r := m.din.Row(i)
		for k := range pk {
			ex := i*pk + k
			xr := x.Row(ex)
			for p := range pos {
				o := r[(p*pk+k)*w : (p*pk+k+1)*w]
				copy(o, xr[p*c:(p+1)*c])
				if m.Classes > 0 {
					clear(o[c:])
					o[c+labels[ex]] = 1
				}
			}
		}
	}
	return m.din
}

// inputGrad returns ∂L/∂x for the n examples whose D input (discInput) had the
// gradient dx: the part of dx that belongs to each example's values, unpacked;
// rows left out of the packs get zeros.
func (m *Model) inputGrad(dx *tensor.Mat, n int) *tensor.Mat {
	pk := packOf(m.Cfg)
	m.dfake = tensor.Reuse(m.dfake, n, m.dim)
	pos, c := 1, m.dim
	if m.Arch == KindDCGAN {
		pos, c = m.H*m.W, m.C
	}
	w := c + m.Classes
	for i := 0; i < dx.Rows; i++ {
		r := dx.Row(i)
		for k := range pk {
			o := m.dfake.Row(i*pk + k)
			for p := range pos {
				copy(o[p*c:(p+1)*c], r[(p*pk+k)*w:(p*pk+k)*w+c])
			}
		}
	}
	for i := dx.Rows * pk; i < n; i++ {
		clear(m.dfake.Row(i))
	}
	return m.dfake
}

// The three losses of a step: D's on real data, D's on generated data, and G's.
const (
	lossReal = iota
	lossFake
	lossGen
)

// discLoss runs D on x and returns one of the losses (lossReal, lossFake,
// lossGen) and the mean D(x) = σ(logit), leaving ∂loss/∂logits in m.dl. With
// --loss bce they are the mean binary cross-entropies −(1/n) Σ log p(t | D(x))
// for t = 1, 0 and 1 (the non-saturating generator loss; the first target is
// Config.RealLabel, below 1 for one-sided label smoothing); with --loss hinge
// (1/n) Σ max(0, 1 − d), (1/n) Σ max(0, 1 + d) and −(1/n) Σ d of the logits d.
func (m *Model) discLoss(x *tensor.Mat, labels []int, which int) (loss, mean float64) {
	logits := m.D.Forward(m.discInput(x, labels)) // (n, 1 + Codes): n = x.Rows / Pack
	n := logits.Rows
	m.dl = tensor.Reuse(m.dl, n, logits.Cols)
	m.lastLogits = logits
	if m.Cfg.Loss == "hinge" {
		inv := 1 / float64(n)
		for i := range n {
			d := float64(logits.Data[i*logits.Stride])
			g := 0.0
			switch which {
			case lossReal:
				if d < 1 {
					loss += 1 - d
					g = -inv
				}
			case lossFake:
				if d > -1 {
					loss += 1 + d
					g = inv
				}
			default:
				loss -= d
				g = -inv
			}
			m.dl.Data[i*m.dl.Stride] = float32(g)
		}
		loss *= inv
	} else {
		t := 1.0
		switch which {
		case lossFake:
			t = 0
		case lossReal:
			t = realLabelOf(m.Cfg)
		}
		if logits.Cols == 1 {
			loss = nn.BCEWithLogits(m.dl, logits, t)
		} else {
			loss = bceFirstColumn(m.dl, logits, t)
		}
	}
	for i := range n {
		mean += 1 / (1 + math.Exp(-float64(logits.Data[i*logits.Stride])))
	}
	return loss, mean / float64(n)
}

// bceFirstColumn is nn.BCEWithLogits on the first column of logits (D's logit
// beside Q's), leaving the gradient in dl's first column.
func bceFirstColumn(dl, logits *tensor.Mat, t float64) float64 {
	n := logits.Rows
	var sum float64
	for i := range n {
		v := float64(logits.Data[i*logits.Stride])
		e := math.Exp(-math.Abs(v))
		sum += max(v, 0) - t*v + math.Log1p(e)
		s := 1 / (1 + e)
		if v < 0 {
			s = e / (1 + e)
		}
		dl.Data[i*dl.Stride] = float32((s - t) / float64(n))
	}
	return sum / float64(n)
}

// infoLoss returns the InfoGAN's mutual-information terms for the generated
// rows whose logits are D's output of the last discLoss: λ times the mean
// cross-entropy −log Q(c | x) of the categorical codes m.codes under Q's logits
// (D's columns 1..K), plus λ_c times the mean ½‖μ − z₁..N‖² of the continuous
// codes (the first N entries of each row's z, m.zin) under Q's means (the
// columns after those), the negative log-density of a unit-variance Gaussian Q
// up to a constant. It sets those columns of m.dl to the gradient; with real
// (no code to recover) it returns 0 and zeroes them.
func (m *Model) infoLoss(logits *tensor.Mat, real bool) float64 {
	nc := m.Cfg.InfoCont
	if m.Codes == 0 && nc == 0 {
		return 0
	}
	n, k := logits.Rows, m.Codes
	if real {
		for i := range n {
			clear(m.dl.Row(i)[1:])
		}
		return 0
	}
	var loss float64
	if k > 0 {
		m.ql = tensor.Reuse(m.ql, n, k)
		m.dql = tensor.Reuse(m.dql, n, k)
		for i := range n {
			copy(m.ql.Row(i), logits.Row(i)[1:1+k])
		}
		lam := m.Cfg.InfoWeight
		loss = lam * nn.SoftmaxCrossEntropy(m.dql, m.ql, m.codes)
		for i := range n {
			d := m.dl.Row(i)[1 : 1+k]
			for j, g := range m.dql.Row(i) {
				d[j] = float32(lam * float64(g))
			}
		}
	}
	if nc > 0 {
		lam := m.Cfg.InfoContWeight
		var sq float64
		for i := range n {
			mu, z, d := logits.Row(i)[1+k:1+k+nc], m.zin.Row(i)[:nc], m.dl.Row(i)[1+k:1+k+nc]
			for j := range nc {
				e := float64(mu[j]) - float64(z[j])
				sq += e * e
				d[j] = float32(lam * e / float64(n))
			}
		}
		loss += lam * 0.5 * sq / float64(n)
	}
	return loss
}

// step is one training step on the mini-batch x (labels for a conditional
// model): DSteps discriminator updates, one generator update and the moving
// average. It returns the last discriminator step's loss and mean D(x), D(G(z)),
// the generator's loss and its information term.
func (m *Model) step(x *tensor.Mat, labels []int) (dLoss, dReal, dFake, gLoss, info float64) {
	n := x.Rows
	// The discriminator's step needs no gradient for its input (data), the
	// generator's none for D's parameters: both are skipped, with the same
	// results.
	m.dInputGrad(false)
	for k := 0; k < m.Cfg.DSteps; k++ {
		fake := m.G.Forward(m.fillZ(n, labels, &m.Noise))
		m.fake = tensor.Reuse(m.fake, n, m.dim)
		m.fake.Copy(fake)
		lr, mr := m.discLoss(x, labels, lossReal)
		m.infoLoss(m.lastLogits, true)
		m.D.Backward(m.dl)
		m.saveDGrad()
		lf, mf := m.discLoss(m.fake, labels, lossFake)
		lf += m.infoLoss(m.lastLogits, false)
		m.D.Backward(m.dl)
		m.addDGrad()
		m.dOpt.Step(m.dParams)
		dLoss, dReal, dFake = lr+lf, mr, mf
	}
	fake := m.G.Forward(m.fillZ(n, labels, &m.Noise))
	gLoss, _ = m.discLoss(fake, labels, lossGen)
	info = m.infoLoss(m.lastLogits, false)
	gLoss += info
	m.dInputGrad(true)
	nn.SetParamGrad(m.D, false)
	dx := m.D.Backward(m.dl)
	nn.SetParamGrad(m.D, true)
	m.G.Backward(m.inputGrad(dx, n))
	m.gOpt.Step(m.gParams)
	m.updateEMA()
	return dLoss, dReal, dFake, gLoss, info
}

// Epoch implements model.Trainer: for every mini-batch, DSteps discriminator
// steps on −log D(x) − log(1 − D(G(z))) and one generator step on −log D(G(z)).
func (m *Model) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	var buf *tensor.Mat
	var sum EpochLog
	steps := 0
	for x, idx := e.Next(buf); x != nil; x, idx = e.Next(buf) {
		buf = x
		if err := ctx.Err(); err != nil {
			return model.Stats{}, err
		}
		n := x.Rows
		if n < packOf(m.Cfg) {
			continue // a last mini-batch smaller than one pack: D could judge none of it
		}
		labels := m.batchLabels(e.Data, idx)
		dLoss, dReal, dFake, gLoss, info := m.step(x, labels)
		if math.IsNaN(gLoss) || math.IsNaN(dLoss) {
			return model.Stats{}, e.Err("the discriminator loss is %v and the generator loss %v", dLoss, gLoss)
		}
		sum.DLoss += dLoss
		sum.GLoss += gLoss
		sum.DReal += dReal
		sum.DFake += dFake
		sum.Info += info
		steps++
	}
	k := float64(max(steps, 1))
	lg := EpochLog{DLoss: sum.DLoss / k, GLoss: sum.GLoss / k, DReal: sum.DReal / k, DFake: sum.DFake / k, Info: sum.Info / k}
	m.History = append(m.History, lg)
	m.recalibrate()
	if m.dWins(3) {
		model.Logf(ctx, "gan: warning: the discriminator has won outright for 3 epochs (D(x) %.3f, D(G(z)) %.3f): the generator gets no gradient; try a lower --lr or fewer --d-steps", lg.DReal, lg.DFake)
	}
	st := model.Stats{Loss: lg.GLoss, LossName: "g_loss", Metrics: []model.Metric{
		{Name: "d_loss", Value: lg.DLoss}, {Name: "d_real", Value: lg.DReal}, {Name: "d_fake", Value: lg.DFake}}}
	if m.Codes > 0 || m.Cfg.InfoCont > 0 {
		st.Metrics = append(st.Metrics, model.Metric{Name: "info_loss", Value: lg.Info})
	}
	return st, nil
}

// dInputGrad turns the gradient of D's first layer with respect to its input on
// or off.
func (m *Model) dInputGrad(on bool) {
	switch l := m.D.Layers[0].(type) {
	case *nn.Linear:
		l.NoInputGrad = !on
	case *nn.Conv2D:
		l.NoInputGrad = !on
	case *nn.SpectralNorm:
		switch l := l.Inner.(type) {
		case *nn.Linear:
			l.NoInputGrad = !on
		case *nn.Conv2D:
			l.NoInputGrad = !on
		}
	}
}

// dWins reports whether the discriminator separated real from generated data
// almost perfectly in each of the last k epochs.
func (m *Model) dWins(k int) bool {
	if len(m.History) < k {
		return false
	}
	for _, h := range m.History[len(m.History)-k:] {
		if !(h.DReal > 0.99 && h.DFake < 0.01) {
			return false
		}
	}
	return true
}

func (m *Model) batchLabels(d *dataset.Dataset, idx []int) []int {
	if m.Classes == 0 {
		return nil
	}
	m.labels = m.labels[:0]
	for _, i := range idx {
		m.labels = append(m.labels, d.Labels[i])
	}
	return m.labels
}

// saveDGrad keeps D's gradients of the real batch; addDGrad adds them to
// those of the generated batch: the two halves of the discriminator's loss run
// as separate batches (separate BatchNorm statistics, as in pytorch/examples).
func (m *Model) saveDGrad() {
	ps := m.dParams
	if len(m.dGrad) != len(ps) {
		m.dGrad = make([][]float32, len(ps))
	}
	for i, p := range ps {
		m.dGrad[i] = append(m.dGrad[i][:0], p.G...)
	}
}

func (m *Model) addDGrad() {
	for i, p := range m.dParams {
		tensor.AddTo(p.G, m.dGrad[i])
	}
}

// updateEMA sets ema ← d·ema + (1 − d)·θ for every generator parameter, with
// the decay warmed up as d = min(EMA, (1 + t)/(10 + t)) after t steps (as
// TensorFlow's ExponentialMovingAverage with num_updates), so that the average
// forgets the initial weights within the first epochs.
func (m *Model) updateEMA() {
	t := float64(m.Steps)
	m.EMA.Update(min(m.Cfg.EMA, (1+t)/(10+t)))
	m.Steps++
}

// Generate sets dst (n × Dim) to G(z) for the rows of z (with labels for a
// conditional GAN, codes for an InfoGAN: row i gets code i mod K when codes is
// nil), using the moving-average weights.
func (m *Model) Generate(z *tensor.Mat, labels []int) *tensor.Mat {
	m.zin = tensor.Reuse(m.zin, z.Rows, m.Cfg.Latent+m.Classes+m.Codes)
	for i := 0; i < z.Rows; i++ {
		r := m.zin.Row(i)
		copy(r, z.Row(i))
		for j := m.Cfg.Latent; j < len(r); j++ {
			r[j] = 0
		}
		switch {
		case m.Codes > 0 && labels == nil:
			r[m.Cfg.Latent+i%m.Codes] = 1 // codes in turn
		case m.Classes+m.Codes > 0:
			r[m.Cfg.Latent+labels[i]] = 1
		}
	}
	m.swapEMA()
	defer m.swapEMA()
	m.G.SetTraining(false)
	defer m.G.SetTraining(true)
	return m.G.Forward(m.zin).Clone()
}

// Sample implements model.Sampler: G(z) with the moving-average weights, z
// drawn from o.Seed; a conditional GAN cycles through the classes and an
// InfoGAN through its codes (each as often, as the uniform prior over codes
// has it) unless o.Label picks one.
func (m *Model) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	k := m.Classes + m.Codes
	if o.Label >= 0 && k == 0 {
		return nil, model.Flagf("label", "this %s is not conditional (train with --conditional, or --info for codes)", m.Arch)
	}
	if o.Label >= k && k > 0 {
		return nil, model.Flagf("label", "must be in [0, %d), got %d", k, o.Label)
	}
	s := rng.New(o.Seed)
	z := tensor.New(o.N, m.Cfg.Latent)
	s.FillNormal(z.Data, 0, 1)
	var labels []int
	if k > 0 {
		labels = make([]int, o.N)
		for i := range labels {
			labels[i] = i % k
			if o.Label >= 0 {
				labels[i] = o.Label
			}
		}
	}
	out := tensor.New(o.N, m.dim)
	const chunk = 256
	for i := 0; i < o.N; i += chunk {
		j := min(o.N, i+chunk)
		var l []int
		if labels != nil {
			l = labels[i:j]
		}
		out.Slice(i, j).Copy(m.Generate(z.Slice(i, j), l))
		model.Step(ctx, "sample", j, o.N)
	}
	if m.Codes > 0 {
		labels = nil // codes, not the data's labels
	}
	return &dataset.Dataset{Name: "samples", X: out, Labels: labels, NumClasses: m.Classes,
		Height: m.H, Width: m.W, Channels: m.C}, nil
}

// Check implements model.Checker.
func (m *Model) Check() error {
	for _, s := range []struct {
		name string
		net  *nn.Sequential
	}{{"generator", m.G}, {"discriminator", m.D}} {
		for _, p := range s.net.Params() {
			if err := model.CheckFinite(s.name+" "+p.Name, 1e8, p.W); err != nil {
				return err
			}
		}
	}
	return nil
}

// Describe implements model.Describer.
func (m *Model) Describe() []model.Metric {
	count := func(s *nn.Sequential) int {
		n := 0
		for _, p := range s.Params() {
			n += len(p.W)
		}
		return n
	}
	out := []model.Metric{{Name: "architecture", Value: m.Arch}, {Name: "latent", Value: m.Cfg.Latent},
		{Name: "data", Value: shapeText(m)},
		// The density p(x) is the generator's (and σ²'s): its parameters are G's.
		{Name: "parameters", Value: count(m.G)}, {Name: "generator params", Value: count(m.G)},
		{Name: "discriminator params", Value: count(m.D)}, {Name: "ema decay", Value: m.Cfg.EMA}}
	if m.Codes > 0 {
		out = append(out, model.Metric{Name: "infogan code", Value: fmt.Sprintf("%d categories, λ %g", m.Codes, m.Cfg.InfoWeight)})
	}
	if m.Cfg.InfoCont > 0 {
		out = append(out, model.Metric{Name: "infogan continuous codes", Value: fmt.Sprintf("z₁..%d, λ_c %g", m.Cfg.InfoCont, m.Cfg.InfoContWeight)})
	}
	if m.Classes > 0 {
		out = append(out, model.Metric{Name: "conditional on", Value: fmt.Sprintf("%d classes", m.Classes)})
	}
	if n := len(m.History); n > 0 {
		h := m.History[n-1]
		out = append(out, model.Metric{Name: "last epoch", Value: fmt.Sprintf("D loss %.3f, G loss %.3f, D(x) %.3f, D(G(z)) %.3f", h.DLoss, h.GLoss, h.DReal, h.DFake)})
	}
	return out
}
