package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// BatchNorm normalises each channel over the batch (Ioffe & Szegedy 2015,
// Algorithm 1 and section 3.2 for convolutions), as PyTorch's BatchNorm1d and
// BatchNorm2d do. A row holds Pos positions of C channels, channel fastest: for
// dense activations Pos = 1 and channel c is column c; for NHWC images
// (Conv2D's layout) Pos = H·W and channel c is every C-th value from c.
//
// In training mode, over the M = batch·Pos values x_i of channel c,
//
//	μ = (1/M) Σ x_i,   σ² = (1/M) Σ (x_i − μ)²,   x̂_i = (x_i − μ)/√(σ² + ε),
//	y_i = γ_c x̂_i + β_c
//
// with the derivatives (the batch statistics depend on every x_i)
//
//	∂L/∂β_c = Σ dy_i,   ∂L/∂γ_c = Σ dy_i x̂_i,
//	∂L/∂x_i = γ_c/√(σ² + ε) · (dy_i − (1/M) ∂L/∂β_c − x̂_i (1/M) ∂L/∂γ_c),
//
// and the running statistics are updated with momentum m (PyTorch's convention)
// using the unbiased variance:
//
//	μ̂ ← (1 − m) μ̂ + m μ,   σ̂² ← (1 − m) σ̂² + m σ² M/(M − 1).
//
// In evaluation mode the running statistics replace the batch ones and are
// constants: x̂ = (x − μ̂)/√(σ̂² + ε), y = γ x̂ + β, ∂L/∂x = γ/√(σ̂² + ε) · dy
// (this is what gradient-based samplers of a trained generator need).
//
// Statistics and the parameter gradients are summed in float64; the
// per-element work is float32. The running statistics are buffers (see Buffered):
// SaveLayer stores them with the parameters.
type BatchNorm struct {
	C, Pos        int     // channels; positions per row (1 for dense activations)
	Momentum, Eps float64 // m and ε; NewBatchNorm sets PyTorch's 0.1 and 1e-5

	Gamma, Beta     *Param // γ (initially 1) and β (initially 0), one per channel
	RunMean, RunVar *Param // μ̂ (initially 0) and σ̂² (initially 1): buffers, G is nil

	training, fwdTraining bool
	batch                 int
	xhat, y, dx           *tensor.Mat
	mean, inv             []float64 // per channel: the statistics the last Forward used
	coef                  []float32 // 4C: μ, 1/√(σ²+ε), γ, β (forward); k, a, b (backward)
	sums                  []float64 // 2C
	part                  []float64
}

// NewBatchNorm returns a BatchNorm for dense activations with c columns, in
// training mode.
func NewBatchNorm(c int) *BatchNorm { return NewBatchNorm2D(1, 1, c) }

// NewBatchNorm2D returns a BatchNorm for h×w×c NHWC images (rows of h·w·c
// values, per-channel statistics), in training mode.
func NewBatchNorm2D(h, w, c int) *BatchNorm {
	if h < 1 || w < 1 || c < 1 {
		panic(fmt.Sprintf("nn: NewBatchNorm2D: shape %d×%d×%d", h, w, c))
	}
	l := &BatchNorm{C: c, Pos: h * w, Momentum: 0.1, Eps: 1e-5, training: true,
		Gamma: NewParam("gamma", c), Beta: NewParam("beta", c),
		RunMean: NewBuffer("running_mean", c), RunVar: NewBuffer("running_var", c)}
	for i := range c {
		l.Gamma.W[i] = 1
		l.RunVar.W[i] = 1
	}
	l.mean, l.inv = make([]float64, c), make([]float64, c)
	l.coef, l.sums = make([]float32, 4*c), make([]float64, 2*c)
	return l
}

// SetTraining selects batch statistics (on) or running statistics (off).
func (l *BatchNorm) SetTraining(on bool) { l.training = on }

// Training reports whether l is in training mode.
func (l *BatchNorm) Training() bool { return l.training }

// Params returns γ and β.
func (l *BatchNorm) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Buffers returns the running mean and variance.
func (l *BatchNorm) Buffers() []*Param { return []*Param{l.RunMean, l.RunVar} }

// Forward normalises x with the batch statistics (training; the running
// statistics are updated) or the running ones (evaluation). It panics if
// x.Cols != Pos·C, or in training mode if a channel has fewer than two values
// (batch·Pos < 2), where the variance is undefined (PyTorch refuses it too).
func (l *BatchNorm) Forward(x *tensor.Mat) *tensor.Mat {
	c := l.C
	if x.Cols != l.Pos*c {
		panic(fmt.Sprintf("nn: BatchNorm: rows have %d values, want %d positions × %d channels", x.Cols, l.Pos, c))
	}
	m := x.Rows * l.Pos
	l.batch, l.fwdTraining = x.Rows, l.training
	grain := pieceGrain(x.Rows, x.Cols)
	pieces := (x.Rows + grain - 1) / grain
	if l.training {
		if m < 2 {
			panic(fmt.Sprintf("nn: BatchNorm: training needs more than one value per channel, got batch %d × %d positions", x.Rows, l.Pos))
		}
		// μ_c = (1/M) Σ x
		l.part = partials(l.part, pieces, c)
		j := newNormJob(bnSum)
		j.x, j.c, j.grain, j.part = x, c, grain, l.part
		j.run(x.Rows)
		reducePieces(l.mean, l.part, c, 0)
		for k := range l.mean {
			l.mean[k] /= float64(m)
		}
		// σ²_c = (1/M) Σ (x − μ)², a second pass for accuracy
		l.part = partials(l.part, pieces, c)
		j = newNormJob(bnSumSq)
		j.x, j.c, j.grain, j.part, j.s64 = x, c, grain, l.part, l.mean
		j.run(x.Rows)
		reducePieces(l.inv, l.part, c, 0)
		mom := l.Momentum
		for k, ss := range l.inv {
			v := ss / float64(m)
			l.inv[k] = 1 / math.Sqrt(v+l.Eps)
			rm, rv := &l.RunMean.W[k], &l.RunVar.W[k]
			*rm = float32((1-mom)*float64(*rm) + mom*l.mean[k])
			*rv = float32((1-mom)*float64(*rv) + mom*v*float64(m)/float64(m-1))
		}
	} else {
		for k := range c {
			l.mean[k] = float64(l.RunMean.W[k])
			l.inv[k] = 1 / math.Sqrt(float64(l.RunVar.W[k])+l.Eps)
		}
	}
	// x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β
	for k := range c {
		l.coef[k] = float32(l.mean[k])
		l.coef[c+k] = float32(l.inv[k])
	}
	copy(l.coef[2*c:], l.Gamma.W)
	copy(l.coef[3*c:], l.Beta.W)
	l.xhat = tensor.Reuse(l.xhat, x.Rows, x.Cols)
	l.y = tensor.Reuse(l.y, x.Rows, x.Cols)
	j := newNormJob(bnApply)
	j.x, j.xhat, j.y, j.c, j.grain, j.a = x, l.xhat, l.y, c, grain, l.coef
	j.run(x.Rows)
	return l.y
}

