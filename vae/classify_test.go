package vae

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// fixedCVAE returns a Bernoulli cvae with C classes over P binary values whose
// encoder always outputs Q(h|x, y) = N(0, I) and whose decoder logits are
// logits[y], whatever h. Every importance weight is then exactly p(x|y) =
// Π_j Bernoulli(x_j; σ(logits[y][j])), so LogLikelihood is exact for any k.
func fixedCVAE(t *testing.T, logits [][]float64) *Model {
	C, P, D := len(logits), len(logits[0]), 2
	m, err := New(Config{Kind: KindCVAE, CondDim: C, Latent: D, Hidden: []int{1}}, P, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	enc := nn.NewLinear(P+C, 2*D, nn.Glorot, rng.New(2))
	enc.NoInputGrad = true
	for i := range enc.W.W {
		enc.W.W[i] = 0
	}
	for i := range enc.B.W {
		enc.B.W[i] = 0 // μ = 0, log σ² = 0
	}
	dec := nn.NewLinear(D+C, P, nn.Glorot, rng.New(3)) // W is (in, out)
	for i := range dec.W.W {
		dec.W.W[i] = 0
	}
	for y := 0; y < C; y++ {
		for j := 0; j < P; j++ {
			dec.W.W[(D+y)*P+j] = float32(logits[y][j])
		}
	}
	for i := range dec.B.W {
		dec.B.W[i] = 0
	}
	m.Enc, m.Dec = nn.NewSequential(enc), nn.NewSequential(dec)
	return m
}

// bernLogLik returns Σ_j x_j l_j − softplus(l_j) in float64.
func bernLogLik(x []float32, l []float64) float64 {
	var s float64
	for j, v := range x {
		s += float64(v)*l[j] - math.Log1p(math.Exp(l[j]))
	}
	return s
}

// twoPatterns returns n binary rows of P values: class 0 has the first half of its
// values on with probability 0.9 and the rest with 0.1, class 1 the opposite. Every
// third example is class 1.
func twoPatterns(n, P int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, P)
	labels := make([]int, n)
	for i := range labels {
		if i%3 == 2 {
			labels[i] = 1
		}
		for j := 0; j < P; j++ {
			p := 0.1
			if (j < P/2) == (labels[i] == 0) {
				p = 0.9
			}
			if s.Float64() < p {
				x.Set(i, j, 1)
			}
		}
	}
	return &dataset.Dataset{Name: "two-patterns", X: x, Labels: labels, NumClasses: 2, Binary: true}
}

// TestClassLogProbsClosedForm: for a cvae whose p(x|y) is a known product of
// Bernoullis and whose importance weights are all exactly p(x|y), ClassLogProbs
// is Bayes' rule in closed form, with a uniform prior and with a set one.
func TestClassLogProbsClosedForm(t *testing.T) {
	const P = 12
	logits := make([][]float64, 3)
	for y := range logits {
		logits[y] = make([]float64, P)
		for j := range logits[y] {
			logits[y][j] = -2 // class y switches on values [4y, 4y+4)
			if j/4 == y {
				logits[y][j] = 2
			}
		}
	}
	m := fixedCVAE(t, logits)
	x := tensor.New(9, P)
	s := rng.New(4)
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < P; j++ {
			if s.Float64() < 1/(1+math.Exp(-logits[i%3][j])) {
				x.Set(i, j, 1)
			}
		}
	}
	for _, prior := range [][]float64{nil, {0.5, 0.3, 0.2}} {
		m.ClassPrior = prior
		lp := m.ClassLogProbs(nil, x, 3, rng.New(5))
		if lp.Rows != x.Rows || lp.Cols != 3 {
			t.Fatalf("ClassLogProbs is %d×%d, want %d×3", lp.Rows, lp.Cols, x.Rows)
		}
		for i := 0; i < x.Rows; i++ {
			joint := make([]float64, 3)
			for y := range joint {
				py := 1.0 / 3
				if prior != nil {
					py = prior[y]
				}
				joint[y] = bernLogLik(x.Row(i), logits[y]) + math.Log(py)
			}
			z := tensor.LogSumExp64(joint)
			var sum float64
			for y := range joint {
				want, got := joint[y]-z, float64(lp.At(i, y))
				if math.Abs(got-want) > 1e-4 {
					t.Errorf("prior %v, x%d: log p(y=%d|x) = %.6f, Bayes' rule gives %.6f", prior, i, y, got, want)
				}
				sum += math.Exp(got)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("prior %v, x%d: probabilities sum to %v", prior, i, sum)
			}
		}
	}
}

