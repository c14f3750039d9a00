package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rbm"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// runJSON runs the command with args (which should include --json), fails the test
// unless it succeeds, and returns its stdout as one JSON object.
func runJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errb := latent(t, args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errb)
	}
	return decodeJSON(t, out)
}

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, s)
	}
	return m
}

func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	v, ok := m[key].(float64)
	if !ok {
		t.Fatalf("JSON has no number %q: %v", key, m)
	}
	return v
}

func TestRBMTrainEvalSample(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "bars.ckpt")
	code, out, errb := latent(t, "train", "rbm", "--data", "bars:4", "--hidden", "12", "--pt", "4", "--batch", "10",
		"--lr", "0.1", "--momentum", "0.5", "--epochs", "20", "--seed", "3", "--out", model, "--filters", filepath.Join(dir, "f.png"), "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
	tr := decodeJSON(t, out)
	for _, k := range []string{"epochs", "seconds", "seconds_per_epoch", "exact_log_likelihood", "pseudo_log_likelihood", "reconstruction_error"} {
		num(t, tr, k)
	}
	if !strings.Contains(errb, "epoch 20/20") || !strings.Contains(errb, "swap rates") {
		t.Errorf("progress on stderr: %q", errb)
	}
	if _, err := os.Stat(filepath.Join(dir, "f.png")); err != nil {
		t.Errorf("filters picture: %v", err)
	}
	code, out, errb = latent(t, "eval", "--model", model, "--data", "bars:4", "--json")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, errb)
	}
	ev := decodeJSON(t, out)
	if ev["estimator"] != "exact" || num(t, ev, "n") != 30 {
		t.Errorf("eval: %v", ev)
	}
	// The trainer's monitor set is the whole of bars:4, so the numbers agree.
	if ll := num(t, ev, "log_likelihood"); math.Abs(ll-num(t, tr, "exact_log_likelihood")) > 1e-9 || ll > -math.Log(30) {
		t.Errorf("eval LL %.6f, train's %.6f (bound −log 30 = %.4f)", ll, num(t, tr, "exact_log_likelihood"), -math.Log(30))
	}
	if num(t, ev, "log_z") != num(t, ev, "exact_log_z") {
		t.Errorf("exact estimator: log_z %v != exact_log_z %v", ev["log_z"], ev["exact_log_z"])
	}
	// AIS on request, checked against the exact value it prints beside.
	code, out, errb = latent(t, "eval", "--model", model, "--data", "bars:4", "--ais-chains", "32", "--ais-betas", "2000", "--json")
	if code != 0 {
		t.Fatalf("eval ais: exit %d: %s", code, errb)
	}
	ais := decodeJSON(t, out)
	if ais["estimator"] != "ais" {
		t.Errorf("estimator %v", ais["estimator"])
	}
	if d := math.Abs(num(t, ais, "log_z") - num(t, ais, "exact_log_z")); d > 4*num(t, ais, "log_z_stderr")+0.05 {
		t.Errorf("AIS log Z %v ± %v, exact %v", ais["log_z"], ais["log_z_stderr"], ais["exact_log_z"])
	}
	for _, name := range []string{"s.png", "s.npy"} {
		code, _, errb = latent(t, "sample", "--model", model, "--n", "8", "--gibbs-steps", "50", "--out", filepath.Join(dir, name))
		if code != 0 {
			t.Fatalf("sample %s: exit %d: %s", name, code, errb)
		}
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("sample %s: %v", name, err)
		}
	}
}

func loadW(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rbm.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return m.W.Data
}

func TestRBMResumeBitForBit(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	// 4 epochs == 2 + resume + 2 (--epochs is the total; the library's test covers the
	// linear schedule, whose length must be fixed up front).
	c4, c2 := filepath.Join(dir, "c4.ckpt"), filepath.Join(dir, "c2.ckpt")
	constant := func(out, epochs string, extra ...string) []string {
		return append([]string{"train", "rbm", "--data", "bars:4", "--hidden", "8", "--pcd", "--batch", "8",
			"--momentum", "0.9", "--epochs", epochs, "--seed", "9", "--out", out}, extra...)
	}
	if code, _, errb := latent(t, constant(c4, "4")...); code != 0 {
		t.Fatal(errb)
	}
	if code, _, errb := latent(t, constant(c2, "2")...); code != 0 {
		t.Fatal(errb)
	}
	if code, _, errb := latent(t, constant(c2, "4", "--resume", c2)...); code != 0 {
		t.Fatal(errb)
	}
	a, b := loadW(t, c4), loadW(t, c2)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("W[%d]: 4 epochs %v, 2+2 resumed %v", i, a[i], b[i])
		}
	}
}

