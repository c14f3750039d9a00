package rbm

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// sparseData returns n binary rows of width d with about density·d ones each, the
// first column always set (so every batch has a few nonzeros in the same place).
func sparseData(n, d int, density float64, seed uint64) *tensor.Mat {
	x := tensor.New(n, d)
	s := rng.New(seed)
	for i := 0; i < n; i++ {
		row := x.Row(i)
		row[0] = 1
		for j := 1; j < d; j++ {
			if s.Float64() < density {
				row[j] = 1
			}
		}
	}
	return x
}

// trainAll trains tr on data for 3 epochs through the driver.
func trainAll(t *testing.T, tr *Trainer, data *tensor.Mat) { train(t, tr, data, 3) }

// The sparse products must be taken on sparse Bernoulli batches, agree with the
// dense GEMMs up to float32 rounding, and stay deterministic: independent of the
// number of workers, bit-for-bit across a resume, and allocation-free when warm.
func TestSparsePath(t *testing.T) {
	defer tensor.SetWorkers(0)
	data := sparseData(120, 70, 0.1, 3)
	for _, cfg := range []Config{
		{K: 1},
		{K: 2, Momentum: 0.5, WeightDecay: 1e-3},
		{Method: PCD},
		{Method: PT, Temperatures: 3},
	} {
		cfg.BatchSize, cfg.Seed, cfg.LearningRate = 20, 11, 0.05
		name := cfg.Method.String()
		tensor.SetWorkers(1)
		ms, tr := trainNew(t, Bernoulli, 33, data, cfg)
		trainAll(t, tr, data)
		if !tr.sp0.sparse {
			t.Fatalf("%s: the data batch (density %.2f) did not take the sparse path", name, tr.sp0.csr.Density())
		}
		if cfg.Method == CD && !tr.spk.sparse {
			t.Errorf("%s: the negative sample (density %.2f) did not take the sparse path", name, tr.spk.csr.Density())
		}

		// Dense reference: close, not identical (another summation order).
		dcfg := cfg
		dcfg.Dense = true
		md, trd := trainNew(t, Bernoulli, 33, data, dcfg)
		trainAll(t, trd, data)
		if trd.sp0.sparse {
			t.Fatalf("%s: Dense run used the sparse path", name)
		}
		var worst float64
		same := true
		for i, w := range ms.W.Data {
			worst = max(worst, math.Abs(float64(w-md.W.Data[i])))
			same = same && w == md.W.Data[i]
		}
		// Sampling thresholds can flip a unit where rounding moves a probability
		// across its uniform draw; over a few epochs that stays rare and small.
		if worst > 1e-3 {
			t.Errorf("%s: sparse and dense W differ by up to %g", name, worst)
		}
		t.Logf("%s: max |W_sparse − W_dense| = %.3g (bit-identical: %v)", name, worst, same)

		// Two workers give the same bits.
		tensor.SetWorkers(2)
		m2, tr2 := trainNew(t, Bernoulli, 33, data, cfg)
		trainAll(t, tr2, data)
		equalModels(t, name+" sparse, workers 1 vs 2", ms, m2)

		// Resume after one epoch gives the same bits.
		_, trA := trainNew(t, Bernoulli, 33, data, cfg)
		train(t, trA, data, 1)
		var f checkpoint.File
		if err := trA.Save(&f); err != nil {
			t.Fatal(err)
		}
		trB, err := LoadTrainer(&f)
		if err != nil {
			t.Fatal(err)
		}
		trainAll(t, trB, data)
		equalModels(t, name+" sparse, resumed", ms, trB.Model)

		// Warm steps do not allocate.
		tensor.SetWorkers(1)
		batch := data.Slice(0, 20).Clone()
		tr.Update(batch)
		if a := testing.AllocsPerRun(10, func() { tr.Update(batch) }); a != 0 {
			t.Errorf("%s: %.1f allocations per warm sparse step", name, a)
		}
	}
}

// A batch at or above SparseBelow takes the dense GEMMs: bit-identical to Dense.
func TestDenseBatchUsesGemm(t *testing.T) {
	data := sparseData(60, 40, 0.5, 4)
	cfg := Config{BatchSize: 20, Seed: 2}
	m1, tr := trainNew(t, Bernoulli, 9, data, cfg)
	trainAll(t, tr, data)
	if tr.sp0.sparse {
		t.Fatalf("density %.2f took the sparse path", tr.sp0.csr.Density())
	}
	cfg.Dense = true
	m2, tr2 := trainNew(t, Bernoulli, 9, data, cfg)
	trainAll(t, tr2, data)
	equalModels(t, "dense batch vs Dense", m1, m2)
}

