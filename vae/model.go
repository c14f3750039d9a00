package vae

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Model is an autoencoder or VAE: an encoder network from x (and y for cvae) to
// [μ, log σ²] (to the code h for the plain autoencoder) and a decoder network from h
// (and y) to the decoder's logits (Bernoulli) or means (Gaussian).
//
// A Model keeps scratch buffers; it is not safe for concurrent use.
type Model struct {
	Config Config // with defaults filled in
	Dim    int    // values per example
	Enc    *nn.Sequential
	Dec    *nn.Sequential
	// LogSigma2 is the learned log-variance of the Gaussian decoder (one value);
	// nil for a Bernoulli decoder or a fixed σ².
	LogSigma2 *nn.Param
	// ClassPrior is p(y) for a cvae used as a classifier (ClassLogProbs): the class
	// frequencies of the labels it was trained on, set by the first TrainEpoch and
	// saved with the model. Nil means a uniform prior (models saved before it was
	// recorded, or built with New and never trained).
	ClassPrior []float64
	// Drop draws the dropout masks (Config.Dropout) while training; the
	// trainer seeds it and saves its state.
	Drop rng.Stream

	// scratch, reused between calls
	encIn, decIn, eps, xr, dout, dh, mean *tensor.Mat
	mu, lv, dmu, dlv                      tensor.Mat // views into the encoder output / dh
	ll, kl, logw, wt, dlvar               []float64
}

// New builds a model for examples of dim values, initialising its weights from s.
// It returns an error naming the setting at fault when cfg is invalid or does not fit
// dim (for convvae, dim must equal Height·Width·Channels).
func New(cfg Config, dim int, s *rng.Stream) (*Model, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if dim < 1 {
		return nil, fmt.Errorf("vae: data has %d values per example", dim)
	}
	if cfg.Kind == KindConvVAE && cfg.Height*cfg.Width*cfg.Channels != dim {
		return nil, fmt.Errorf("vae: convvae image shape %d×%d×%d needs %d values per example, data has %d",
			cfg.Height, cfg.Width, cfg.Channels, cfg.Height*cfg.Width*cfg.Channels, dim)
	}
	init, _ := nn.ParseInit(cfg.Init)
	act, _ := nn.ParseAct(cfg.Activation)
	m := &Model{Config: cfg, Dim: dim}
	D := cfg.Latent
	encOut := 2 * D // [μ, log σ²]
	if cfg.Kind == KindAE {
		encOut = D
	}
	if cfg.Kind == KindConvVAE {
		m.Enc, m.Dec = buildConv(cfg, encOut, act, init, s)
	} else {
		m.Enc, m.Dec = buildMLP(cfg, dim, encOut, act, init, s, &m.Drop)
		m.SetDropout(false)
	}
	if cfg.Decoder == Gaussian && cfg.Sigma2 == 0 {
		m.LogSigma2 = nn.NewParam("log_sigma2", 1)
	}
	return m, nil
}

// buildMLP returns in → h1 → … → hL → encOut and D → hL → … → h1 → dim, with the
// conditioning vector appended to both inputs for cvae, and a Dropout drawing
// from drop after every hidden layer with Config.Dropout.
func buildMLP(cfg Config, dim, encOut int, act nn.ActKind, init nn.Init, s, drop *rng.Stream) (enc, dec *nn.Sequential) {
	enc, dec = nn.NewSequential(), nn.NewSequential()
	dropout := func(layers []nn.Layer) []nn.Layer {
		if cfg.Dropout > 0 {
			layers = append(layers, nn.NewDropout(cfg.Dropout, drop))
		}
		return layers
	}
	in := dim + cfg.CondDim
	for _, h := range cfg.Hidden {
		enc.Layers = dropout(append(enc.Layers, nn.NewLinear(in, h, init, s), nn.NewActivation(act)))
		in = h
	}
	enc.Layers = append(enc.Layers, nn.NewLinear(in, encOut, init, s))
	enc.Layers[0].(*nn.Linear).NoInputGrad = true // the input is data
	in = cfg.Latent + cfg.CondDim
	for i := len(cfg.Hidden) - 1; i >= 0; i-- {
		dec.Layers = dropout(append(dec.Layers, nn.NewLinear(in, cfg.Hidden[i], init, s), nn.NewActivation(act)))
		in = cfg.Hidden[i]
	}
	dec.Layers = append(dec.Layers, nn.NewLinear(in, dim, init, s))
	return enc, dec
}