func TestRBMErrors(t *testing.T) {
	dir := noData(t)
	nonBinary := tensor.New(20, 4)
	rng.New(1).FillUniform(nonBinary.Data)
	writeNPY(t, filepath.Join(dir, "real.npy"), nonBinary, []int{20, 4})
	constCol := nonBinary.Clone()
	for i := 0; i < 20; i++ {
		constCol.Set(i, 2, 0.25)
	}
	writeNPY(t, filepath.Join(dir, "const.npy"), constCol, []int{20, 4})
	out := filepath.Join(dir, "m.ckpt")
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"train", "rbm", "--data", "bars:3", "--hidden", "0", "--out", out}, []string{"--hidden", "0"}},
		{[]string{"train", "rbm", "--data", "bars:3", "--cd", "0", "--out", out}, []string{"--cd", "0"}},
		{[]string{"train", "rbm", "--data", "bars:3", "--lr", "NaN", "--out", out}, []string{"--lr", "NaN"}},
		{[]string{"train", "rbm", "--data", "bars:3", "--lr", "-1", "--out", out}, []string{"--lr", "-1"}},
		{[]string{"train", "rbm", "--data", "bars:3", "--pt", "1", "--out", out}, []string{"--pt", "1"}},
		{[]string{"train", "rbm", "--data", filepath.Join(dir, "real.npy"), "--out", out}, []string{"binary"}},
		{[]string{"train", "grbm", "--data", filepath.Join(dir, "const.npy"), "--out", out}, []string{"column 2", "constant"}},
	}
	for _, c := range cases {
		code, _, errb := latent(t, c.args...)
		if code == 0 {
			t.Errorf("%v: exit 0", c.args)
			continue
		}
		oneError(t, errb, c.want...)
	}
}

func TestGRBMTrainEval(t *testing.T) {
	dir := noData(t)
	x := tensor.New(500, 3)
	s := rng.New(2)
	for i := 0; i < 500; i++ {
		a := s.NormFloat64()
		x.Set(i, 0, float32(10+3*a))
		x.Set(i, 1, float32(a+0.3*s.NormFloat64()))
		x.Set(i, 2, float32(s.NormFloat64()))
	}
	writeNPY(t, filepath.Join(dir, "g.npy"), x, []int{500, 3})
	model := filepath.Join(dir, "g.ckpt")
	code, _, errb := latent(t, "train", "grbm", "--data", filepath.Join(dir, "g.npy"), "--hidden", "6", "--learn-sigma",
		"--batch", "25", "--epochs", "10", "--momentum", "0.5", "--out", model)
	if code != 0 {
		t.Fatalf("train grbm: %s", errb)
	}
	ev := runJSON(t, "eval", "--model", model, "--data", filepath.Join(dir, "g.npy"), "--json")
	if ev["estimator"] != "exact" {
		t.Errorf("grbm estimator %v", ev["estimator"])
	}
	// Sanity: the log-likelihood of 3-D data with these scales is near that of the true
	// Gaussian (about −(3/2)log(2πe) − log 3 − log 0.3·... ≈ −4.5); it must be finite
	// and within a few nats.
	if ll := num(t, ev, "log_likelihood"); ll < -8 || ll > -2 {
		t.Errorf("grbm log-likelihood %v", ll)
	}
}

// isingObservables must agree with the generator's own energy and magnetisation.
func TestIsingObservablesMatchGenerator(t *testing.T) {
	d, err := demoLoad(&Env{}, "ising:L=6,T=2.3,n=200", 4)
	if err != nil {
		t.Fatal(err)
	}
	obs := isingObservables(d.X, 6, 2.3)
	var e, m float64
	for i := 0; i < d.Len(); i++ {
		e += float64(d.Factors.At(i, 0))
		m += math.Abs(float64(d.Factors.At(i, 1)))
	}
	e /= float64(d.Len())
	m /= float64(d.Len())
	if math.Abs(obs.Energy-e) > 1e-6 || math.Abs(obs.AbsMag-m) > 1e-6 {
		t.Errorf("observables E=%.6f |m|=%.6f, generator's %.6f %.6f", obs.Energy, obs.AbsMag, e, m)
	}
}