// Backward sets ∂L/∂γ = Σ dy x̂ and ∂L/∂β = Σ dy and returns ∂L/∂x, through the
// batch statistics if the last Forward ran in training mode.
func (l *BatchNorm) Backward(dy *tensor.Mat) *tensor.Mat {
	c := l.C
	if l.xhat == nil || dy.Rows != l.batch || dy.Cols != l.Pos*c {
		panic(fmt.Sprintf("nn: BatchNorm: dy is %d×%d, want %d×%d", dy.Rows, dy.Cols, l.batch, l.Pos*c))
	}
	grain := pieceGrain(dy.Rows, dy.Cols)
	pieces := (dy.Rows + grain - 1) / grain
	l.part = partials(l.part, pieces, 2*c)
	j := newNormJob(bnGradSums)
	j.dy, j.xhat, j.c, j.grain, j.part = dy, l.xhat, c, grain, l.part
	j.run(dy.Rows)
	reducePieces(l.sums, l.part, 2*c, 0)
	dbeta, dgamma := l.sums[:c], l.sums[c:]
	// dx = s·(dy − ∂L/∂β/M − x̂ ∂L/∂γ/M) with s = γ/√(σ²+ε), computed as
	// k·dy − a − x̂ b; in evaluation mode a = b = 0.
	m := float64(l.batch * l.Pos)
	for k := range c {
		l.Beta.G[k] = float32(dbeta[k])
		l.Gamma.G[k] = float32(dgamma[k])
		sc := float64(l.Gamma.W[k]) * l.inv[k]
		l.coef[k] = float32(sc)
		if l.fwdTraining {
			l.coef[c+k] = float32(sc * dbeta[k] / m)
			l.coef[2*c+k] = float32(sc * dgamma[k] / m)
		} else {
			l.coef[c+k], l.coef[2*c+k] = 0, 0
		}
	}
	l.dx = tensor.Reuse(l.dx, dy.Rows, dy.Cols)
	j = newNormJob(bnInputGrad)
	j.dy, j.xhat, j.dx, j.c, j.grain, j.a = dy, l.xhat, l.dx, c, grain, l.coef
	j.run(dy.Rows)
	return l.dx
}

// bnSum adds, for the piece of rows [lo, hi), Σ x per channel into its partials.
func bnSum(j *normJob, lo, hi int) {
	acc := j.part[(lo/j.grain)*j.c:][:j.c]
	for i := lo; i < hi; i++ {
		chanSum(acc, j.x.Row(i))
	}
}

// bnSumSq adds Σ (x − μ)² per channel (μ in j.s64) into the piece's partials.
func bnSumSq(j *normJob, lo, hi int) {
	acc := j.part[(lo/j.grain)*j.c:][:j.c]
	for i := lo; i < hi; i++ {
		chanSumSq(acc, j.s64, j.x.Row(i))
	}
}

// bnApply sets x̂ = (x − μ)·inv and y = γ x̂ + β (coefficients in j.a).
func bnApply(j *normJob, lo, hi int) {
	c := j.c
	mean, inv, g, b := j.a[:c], j.a[c:2*c], j.a[2*c:3*c], j.a[3*c:4*c]
	for i := lo; i < hi; i++ {
		chanNormalize(j.y.Row(i), j.xhat.Row(i), j.x.Row(i), mean, inv, g, b)
	}
}

// bnGradSums adds Σ dy and Σ dy x̂ per channel into the piece's partials
// ([0, C) and [C, 2C)).
func bnGradSums(j *normJob, lo, hi int) {
	c := j.c
	acc := j.part[(lo/j.grain)*2*c:][:2*c]
	for i := lo; i < hi; i++ {
		chanGradSums(acc[:c], acc[c:], j.dy.Row(i), j.xhat.Row(i))
	}
}

// bnInputGrad sets dx = k·dy − a − x̂ b with k, a, b per channel in j.a.
func bnInputGrad(j *normJob, lo, hi int) {
	c := j.c
	k, a, b := j.a[:c], j.a[c:2*c], j.a[2*c:3*c]
	for i := lo; i < hi; i++ {
		chanInputGrad(j.dx.Row(i), j.dy.Row(i), j.xhat.Row(i), k, a, b)
	}
}
