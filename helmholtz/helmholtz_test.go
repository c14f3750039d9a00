package helmholtz

import (
	"context"
	"math"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// tiny returns a machine with the given sizes and weights of scale std, so that the
// posterior is far from factorial.
func tiny(sizes []int, std float32, seed uint64) *Machine {
	s := rng.New(seed)
	m := New(sizes, s)
	for _, p := range m.params() {
		s.FillNormal(p, 0, std)
	}
	for _, w := range m.RecW { // a broad proposal: IS converges quickly
		w.Scale(0.3)
	}
	return m
}

func binaryRows(n, d int, seed uint64) *tensor.Mat {
	s := rng.New(seed)
	x := tensor.New(n, d)
	for i := range x.Data {
		if s.Float64() < 0.4 {
			x.Data[i] = 1
		}
	}
	return x
}

// TestISAgainstExact: on 6-3 and 6-3-2 machines the importance-sampling estimate
// approaches the exact log p(x) (enumeration) as k grows; the k = 1 estimate averages
// to the exact ELBO, which is <= log p(x).
func TestISAgainstExact(t *testing.T) {
	for _, sizes := range [][]int{{6, 3}, {6, 3, 2}} {
		m := tiny(sizes, 1.5, 3)
		x := binaryRows(5, 6, 4)
		exact, err := m.ExactLogProb(x)
		if err != nil {
			t.Fatal(err)
		}
		elbo, _ := m.ExactELBO(x)
		for n := range exact {
			if elbo[n] > exact[n]+1e-12 {
				t.Errorf("%v row %d: ELBO %v > log p %v", sizes, n, elbo[n], exact[n])
			}
		}
		prevErr := math.Inf(1)
		for _, k := range []int{1, 30, 3000, 30000} {
			est := m.LogProb(nil, x, ISConfig{K: k, Seed: 9})
			var e float64
			for n := range est {
				e += math.Abs(est[n] - exact[n])
			}
			e /= float64(len(est))
			t.Logf("%v k=%d: mean |IS - exact| = %.4f", sizes, k, e)
			if k > 1 && e > prevErr {
				t.Errorf("%v: error grew from %v to %v at k=%d", sizes, prevErr, e, k)
			}
			prevErr = e
		}
		if prevErr > 0.05 { // relative s.d. of p̂ ≈ sqrt(2^H/k): 0.03 for 32 states
			t.Errorf("%v: k=30000 error %v > 0.05", sizes, prevErr)
		}
		// k = 1: mean over many independent draws ≈ exact ELBO (MC tolerance 5 s.e.).
		const reps = 4000
		rep := tensor.New(reps, 6)
		for r := 0; r < reps; r++ {
			copy(rep.Row(r), x.Row(0))
		}
		one := m.LogProb(nil, rep, ISConfig{K: 1, Seed: 1})
		var mean, sq float64
		for _, v := range one {
			mean += v / reps
			sq += v * v / reps
		}
		se := math.Sqrt((sq - mean*mean) / reps)
		if math.Abs(mean-elbo[0]) > 5*se {
			t.Errorf("%v: k=1 mean %v ± %v, exact ELBO %v", sizes, mean, se, elbo[0])
		}
		if mean > exact[0]+5*se {
			t.Errorf("%v: k=1 mean %v above log p %v", sizes, mean, exact[0])
		}
	}
}

// TestSampleMatchesExact: the frequencies of dreamt visible vectors match
// exp(ExactLogProb) on a 4-3-2 machine (all 16 states; 6σ binomial tolerance).
func TestSampleMatchesExact(t *testing.T) {
	m := tiny([]int{4, 3, 2}, 1.5, 8)
	const n = 40000
	x, _ := m.Sample(n, rng.New(2))
	counts := make([]float64, 16)
	for i := 0; i < n; i++ {
		c := 0
		for j, v := range x.Row(i) {
			c |= int(v) << j
		}
		counts[c]++
	}
	all := tensor.New(16, 4)
	for c := 0; c < 16; c++ {
		for j := 0; j < 4; j++ {
			all.Set(c, j, float32((c>>j)&1))
		}
	}
	lp, _ := m.ExactLogProb(all)
	var total float64
	for c := 0; c < 16; c++ {
		p := math.Exp(lp[c])
		total += p
		if f := counts[c] / n; math.Abs(f-p) > 6*math.Sqrt(p*(1-p)/n)+1e-4 {
			t.Errorf("state %d: frequency %v, exact %v", c, f, p)
		}
	}
	if math.Abs(total-1) > 1e-12 {
		t.Errorf("exact probabilities sum to %v", total)
	}
}

// TestWakeGradients checks the batched wake-phase gradients against central finite
// differences of Σ_k w̃_k log p(x, h^(k)) (generative parameters) and
// Σ_k w̃_k log q(h^(k)|x) (recognition, QWake), with the samples and the weights w̃
// held fixed, for plain and reweighted wake-sleep.
func TestWakeGradients(t *testing.T) {
	for _, k := range []int{1, 4} {
		m := tiny([]int{5, 4, 3}, 0.8, 6)
		tr, err := NewTrainer(m, TrainConfig{K: k, QWake: true, Batch: 2, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		x := binaryRows(2, 5, 7)
		tr.gradients(x)
		ps := &tr.wake
		rows := 2 * k
		// Samples and weights (weights include the 1/B factor).
		hs := make([][][]float64, rows)
		for r := 0; r < rows; r++ {
			for i := range m.Sizes {
				v := make([]float64, m.Sizes[i])
				for j, f := range ps.h[i].Row(r) {
					v[j] = float64(f)
				}
				hs[r] = append(hs[r], v)
			}
		}
		w := append([]float32(nil), tr.weights[:rows]...)
		objective := func(gen bool) float64 {
			var s float64
			for r := 0; r < rows; r++ {
				if gen {
					s += float64(w[r]) * m.logJoint64(hs[r])
				} else {
					s += float64(w[r]) * m.logQ64(hs[r])
				}
			}
			return s
		}
		names := paramNames(m.Layers())
		for pi, p := range m.params() {
			gen := names[pi][:3] == "gen"
			for j := range p {
				old := p[j]
				p[j] = old + 1e-2
				up := float64(p[j])
				fu := objective(gen)
				p[j] = old - 1e-2
				dn := float64(p[j])
				fd := (fu - objective(gen)) / (up - dn)
				p[j] = old
				// G is the gradient of the loss, the negated objective.
				if got := -float64(tr.params[pi].G[j]); math.Abs(got-fd) > 1e-4+1e-3*math.Abs(fd) {
					t.Errorf("K=%d %s[%d]: gradient %v, finite difference %v", k, names[pi], j, got, fd)
				}
			}
		}
	}
}

// trainExact trains a 6-4 machine on a small binary data set and returns the exact
// mean log-likelihood before and after.
func trainExact(t *testing.T, cfg TrainConfig, epochs int) (before, after float64) {
	x := tensor.New(8, 6)
	protos := [][]float32{{1, 1, 1, 0, 0, 0}, {0, 0, 0, 1, 1, 1}, {1, 0, 1, 0, 1, 0}, {0, 1, 0, 1, 0, 1}}
	for i := 0; i < 8; i++ {
		copy(x.Row(i), protos[i%4])
	}
	m := New([]int{6, 4}, rng.New(1))
	m.InitVisibleBias(x)
	mean := func() float64 {
		lp, err := m.ExactLogProb(x)
		if err != nil {
			t.Fatal(err)
		}
		var s float64
		for _, v := range lp {
			s += v / float64(len(lp))
		}
		return s
	}
	before = mean()
	tr, err := NewTrainer(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	train(t, tr, x, epochs, cfg.Seed)
	return before, mean()
}

// train runs epochs epochs of tr on the rows of x with the training driver
// (shuffled by seed), and returns the driver's result.
func train(t *testing.T, tr *Trainer, x *tensor.Mat, epochs int, seed uint64) model.Result {
	t.Helper()
	d := &dataset.Dataset{Name: "test", X: x, Binary: true}
	s := model.NewSettings(Kind, d, "test", "", seed, epochs)
	res, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestTrainingImprovesExactLL: wake-sleep and reweighted wake-sleep raise the exact
// log-likelihood of a 4-prototype data set (optimum -log 4 ≈ -1.386 nats).
func TestTrainingImprovesExactLL(t *testing.T) {
	for name, cfg := range map[string]TrainConfig{"ws": WakeSleep(), "rws": Reweighted(5)} {
		cfg.Batch, cfg.LR, cfg.Seed = 4, 0.05, 3
		before, after := trainExact(t, cfg, 300)
		t.Logf("%s: exact log p %.4f -> %.4f (optimum %.4f)", name, before, after, -math.Log(4))
		if !(after > before+1) || after < -2.5 {
			t.Errorf("%s: exact log-likelihood %v -> %v", name, before, after)
		}
	}
}

// TestWorkers: training and the IS estimate give the same bits with 1 and 2
// workers.
func TestWorkers(t *testing.T) {
	defer tensor.SetWorkers(0)
	x := binaryRows(64, 30, 3)
	var ref []float64
	for _, w := range []int{1, 2} {
		tensor.SetWorkers(w)
		m := New([]int{30, 20, 10}, rng.New(4))
		tr, _ := NewTrainer(m, Reweighted(4))
		train(t, tr, x, 2, 1)
		got := m.LogProb(nil, x, ISConfig{K: 300, Seed: 1})
		for _, p := range m.params() {
			for _, v := range p {
				got = append(got, float64(v))
			}
		}
		if ref == nil {
			ref = got
			continue
		}
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
				t.Fatalf("value %d: %v with 1 worker, %v with 2", i, ref[i], got[i])
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []TrainConfig{{K: -1, QSleep: true}, {Batch: -2, QSleep: true}, {LR: -1, QSleep: true}, {K: 2}} {
		if _, err := NewTrainer(New([]int{3, 2}, rng.New(1)), c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	m := New([]int{30, 5}, rng.New(1))
	if _, err := m.ExactLogProb(tensor.New(1, 30)); err != nil {
		t.Errorf("5 hidden units: %v", err)
	}
	if _, err := New([]int{3, 21}, rng.New(1)).ExactLogProb(tensor.New(1, 3)); err == nil {
		t.Error("21 hidden units enumerated")
	}
}