func TestRBMIsingEval(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "i.ckpt")
	spec := "ising:L=4,T=2.5,n=300"
	if code, _, errb := latent(t, "train", "rbm", "--data", spec, "--hidden", "8", "--epochs", "3", "--out", model); code != 0 {
		t.Fatal(errb)
	}
	ev := runJSON(t, "eval", "--model", model, "--data", spec, "--samples", "50", "--gibbs-steps", "20", "--json")
	is, ok := ev["ising"].(map[string]any)
	if !ok {
		t.Fatalf("no ising observables: %v", ev)
	}
	d := is["data"].(map[string]any)
	if e := d["energy"].(float64); !(e < 0 && e >= -2) {
		t.Errorf("data energy per spin %v", e)
	}
	for _, k := range []string{"energy", "abs_mag", "specific_heat", "susceptibility"} {
		if _, ok := is["model"].(map[string]any)[k].(float64); !ok {
			t.Errorf("model observable %s missing: %v", k, is)
		}
	}
}

// Divergence stops training with an error naming the epoch, and the checkpoint of the
// last good epoch survives.
func TestRBMDivergenceKeepsLastGoodCheckpoint(t *testing.T) {
	noData(t)
	model := filepath.Join(t.TempDir(), "d.ckpt")
	code, _, errb := latent(t, "train", "rbm", "--data", "bars:3", "--hidden", "5", "--batch", "4", "--lr", "1e38",
		"--momentum", "0.9", "--epochs", "100", "--out", model)
	if code == 0 {
		t.Fatal("training with --lr 1e38 succeeded")
	}
	lines := strings.Split(strings.TrimSpace(errb), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "latent: ") || !strings.Contains(last, "diverged in epoch") {
		t.Fatalf("last stderr line %q, want the divergence error", last)
	}
	var epoch int
	line := errb[strings.Index(errb, "diverged in epoch"):]
	if _, err := fmt.Sscanf(line, "diverged in epoch %d", &epoch); err != nil || epoch < 2 {
		t.Fatalf("epoch in %q: %v (need one good epoch before it)", line, err)
	}
	f, err := checkpoint.Load(model)
	if err != nil {
		t.Fatalf("last good checkpoint: %v", err)
	}
	m, err := rbm.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range m.W.Data {
		if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			t.Fatalf("saved W[%d] = %v", i, w)
		}
	}
	var meta struct {
		Trainer struct{ Epoch int } `json:"trainer"`
	}
	if err := f.GetMeta(&meta); err != nil || meta.Trainer.Epoch != epoch-1 {
		t.Errorf("checkpoint is from epoch %d, want %d (%v)", meta.Trainer.Epoch, epoch-1, err)
	}
}

// saveRandomGRBM writes a Gaussian RBM with nv visible and nh hidden units, of which
// only the first `active` have weights (W ~ N(0, 0.6²)); all biases and log σ are
// random and nonzero, the standardisation non-trivial. It returns the model.
func saveRandomGRBM(t *testing.T, path string, nv, nh, active int, seed uint64) *rbm.RBM {
	t.Helper()
	m, err := rbm.New(rbm.Gaussian, nv, nh)
	if err != nil {
		t.Fatal(err)
	}
	s := rng.New(seed)
	for i := 0; i < nv; i++ {
		s.FillNormal(m.W.Row(i)[:active], 0, 0.6)
		m.Mean[i], m.Std[i] = float32(2*s.NormFloat64()), 0.5+s.Float32()
	}
	s.FillNormal(m.B, 0, 0.5)
	s.FillNormal(m.C, 0, 0.5)
	s.FillNormal(m.LogSigma, 0, 0.3)
	var f checkpoint.File
	if err := m.Save(&f, map[string]string{"data": "test"}); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Save(path, &f); err != nil {
		t.Fatal(err)
	}
	return m
}

