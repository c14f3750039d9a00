package ebm

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// smallConfig is a configuration small enough for unit tests.
func smallConfig() Config {
	c := *DefaultConfig()
	c.Channels, c.Hidden, c.Batch, c.Buffer, c.Steps = 4, 16, 16, 64, 5
	return c
}

// shapes returns n 8×8 images of the built-in shapes data set.
func shapes(n int, seed uint64) *dataset.Dataset {
	d := dataset.Shapes(n, 8, rng.New(seed))
	d.Labels, d.NumClasses, d.Factors, d.FactorNames = nil, 0, nil, nil
	return d
}

// The network's input gradient and parameter gradients (through its layers'
// backward passes) match central differences of Σ_i w_i F(s_i), for the
// convolutional network and the dense one.
func TestNetGradientsFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h, w, c int
		dim     int
	}{{"conv 8×8", 8, 8, 1, 64}, {"conv 6×5×2", 6, 5, 2, 60}, {"dense", 0, 0, 0, 5}} {
		net := NewNet(tc.dim, tc.h, tc.w, tc.c, 4, 8, rng.New(1))
		const n = 3
		s := tensor.New(n, tc.dim)
		uniform(s.Data, rng.New(2))
		w := []float32{0.7, -1.3, 0.4}
		f := func() float64 { // Σ_i w_i F(s_i) in float64
			var v float64
			for i, e := range net.Forward(s) {
				v += float64(w[i]) * float64(e)
			}
			return v
		}
		net.Forward(s)
		gs := net.Backward(w).Clone()
		var grads [][]float32
		for _, p := range net.Params() {
			grads = append(grads, append([]float32(nil), p.G...))
		}
		const h = 1e-2
		check := func(what string, x *float32, an float64) {
			t.Helper()
			x0 := *x
			*x = x0 + h
			fp := f()
			*x = x0 - h
			fm := f()
			*x = x0
			fd := (fp - fm) / (2 * h)
			if math.Abs(fd-an) > 2e-2*math.Abs(an)+3e-4 {
				t.Errorf("%s %s: backward %.6g, central difference %.6g", tc.name, what, an, fd)
			}
		}
		r := rng.New(3)
		for k := range 12 {
			i, j := k%n, r.IntN(tc.dim)
			check("∂/∂s", &s.Row(i)[j], float64(gs.At(i, j)))
		}
		for pi, p := range net.Params() {
			for range 4 {
				j := r.IntN(len(p.W))
				check(p.Name+"["+string(rune('0'+pi))+"]", &p.W[j], float64(grads[pi][j]))
			}
		}
	}
}

// energyScale multiplies the network's last layer by a so that exp(−E) is far
// from flat.
func energyScale(m *Model, a float32) {
	ps := m.Net.Params()
	for _, p := range ps[len(ps)-2:] {
		for i := range p.W {
			p.W[i] *= a
		}
	}
}

