package rbm

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// DBN is a deep belief network (Hinton, Osindero & Teh 2006): layers x_0 = v,
// x_1 … x_L, an RBM over the top two layers and a directed sigmoid network below,
//
//	p(v, h_1, …, h_L) = p(h_{L−1}, h_L) Π_{l=0..L−2} p(x_l | x_{l+1}),
//	p(x_l | x_{l+1}) = Π_i σ(±(W_l x_{l+1} + b_l)_i),
//
// stored as the stack of RBMs that greedy training makes: RBMs[l] joins layer l
// (its visible units) and l+1 (its hidden units). The generative model uses W_l
// and the visible biases b_l of RBMs[l] for l < L−1 and the whole top RBM; the
// hidden biases c_l of the lower RBMs belong to the recognition model
// Q(x_{l+1} | x_l) = Π_j σ(±(W_lᵀ x_l + c_l)_j) that the bound of LowerBound
// uses (until Untie gives Q weights of its own). A DBN of one layer is an RBM. The directed part is normalised, so
// log Z is the top RBM's.
type DBN struct {
	RBMs []*RBM
	// Rec, once Untie has run (up-down fine-tuning), holds the recognition
	// model apart from the generative one: Rec[l].W and Rec[l].C are the weights
	// and biases of Q(x_{l+1} | x_l), l < L−1, and RBMs[l].C is unused. Nil: the
	// recognition weights are the generative ones (Recognition).
	Rec []*RBM
	// Height, Width, Channels describe a visible vector as an image.
	Height, Width, Channels int
}

// NewDBN returns a DBN with layer sizes sizes (visible first, at least one
// hidden layer) and zero parameters, or an error naming a layer that has no
// units.
func NewDBN(sizes []int) (*DBN, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("rbm: a DBN needs a visible layer and at least 1 hidden layer, got %d layers in all", len(sizes))
	}
	for l, n := range sizes {
		if n < 1 {
			return nil, fmt.Errorf("rbm: DBN layer %d has %d units; every layer needs at least 1", l, n)
		}
	}
	n := &DBN{}
	for l := 0; l+1 < len(sizes); l++ {
		m, err := New(Bernoulli, sizes[l], sizes[l+1])
		if err != nil {
			return nil, err
		}
		n.RBMs = append(n.RBMs, m)
	}
	return n, nil
}

// Sizes returns the units per layer, visible first.
func (n *DBN) Sizes() []int {
	s := []int{n.RBMs[0].NumVisible()}
	for _, m := range n.RBMs {
		s = append(s, m.NumHidden())
	}
	return s
}

// Top returns the top RBM.
func (n *DBN) Top() *RBM { return n.RBMs[len(n.RBMs)-1] }

// logCond returns log p(x | h) = Σ_i [x_i a_i − softplus(a_i)], a = W h + b, of the
// visible units of m given its hidden ones, in float64.
func logCond(m *RBM, x, h []float32) float64 {
	var s float64
	for i := range x {
		a := float64(m.B[i])
		for j, w := range m.W.Row(i) {
			if h[j] != 0 {
				a += float64(w) * float64(h[j])
			}
		}
		s += float64(x[i])*a - softplus(a)
	}
	return s
}

// freeEnergy1 returns the free energy F(v) of one binary row v of m, in float64.
func freeEnergy1(m *RBM, v []float32, a []float64) float64 {
	f := m.preActivation(a, v)
	for _, aj := range a {
		f -= softplus(aj)
	}
	return f
}

// MaxDBNEnumUnits is the most units the intermediate layers x_1 … x_{L−1} may have
// together for ExactLogProb to enumerate their states.
const MaxDBNEnumUnits = 24