// TestClassLogProbsIdentity: on a randomly initialised cvae (noisy estimates),
// ClassLogProbs equals log p̂(x|y) + log p(y) − log Σ_y' p̂(x|y') p(y') computed from
// LogLikelihood calls for y = 0, 1, 2 on a stream in the same state, exactly.
func TestClassLogProbsIdentity(t *testing.T) {
	const P, C, k = 10, 3, 4
	m, err := New(Config{Kind: KindCVAE, CondDim: C, Latent: 2, Hidden: []int{8}}, P, rng.New(6))
	if err != nil {
		t.Fatal(err)
	}
	m.ClassPrior = []float64{0.2, 0.5, 0.3}
	x := tensor.New(7, P)
	rng.New(7).FillUniform(x.Data)
	got := m.ClassLogProbs(nil, x, k, rng.New(8))

	s := rng.New(8)
	joint := make([][]float64, x.Rows)
	for i := range joint {
		joint[i] = make([]float64, C)
	}
	ll := make([]float64, x.Rows)
	for y := 0; y < C; y++ {
		idx, labels := make([]int, x.Rows), make([]int, x.Rows)
		for i := range idx {
			idx[i], labels[i] = i, y
		}
		m.LogLikelihood(ll, nil, x, OneHot(nil, labels, idx, C), k, s)
		for i, v := range ll {
			joint[i][y] = v + math.Log(m.ClassPrior[y])
		}
	}
	for i := range joint {
		z := tensor.LogSumExp64(joint[i])
		for y := 0; y < C; y++ {
			if want := float32(joint[i][y] - z); got.At(i, y) != want {
				t.Errorf("x%d y=%d: ClassLogProbs %v, identity %v", i, y, got.At(i, y), want)
			}
		}
	}
	pred := m.Predict(nil, x, k, rng.New(8))
	for i, p := range pred {
		if want := argmax(joint[i]); p != want {
			t.Errorf("x%d: Predict %d, argmax %d", i, p, want)
		}
	}
}

