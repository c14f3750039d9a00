package vae

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Encode sets mu (and logVar, unless nil or the model is an ae) to the encoder's
// outputs for x (and y), each (x.Rows, Latent), allocating them when nil. It
// returns mu and logVar.
func (m *Model) Encode(mu, logVar, x, y *tensor.Mat) (*tensor.Mat, *tensor.Mat) {
	m.checkInput("Encode", x, y)
	m.encode(x, y)
	mu = tensor.Reuse(mu, x.Rows, m.Config.Latent)
	mu.Copy(&m.mu)
	if logVar != nil && m.Variational() {
		logVar = tensor.Reuse(logVar, x.Rows, m.Config.Latent)
		logVar.Copy(&m.lv)
	}
	return mu, logVar
}

// Decode sets dst to the decoder's mean E[x|h] for each row of h (and y): σ(logits)
// for a Bernoulli decoder, the mean for a Gaussian one. dst is allocated when nil.
func (m *Model) Decode(dst, h, y *tensor.Mat) *tensor.Mat {
	D := m.Config.Latent
	if h.Cols != D {
		panic(fmt.Sprintf("vae: Decode: codes have %d columns, latent dimension is %d", h.Cols, D))
	}
	if m.Config.CondDim > 0 && (y == nil || y.Rows != h.Rows || y.Cols != m.Config.CondDim) {
		panic(fmt.Sprintf("vae: Decode: cvae needs y with %d rows and %d columns", h.Rows, m.Config.CondDim))
	}
	zin := m.decoderInput(h.Rows, 1, y)
	for r := 0; r < h.Rows; r++ {
		copy(zin.Row(r)[:D], h.Row(r))
	}
	out := m.Dec.Forward(zin)
	dst = tensor.Reuse(dst, h.Rows, m.Dim)
	dst.Copy(out)
	if m.Config.Decoder == Bernoulli {
		for r := 0; r < dst.Rows; r++ {
			tensor.Sigmoid(dst.Row(r), dst.Row(r))
		}
	}
	return dst
}

// Reconstruct sets dst to Decode(μ(x)), the mean reconstruction of each row of x.
func (m *Model) Reconstruct(dst, x, y *tensor.Mat) *tensor.Mat {
	mu, _ := m.Encode(nil, nil, x, y)
	return m.Decode(dst, mu, y)
}

// Sample sets dst to the decoder means of n codes h ~ N(0, I) drawn from s (with
// conditioning y, n rows, for cvae). dst is allocated when nil.
func (m *Model) Sample(dst *tensor.Mat, n int, y *tensor.Mat, s *rng.Stream) *tensor.Mat {
	h := tensor.New(n, m.Config.Latent)
	s.FillNormal(h.Data, 0, 1)
	return m.Decode(dst, h, y)
}

// maxRows bounds the rows of one decoder pass in LogLikelihood, so memory stays
// bounded whatever k is.
func (m *Model) maxRows() int {
	if m.Config.Kind == KindConvVAE {
		return 256
	}
	return 2048
}