// buildConv returns the Keras example's networks (with "same" padding = Pad 1):
//
//	encoder  x (H,W,C) → Conv 32 k3 s2 → ReLU → Conv 64 k3 s2 → ReLU → Flatten
//	         → Dense 16 → ReLU → Dense [μ, log σ²]
//	decoder  z → Dense H/4·W/4·64 → ReLU → ConvT 64 k3 s2 → ReLU → ConvT 32 k3 s2
//	         → ReLU → ConvT C k3 s1 → logits (H,W,C)
//
// where H/2 means ⌈H/2⌉, so any image size round-trips, and ReLU is
// Config.Activation (default relu, as in the Keras example).
func buildConv(cfg Config, encOut int, act nn.ActKind, init nn.Init, s *rng.Stream) (enc, dec *nn.Sequential) {
	f := func() nn.Layer { return nn.NewActivation(act) }
	H, W, C := cfg.Height, cfg.Width, cfg.Channels
	g1 := nn.ConvGeom{InH: H, InW: W, InC: C, OutC: 32, K: 3, Stride: 2, Pad: 1}
	h1, w1 := g1.OutH(), g1.OutW()
	g2 := nn.ConvGeom{InH: h1, InW: w1, InC: 32, OutC: 64, K: 3, Stride: 2, Pad: 1}
	h2, w2 := g2.OutH(), g2.OutW()
	flat := h2 * w2 * 64
	c1 := nn.NewConv2D(g1, init, s)
	c1.NoInputGrad = true
	enc = nn.NewSequential(
		c1, f(), // (H/2, W/2, 32)
		nn.NewConv2D(g2, init, s), f(), // (H/4, W/4, 64)
		nn.Flatten(h2, w2, 64), // (H/4·W/4·64)
		nn.NewLinear(flat, cfg.Hidden[0], init, s), f(),
		nn.NewLinear(cfg.Hidden[0], encOut, init, s))
	dec = nn.NewSequential(
		nn.NewLinear(cfg.Latent, flat, init, s), f(),
		&nn.Reshape{In: flat}, // (H/4, W/4, 64)
		nn.NewConvTranspose2D(h2, w2, 64, h1, w1, 64, 3, 2, 1, init, s), f(), // (H/2, W/2, 64)
		nn.NewConvTranspose2D(h1, w1, 64, H, W, 32, 3, 2, 1, init, s), f(), // (H, W, 32)
		nn.NewConvTranspose2D(H, W, 32, H, W, C, 3, 1, 1, init, s)) // (H, W, C) logits
	return enc, dec
}

// SetDropout turns the dropout layers (Config.Dropout) on, for training, or
// off: a model is built with them off, so that everything but training (the
// bounds, AIS, samples, reconstructions) sees the whole network, and the
// trainer turns them on for its epochs.
func (m *Model) SetDropout(on bool) {
	for _, net := range []*nn.Sequential{m.Enc, m.Dec} {
		for _, l := range net.Layers {
			if d, ok := l.(*nn.Dropout); ok {
				d.SetTraining(on)
			}
		}
	}
}

// Params returns every trainable parameter: encoder, decoder, then log σ² if learned.
func (m *Model) Params() []*nn.Param {
	ps := append(m.Enc.Params(), m.Dec.Params()...)
	if m.LogSigma2 != nil {
		ps = append(ps, m.LogSigma2)
	}
	return ps
}

// Variational reports whether the model has a stochastic encoder (every kind but ae).
func (m *Model) Variational() bool { return m.Config.Kind != KindAE }

// logVarX returns the Gaussian decoder's log σ².
func (m *Model) logVarX() float64 {
	if m.LogSigma2 != nil {
		return float64(m.LogSigma2.W[0])
	}
	return math.Log(m.Config.Sigma2)
}

func (m *Model) checkInput(op string, x, y *tensor.Mat) {
	if x.Cols != m.Dim {
		panic(fmt.Sprintf("vae: %s: data has %d values per example, model expects %d", op, x.Cols, m.Dim))
	}
	if m.Config.CondDim > 0 {
		if y == nil || y.Rows != x.Rows || y.Cols != m.Config.CondDim {
			panic(fmt.Sprintf("vae: %s: cvae needs y with %d rows and %d columns", op, x.Rows, m.Config.CondDim))
		}
	}
}

// encode runs the encoder on x (and y) and points m.mu and m.lv at the halves of
// its output (for ae, m.mu is the code). It returns the encoder output.
func (m *Model) encode(x, y *tensor.Mat) *tensor.Mat {
	in := x
	if m.Config.CondDim > 0 {
		m.encIn = concat(m.encIn, x, y, 1) // (B, P+C)
		in = m.encIn
	}
	h := m.Enc.Forward(in)
	D := m.Config.Latent
	halves(&m.mu, &m.lv, h, D)
	return h
}

