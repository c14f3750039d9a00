package helmholtz

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Machine is a Helmholtz machine with layer sizes Sizes = [D, H_1, ..., H_L].
// Layer i = 0 is the visible layer.
type Machine struct {
	Sizes []int
	Top   []float32     // b: prior biases of h_L, len H_L
	GenW  []*tensor.Mat // GenW[i] = G_{i+1}: h_{i+1} → layer i, (Sizes[i], Sizes[i+1])
	GenB  [][]float32   // GenB[i] = c_i, len Sizes[i]
	RecW  []*tensor.Mat // RecW[i] = R_{i+1}: layer i → h_{i+1}, (Sizes[i+1], Sizes[i])
	RecB  [][]float32   // RecB[i] = r_{i+1}, len Sizes[i+1]
}

// New returns a machine with weights drawn from N(0, 0.01²) and zero biases. It
// panics unless len(sizes) >= 2 and every size is >= 1.
func New(sizes []int, s *rng.Stream) *Machine {
	if len(sizes) < 2 {
		panic("helmholtz: New needs a visible and at least one hidden layer")
	}
	for _, n := range sizes {
		if n < 1 {
			panic(fmt.Sprintf("helmholtz: New: layer size %d", n))
		}
	}
	l := len(sizes) - 1
	m := &Machine{Sizes: append([]int(nil), sizes...), Top: make([]float32, sizes[l])}
	for i := 0; i < l; i++ {
		g := tensor.New(sizes[i], sizes[i+1])
		s.FillNormal(g.Data, 0, 0.01)
		r := tensor.New(sizes[i+1], sizes[i])
		s.FillNormal(r.Data, 0, 0.01)
		m.GenW = append(m.GenW, g)
		m.GenB = append(m.GenB, make([]float32, sizes[i]))
		m.RecW = append(m.RecW, r)
		m.RecB = append(m.RecB, make([]float32, sizes[i+1]))
	}
	return m
}

// Layers returns L, the number of hidden layers.
func (m *Machine) Layers() int { return len(m.Sizes) - 1 }

// params lists every parameter slice in a fixed order (the order of gradients,
// optimiser moments and checkpoint tensors).
func (m *Machine) params() [][]float32 {
	ps := [][]float32{m.Top}
	for i := range m.GenW {
		ps = append(ps, m.GenW[i].Data, m.GenB[i], m.RecW[i].Data, m.RecB[i])
	}
	return ps
}

func paramNames(l int) []string {
	ns := []string{"gen.top"}
	for i := 0; i < l; i++ {
		ns = append(ns, fmt.Sprintf("gen.w%d", i+1), fmt.Sprintf("gen.c%d", i),
			fmt.Sprintf("rec.w%d", i+1), fmt.Sprintf("rec.b%d", i+1))
	}
	return ns
}

// InitVisibleBias sets the visible generative biases to the logits of the data
// means (clamped to [1e-3, 1-1e-3]), the usual starting point for binary data.
func (m *Machine) InitVisibleBias(x *tensor.Mat) {
	mean := make([]float64, x.Cols)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		p := math.Min(math.Max(mean[j]/float64(x.Rows), 1e-3), 1-1e-3)
		m.GenB[0][j] = float32(math.Log(p / (1 - p)))
	}
}

// bernLogProb returns Σ_j v_j a_j - sp_j = Σ_j log Bernoulli(v_j | σ(a_j)), with
// sp = softplus(a) precomputed, summed in float64.
func bernLogProb(v, a, sp []float32) float64 {
	var s float64
	for j, aj := range a {
		s += float64(v[j]*aj) - float64(sp[j])
	}
	return s
}

// layerPass sets a = h·Wᵀ + bias (rows of h are inputs) and p = σ(a).
func layerPass(a, p, h, w *tensor.Mat, bias []float32) {
	tensor.Gemm(false, true, 1, h, w, 0, a)
	a.AddRowVec(bias)
	tensor.Sigmoid(p.Data, a.Data)
}

// draw sets h[r, j] = 1 if u < p[r, j], with u from streams[r] (one stream per row,
// which may repeat), in row order.
func draw(h, p *tensor.Mat, streams []*rng.Stream) {
	for r := 0; r < p.Rows; r++ {
		s := streams[r]
		hr := h.Row(r)
		for j, pj := range p.Row(r) {
			if s.Float32() < pj {
				hr[j] = 1
			} else {
				hr[j] = 0
			}
		}
	}
}

