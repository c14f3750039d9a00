package rbm

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// Untie gives the DBN recognition weights of its own: Rec[l] becomes a copy of
// RBMs[l] (l < L−1), whose W and C are from then on the recognition model
//
//	Q(x_{l+1} | x_l) = Π_j σ(±(R_lᵀ x_l + c_l)_j),
//
// while RBMs[l].W and B stay the generative weights p(x_l | x_{l+1}). After
// greedy training the two are tied (R_l = W_l); the up-down algorithm trains
// them apart. Untie does nothing to a DBN already untied or of one layer.
func (n *DBN) Untie() {
	if n.Rec != nil || len(n.RBMs) < 2 {
		return
	}
	for _, m := range n.RBMs[:len(n.RBMs)-1] {
		n.Rec = append(n.Rec, m.Clone())
	}
}

// Recognition returns the RBM whose W and C are the recognition weights and
// biases of Q(x_{l+1} | x_l): Rec[l] once untied, else RBMs[l] (tied weights).
func (n *DBN) Recognition(l int) *RBM {
	if n.Rec != nil {
		return n.Rec[l]
	}
	return n.RBMs[l]
}

// WakeGrad sets gW (n_l × n_{l+1}) and gb (n_l) to the gradient of the generative
// log-likelihood of the states below given the states above,
//
//	Σ_n log p(below_n | above_n),  p(x | h) = Π_i σ(±(W h + b)_i),
//	∂/∂W_ij = Σ_n (x_ni − p̂_ni) h_nj,   ∂/∂b_i = Σ_n (x_ni − p̂_ni),   p̂ = σ(W h + b),
//
// summed over the rows (the wake phase's "delta rule" of Hinton, Osindero & Teh
// 2006, appendix B). pred is scratch for p̂ (reused when it has room); it is
// returned holding x − p̂.
func WakeGrad(gW *tensor.Mat, gb []float32, m *RBM, below, above, pred *tensor.Mat) *tensor.Mat {
	pred = m.VisibleMean(pred, above) // (N, n_l) p̂
	for r := 0; r < pred.Rows; r++ {
		p, x := pred.Row(r), below.Row(r)
		for i := range p {
			p[i] = x[i] - p[i]
		}
	}
	tensor.Gemm(true, false, 1, pred, above, 0, gW)
	colSums(gb, pred)
	return pred
}

// SleepGrad sets gR (n_l × n_{l+1}) and gc (n_{l+1}) to the gradient of the
// recognition log-probability of the states above given the states below,
//
//	Σ_n log Q(above_n | below_n),  Q(h | x) = Π_j σ(±(Rᵀ x + c)_j),
//	∂/∂R_ij = Σ_n x_ni (h_nj − q̂_nj),   ∂/∂c_j = Σ_n (h_nj − q̂_nj),   q̂ = σ(Rᵀ x + c),
//
// rec holding R and c (the sleep phase of Hinton, Osindero & Teh 2006, appendix
// B, on states the generative model dreamt). pred is scratch for q̂; it is
// returned holding h − q̂.
func SleepGrad(gR *tensor.Mat, gc []float32, rec *RBM, below, above, pred *tensor.Mat) *tensor.Mat {
	pred = rec.HiddenProbs(pred, below) // (N, n_{l+1}) q̂
	for r := 0; r < pred.Rows; r++ {
		q, h := pred.Row(r), above.Row(r)
		for j := range q {
			q[j] = h[j] - q[j]
		}
	}
	tensor.Gemm(true, false, 1, below, pred, 0, gR)
	colSums(gc, pred)
	return pred
}

// colSums sets dst[j] to the sum of column j of x, added in float64 row by row
// (column by column, so that nothing is allocated).
func colSums(dst []float32, x *tensor.Mat) {
	for j := range dst {
		var s float64
		for r := 0; r < x.Rows; r++ {
			s += float64(x.Data[r*x.Stride+j])
		}
		dst[j] = float32(s)
	}
}