// halves points a at columns [0, D) of h and b at [D, 2D) (b left empty when h
// has D columns).
func halves(a, b *tensor.Mat, h *tensor.Mat, D int) {
	*a = tensor.Mat{Rows: h.Rows, Cols: D, Stride: h.Stride, Data: h.Data}
	if h.Cols == 2*D {
		*b = tensor.Mat{Rows: h.Rows, Cols: D, Stride: h.Stride, Data: h.Data[D:]}
	}
}

// concat sets dst (rows·rep × a.Cols+b.Cols) to [a_i, b_i] for each row i of a
// repeated rep times in a row (row i·rep + j holds example i).
func concat(dst, a, b *tensor.Mat, rep int) *tensor.Mat {
	dst = tensor.Reuse(dst, a.Rows*rep, a.Cols+b.Cols)
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < rep; j++ {
			r := dst.Row(i*rep + j)
			copy(r, a.Row(i))
			copy(r[a.Cols:], b.Row(i))
		}
	}
	return dst
}

// decoderInput returns a (B·rep, D+C) buffer whose last C columns hold y's rows,
// each repeated rep times; the caller writes h into the first D columns.
func (m *Model) decoderInput(rows, rep int, y *tensor.Mat) *tensor.Mat {
	D, C := m.Config.Latent, m.Config.CondDim
	m.decIn = tensor.Reuse(m.decIn, rows, D+C)
	if C > 0 {
		for r := 0; r < rows; r++ {
			copy(m.decIn.Row(r)[D:], y.Row(r/rep))
		}
	}
	return m.decIn
}