// pass holds the buffers of one batched pass through the recognition and generative
// networks.
type pass struct {
	h      []*tensor.Mat // h[0] input, h[i] samples of layer i, (rows, Sizes[i])
	qa, qp []*tensor.Mat // recognition pre-activations / probabilities of layer i>=1
	ga, gp []*tensor.Mat // generative pre-activations / probabilities of layer i<L
	logq   []float64     // per row: log q(h|x)
	logp   []float64     // per row: log p(x, h)
	topP   []float32     // σ(top)
	topSp  []float32     // softplus(top)
	sp     []*tensor.Mat // softplus of qa
	gsp    []*tensor.Mat // softplus of ga
}

func (ps *pass) ensure(m *Machine, rows int) {
	l := m.Layers()
	if len(ps.h) != l+1 {
		ps.h = make([]*tensor.Mat, l+1)
		ps.qa = make([]*tensor.Mat, l+1)
		ps.qp = make([]*tensor.Mat, l+1)
		ps.ga = make([]*tensor.Mat, l)
		ps.gp = make([]*tensor.Mat, l)
		ps.sp = make([]*tensor.Mat, l+1)
		ps.gsp = make([]*tensor.Mat, l)
	}
	for i := 0; i <= l; i++ {
		ps.h[i] = tensor.Reuse(ps.h[i], rows, m.Sizes[i])
		if i > 0 {
			ps.qa[i] = tensor.Reuse(ps.qa[i], rows, m.Sizes[i])
			ps.qp[i] = tensor.Reuse(ps.qp[i], rows, m.Sizes[i])
		}
		if i < l {
			ps.ga[i] = tensor.Reuse(ps.ga[i], rows, m.Sizes[i])
			ps.gp[i] = tensor.Reuse(ps.gp[i], rows, m.Sizes[i])
		}
	}
	if cap(ps.logq) < rows {
		ps.logq = make([]float64, rows)
		ps.logp = make([]float64, rows)
	}
	ps.logq, ps.logp = ps.logq[:rows], ps.logp[:rows]
	if len(ps.topP) != m.Sizes[l] {
		ps.topP = make([]float32, m.Sizes[l])
		ps.topSp = make([]float32, m.Sizes[l])
	}
}

// recognise samples h_1..h_L ~ q(·|h_0) for the rows of ps.h[0] and, when logs is
// set, sets ps.logq.
func (m *Machine) recognise(ps *pass, streams []*rng.Stream, logs bool) {
	for i := 0; i < m.Layers(); i++ {
		layerPass(ps.qa[i+1], ps.qp[i+1], ps.h[i], m.RecW[i], m.RecB[i])
		draw(ps.h[i+1], ps.qp[i+1], streams)
	}
	if logs {
		for i := 1; i <= m.Layers(); i++ {
			ps.sp[i] = tensor.Reuse(ps.sp[i], ps.qa[i].Rows, ps.qa[i].Cols)
			tensor.Softplus(ps.sp[i].Data, ps.qa[i].Data)
		}
		for r := range ps.logq {
			var s float64
			for i := 1; i <= m.Layers(); i++ {
				s += bernLogProb(ps.h[i].Row(r), ps.qa[i].Row(r), ps.sp[i].Row(r))
			}
			ps.logq[r] = s
		}
	}
}

// generativeScore sets ps.ga, ps.gp from the samples in ps.h and, when logs is set,
// ps.logp = log p(h_0, h_1, ..., h_L) per row.
func (m *Machine) generativeScore(ps *pass, logs bool) {
	l := m.Layers()
	tensor.Sigmoid(ps.topP, m.Top)
	for i := l - 1; i >= 0; i-- {
		layerPass(ps.ga[i], ps.gp[i], ps.h[i+1], m.GenW[i], m.GenB[i])
	}
	if logs {
		tensor.Softplus(ps.topSp, m.Top)
		for i := 0; i < l; i++ {
			ps.gsp[i] = tensor.Reuse(ps.gsp[i], ps.ga[i].Rows, ps.ga[i].Cols)
			tensor.Softplus(ps.gsp[i].Data, ps.ga[i].Data)
		}
		for r := range ps.logp {
			s := bernLogProb(ps.h[l].Row(r), m.Top, ps.topSp)
			for i := 0; i < l; i++ {
				s += bernLogProb(ps.h[i].Row(r), ps.ga[i].Row(r), ps.gsp[i].Row(r))
			}
			ps.logp[r] = s
		}
	}
}