// A grbm too large to enumerate is scored by AIS. Hidden units without weights add
// softplus(c_j) each to log Z, so the exact value is that of the active part.
func TestGRBMEvalAISLarge(t *testing.T) {
	dir := noData(t)
	const nv, nh, active = 4, 40, 8
	model := filepath.Join(dir, "big.ckpt")
	m := saveRandomGRBM(t, model, nv, nh, active, 7)
	sub, err := rbm.New(rbm.Gaussian, nv, active)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < nv; i++ {
		copy(sub.W.Row(i), m.W.Row(i)[:active])
	}
	copy(sub.B, m.B)
	copy(sub.C, m.C[:active])
	copy(sub.LogSigma, m.LogSigma)
	want, err := sub.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.C[active:] {
		want += math.Log1p(math.Exp(float64(c)))
	}
	x, _ := m.Sample(rbm.SampleConfig{N: 50, Steps: 20, Seed: 1})
	data := filepath.Join(dir, "x.npy")
	writeNPY(t, data, x, []int{50, nv})
	ev := runJSON(t, "eval", "--model", model, "--data", data, "--ais-chains", "100", "--ais-betas", "2000", "--json")
	if ev["estimator"] != "ais" {
		t.Fatalf("estimator %v", ev["estimator"])
	}
	if _, ok := ev["exact_log_z"]; ok {
		t.Errorf("a %d-hidden grbm has exact_log_z %v", nh, ev["exact_log_z"])
	}
	lz, se := num(t, ev, "log_z"), num(t, ev, "log_z_stderr")
	if d := math.Abs(lz - want); d > 4*se+0.02 || d > 0.1 {
		t.Errorf("AIS log Z %.4f ± %.4f, exact %.4f", lz, se, want)
	}
	t.Logf("%d×%d grbm (%d active): AIS log Z %.4f ± %.4f, exact %.4f", nv, nh, active, lz, se, want)
	// log_likelihood is MeanLogProb at the AIS log Z.
	if ll := num(t, ev, "log_likelihood"); math.Abs(ll-m.MeanLogProb(x, lz)) > 1e-9 {
		t.Errorf("log_likelihood %.9f, MeanLogProb at log_z %.9f", ll, m.MeanLogProb(x, lz))
	}
	code, _, errb := latent(t, "eval", "--model", model, "--data", data, "--exact")
	if code == 0 {
		t.Fatal("--exact on a 40-hidden grbm succeeded")
	}
	oneError(t, errb, "--exact", "4×40 grbm", "30 hidden units")
}

// AIS on request for a small grbm, beside the exact value it can be checked against.
func TestGRBMEvalAISSmall(t *testing.T) {
	dir := noData(t)
	model := filepath.Join(dir, "small.ckpt")
	m := saveRandomGRBM(t, model, 5, 10, 10, 8)
	x, _ := m.Sample(rbm.SampleConfig{N: 40, Steps: 20, Seed: 2})
	data := filepath.Join(dir, "x.npy")
	writeNPY(t, data, x, []int{40, 5})
	ev := runJSON(t, "eval", "--model", model, "--data", data, "--ais-chains", "100", "--ais-betas", "2000", "--json")
	if ev["estimator"] != "ais" {
		t.Fatalf("estimator %v", ev["estimator"])
	}
	lz, se, exact := num(t, ev, "log_z"), num(t, ev, "log_z_stderr"), num(t, ev, "exact_log_z")
	if d := math.Abs(lz - exact); d > 4*se+0.02 || d > 0.1 {
		t.Errorf("AIS log Z %.4f ± %.4f, exact %.4f", lz, se, exact)
	}
	if d := num(t, ev, "log_likelihood") - num(t, ev, "exact_log_likelihood"); math.Abs(d+(lz-exact)) > 1e-9 {
		t.Errorf("log-likelihoods differ by %.9f, log Z by %.9f", d, lz-exact)
	}
	t.Logf("5×10 grbm: AIS log Z %.4f ± %.4f, exact %.4f", lz, se, exact)
}