// reconLogLik sets ll[r] = log p(x_r | decoder output out_r) and dout = −∂ll/∂out,
// and, for a learned σ², m.dlvar[r] = −∂ll[r]/∂log σ².
func (m *Model) reconLogLik(ll []float64, out, x *tensor.Mat) {
	m.dout = tensor.Reuse(m.dout, out.Rows, out.Cols)
	if m.Config.Decoder == Bernoulli {
		nn.BernoulliLogLik(ll, m.dout, out, x)
		return
	}
	var dlv []float64
	if m.LogSigma2 != nil {
		m.dlvar = grow(m.dlvar, out.Rows)
		dlv = m.dlvar
	}
	nn.GaussianLogLik(ll, m.dout, out, x, m.logVarX(), dlv)
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// KL returns the closed-form KL divergence of N(μ, diag exp(lv)) from N(0, I),
//
//	KL = −½ Σ_j (1 + lv_j − μ_j² − exp(lv_j)),
//
// with gradients ∂KL/∂μ_j = μ_j and ∂KL/∂lv_j = ½(exp(lv_j) − 1).
// Kingma & Welling (2014), appendix B.
func KL(mu, lv []float32) float64 {
	var s float64
	for j, m := range mu {
		l := float64(lv[j])
		s += 1 + l - float64(m)*float64(m) - math.Exp(l)
	}
	return -0.5 * s
}

// Stats are sums over the examples of a batch or data set.
type Stats struct {
	N     int     // examples
	Loss  float64 // Σ of the training loss: −ELBO (β-weighted), −L_k, or −log p(x|code) for ae
	Recon float64 // Σ −log p(x|h) (one sample per example; mean over the k samples for IWAE)
	KL    float64 // Σ KL(Q(h|x) ‖ N(0, I)) in closed form (0 for ae)
}

// Grad computes the training loss of the batch x (with conditioning y for cvae, else
// nil), summed over examples, and sets every parameter's gradient G to its gradient.
// The noise ε is drawn from s. For k = Config.IWK:
//
//	k = 1:  loss = −log p(x|h) + β·KL(Q‖N(0,I)),       h = μ + σ⊙ε
//	k > 1:  loss = −log (1/k) Σ_i w_i,    log w_i = log p(x|h_i) + log N(h_i; 0, I) − log Q(h_i|x)
//
// whose gradient is −Σ_i w̃_i ∇ log w_i with w̃ = softmax(log w) (Burda et al. 2016,
// eq. 13). Backward through h = μ + σ⊙ε, σ = exp(½ lv):
//
//	∂L/∂μ = ∂L/∂h,   ∂L/∂lv = ∂L/∂h ⊙ ε ⊙ ½σ   (+ the direct terms of KL or log Q).
//
// It panics if x or y has the wrong shape.
func (m *Model) Grad(x, y *tensor.Mat, s *rng.Stream) Stats {
	m.checkInput("Grad", x, y)
	B, D, k := x.Rows, m.Config.Latent, m.Config.IWK
	if m.Config.Kind == KindAE {
		k = 1
	}
	R := B * k
	h := m.encode(x, y)
	zin := m.decoderInput(R, k, y)
	if m.Variational() {
		m.eps = tensor.Reuse(m.eps, R, D)
		s.FillNormal(m.eps.Data, 0, 1)
		for r := 0; r < R; r++ {
			b := r / k
			mu, lv, e, z := m.mu.Row(b), m.lv.Row(b), m.eps.Row(r), zin.Row(r)[:D]
			for j := range z {
				z[j] = mu[j] + float32(math.Exp(0.5*float64(lv[j])))*e[j] // h = μ + σ⊙ε
			}
		}
	} else {
		for b := 0; b < B; b++ {
			copy(zin.Row(b)[:D], m.mu.Row(b))
		}
	}
	out := m.Dec.Forward(zin)
	xt := x
	if k > 1 {
		m.xr = repeatRows(m.xr, x, k)
		xt = m.xr
	}
	m.ll = grow(m.ll, R)
	m.reconLogLik(m.ll, out, xt)

	st := Stats{N: B}
	m.wt = grow(m.wt, R)
	beta := m.Config.Beta
	if k == 1 {
		for b := 0; b < B; b++ {
			m.wt[b] = 1
			st.Recon -= m.ll[b]
			if m.Variational() {
				st.KL += KL(m.mu.Row(b), m.lv.Row(b))
			}
		}
		st.Loss = st.Recon + beta*st.KL
	} else {
		m.logw = grow(m.logw, R)
		for r := 0; r < R; r++ {
			m.logw[r] = m.ll[r] + logPriorOverQ(zin.Row(r)[:D], m.eps.Row(r), m.lv.Row(r/k))
		}
		for b := 0; b < B; b++ {
			lw, w := m.logw[b*k:(b+1)*k], m.wt[b*k:(b+1)*k]
			lse := tensor.LogSumExp64(lw)
			st.Loss -= lse - math.Log(float64(k))
			for i, v := range lw {
				w[i] = math.Exp(v - lse) // w̃_i
				st.Recon -= m.ll[b*k+i] / float64(k)
			}
			st.KL += KL(m.mu.Row(b), m.lv.Row(b))
		}
		// ∂(−log Σw)/∂out_r = w̃_r · (−∂ll_r/∂out_r)
		for r := 0; r < R; r++ {
			wr := float32(m.wt[r])
			for j := range m.dout.Row(r) {
				m.dout.Row(r)[j] *= wr
			}
		}
	}
	if m.LogSigma2 != nil {
		var g float64
		for r := 0; r < R; r++ {
			g += m.wt[r] * m.dlvar[r]
		}
		m.LogSigma2.G[0] = float32(g)
	}

	dzin := m.Dec.Backward(m.dout) // (R, D+C)
	m.dh = tensor.Reuse(m.dh, B, h.Cols)
	m.dh.Zero()
	halves(&m.dmu, &m.dlv, m.dh, D)
	for r := 0; r < R; r++ {
		b := r / k
		dz := dzin.Row(r)[:D]
		dmu := m.dmu.Row(b)
		if !m.Variational() {
			copy(dmu, dz)
			continue
		}
		lv, e, z, dlv := m.lv.Row(b), m.eps.Row(r), zin.Row(r)[:D], m.dlv.Row(b)
		w := float32(m.wt[r])
		for j := range dz {
			g := dz[j]
			if k > 1 {
				g += w * z[j] // −∂ log N(h; 0, I)/∂h = h
			}
			dmu[j] += g
			dlv[j] += g * e[j] * 0.5 * float32(math.Exp(0.5*float64(lv[j])))
			if k > 1 {
				dlv[j] -= 0.5 * w // ∂ log Q/∂lv at fixed ε = −½
			}
		}
	}
	if m.Variational() && k == 1 {
		for b := 0; b < B; b++ {
			mu, lv, dmu, dlv := m.mu.Row(b), m.lv.Row(b), m.dmu.Row(b), m.dlv.Row(b)
			for j := range mu {
				dmu[j] += float32(beta) * mu[j]
				dlv[j] += float32(beta * 0.5 * (math.Exp(float64(lv[j])) - 1))
			}
		}
	}
	m.Enc.Backward(m.dh)
	return st
}

// logPriorOverQ returns log N(h; 0, I) − log N(h; μ, diag exp(lv)) for h = μ + σ⊙ε:
//
//	Σ_j [ −½h_j² + ½ε_j² + ½lv_j ]     (the log 2π terms cancel).
func logPriorOverQ(h, eps, lv []float32) float64 {
	var s float64
	for j, v := range h {
		e := float64(eps[j])
		s += -0.5*float64(v)*float64(v) + 0.5*e*e + 0.5*float64(lv[j])
	}
	return s
}

// repeatRows sets dst to x with every row repeated rep times in a row.
func repeatRows(dst, x *tensor.Mat, rep int) *tensor.Mat {
	dst = tensor.Reuse(dst, x.Rows*rep, x.Cols)
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < rep; j++ {
			copy(dst.Row(i*rep+j), x.Row(i))
		}
	}
	return dst
}