// On 2-D data the AIS estimate of log Z (HMC in logit space) agrees with
// quadrature of exp(−E) over the box [0, 1]² within three standard errors, for
// both bases.
func TestLogZMatchesQuadrature(t *testing.T) {
	cfg := smallConfig()
	cfg.Hidden = 32
	m, err := New(cfg, 2, 0, 0, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	energyScale(m, 60)
	for i := range m.Net.Params()[0].W { // a first layer with more curvature
		m.Net.Params()[0].W[i] *= 4
	}
	const g = 400
	grid := tensor.New(g*g, 2)
	for i := range g {
		for j := range g {
			grid.Set(i*g+j, 0, float32((float64(i)+0.5)/g))
			grid.Set(i*g+j, 1, float32((float64(j)+0.5)/g))
		}
	}
	e := m.Energy(grid)
	lo := math.Inf(1)
	for _, v := range e {
		lo = min(lo, v)
	}
	var z float64
	for _, v := range e {
		z += math.Exp(lo - v)
	}
	exact := math.Log(z/(g*g)) - lo
	var emin, emax = math.Inf(1), math.Inf(-1)
	for _, v := range e {
		emin, emax = min(emin, v), max(emax, v)
	}
	if emax-emin < 3 {
		t.Fatalf("the energy spans only %.2f nats over the box: too flat a test", emax-emin)
	}
	for _, base := range []string{"buffer", "standard"} {
		res, err := m.LogZ(EvalConfig{Chains: 256, Steps: 300, Leapfrog: 5, Base: base}, 1, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !(res.StdErr > 0) || math.Abs(res.LogZ-exact) > 3*res.StdErr {
			t.Errorf("base %s: AIS log Z %.4f ± %.4f, quadrature %.4f (%.1f se)", base, res.LogZ, res.StdErr, exact, (res.LogZ-exact)/res.StdErr)
		}
		t.Logf("base %s: AIS log Z %.4f ± %.4f, quadrature %.4f (energy spans %.1f nats), acceptance %.2f", base, res.LogZ, res.StdErr, exact, emax-emin, res.AcceptRate)
	}
}

// Score is −E(x̃) − log Ẑ per example, with x̃ the dequantised data inside the box.
func TestScoreIsEnergyMinusLogZ(t *testing.T) {
	cfg := smallConfig()
	m, err := New(cfg, 64, 8, 8, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	d := shapes(5, 2)
	for i, v := range d.X.Data { // 8-bit levels, as dequantisation reads them
		d.X.Data[i] = float32(math.Round(float64(v)*255) / 255)
	}
	ev := &EvalConfig{Chains: 4, Steps: 5, Leapfrog: 2, Dequantize: true, Base: "buffer"}
	est, err := m.Score(context.Background(), d, model.ScoreOptions{Seed: 9, Family: ev})
	if err != nil {
		t.Fatal(err)
	}
	var logZ float64
	for _, x := range est.Extra {
		if x.Name == "log_z" {
			logZ = x.Value.(float64)
		}
	}
	// Dequantise as Score does and compare.
	x := d.X.Clone()
	u := rng.New(9)
	for i := range x.Rows {
		r := x.Row(i)
		for j, v := range r {
			r[j] = float32((math.Round(float64(v)*255) + u.Float64()) / 256)
			if r[j] < 0 || r[j] > 1 {
				t.Fatalf("dequantised value %g outside [0, 1]", r[j])
			}
		}
	}
	for i, e := range m.Energy(x) {
		if math.Abs(est.PerExample[i]-(-e-logZ)) > 1e-9 {
			t.Errorf("example %d: %.6f, want −E − log Z = %.6f", i, est.PerExample[i], -e-logZ)
		}
	}
	if got, want := effectiveChains([]float64{0, 0, math.Log(2)}), 16.0/6; math.Abs(got-want) > 1e-12 {
		t.Errorf("effective chains of weights 1, 1, 2: %g, want %g", got, want)
	}
	if est.Method != "ais-hmc" || est.N != 5 || !(est.StdErr >= 0) {
		t.Errorf("estimate %+v", est)
	}
}

// train runs the driver on d for the given epochs from scratch or from file.
func train(t *testing.T, cfg Config, d *dataset.Dataset, epochs int, out string, resume bool) (*model.Settings, error) {
	t.Helper()
	var tr model.Trainer
	var s *model.Settings
	if resume {
		f, err := checkpoint.Load(out)
		if err != nil {
			t.Fatal(err)
		}
		mm, ss, err := model.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		tr, s = mm.(model.Trainer), ss
		s.Epochs = epochs
	} else {
		s = model.NewSettings(Kind, d, "shapes", "", 7, epochs)
		var err error
		if tr, err = newModel(&cfg, d, s); err != nil {
			t.Fatal(err)
		}
	}
	_, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: out})
	return s, err
}

// Two epochs in one run and one epoch, a resume from the file, and one more write
// the same bytes: network, Adam, replay buffer and stream all saved. The result
// does not depend on the number of workers.
func TestResumeBitIdentical(t *testing.T) {
	dir := t.TempDir()
	d := shapes(48, 1)
	cfg := smallConfig()
	whole, part := filepath.Join(dir, "whole.model"), filepath.Join(dir, "part.model")
	if _, err := train(t, cfg, d, 2, whole, false); err != nil {
		t.Fatal(err)
	}
	if _, err := train(t, cfg, d, 1, part, false); err != nil {
		t.Fatal(err)
	}
	if _, err := train(t, cfg, d, 2, part, true); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(part)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the resumed run's file (%d bytes) differs from the uninterrupted run's (%d bytes)", len(b), len(a))
	}
	one := filepath.Join(dir, "one.model")
	func() {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		tensor.SetWorkers(1)
		defer tensor.SetWorkers(0)
		if _, err := train(t, cfg, d, 2, one, false); err != nil {
			t.Fatal(err)
		}
	}()
	c, _ := os.ReadFile(one)
	if !bytes.Equal(a, c) {
		t.Error("one worker and the default workers wrote different files")
	}
	// The buffer changed and moved its head: 3 steps of 16 per epoch.
	f, _ := checkpoint.Load(whole)
	m, err := Load(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.Head != (2*48)%cfg.Buffer || m.Steps != 6 || len(m.History) != 2 {
		t.Errorf("after 2 epochs: head %d, steps %d, %d epochs logged", m.Head, m.Steps, len(m.History))
	}
}

// Settings a user can get wrong are flag errors naming the flag.
func TestBadSettings(t *testing.T) {
	for flag, mod := range map[string]func(c *Config){
		"step-size":      func(c *Config) { c.StepSize = 0 },
		"langevin-steps": func(c *Config) { c.Steps = 0 },
		"buffer":         func(c *Config) { c.Buffer = c.Batch - 1 },
	} {
		c := smallConfig()
		mod(&c)
		_, err := New(c, 64, 8, 8, 1, 1)
		if err == nil || !model.IsFlagError(err) || !strings.Contains(err.Error(), "--"+flag) {
			t.Errorf("%s: error %v", flag, err)
		}
		if err := model.Validate(&c); err == nil || !strings.Contains(err.Error(), "--"+flag) {
			t.Errorf("%s: Validate gives %v", flag, err)
		}
	}
	c := smallConfig()
	c.StepSize = -1
	if err := model.Validate(&c); err == nil || !strings.Contains(err.Error(), "--step-size") {
		t.Errorf("negative step size: %v", err)
	}
	d := shapes(4, 1)
	d.X.Set(2, 3, 1.5)
	if _, err := newModel(DefaultConfig(), d, model.NewSettings(Kind, d, "x.npy", "", 1, 1)); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("data outside [0, 1]: %v", err)
	}
}

