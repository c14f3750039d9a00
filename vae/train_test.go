package vae

import (
	"math"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func toyData(n, side int, seed uint64) *dataset.Dataset {
	s := rng.New(seed)
	x := tensor.New(n, side*side)
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		c := s.IntN(2)
		labels[i] = c
		for r := 0; r < side; r++ {
			for q := 0; q < side; q++ {
				on := (c == 0 && r == side/2) || (c == 1 && q == side/2)
				v := float32(0.1)
				if on {
					v = 0.9
				}
				x.Set(i, r*side+q, v*(0.8+0.2*s.Float32()))
			}
		}
	}
	return &dataset.Dataset{Name: "toy", X: x, Labels: labels, NumClasses: 2, Height: side, Width: side, Channels: 1}
}

func trainerState(t *testing.T, tr *Trainer) []uint32 {
	var out []uint32
	for _, p := range tr.Model.Params() {
		for _, v := range p.W {
			out = append(out, math.Float32bits(v))
		}
	}
	for k := range tr.Adam.M {
		for i := range tr.Adam.M[k] {
			out = append(out, math.Float32bits(tr.Adam.M[k][i]), math.Float32bits(tr.Adam.V[k][i]))
		}
	}
	st, _ := tr.Rng.MarshalBinary()
	for _, b := range st {
		out = append(out, uint32(b))
	}
	return append(out, uint32(tr.Step), uint32(tr.Adam.T))
}

// TestResumeBitIdentical trains 3 epochs straight and 1 + (save, load) + 2, through
// a file on disk, and requires identical parameters, moments, step and stream.
func TestResumeBitIdentical(t *testing.T) {
	for _, cfg := range []Config{
		{Latent: 3, Hidden: []int{20}},
		{Kind: KindCVAE, Latent: 2, Hidden: []int{16}, CondDim: 2, IWK: 3, Decoder: Gaussian},
		{Kind: KindConvVAE, Latent: 2, Height: 6, Width: 6, Channels: 1},
	} {
		d := toyData(100, 6, 1)
		tc := TrainConfig{BatchSize: 32, Seed: 5, Binarize: "dynamic"}
		a, err := NewTrainer(cfg, 36, tc)
		if err != nil {
			t.Fatal(err)
		}
		for e := 0; e < 3; e++ {
			if _, err := a.TrainEpoch(d); err != nil {
				t.Fatal(err)
			}
		}
		b, _ := NewTrainer(cfg, 36, tc)
		if _, err := b.TrainEpoch(d); err != nil {
			t.Fatal(err)
		}
		f, err := b.Checkpoint("toy")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.ckpt")
		if err := checkpoint.Save(path, f); err != nil {
			t.Fatal(err)
		}
		g, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		c, data, err := LoadTrainer(g)
		if err != nil {
			t.Fatal(err)
		}
		if data != "toy" || c.Epoch != 1 {
			t.Errorf("loaded data %q epoch %d, want toy, 1", data, c.Epoch)
		}
		for e := 0; e < 2; e++ {
			if _, err := c.TrainEpoch(d); err != nil {
				t.Fatal(err)
			}
		}
		sa, sc := trainerState(t, a), trainerState(t, c)
		if len(sa) != len(sc) {
			t.Fatalf("%s: state sizes %d, %d", cfg.Kind, len(sa), len(sc))
		}
		for i := range sa {
			if sa[i] != sc[i] {
				t.Fatalf("%s: resumed run differs at state word %d", cfg.Kind, i)
			}
		}
	}
}