// dream samples (x, h) ~ p into ps.h for ps.h[0].Rows rows, from the top down.
func (m *Machine) dream(ps *pass, s *rng.Stream) {
	l := m.Layers()
	rows := ps.h[0].Rows
	tensor.Sigmoid(ps.topP, m.Top)
	top := ps.h[l]
	for r := 0; r < rows; r++ {
		hr := top.Row(r)
		for j, p := range ps.topP {
			if s.Float32() < p {
				hr[j] = 1
			} else {
				hr[j] = 0
			}
		}
	}
	for i := l - 1; i >= 0; i-- {
		layerPass(ps.ga[i], ps.gp[i], ps.h[i+1], m.GenW[i], m.GenB[i])
		for r := 0; r < rows; r++ {
			hr := ps.h[i].Row(r)
			for j, p := range ps.gp[i].Row(r) {
				if s.Float32() < p {
					hr[j] = 1
				} else {
					hr[j] = 0
				}
			}
		}
	}
}

// Sample draws n examples from the generative model. It returns the binary samples
// and the Bernoulli means of the visible layer given the sampled h_1 (n×D each).
func (m *Machine) Sample(n int, s *rng.Stream) (x, mean *tensor.Mat) {
	var ps pass
	ps.ensure(m, n)
	m.dream(&ps, s)
	return ps.h[0].Clone(), ps.gp[0].Clone()
}

// ISConfig sets the importance-sampling estimate of log p(x).
type ISConfig struct {
	K    int    // samples per example (k = 5000 for reported figures); 0 means 5000
	Seed uint64 // example n uses stream (Seed, Offset+n): the estimate does not depend on batching
	// Offset is the index of the first row of x in the whole data set, so that
	// scoring it in pieces gives the same numbers as in one go.
	Offset int
}

// blockRows is the number of rows per batched pass in LogProb.
const blockRows = 1000

// LogProb sets dst[n] to the importance-sampling estimate
//
//	log p̂(x_n) = log (1/k) Σ_i exp(log p(x_n, h^(i)) - log q(h^(i)|x_n)),  h^(i) ~ q(·|x_n),
//
// (dst allocated when nil) and returns it. With k = 1 it is a one-sample ELBO. The
// log-weights are float64 sums of per-unit terms, combined by a float64 log-sum-exp.
func (m *Machine) LogProb(dst []float64, x *tensor.Mat, cfg ISConfig) []float64 {
	if x.Cols != m.Sizes[0] {
		panic(fmt.Sprintf("helmholtz: LogProb: %d columns, model has %d visible units", x.Cols, m.Sizes[0]))
	}
	k := cfg.K
	if k <= 0 {
		k = 5000
	}
	if dst == nil {
		dst = make([]float64, x.Rows)
	}
	per := max(1, blockRows/k) // examples per block
	spb := min(k, blockRows)   // samples per example per block
	nBlocks := (x.Rows + per - 1) / per
	// Blocks are independent: each example has its own stream.
	tensor.ParallelFor(nBlocks, 1, func(b0, b1 int) {
		var ps pass
		var streams []*rng.Stream
		logw := make([]float64, per*k)
		for b := b0; b < b1; b++ {
			e0, e1 := b*per, min((b+1)*per, x.Rows)
			ne := e1 - e0
			ex := make([]*rng.Stream, ne)
			for e := range ex {
				ex[e] = rng.NewStream(cfg.Seed, uint64(cfg.Offset+e0+e))
			}
			for done := 0; done < k; done += spb {
				ns := min(spb, k-done)
				rows := ne * ns
				ps.ensure(m, rows)
				streams = streams[:0]
				for e := 0; e < ne; e++ {
					xr := x.Row(e0 + e)
					for s := 0; s < ns; s++ {
						copy(ps.h[0].Row(e*ns+s), xr)
						streams = append(streams, ex[e])
					}
				}
				m.recognise(&ps, streams, true)
				m.generativeScore(&ps, true)
				for e := 0; e < ne; e++ {
					for s := 0; s < ns; s++ {
						logw[e*k+done+s] = ps.logp[e*ns+s] - ps.logq[e*ns+s]
					}
				}
			}
			for e := 0; e < ne; e++ {
				dst[e0+e] = logMeanExp(logw[e*k : (e+1)*k])
			}
		}
	})
	return dst
}

// MeanStdErr returns the mean of the per-example estimates v and its standard
// error over the examples,
//
//	mean = (1/n) Σ_n v_n,   se = √( (1/n) Σ_n (v_n − mean)² / n ),
//
// summed in float64 in row order. It is the spread of log p(x) over the data
// scored, not the Monte Carlo error of each v_n (small for large k).
func MeanStdErr(v []float64) (mean, se float64) {
	if len(v) == 0 {
		return math.NaN(), 0
	}
	for _, x := range v {
		mean += x
	}
	n := float64(len(v))
	mean /= n
	var sq float64
	for _, x := range v {
		sq += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sq / n / n)
}

func logMeanExp(v []float64) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = math.Max(mx, x)
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - mx)
	}
	return mx + math.Log(s/float64(len(v)))
}