// UpDown fine-tunes a DBN by the up-down algorithm (Hinton, Osindero & Teh 2006,
// appendix B; Goodfellow et al. 2016, 20.3), a contrastive form of wake-sleep.
// For a batch of data v = x_0 each Step
//
//  1. up: draws x_{l+1} ~ Q(x_{l+1} | x_l) with the recognition weights, l < L−1;
//  2. top: K block-Gibbs steps of the top RBM from the up-pass state x_{L−1}
//     (its hidden units drawn first), giving a negative state x⁻_{L−1};
//  3. down: draws x⁻_l ~ p(x_l | x⁻_{l+1}) with the generative weights;
//  4. updates, all from the parameters before the step, averaged over the batch:
//     the wake update W_l, b_l += lr·WakeGrad(x_l | x_{l+1}) on the up-pass
//     states, the top RBM's CD-K update (positive phase from the up-pass
//     state, hidden probabilities on both sides), and the sleep update R_l,
//     c_l += lr·SleepGrad(x⁻_{l+1} | x⁻_l) on the down-pass states.
//
// Plain stochastic gradient steps (no momentum, no decay). NewUpDown unties the
// DBN. Draws come from one stream; results do not depend on the number of
// workers.
type UpDown struct {
	Net *DBN
	LR  float64
	K   int
	S   *rng.Stream

	wake, sleep   []*tensor.Mat // x_l of the up pass and x⁻_l of the down pass, l = 0 … L−1 ([0] of wake is the batch)
	prob          []*tensor.Mat // probabilities scratch per layer
	gW            []*tensor.Mat
	gB            [][]float32
	gR            []*tensor.Mat
	gC            [][]float32
	pred, predR   []*tensor.Mat
	ph0, hk, phk  *tensor.Mat
	topG          *tensor.Mat
	topGB, topGC  []float32
	wakeLogCond   float64 // Σ over the last batch of log p(x_0 | x_1) of the up-pass states
	lastBatchRows int
}

// NewUpDown returns an UpDown trainer of n (untied here) with learning rate lr
// and k Gibbs steps at the top, drawing from s. It panics if n has fewer than
// two layers, k < 1 or lr is not positive.
func NewUpDown(n *DBN, lr float64, k int, s *rng.Stream) *UpDown {
	if len(n.RBMs) < 2 || k < 1 || !(lr > 0) {
		panic(fmt.Sprintf("rbm: NewUpDown: %d layers, k %d, lr %g", len(n.RBMs), k, lr))
	}
	n.Untie()
	L := len(n.RBMs)
	u := &UpDown{Net: n, LR: lr, K: k, S: s,
		wake: make([]*tensor.Mat, L), sleep: make([]*tensor.Mat, L), prob: make([]*tensor.Mat, L),
		pred: make([]*tensor.Mat, L-1), predR: make([]*tensor.Mat, L-1)}
	for l := 0; l < L-1; l++ {
		m := n.RBMs[l]
		u.gW = append(u.gW, tensor.New(m.NumVisible(), m.NumHidden()))
		u.gR = append(u.gR, tensor.New(m.NumVisible(), m.NumHidden()))
		u.gB = append(u.gB, make([]float32, m.NumVisible()))
		u.gC = append(u.gC, make([]float32, m.NumHidden()))
	}
	top := n.Top()
	u.topG = tensor.New(top.NumVisible(), top.NumHidden())
	u.topGB, u.topGC = make([]float32, top.NumVisible()), make([]float32, top.NumHidden())
	return u
}

// WakeLogCond returns the mean over the last Step's rows of log p(x_0 | x_1)
// under the generative weights before that step, x_1 its up-pass draw: how well
// the generative model reconstructs the data from the recognition model's code.
func (u *UpDown) WakeLogCond() float64 {
	return u.wakeLogCond / float64(max(u.lastBatchRows, 1))
}