// enumerate calls fn for every joint state of the intermediate layers x_1 … x_{L−1}
// with log p*(v, x_1, …, x_{L−1}) = Σ_{l≤L−2} log p(x_l | x_{l+1}) − F_top(x_{L−1}).
// hs[l] is x_{l+1}; fn must not keep it.
func (n *DBN) enumerate(v []float32, fn func(hs [][]float32, logJoint float64)) {
	L := len(n.RBMs)
	hs := make([][]float32, L-1)
	total := 0
	for l := range hs {
		hs[l] = make([]float32, n.RBMs[l].NumHidden())
		total += len(hs[l])
	}
	a := make([]float64, n.Top().NumHidden())
	for s := 0; s < 1<<total; s++ {
		k := 0
		for _, h := range hs {
			for j := range h {
				h[j] = float32(s >> k & 1)
				k++
			}
		}
		lj := -freeEnergy1(n.Top(), hs[L-2], a)
		below := v
		for l := 0; l < L-1; l++ {
			lj += logCond(n.RBMs[l], below, hs[l])
			below = hs[l]
		}
		fn(hs, lj)
	}
}

// ExactLogProb sets dst[n] (allocated when nil) to log p(v_n) for the rows of x
// given log Z of the top RBM, summing the intermediate layers' 2^k states
// exactly (k their units together, at most MaxDBNEnumUnits) and the top layer in
// closed form:
//
//	log p(v) = log Σ_{x_1..x_{L−1}} exp(Σ_{l≤L−2} log p(x_l | x_{l+1}) − F_top(x_{L−1})) − log Z.
func (n *DBN) ExactLogProb(dst []float64, x *tensor.Mat, logZ float64) ([]float64, error) {
	k := 0
	for _, m := range n.RBMs[:len(n.RBMs)-1] {
		k += m.NumHidden()
	}
	if k > MaxDBNEnumUnits {
		return nil, fmt.Errorf("rbm: exact log p(v) of a DBN enumerates 2^%d intermediate states; at most 2^%d", k, MaxDBNEnumUnits)
	}
	if dst == nil {
		dst = make([]float64, x.Rows)
	}
	tensor.ParallelFor(x.Rows, 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			if len(n.RBMs) == 1 {
				dst[r] = -freeEnergy1(n.Top(), x.Row(r), make([]float64, n.Top().NumHidden())) - logZ
				continue
			}
			mx, sm := math.Inf(-1), 0.0
			n.enumerate(x.Row(r), func(_ [][]float32, l float64) {
				if l > mx {
					sm, mx = sm*math.Exp(mx-l)+1, l
				} else {
					sm += math.Exp(l - mx)
				}
			})
			dst[r] = mx + math.Log(sm) - logZ
		}
	})
	return dst, nil
}

// Up returns the recognition probabilities of layer l (1 … L−1) for the rows of
// x: Q(x_k | x_{k−1}) applied as a mean-field pass, σ(W_{k−1}ᵀ q + c_{k−1}) from
// q = x upwards. It is the data of the RBM above and the base rates of AIS.
func (n *DBN) Up(x *tensor.Mat, l int) *tensor.Mat {
	q := x
	for k := 0; k < l; k++ {
		q = n.Recognition(k).HiddenProbs(nil, q)
	}
	return q
}

// Bound is what LowerBound returns.
type Bound struct {
	PerExample []float64 // the bound on log p(v_n) of each row (its Monte Carlo mean)
	Mean       float64   // mean over the rows
	// MCStdErr is the Monte Carlo standard error of Mean from the samples of h
	// (0 for a one-layer DBN, whose bound is exact).
	MCStdErr float64
}