// TestWorkersSameBits trains with 1 and 2 workers on batches big enough to be split.
func TestWorkersSameBits(t *testing.T) {
	run := func(w int) []uint32 {
		tensor.SetWorkers(w)
		defer tensor.SetWorkers(0)
		d := toyData(256, 24, 2)
		tr, err := NewTrainer(Config{Latent: 4, Hidden: []int{64}, IWK: 2}, 24*24, TrainConfig{BatchSize: 128, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.TrainEpoch(d); err != nil {
			t.Fatal(err)
		}
		ev, err := tr.Model.Evaluate(d, 20, rng.New(4))
		if err != nil {
			t.Fatal(err)
		}
		return append(trainerState(t, tr), uint32(math.Float64bits(ev.LogLik)), uint32(math.Float64bits(ev.LogLik)>>32))
	}
	a, b := run(1), run(2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("state word %d differs between 1 and 2 workers", i)
		}
	}
}

func TestTrainingLearns(t *testing.T) {
	d := toyData(400, 8, 3)
	for _, cfg := range []Config{
		{Latent: 2, Hidden: []int{32}},
		{Kind: KindAE, Latent: 2, Hidden: []int{32}},
		{Kind: KindCVAE, Latent: 2, Hidden: []int{32}, CondDim: 2},
	} {
		tr, err := NewTrainer(cfg, 64, TrainConfig{BatchSize: 20, LR: 3e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		first, _ := tr.TrainEpoch(d)
		var last EpochStats
		for e := 0; e < 9; e++ {
			last, _ = tr.TrainEpoch(d)
		}
		if !(last.Loss < first.Loss-2) {
			t.Errorf("%s: loss %.3f after 10 epochs, %.3f after 1", cfg.Kind, last.Loss, first.Loss)
		}
	}
}

func TestNaNLossNamesStep(t *testing.T) {
	d := toyData(64, 6, 1)
	tr, err := NewTrainer(Config{Latent: 2, Hidden: []int{8}}, 36, TrainConfig{BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.TrainEpoch(d); err != nil {
		t.Fatal(err)
	}
	tr.Model.Dec.Params()[0].W[0] = float32(math.NaN())
	_, err = tr.TrainEpoch(d)
	if err == nil || !strings.Contains(err.Error(), "at step 5 (epoch 2)") {
		t.Errorf("NaN weights: error %v, want one naming step 5", err)
	}
}

// TestGradAllocs: once warm, a training step allocates no matrices: what remains
// are a few closures handed to the worker pool (tens of bytes each), far less than
// one 32×64 batch matrix (8 KiB).
func TestGradAllocs(t *testing.T) {
	d := toyData(64, 8, 1)
	tr, _ := NewTrainer(Config{Latent: 2, Hidden: []int{16}}, 64, TrainConfig{BatchSize: 32})
	x := d.X.Slice(0, 32)
	s := rng.New(1)
	step := func() {
		tr.Model.Grad(x, nil, s)
		tr.Adam.Step(tr.params)
	}
	step()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	const n = 50
	for i := 0; i < n; i++ {
		step()
	}
	runtime.ReadMemStats(&m1)
	perStep := float64(m1.TotalAlloc-m0.TotalAlloc) / n
	t.Logf("%.0f bytes, %.1f allocations per warm step", perStep, float64(m1.Mallocs-m0.Mallocs)/n)
	if perStep > 4096 {
		t.Errorf("%.0f bytes allocated per warm training step", perStep)
	}
}

// TestBurdaSchedule checks the stage boundaries of the Burda et al. (2016)
// schedule: 3^i epochs at lr·10^(−i/7), 3280 epochs for i = 0…7.
func TestBurdaSchedule(t *testing.T) {
	c := TrainConfig{LR: 1e-3, Schedule: "burda"}
	stage := func(i int) float64 { return 1e-3 * math.Pow(10, -float64(i)/7) }
	for _, tc := range []struct{ epoch, stage int }{
		{0, 0}, {1, 1}, {3, 1}, {4, 2}, {12, 2}, {13, 3}, {39, 3}, {40, 4},
		{1092, 6}, {1093, 7}, {3279, 7}, {3280, 8},
	} {
		if got, want := c.LearningRate(tc.epoch), stage(tc.stage); got != want {
			t.Errorf("epoch %d: lr %g, want %g (stage %d)", tc.epoch, got, want, tc.stage)
		}
	}
	// Count the epochs of each of the eight stages directly.
	counts := map[float64]int{}
	for e := 0; e < 3280; e++ {
		counts[c.LearningRate(e)]++
	}
	for i := 0; i < 8; i++ {
		if got, want := counts[stage(i)], int(math.Pow(3, float64(i))); got != want {
			t.Errorf("stage %d: %d epochs, want %d", i, got, want)
		}
	}
	if c := (TrainConfig{LR: 2e-3}); c.LearningRate(500) != 2e-3 {
		t.Errorf("constant schedule changed the rate: %g", c.LearningRate(500))
	}
	if _, err := (TrainConfig{Schedule: "cosine"}).withDefaults(); err == nil {
		t.Error("unknown schedule accepted")
	}
}