// Step makes one up-down update on the batch x (binary rows).
func (u *UpDown) Step(x *tensor.Mat) {
	n := u.Net
	L := len(n.RBMs)
	N := x.Rows
	if x.Cols != n.RBMs[0].NumVisible() {
		panic(fmt.Sprintf("rbm: UpDown.Step: batch has %d columns, the DBN %d visible units", x.Cols, n.RBMs[0].NumVisible()))
	}
	// 1. Up pass with the recognition weights.
	u.wake[0] = x
	for l := 0; l < L-1; l++ {
		u.prob[l+1] = n.Rec[l].HiddenProbs(u.prob[l+1], u.wake[l]) // (N, n_{l+1})
		u.wake[l+1] = tensor.Reuse(u.wake[l+1], N, n.Rec[l].NumHidden())
		tensor.SampleBernoulli(u.wake[l+1], u.prob[l+1], u.S)
	}
	// 2. CD-K in the top RBM from the up-pass state.
	top := n.Top()
	pen := u.wake[L-1]
	u.ph0 = top.HiddenProbs(u.ph0, pen) // (N, n_L)
	u.hk = tensor.Reuse(u.hk, N, top.NumHidden())
	tensor.SampleBernoulli(u.hk, u.ph0, u.S)
	neg := tensor.Reuse(u.sleep[L-1], N, top.NumVisible())
	u.sleep[L-1] = neg
	for k := 0; k < u.K; k++ {
		u.prob[L-1] = top.VisibleMean(u.prob[L-1], u.hk)
		tensor.SampleBernoulli(neg, u.prob[L-1], u.S)
		u.phk = top.HiddenProbs(u.phk, neg)
		if k+1 < u.K {
			tensor.SampleBernoulli(u.hk, u.phk, u.S)
		}
	}
	// 3. Down pass with the generative weights, from the negative state.
	for l := L - 2; l >= 0; l-- {
		m := n.RBMs[l]
		u.prob[l] = m.VisibleMean(u.prob[l], u.sleep[l+1])
		u.sleep[l] = tensor.Reuse(u.sleep[l], N, m.NumVisible())
		tensor.SampleBernoulli(u.sleep[l], u.prob[l], u.S)
	}
	// 4. All gradients from the parameters before the step, then the updates.
	u.lastBatchRows = N
	u.wakeLogCond = 0
	for l := 0; l < L-1; l++ {
		u.pred[l] = WakeGrad(u.gW[l], u.gB[l], n.RBMs[l], u.wake[l], u.wake[l+1], u.pred[l])
		if l == 0 {
			u.wakeLogCond = logCondFromResidual(u.pred[0], x)
		}
		u.predR[l] = SleepGrad(u.gR[l], u.gC[l], n.Rec[l], u.sleep[l], u.sleep[l+1], u.predR[l])
	}
	// Top: ⟨x hᵀ⟩ from the up pass − ⟨x hᵀ⟩ after K steps.
	tensor.Gemm(true, false, 1, pen, u.ph0, 0, u.topG)
	tensor.Gemm(true, false, -1, neg, u.phk, 1, u.topG)
	diffColSums(u.topGB, pen, neg)
	diffColSums(u.topGC, u.ph0, u.phk)
	a := float32(u.LR / float64(N))
	for l := 0; l < L-1; l++ {
		axpyMat(n.RBMs[l].W, u.gW[l], a)
		axpy(n.RBMs[l].B, u.gB[l], a)
		axpyMat(n.Rec[l].W, u.gR[l], a)
		axpy(n.Rec[l].C, u.gC[l], a)
	}
	axpyMat(top.W, u.topG, a)
	axpy(top.B, u.topGB, a)
	axpy(top.C, u.topGC, a)
}

// logCondFromResidual returns Σ_n log p(x_n | h_n) from the residuals d = x − p̂
// of binary x: p̂ = x − d, and each unit contributes log p̂ (x = 1) or
// log(1 − p̂) (x = 0), i.e. log(1 − |d|).
func logCondFromResidual(d, x *tensor.Mat) float64 {
	var s float64
	for r := 0; r < d.Rows; r++ {
		for _, di := range d.Row(r) {
			p := 1 - float64(abs32(di))
			s += safeLog(p)
		}
	}
	return s
}

// safeLog is log p, with p floored at the float32 resolution at which the
// probability was computed.
func safeLog(p float64) float64 {
	const tiny = 1e-30
	if p < tiny {
		p = tiny
	}
	return math.Log(p)
}

// diffColSums sets dst[j] = Σ_n (a_nj − b_nj), summed in float64.
func diffColSums(dst []float32, a, b *tensor.Mat) {
	for j := range dst {
		var s float64
		for r := 0; r < a.Rows; r++ {
			s += float64(a.Data[r*a.Stride+j]) - float64(b.Data[r*b.Stride+j])
		}
		dst[j] = float32(s)
	}
}

// axpyMat sets y ← y + a·x row by row (an RBM's W has padded rows; see weightMat).
func axpyMat(y, x *tensor.Mat, a float32) {
	for i := 0; i < y.Rows; i++ {
		axpy(y.Row(i), x.Row(i), a)
	}
}

// axpy sets y ← y + a·x.
func axpy(y, x []float32, a float32) {
	for i, v := range x {
		y[i] += a * v
	}
}