// TestCVAEClassifierTrained trains a cvae on two well-separated binary patterns
// (one third class 1) and checks that it classifies held-out data perfectly, that
// training recorded the class frequencies as p(y), and that they survive a model
// file round trip; a model file without them loads with a uniform prior.
func TestCVAEClassifierTrained(t *testing.T) {
	const P = 16
	train, test := twoPatterns(300, P, 9), twoPatterns(60, P, 10)
	tr, err := NewTrainer(Config{Kind: KindCVAE, CondDim: 2, Latent: 2, Hidden: []int{16}}, P,
		TrainConfig{BatchSize: 30, LR: 1e-2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Model.ClassPrior = ClassFrequencies(train.Labels, 2) // as `latent train cvae` does
	mustFit(t, tr, train, 15)
	m := tr.Model
	if p := m.ClassPrior; len(p) != 2 || p[0] != 200.0/300 || p[1] != 100.0/300 {
		t.Errorf("ClassPrior %v, want the training frequencies [2/3 1/3]", p)
	}
	ev, err := m.EvaluateClassifier(test, 20, rng.New(11))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", ev)
	if ev.N != 60 || ev.K != 20 || ev.Accuracy != 1 || !(ev.MeanLogPLabel > -0.05 && ev.MeanLogPLabel <= 0) ||
		ev.Prior != "training class frequencies" {
		t.Errorf("EvaluateClassifier: %+v, want n 60, k 20, accuracy 1, mean log p(label|x) in (−0.05, 0]", ev)
	}
	// The marginal log p(x) ≥ log p(x|y_true) + log p(y_true) (Σ_y over positive terms),
	// up to the noise of the estimates.
	cond, err := m.Evaluate(test, 20, rng.New(12))
	if err != nil {
		t.Fatal(err)
	}
	if !(ev.MarginalLogLik < 0) || ev.MarginalLogLik < cond.LogLik+math.Log(1.0/3)-0.5 {
		t.Errorf("marginal log-likelihood %.4f, conditional %.4f", ev.MarginalLogLik, cond.LogLik)
	}
	lp := m.ClassLogProbs(nil, test.X, 20, rng.New(13))
	for i := 0; i < lp.Rows; i++ {
		p0, p1 := math.Exp(float64(lp.At(i, 0))), math.Exp(float64(lp.At(i, 1)))
		if math.Abs(p0+p1-1) > 1e-5 {
			t.Errorf("x%d: p(y|x) = %v + %v", i, p0, p1)
		}
	}

	f := &checkpoint.File{}
	if err := tr.Save(f); err != nil {
		t.Fatal(err)
	}
	tr2, err := LoadTrainer(f)
	if err != nil {
		t.Fatal(err)
	}
	if p := tr2.Model.ClassPrior; len(p) != 2 || p[0] != m.ClassPrior[0] || p[1] != m.ClassPrior[1] {
		t.Errorf("loaded ClassPrior %v, saved %v", p, m.ClassPrior)
	}
	// A file from before the prior was recorded: no "class_prior" in the metadata.
	var mt map[string]any
	if err := f.GetMeta(&mt); err != nil {
		t.Fatal(err)
	}
	delete(mt, "class_prior")
	old := *f
	if err := old.SetMeta(mt); err != nil {
		t.Fatal(err)
	}
	tr3, err := LoadTrainer(&old)
	if err != nil {
		t.Fatalf("old model file: %v", err)
	}
	if tr3.Model.ClassPrior != nil {
		t.Errorf("old model file: ClassPrior %v, want nil (uniform)", tr3.Model.ClassPrior)
	}
	ev3, err := tr3.Model.EvaluateClassifier(test, 5, rng.New(11))
	if err != nil || ev3.Prior != "uniform" || ev3.Accuracy != 1 {
		t.Errorf("old model file: %+v, %v", ev3, err)
	}
	// A prior of the wrong length is a bad file, not a panic later.
	mt["class_prior"] = []float64{0.2, 0.3, 0.5}
	bad := *f
	if err := bad.SetMeta(mt); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrainer(&bad); err == nil || !strings.Contains(err.Error(), "class prior has 3 values, the cvae has 2 classes") {
		t.Errorf("bad class prior: %v", err)
	}
}

func TestClassifyErrors(t *testing.T) {
	d := twoPatterns(20, 8, 1)
	v, err := New(Config{Latent: 2, Hidden: []int{4}}, 8, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.EvaluateClassifier(d, 5, rng.New(2)); err == nil || !strings.Contains(err.Error(), "only a cvae can classify") {
		t.Errorf("vae: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "classification needs a cvae") {
				t.Errorf("ClassLogProbs on a vae: panic %v", r)
			}
		}()
		v.ClassLogProbs(nil, d.X, 5, rng.New(2))
	}()
	c, err := New(Config{Kind: KindCVAE, CondDim: 2, Latent: 2, Hidden: []int{4}}, 8, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	unlabelled := &dataset.Dataset{Name: "plain", X: d.X}
	if _, err := c.EvaluateClassifier(unlabelled, 5, rng.New(2)); err == nil || !strings.Contains(err.Error(), `data set "plain" has no labels`) {
		t.Errorf("no labels: %v", err)
	}
	if _, err := c.EvaluateClassifier(d, 0, rng.New(2)); err == nil || !strings.Contains(err.Error(), "must be >= 1, got 0") {
		t.Errorf("k = 0: %v", err)
	}
	c.ClassPrior = []float64{0.5, 0.6}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "sums to") {
				t.Errorf("bad ClassPrior: panic %v", r)
			}
		}()
		c.ClassLogProbs(nil, d.X, 5, rng.New(2))
	}()
}