// LogLikelihood sets ll[i] to the importance-sampled estimate of log p(x_i) with k
// samples from Q(h|x_i), drawn from s,
//
//	log p̂(x) = log (1/k) Σ_{i=1..k} w_i,   w_i = p(x|h_i) N(h_i; 0, I) / Q(h_i|x),
//
// a stochastic lower bound whose expectation L_k increases with k to log p(x)
// (Burda et al. 2016, Theorem 1). When elbo is not nil, elbo[i] is set to the mean
// of log w_i over the same samples, an unbiased estimate of the ELBO. The log-sum-exp
// runs in float64 and the samples are processed in chunks, so memory does not grow
// with k. For a cvae, log p(x|y) is estimated. It panics for an ae (no density).
func (m *Model) LogLikelihood(ll, elbo []float64, x, y *tensor.Mat, k int, s *rng.Stream) {
	m.checkInput("LogLikelihood", x, y)
	if !m.Variational() {
		panic("vae: LogLikelihood: an autoencoder defines no density")
	}
	if k < 1 || len(ll) != x.Rows || (elbo != nil && len(elbo) != x.Rows) {
		panic(fmt.Sprintf("vae: LogLikelihood: k=%d, len(ll)=%d, len(elbo)=%d for %d rows", k, len(ll), len(elbo), x.Rows))
	}
	D := m.Config.Latent
	nb, kc := max(1, m.maxRows()/k), min(k, m.maxRows()) // examples per pass, samples per chunk
	mus, lvs := tensor.New(nb, D), tensor.New(nb, D)
	var ys *tensor.Mat
	for b0 := 0; b0 < x.Rows; b0 += nb {
		b1 := min(b0+nb, x.Rows)
		xb := x.Slice(b0, b1)
		if y != nil {
			ys = y.Slice(b0, b1)
		}
		m.encode(xb, ys)
		mus, lvs = tensor.Reuse(mus, b1-b0, D), tensor.Reuse(lvs, b1-b0, D)
		mus.Copy(&m.mu)
		lvs.Copy(&m.lv)
		n := b1 - b0
		mx := make([]float64, n) // running log-sum-exp: max and scaled sum
		sum := make([]float64, n)
		mean := make([]float64, n)
		for i := range mx {
			mx[i] = math.Inf(-1)
		}
		for c0 := 0; c0 < k; c0 += kc {
			c := min(kc, k-c0)
			R := n * c
			zin := m.decoderInput(R, c, ys)
			m.eps = tensor.Reuse(m.eps, R, D)
			s.FillNormal(m.eps.Data, 0, 1)
			for r := 0; r < R; r++ {
				mu, lv, e, z := mus.Row(r/c), lvs.Row(r/c), m.eps.Row(r), zin.Row(r)[:D]
				for j := range z {
					z[j] = mu[j] + float32(math.Exp(0.5*float64(lv[j])))*e[j]
				}
			}
			out := m.Dec.Forward(zin)
			m.xr = repeatRows(m.xr, xb, c)
			m.ll = grow(m.ll, R)
			m.reconLogLik(m.ll, out, m.xr)
			for r := 0; r < R; r++ {
				i := r / c
				lw := m.ll[r] + logPriorOverQ(zin.Row(r)[:D], m.eps.Row(r), lvs.Row(i))
				mean[i] += lw
				if lw > mx[i] {
					sum[i] = sum[i]*math.Exp(mx[i]-lw) + 1
					mx[i] = lw
				} else {
					sum[i] += math.Exp(lw - mx[i])
				}
			}
		}
		for i := 0; i < n; i++ {
			ll[b0+i] = mx[i] + math.Log(sum[i]) - math.Log(float64(k))
			if elbo != nil {
				elbo[b0+i] = mean[i] / float64(k)
			}
		}
	}
}

// ELBO sets dst[i] to a one-sample estimate of the ELBO of row i (β = 1),
//
//	log p(x|h) − KL(Q(h|x) ‖ N(0, I)),   h = μ + σ⊙ε, ε drawn from s,
//
// the negative of pytorch/examples vae's test loss. For an ae, dst[i] is the
// reconstruction log-likelihood log p(x|code), which bounds nothing.
func (m *Model) ELBO(dst []float64, x, y *tensor.Mat, s *rng.Stream) {
	m.checkInput("ELBO", x, y)
	if len(dst) != x.Rows {
		panic(fmt.Sprintf("vae: ELBO: len(dst) %d != %d rows", len(dst), x.Rows))
	}
	D := m.Config.Latent
	m.encode(x, y)
	zin := m.decoderInput(x.Rows, 1, y)
	if m.Variational() {
		m.eps = tensor.Reuse(m.eps, x.Rows, D)
		s.FillNormal(m.eps.Data, 0, 1)
	}
	for r := 0; r < x.Rows; r++ {
		mu, z := m.mu.Row(r), zin.Row(r)[:D]
		if !m.Variational() {
			copy(z, mu)
			continue
		}
		lv, e := m.lv.Row(r), m.eps.Row(r)
		for j := range z {
			z[j] = mu[j] + float32(math.Exp(0.5*float64(lv[j])))*e[j]
		}
	}
	out := m.Dec.Forward(zin)
	m.reconLogLik(dst, out, x)
	if m.Variational() {
		for r := range dst {
			dst[r] -= KL(m.mu.Row(r), m.lv.Row(r))
		}
	}
}
