package nn

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of the cross-entropy of
// integer labels under softmax probabilities of the logits (PyTorch's
// F.cross_entropy with reduction "mean"), computed with a stable log-sum-exp:
//
//	ℓ_i = log Σ_k exp(l_ik) − l_{i,y_i} = m_i + log Σ_k exp(l_ik − m_i) − l_{i,y_i},  m_i = max_k l_ik
//	L   = (1/N) Σ_i ℓ_i
//
// and, unless dl is nil, sets dl to the gradient of L:
//
//	∂L/∂l_ik = (softmax(l_i)_k − [k = y_i]) / N.
//
// Everything is computed in float64 on the calling goroutine (one pass over the
// N×K logits, small beside the network). dl may be logits itself. It panics on
// mismatched shapes or a label outside [0, K).
func SoftmaxCrossEntropy(dl, logits *tensor.Mat, labels []int) float64 {
	n, k := logits.Rows, logits.Cols
	if len(labels) != n || (dl != nil && (dl.Rows != n || dl.Cols != k)) {
		panic(fmt.Sprintf("nn: SoftmaxCrossEntropy: %d labels, logits %d×%d, gradient %s", len(labels), n, k, shapeOf(dl)))
	}
	var sum float64
	for i := range n {
		l, y := logits.Row(i), labels[i]
		if y < 0 || y >= k {
			panic(fmt.Sprintf("nn: SoftmaxCrossEntropy: label %d of example %d outside [0, %d)", y, i, k))
		}
		m := float64(l[0])
		for _, v := range l {
			m = max(m, float64(v))
		}
		var z float64
		for _, v := range l {
			z += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(z)
		sum += lse - float64(l[y])
		if dl != nil {
			d := dl.Row(i)
			for j, v := range l {
				p := math.Exp(float64(v) - lse)
				if j == y {
					p--
				}
				d[j] = float32(p / float64(n))
			}
		}
	}
	return sum / float64(n)
}

// BCEWithLogits returns the mean over all values of the binary cross-entropy of
// the constant target t ∈ [0, 1] under p = σ(l) (PyTorch's
// BCEWithLogitsLoss with reduction "mean"), the GAN losses: t = 1 for real data in
// the discriminator's loss and for the non-saturating generator loss −log D(G(z)),
// t = 0 for fakes in the discriminator's loss. Computed stably from the logits,
//
//	ℓ = −t log σ(l) − (1 − t) log(1 − σ(l)) = softplus(l) − t·l
//	  = max(l, 0) − t·l + log1p(exp(−|l|)),
//	L = (1/n) Σ ℓ                      (n = rows·cols)
//
// and, unless dl is nil, dl = ∂L/∂l = (σ(l) − t)/n. Computed in float64 on the
// calling goroutine; dl may be logits itself. It panics on mismatched shapes.
func BCEWithLogits(dl, logits *tensor.Mat, t float64) float64 {
	if dl != nil && (dl.Rows != logits.Rows || dl.Cols != logits.Cols) {
		panic(fmt.Sprintf("nn: BCEWithLogits: logits %d×%d, gradient %s", logits.Rows, logits.Cols, shapeOf(dl)))
	}
	n := float64(logits.Rows * logits.Cols)
	var sum float64
	for i := range logits.Rows {
		l := logits.Row(i)
		var d []float32
		if dl != nil {
			d = dl.Row(i)
		}
		for j, v32 := range l {
			v := float64(v32)
			e := math.Exp(-math.Abs(v))
			sum += max(v, 0) - t*v + math.Log1p(e)
			if d != nil {
				// σ(v) = 1/(1+e) for v ≥ 0, e/(1+e) for v < 0
				s := 1 / (1 + e)
				if v < 0 {
					s = e / (1 + e)
				}
				d[j] = float32((s - t) / n)
			}
		}
	}
	return sum / n
}

func shapeOf(m *tensor.Mat) string {
	if m == nil {
		return "nil"
	}
	return fmt.Sprintf("%d×%d", m.Rows, m.Cols)
}