// LowerBound estimates for each row v of x the variational lower bound of
// Salakhutdinov & Murray (2008), section 5 (eq. 15 with the recognition model Q,
// the greedy one or, once untied, the up-down one; its nested form for more
// layers):
//
//	log p(v) ≥ E_Q[Σ_{l≤L−2} log p(x_l | x_{l+1}) − F_top(x_{L−1})]
//	           + Σ_{l=1..L−1} E_Q[H(Q(x_l | x_{l−1}))] − log Z,
//
// x_0 = v, with samples ancestral draws of x_1 … x_{L−1} from Q (the entropies
// are exact given each draw's parent). For a one-layer DBN it is log p(v) itself.
// Draws come from rng.NewStream(seed, 0), whatever the number of workers.
func (n *DBN) LowerBound(x *tensor.Mat, samples int, seed uint64, logZ float64) Bound {
	L, N := len(n.RBMs), x.Rows
	b := Bound{PerExample: make([]float64, N)}
	if L == 1 {
		f := n.Top().FreeEnergy(nil, x)
		for r := range f {
			b.PerExample[r] = -f[r] - logZ
			b.Mean += b.PerExample[r] / float64(N)
		}
		return b
	}
	samples = max(samples, 1)
	s := rng.NewStream(seed, 0)
	sum, sum2 := make([]float64, N), make([]float64, N)
	one := make([]float64, N)
	hs := make([]*tensor.Mat, L-1)
	ps := make([]*tensor.Mat, L-1)
	for k := 0; k < samples; k++ {
		clear(one)
		below := x
		for l := 0; l < L-1; l++ {
			m := n.RBMs[l]
			ps[l] = n.Recognition(l).HiddenProbs(ps[l], below) // (N, n_{l+1}) Q(x_{l+1} = 1 | x_l)
			hs[l] = tensor.Reuse(hs[l], N, m.NumHidden())      // (N, n_{l+1})
			tensor.SampleBernoulli(hs[l], ps[l], s)            // x_{l+1} ~ Q
			addLogCondEntropy(one, below, ps[l], m, hs[l])     // log p(x_l|x_{l+1}) + H(Q(x_{l+1}|x_l))
			below = hs[l]
		}
		f := n.Top().FreeEnergy(nil, below)
		for r := range one {
			v := one[r] - f[r]
			sum[r] += v
			sum2[r] += v * v
		}
	}
	var vsum float64
	S := float64(samples)
	for r := range sum {
		mean := sum[r] / S
		b.PerExample[r] = mean - logZ
		b.Mean += b.PerExample[r] / float64(N)
		if samples > 1 {
			vsum += max(sum2[r]/S-mean*mean, 0) * S / (S - 1) / S // variance of the row's mean
		}
	}
	b.MCStdErr = math.Sqrt(vsum) / float64(N)
	return b
}

// addLogCondEntropy adds to dst[r] log p(x_r | h_r) under m's visible units and
// the entropy of Q(h | x_r) (q its probabilities), in float64.
func addLogCondEntropy(dst []float64, x, q *tensor.Mat, m *RBM, h *tensor.Mat) {
	tensor.ParallelFor(x.Rows, 4, func(lo, hi int) {
		a := make([]float64, m.NumVisible())
		for r := lo; r < hi; r++ {
			hr := h.Row(r)
			for i := range a {
				s := float64(m.B[i])
				for j, w := range m.W.Row(i) {
					if hr[j] != 0 {
						s += float64(w)
					}
				}
				a[i] = s
			}
			var s float64
			for i, xi := range x.Row(r) {
				s += float64(xi)*a[i] - softplus(a[i])
			}
			for _, p := range q.Row(r) {
				s += entropy(float64(p))
			}
			dst[r] += s
		}
	})
}

// Sample draws cfg.N samples ancestrally: cfg.Steps block-Gibbs steps of the
// top RBM from its base rate (RBM.Sample), then one draw down each directed
// layer. It returns the visible samples and their means p(v = 1 | x_1).
func (n *DBN) Sample(cfg SampleConfig) (samples, means *tensor.Mat) {
	L := len(n.RBMs)
	h, mu := n.Top().Sample(cfg)
	if L == 1 {
		return h, mu
	}
	s := rng.NewStream(cfg.Seed, 1<<20)
	for l := L - 2; l >= 0; l-- {
		mu = n.RBMs[l].VisibleMean(nil, h)
		h = tensor.New(mu.Rows, mu.Cols)
		tensor.SampleBernoulli(h, mu, s)
	}
	return h, mu
}