// Energies that blow up stop training with an error naming the epoch; the file
// keeps the last good epoch.
func TestBlowUpStopsNamingEpoch(t *testing.T) {
	dir := t.TempDir()
	d := shapes(32, 1)
	out := filepath.Join(dir, "m.model")
	if _, err := train(t, smallConfig(), d, 1, out, false); err != nil {
		t.Fatal(err)
	}
	f, _ := checkpoint.Load(out)
	mm, s, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*Model)
	energyScale(m, 1e6) // as if the last step had blown the energies up
	s.Epochs = 2
	_, err = model.Train(context.Background(), m, d, s, model.TrainOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), "epoch 2") || !strings.Contains(err.Error(), "after epoch 1") {
		t.Fatalf("error %v", err)
	}
	t.Log(err)
	f, _ = checkpoint.Load(out)
	if _, s2, _ := model.Load(f); s2.EpochsDone != 1 {
		t.Errorf("the file holds %d epochs, want the last good 1", s2.EpochsDone)
	}
}

// Sampling from noise and from the buffer returns values in [0, 1] with the
// image shape, the same for the same seed.
func TestSample(t *testing.T) {
	m, err := New(smallConfig(), 64, 8, 8, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{"noise", "buffer"} {
		o := model.SampleOptions{N: 300, Seed: 4, Label: -1, Family: &SampleConfig{Steps: 3, From: from}}
		a, err := m.Sample(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.Sample(context.Background(), o)
		if a.Height != 8 || a.Len() != 300 {
			t.Fatalf("%s: %d samples of height %d", from, a.Len(), a.Height)
		}
		for i, v := range a.X.Data {
			if v < 0 || v > 1 || v != b.X.Data[i] {
				t.Fatalf("%s: value %d is %g, then %g", from, i, v, b.X.Data[i])
			}
		}
	}
	if _, err := m.Pictures(context.Background(), t.TempDir(), shapes(4, 1), true, 1); err != nil {
		t.Fatal(err)
	}
}

// aisWarning speaks when fewer than a tenth of the chains (and fewer than 2)
// carry the weight, and names the other base.
func TestAISWarning(t *testing.T) {
	for _, c := range []struct {
		ess    float64
		chains int
		base   string
		warn   bool
	}{
		{1.0, 32, "buffer", true}, {29.1, 32, "standard", false}, {3.3, 32, "buffer", false}, {3.1, 32, "buffer", true},
		{3.1, 40, "standard", true}, {1.5, 4, "buffer", true}, {2.0, 4, "buffer", false}, {1, 1, "buffer", false},
	} {
		w := aisWarning(c.ess, c.chains, c.base)
		if (w != "") != c.warn {
			t.Errorf("%.1f of %d chains: warning %q, want one: %v", c.ess, c.chains, w, c.warn)
		}
		other := map[string]string{"buffer": "standard", "standard": "buffer"}[c.base]
		if w != "" && !strings.Contains(w, "--base "+other) {
			t.Errorf("%q does not suggest --base %s", w, other)
		}
	}
}