// --dense trains, is recorded in the checkpoint and the JSON, agrees with the sparse
// path up to float rounding, and is kept (or must agree) on resume.
func TestRBMDenseFlag(t *testing.T) {
	dir := noData(t)
	// Sparse binary data (density about 0.1), so that the default run takes the sparse path.
	x := tensor.New(200, 20)
	s := rng.New(3)
	for i := 0; i < x.Rows; i++ {
		for j := range x.Row(i) {
			if s.Float64() < 0.1 || (j == i%20 && s.Float64() < 0.5) {
				x.Set(i, j, 1)
			}
		}
	}
	data := filepath.Join(dir, "sparse.npy")
	writeNPY(t, data, x, []int{200, 20})
	args := func(out, epochs string, extra ...string) []string {
		return append([]string{"train", "rbm", "--data", data, "--hidden", "8", "--batch", "20", "--momentum", "0.5",
			"--epochs", epochs, "--seed", "4", "--out", out}, extra...)
	}
	dense, sparse := filepath.Join(dir, "dense.ckpt"), filepath.Join(dir, "sparse.ckpt")
	code, out, errb := latent(t, args(dense, "4", "--dense", "--json")...)
	if code != 0 {
		t.Fatalf("train --dense: exit %d: %s", code, errb)
	}
	if tr := decodeJSON(t, out); tr["dense"] != true {
		t.Errorf("train --dense --json: dense = %v", tr["dense"])
	}
	code, out, errb = latent(t, args(sparse, "4", "--json")...)
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
	if tr := decodeJSON(t, out); tr["dense"] != false {
		t.Errorf("train --json: dense = %v", tr["dense"])
	}
	denseConfig := func(path string) bool {
		t.Helper()
		f, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Trainer struct {
				Config struct{ Dense bool } `json:"config"`
			} `json:"trainer"`
		}
		if err := f.GetMeta(&meta); err != nil {
			t.Fatal(err)
		}
		return meta.Trainer.Config.Dense
	}
	if !denseConfig(dense) || denseConfig(sparse) {
		t.Errorf("checkpoint Dense: %v with --dense, %v without", denseConfig(dense), denseConfig(sparse))
	}
	wd, ws := loadW(t, dense), loadW(t, sparse)
	var worst float64
	for i := range wd {
		worst = max(worst, math.Abs(float64(wd[i])-float64(ws[i])))
	}
	if worst > 1e-4 {
		t.Errorf("dense and sparse W differ by up to %g", worst)
	}
	t.Logf("max |W_dense − W_sparse| = %.3g after 4 epochs", worst)
	// Resume keeps the saved setting: 2 + 2 dense epochs (without repeating --dense)
	// are the 4 dense epochs bit for bit.
	half := filepath.Join(dir, "half.ckpt")
	if code, _, errb := latent(t, args(half, "2", "--dense")...); code != 0 {
		t.Fatal(errb)
	}
	if code, _, errb := latent(t, args(half, "4", "--resume", half)...); code != 0 {
		t.Fatal(errb)
	}
	if !denseConfig(half) {
		t.Error("resumed dense run lost Dense")
	}
	wh := loadW(t, half)
	for i := range wd {
		if math.Float32bits(wd[i]) != math.Float32bits(wh[i]) {
			t.Fatalf("W[%d]: 4 dense epochs %v, 2+2 resumed %v", i, wd[i], wh[i])
		}
	}
	// A --dense that contradicts the saved setting is an error naming both.
	code, _, errb = latent(t, args(filepath.Join(dir, "x.ckpt"), "6", "--resume", half, "--dense=false")...)
	if code == 0 {
		t.Fatal("--dense=false on resuming a dense run succeeded")
	}
	oneError(t, errb, "--dense=false", "--dense=true")
}

// eval enumerates log Z unasked only when that takes about a minute or less here;
// larger enumerable models get AIS unless --exact is given.
func TestEvalEnumeratesOnlyCheapModels(t *testing.T) {
	for _, c := range []struct {
		vis      rbm.Visible
		nv, nh   int
		cheap    bool
		evalCost float64
	}{
		{rbm.Bernoulli, 16, 16, true, 16 << 16},
		{rbm.Bernoulli, 784, 20, true, 784 << 20},
		{rbm.Bernoulli, 784, 22, true, 784 << 22},
		{rbm.Bernoulli, 784, 23, false, 784 << 23},
		{rbm.Bernoulli, 784, 30, false, 784 << 30}, // enumerable (MaxExactUnits), hours
		{rbm.Bernoulli, 20, 784, true, 784 << 20},  // the smaller layer is enumerated
		{rbm.Gaussian, 100, 24, true, 100 << 24},
		{rbm.Gaussian, 100, 27, false, 100 << 27},
	} {
		m, err := rbm.New(c.vis, c.nv, c.nh)
		if err != nil {
			t.Fatal(err)
		}
		if got := enumCost(m); got != c.evalCost {
			t.Errorf("%v %d×%d: enumCost %g, want %g", c.vis, c.nv, c.nh, got, c.evalCost)
		}
		if got := cheapExact(m); got != c.cheap {
			t.Errorf("%v %d×%d: cheapExact %t, want %t", c.vis, c.nv, c.nh, got, c.cheap)
		}
	}
}
