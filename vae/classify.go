package vae

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// A conditional VAE models p(x|y). Bayes' rule turns it into a classifier:
//
//	p(y|x) = p(x|y) p(y) / Σ_y' p(x|y') p(y'),
//
// with p(x|y) estimated by importance sampling (LogLikelihood) and p(y) the class
// frequencies of the training labels (Model.ClassPrior; uniform when unknown).

// ClassFrequencies returns p(y) = n_y / n for y = 0, …, classes−1: the fraction of
// labels equal to y. It panics if labels is empty or a label is outside
// [0, classes).
func ClassFrequencies(labels []int, classes int) []float64 {
	if len(labels) == 0 || classes < 1 {
		panic(fmt.Sprintf("vae: ClassFrequencies: %d labels, %d classes", len(labels), classes))
	}
	p := make([]float64, classes)
	for i, l := range labels {
		if l < 0 || l >= classes {
			panic(fmt.Sprintf("vae: ClassFrequencies: label %d of example %d is outside [0, %d)", l, i, classes))
		}
		p[l]++
	}
	for y := range p {
		p[y] /= float64(len(labels))
	}
	return p
}

// checkClassPrior returns an error unless p is nil or a probability vector over
// the model's classes (len CondDim, entries in [0, 1], sum 1 within 1e-9).
func (m *Model) checkClassPrior(p []float64) error {
	if p == nil {
		return nil
	}
	if m.Config.Kind != KindCVAE {
		return fmt.Errorf("vae: a %s has no classes, but has a class prior of %d values", m.Config.Kind, len(p))
	}
	if len(p) != m.Config.CondDim {
		return fmt.Errorf("vae: class prior has %d values, the cvae has %d classes", len(p), m.Config.CondDim)
	}
	var sum float64
	for y, v := range p {
		if !(v >= 0 && v <= 1) {
			return fmt.Errorf("vae: class prior p(y=%d) = %v is not a probability", y, v)
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		return fmt.Errorf("vae: class prior sums to %v, not 1", sum)
	}
	return nil
}

// logClassPrior returns log p(y) for every class: log ClassPrior, or −log C for
// every class when ClassPrior is nil.
func (m *Model) logClassPrior() []float64 {
	C := m.Config.CondDim
	lp := make([]float64, C)
	for y := range lp {
		if m.ClassPrior != nil {
			lp[y] = math.Log(m.ClassPrior[y])
		} else {
			lp[y] = -math.Log(float64(C))
		}
	}
	return lp
}

// classLogProbs sets lp[i·C + y] to log p(y|x_i) and, unless lse is nil, lse[i] to
// the normaliser log Σ_y p̂(x_i|y) p(y) (see ClassLogProbs).
func (m *Model) classLogProbs(lp, lse []float64, x *tensor.Mat, k int, s *rng.Stream) {
	if m.Config.Kind != KindCVAE {
		panic(fmt.Sprintf("vae: ClassLogProbs: a %s has no classes; classification needs a cvae", m.Config.Kind))
	}
	if x.Cols != m.Dim {
		panic(fmt.Sprintf("vae: ClassLogProbs: data has %d values per example, model expects %d", x.Cols, m.Dim))
	}
	if err := m.checkClassPrior(m.ClassPrior); err != nil {
		panic("vae: ClassLogProbs: " + err.Error())
	}
	n, C := x.Rows, m.Config.CondDim
	if len(lp) != n*C || (lse != nil && len(lse) != n) {
		panic(fmt.Sprintf("vae: ClassLogProbs: %d rows, %d classes: len(lp)=%d, len(lse)=%d", n, C, len(lp), len(lse)))
	}
	if n == 0 {
		return
	}
	prior := m.logClassPrior()
	y := tensor.New(n, C) // (n, C): one-hot rows of the class being scored
	ll := make([]float64, n)
	for c := 0; c < C; c++ {
		y.Zero()
		for i := 0; i < n; i++ {
			y.Set(i, c, 1)
		}
		m.LogLikelihood(ll, nil, x, y, k, s) // log p̂(x_i | y = c)
		for i, v := range ll {
			lp[i*C+c] = v + prior[c]
		}
	}
	for i := 0; i < n; i++ {
		row := lp[i*C : (i+1)*C]
		z := tensor.LogSumExp64(row)
		for c := range row {
			row[c] -= z
		}
		if lse != nil {
			lse[i] = z
		}
	}
}

// ClassLogProbs sets dst (x.Rows × CondDim, allocated when nil) to the cvae's
// posterior log-probability of every class y for every row x of x, by Bayes' rule,
//
//	log p(y|x) = log p̂(x|y) + log p(y) − log Σ_y' exp(log p̂(x|y') + log p(y')),
//
// where log p̂(x|y) is LogLikelihood's importance-weighted estimate with k samples
// (Burda et al. 2016) and p(y) is ClassPrior (uniform when nil). The noise is
// drawn from s by one LogLikelihood call over all of x per class, for
// y = 0, 1, …, CondDim−1 in turn. The sums and the log-sum-exp run in float64;
// each row of exp(dst) sums to 1 up to float32 rounding. It returns dst.
//
// The cost is CondDim times that of LogLikelihood. It panics unless the model is a
// cvae, if x has the wrong width or if ClassPrior is not a distribution over the
// classes.
func (m *Model) ClassLogProbs(dst, x *tensor.Mat, k int, s *rng.Stream) *tensor.Mat {
	C := m.Config.CondDim
	lp := make([]float64, x.Rows*C)
	m.classLogProbs(lp, nil, x, k, s)
	dst = tensor.Reuse(dst, x.Rows, C)
	for i := 0; i < x.Rows; i++ {
		row := dst.Row(i)
		for c := range row {
			row[c] = float32(lp[i*C+c])
		}
	}
	return dst
}

// Predict sets dst[i] (allocated when nil) to the most probable class of row i of
// x under ClassLogProbs (the lowest such class on a tie) and returns dst.
func (m *Model) Predict(dst []int, x *tensor.Mat, k int, s *rng.Stream) []int {
	C := m.Config.CondDim
	lp := make([]float64, x.Rows*C)
	m.classLogProbs(lp, nil, x, k, s)
	if dst == nil {
		dst = make([]int, x.Rows)
	}
	if len(dst) != x.Rows {
		panic(fmt.Sprintf("vae: Predict: len(dst) %d != %d rows", len(dst), x.Rows))
	}
	for i := range dst {
		dst[i] = argmax(lp[i*C : (i+1)*C])
	}
	return dst
}

func argmax(v []float64) int {
	best := 0
	for j, x := range v {
		if x > v[best] {
			best = j
		}
	}
	return best
}

// ClassEval is the score of a cvae used as a classifier on a labelled data set.
type ClassEval struct {
	N int `json:"n"`
	K int `json:"k"` // importance samples per example and class
	// Accuracy is the fraction of examples whose most probable class is their label.
	Accuracy float64 `json:"accuracy"`
	// MeanLogPLabel is the mean of log p(y_true|x) in nats: 0 for a classifier that is
	// certain and right, −log C for one that guesses uniformly.
	MeanLogPLabel float64 `json:"mean_log_p_label"`
	// MarginalLogLik is the mean of log Σ_y p̂(x|y) p(y), an importance-sampled
	// stochastic lower bound on log p(x) (Σ_y p̂(x|y) p(y) is unbiased for p(x)):
	// the cvae scored as a model of x alone.
	MarginalLogLik float64 `json:"marginal_log_likelihood"`
	// Prior says where p(y) came from: "training class frequencies" or "uniform".
	Prior string `json:"prior"`
}

// EvaluateClassifier classifies every example of d with ClassLogProbs (k
// importance samples per example and class, noise from s) and compares the
// predictions with d's labels. It returns an error if the model is not a cvae, if
// d has no labels or does not fit the model, or if k < 1.
func (m *Model) EvaluateClassifier(d *dataset.Dataset, k int, s *rng.Stream) (ClassEval, error) {
	if m.Config.Kind != KindCVAE {
		return ClassEval{}, fmt.Errorf("vae: only a cvae can classify (it models p(x|y)); this model is a %s", m.Config.Kind)
	}
	if d.Labels == nil {
		return ClassEval{}, fmt.Errorf("vae: data set %q has no labels to compare the predicted classes with", d.Name)
	}
	if err := m.CheckData(d); err != nil {
		return ClassEval{}, err
	}
	if k < 1 {
		return ClassEval{}, fmt.Errorf("vae: importance samples must be >= 1, got %d", k)
	}
	ev := ClassEval{N: d.Len(), K: k, Prior: "uniform"}
	if m.ClassPrior != nil {
		ev.Prior = "training class frequencies"
	}
	const batch = 500
	C := m.Config.CondDim
	lp, lse := make([]float64, batch*C), make([]float64, batch)
	var right int
	var sumLabel, sumMarg float64
	for b0 := 0; b0 < d.Len(); b0 += batch {
		b1 := min(b0+batch, d.Len())
		n := b1 - b0
		m.classLogProbs(lp[:n*C], lse[:n], d.X.Slice(b0, b1), k, s)
		for i := 0; i < n; i++ {
			row, label := lp[i*C:(i+1)*C], d.Labels[b0+i]
			if argmax(row) == label {
				right++
			}
			sumLabel += row[label]
			sumMarg += lse[i]
		}
	}
	if ev.N > 0 {
		ev.Accuracy = float64(right) / float64(ev.N)
		ev.MeanLogPLabel = sumLabel / float64(ev.N)
		ev.MarginalLogLik = sumMarg / float64(ev.N)
	}
	return ev, nil
}