// TestGatheredSparseBatches checks that drawing the sparse batches straight from the
// sparse form of the data by the driver's indices (Epoch's path for fixed sparse
// binary data) gives the same bits as compressing the gathered dense rows.
func TestGatheredSparseBatches(t *testing.T) {
	data := sparseData(130, 70, 0.1, 5)
	for _, cfg := range []Config{{K: 1}, {K: 1, Momentum: 0.5}, {Method: PCD}, {Method: PT, Temperatures: 3}} {
		cfg.BatchSize, cfg.Seed, cfg.LearningRate = 20, 7, 0.05
		m1, tr1 := trainNew(t, Bernoulli, 33, data, cfg)
		if tr1.dataCSR == nil {
			t.Fatalf("%s: sparse data not kept in sparse form", cfg.Method)
		}
		trainAll(t, tr1, data)
		m2, tr2 := trainNew(t, Bernoulli, 33, data, cfg)
		tr2.dataCSR = nil // FromDense of the gathered rows for every batch
		trainAll(t, tr2, data)
		if tr2.dataCSR != nil {
			t.Fatal("Epoch rebuilt the sparse form of data it had been given")
		}
		equalModels(t, cfg.Method.String()+" gathered vs dense batches", m1, m2)
	}
	// Dense data, dense mode and dynamic binarisation keep the dense path.
	_, tr := trainNew(t, Bernoulli, 8, sparseData(40, 20, 0.6, 1), Config{BatchSize: 10})
	if tr.dataCSR != nil {
		t.Error("data at density 0.6 kept in sparse form")
	}
	_, tr = trainNew(t, Bernoulli, 8, data, Config{BatchSize: 10, Dense: true})
	if tr.dataCSR != nil {
		t.Error("Dense trainer kept a sparse copy of the data")
	}
	_, tr = trainNew(t, Bernoulli, 8, data, Config{BatchSize: 10})
	if err := tr.SetData(data, true); err != nil || tr.dataCSR != nil {
		t.Errorf("dynamic binarisation kept a sparse copy of the data (%v)", err)
	}
}

// A CD-k step on a model that reconstructs its data almost exactly (W = 8·I, biases
// −4: p(h_j|v) and p(v_j|h) are σ(±4), so a Gibbs step flips about 2% of units)
// takes the incremental products (tensor.CSR.DiffRows from p(h|v0)'s
// pre-activation, and the shared-entry split of the weight update). Checked
// against the definitions in float64: p(h|vk) = σ(vk·W + c) with the step's own
// sample vk, and ΔW = lr/r·(v0ᵀ p(h|v0) − vkᵀ p(h|vk)) with W before the step.
func TestIncrementalProducts(t *testing.T) {
	const n, r, lr = 48, 16, 0.05
	data := sparseData(r, n, 0.12, 8)
	for _, k := range []int{1, 3} {
		m, tr := trainNew(t, Bernoulli, n, data, Config{K: k, BatchSize: r, LearningRate: lr, Seed: 3})
		clear(m.W.Data)
		for j := 0; j < n; j++ {
			m.W.Set(j, j, 8)
			m.B[j], m.C[j] = -4, -4
		}
		w0 := m.W.Clone()
		tr.Update(data)
		if !tr.sp0.sparse || !tr.spk.sparse {
			t.Fatalf("k=%d: the batches did not take the sparse path", k)
		}
		incr := 0
		for _, f := range tr.fresh[:r] {
			if !f {
				incr++
			}
		}
		if incr < r/2 {
			t.Fatalf("k=%d: only %d of %d rows took the incremental product", k, incr, r)
		}
		vk, ph0, phk := tr.vk, tr.ph0, tr.phk
		sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
		pre := func(v *tensor.Mat, i, j int) float64 {
			s := -4.0
			for q := 0; q < n; q++ {
				s += float64(v.At(i, q)) * float64(w0.At(q, j))
			}
			return s
		}
		for i := 0; i < r; i++ {
			for j := 0; j < n; j++ {
				if e := math.Abs(float64(phk.At(i, j)) - sig(pre(vk, i, j))); e > 1e-6 {
					t.Fatalf("k=%d: p(h|vk)[%d,%d] = %g, want %g", k, i, j, phk.At(i, j), sig(pre(vk, i, j)))
				}
				if e := math.Abs(float64(ph0.At(i, j)) - sig(pre(data, i, j))); e > 1e-6 {
					t.Fatalf("k=%d: p(h|v0)[%d,%d] = %g, want %g", k, i, j, ph0.At(i, j), sig(pre(data, i, j)))
				}
			}
		}
		for q := 0; q < n; q++ {
			for j := 0; j < n; j++ {
				var g float64
				for i := 0; i < r; i++ {
					g += float64(data.At(i, q))*float64(ph0.At(i, j)) - float64(vk.At(i, q))*float64(phk.At(i, j))
				}
				want := float64(w0.At(q, j)) + lr/r*g
				if e := math.Abs(float64(m.W.At(q, j)) - want); e > 1e-6 {
					t.Fatalf("k=%d: W[%d,%d] = %g, want %g", k, q, j, m.W.At(q, j), want)
				}
			}
		}
		t.Logf("k=%d: %d of %d rows incremental", k, incr, r)
	}
}

// On MNIST-sized shapes (784×500, batch 100) every product and kernel of a step runs
// in parallel with two workers; a warm step still must not allocate.
func TestWarmStepAllocsTwoWorkers(t *testing.T) {
	defer tensor.SetWorkers(0)
	tensor.SetWorkers(2)
	data := sparseData(200, 784, 0.13, 5)
	for _, cfg := range []Config{{K: 1}, {Method: PCD}, {K: 1, Dense: true}} {
		cfg.BatchSize, cfg.Seed = 100, 1
		_, tr := trainNew(t, Bernoulli, 500, data, cfg)
		batch := data.Slice(0, 100).Clone()
		tr.Update(batch)
		tr.Update(batch)
		if a := testing.AllocsPerRun(5, func() { tr.Update(batch) }); a != 0 {
			t.Errorf("%+v: %.1f allocations per warm step with 2 workers", cfg, a)
		}
	}
}
