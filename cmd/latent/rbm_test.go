package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rbm"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// runJSON runs the command with args (which should include --json), fails the test
// unless it succeeds, and returns its stdout as one JSON object. (Shared with
// vae_test.go.)
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
	pics := filepath.Join(dir, "pics")
	code, out, errb := latent(t, "train", "rbm", "--data", "bars:4", "--hidden", "12", "--pt", "4", "--batch", "10",
		"--lr", "0.1", "--momentum", "0.5", "--epochs", "20", "--seed", "3", "--out", model, "--pictures", pics,
		"--picture-steps", "30", "--test", "bars:4", "--json")
	if code != 0 {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
	tr := decodeJSON(t, out)
	for _, k := range []string{"epochs", "seconds", "seconds_per_epoch", "exact_log_likelihood", "pseudo_log_likelihood", "loss"} {
		num(t, tr, k)
	}
	if tr["loss_name"] != "reconstruction_error" || num(t, tr, "test_exact_log_likelihood") != num(t, tr, "exact_log_likelihood") {
		t.Errorf("loss_name %v, test_exact_log_likelihood %v", tr["loss_name"], tr["test_exact_log_likelihood"])
	}
	if !strings.Contains(errb, "epoch 20/20") || !strings.Contains(errb, "swap_rates") {
		t.Errorf("progress on stderr: %q", errb)
	}
	for _, name := range []string{"filters.png", "samples.png"} {
		if _, err := os.Stat(filepath.Join(pics, name)); err != nil {
			t.Errorf("picture: %v", err)
		}
	}
	// The same pictures from the model file afterwards (sample --pictures).
	pics2 := filepath.Join(dir, "pics2")
	if code, out, errb := latent(t, "sample", "--model", model, "--n", "8", "--out", filepath.Join(dir, "s.png"), "--pictures", pics2); code != 0 || !strings.Contains(out, "filters.png") {
		t.Fatalf("sample --pictures: exit %d: %s %s", code, out, errb)
	}
	for _, name := range []string{"filters.png", "samples.png"} {
		if _, err := os.Stat(filepath.Join(pics2, name)); err != nil {
			t.Errorf("sample --pictures: %v", err)
		}
	}
	per := filepath.Join(dir, "per.csv")
	ev := runJSON(t, "eval", "--model", model, "--data", "bars:4", "--per-example", per, "--json")
	if b, err := os.ReadFile(per); err != nil || strings.Count(string(b), "\n") != 31 {
		t.Errorf("--per-example: %v, %d lines", err, strings.Count(string(b), "\n"))
	}
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
	for _, k := range []string{"visible", "hidden", "pseudo_log_likelihood", "reconstruction_error", "seconds", "exact_seconds"} {
		num(t, ev, k)
	}
	// AIS on request, checked against the exact value it prints beside.
	ais := runJSON(t, "eval", "--model", model, "--data", "bars:4", "--ais-chains", "32", "--ais-betas", "2000", "--json")
	if ais["estimator"] != "ais" || ais["bound"] != "upper" {
		t.Errorf("estimator %v, bound %v", ais["estimator"], ais["bound"])
	}
	if d := math.Abs(num(t, ais, "log_z") - num(t, ais, "exact_log_z")); d > 4*num(t, ais, "log_z_stderr")+0.05 {
		t.Errorf("AIS log Z %v ± %v, exact %v", ais["log_z"], ais["log_z_stderr"], ais["exact_log_z"])
	}
	for _, k := range []string{"log_likelihood_stderr", "exact_log_likelihood", "ais_chains", "ais_betas", "ais_seconds"} {
		num(t, ais, k)
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

// 4 epochs == 2 + resume to 4 (--epochs is the total), byte for byte.
func TestRBMResumeBitForBit(t *testing.T) {
	noData(t)
	dir := t.TempDir()
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
	if code, _, errb := latent(t, "train", "rbm", "--resume", c2, "--epochs", "4", "--out", c2); code != 0 {
		t.Fatal(errb)
	}
	a, _ := os.ReadFile(c4)
	b, _ := os.ReadFile(c2)
	if !bytes.Equal(a, b) {
		t.Errorf("4 epochs and 2+2 resumed: the model files differ")
	}
}

// TestRBMResumeRetune: --lr may change when an rbm or grbm run is resumed. The new
// rate trains differently from the file's, the change is recorded, and a later
// resume that does not repeat it keeps it (to 3 at the new rate, then plainly to 4,
// gives the file of one resume to 4; a constant schedule, as under --schedule
// linear the decay's length is each run's --epochs). A dbm, whose rates
// belong to stages, still refuses a changed --joint-lr, naming it.
func TestRBMResumeRetune(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	base, lo, lo3, same := filepath.Join(dir, "b.ckpt"), filepath.Join(dir, "lo.ckpt"), filepath.Join(dir, "lo3.ckpt"), filepath.Join(dir, "s.ckpt")
	ok(t, "train", "rbm", "--data", "bars:4", "--hidden", "8", "--pcd", "--batch", "8", "--momentum", "0.5",
		"--epochs", "2", "--seed", "9", "--out", base)
	ok(t, "train", "rbm", "--resume", base, "--epochs", "4", "--lr", "0.01", "--out", lo)
	ok(t, "train", "rbm", "--resume", base, "--epochs", "4", "--out", same)
	ok(t, "train", "rbm", "--resume", base, "--epochs", "3", "--lr", "0.01", "--out", lo3)
	ok(t, "train", "rbm", "--resume", lo3, "--epochs", "4", "--out", lo3)
	a, _ := os.ReadFile(lo)
	b, _ := os.ReadFile(lo3)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("a resume at the new rate to epoch 3, then a plain one to 4, differs from one resume to 4")
	}
	if slices.Equal(loadW(t, lo), loadW(t, same)) {
		t.Error("--lr 0.01 on resume trained as the file's 0.1 did")
	}
	code, out, errs := latent(t, "inspect", lo)
	if code != 0 || !strings.Contains(out, "--lr 0.1 → 0.01 after epoch 2") {
		t.Errorf("inspect (exit %d, %s) lacks the change: %s", code, errs, out)
	}
	g := filepath.Join(dir, "g.ckpt")
	ok(t, "train", "grbm", "--data", "bars:4", "--hidden", "4", "--batch", "8", "--epochs", "1", "--seed", "2", "--out", g)
	ok(t, "train", "grbm", "--resume", g, "--epochs", "2", "--lr", "0.001", "--out", g)
	// A dbm's --joint-lr: changed in joint training (the same checks), and changed
	// after pretraining only (--epochs 2), where joint training starts at the new
	// rate (the weights of a run given that rate from the start); --lr, the
	// pretraining rate, stays.
	dbm := func(out, epochs string, extra ...string) []string {
		return append([]string{"train", "dbm", "--data", "bars:4", "--hidden", "4,3", "--pretrain-epochs", "1", "--mf-iters", "5",
			"--batch", "8", "--seed", "5", "--epochs", epochs, "--out", out}, extra...)
	}
	d, dlo, dlo4, dsame := filepath.Join(dir, "d.ckpt"), filepath.Join(dir, "dlo.ckpt"), filepath.Join(dir, "dlo4.ckpt"), filepath.Join(dir, "dsame.ckpt")
	ok(t, dbm(d, "3")...)
	ok(t, "train", "dbm", "--resume", d, "--epochs", "5", "--joint-lr", "0.0005", "--out", dlo)
	ok(t, "train", "dbm", "--resume", d, "--epochs", "5", "--out", dsame)
	ok(t, "train", "dbm", "--resume", d, "--epochs", "4", "--joint-lr", "0.0005", "--out", dlo4)
	ok(t, "train", "dbm", "--resume", dlo4, "--epochs", "5", "--out", dlo4)
	a, _ = os.ReadFile(dlo)
	b, _ = os.ReadFile(dlo4)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("dbm: a resume at the new joint rate to epoch 4, then a plain one to 5, differs from one resume to 5")
	}
	if slices.Equal(tensorsOf(t, dlo), tensorsOf(t, dsame)) {
		t.Error("dbm: --joint-lr 0.0005 on resume trained as the file's 0.005 did")
	}
	pre, fresh := filepath.Join(dir, "pre.ckpt"), filepath.Join(dir, "fresh.ckpt")
	ok(t, dbm(pre, "2")...)
	ok(t, "train", "dbm", "--resume", pre, "--epochs", "4", "--joint-lr", "0.0005", "--out", pre)
	ok(t, dbm(fresh, "4", "--joint-lr", "0.0005")...)
	if !slices.Equal(tensorsOf(t, pre), tensorsOf(t, fresh)) {
		t.Error("dbm: --joint-lr changed after pretraining: joint training did not start at the new rate")
	}
	fails(t, 2, []string{"train", "dbm", "--resume", d, "--epochs", "6", "--lr", "0.01", "--out", d}, "--lr", "trained with --lr=0.05")
}

// tensorsOf returns every float32 value stored in the model file at path, in
// the file's order.
func tensorsOf(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, x := range f.Tensors {
		all = append(all, x.F32...)
	}
	return all
}

// The QA corpus's bad rbm/grbm command lines: one `latent:` line naming the flag
// or file, exit 2 for command-line mistakes and 1 for bad data.
func TestRBMErrors(t *testing.T) {
	dir := noData(t)
	nonBinary := tensor.New(20, 4)
	rng.New(1).FillUniform(nonBinary.Data)
	real := filepath.Join(dir, "real.npy")
	writeNPY(t, real, nonBinary, []int{20, 4})
	out := filepath.Join(dir, "m.ckpt")
	cases := []struct {
		code int
		args []string
		want []string
	}{
		{2, []string{"train", "rbm", "--data", "bars:3", "--hidden", "0", "--out", out}, []string{"--hidden", "0"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--cd", "0", "--out", out}, []string{"--cd", "0"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--lr", "NaN", "--out", out}, []string{"--lr", "NaN"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--lr", "-1", "--out", out}, []string{"--lr", "-1"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--lr", "Inf", "--out", out}, []string{"--lr", "+Inf"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--pt", "1", "--out", out}, []string{"--pt", "1"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--pt", "3", "--pcd", "--out", out}, []string{"--pcd", "--pt", "choose one"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--momentum", "1", "--out", out}, []string{"--momentum", "1"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--l2", "-0.1", "--out", out}, []string{"--l2", "-0.1"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--schedule", "cosine", "--out", out}, []string{"--schedule", "cosine"}},
		{2, []string{"train", "rbm", "--data", "bars:3", "--learn-sigma", "--out", out}, []string{"learn-sigma"}},
		{2, []string{"train", "grbm", "--data", real, "--pt", "3", "--out", out}, []string{"-pt"}},
		{2, []string{"train", "grbm", "--data", real, "--binarize", "threshold", "--out", out}, []string{"--binarize", "grbm", "threshold"}},
		{1, []string{"train", "rbm", "--data", real, "--out", out}, []string{real, "binary"}},
		{2, []string{"eval", "--model", out, "--data", "bars:3", "--exact", "--ais-chains", "5"}, []string{"--exact", "--ais-chains", "choose one"}},
		{2, []string{"eval", "--model", out, "--data", "bars:3", "--ais-betas", "2"}, []string{"--ais-betas", "2"}},
		{2, []string{"sample", "--model", out, "--n", "4", "--gibbs-steps", "0", "--out", filepath.Join(dir, "s.npy")}, []string{"--gibbs-steps", "0"}},
		{2, []string{"sample", "--model", out, "--n", "4", "--label", "1", "--out", filepath.Join(dir, "s.npy")}, []string{"--label", "not conditional"}},
	}
	if code, _, errb := latent(t, "train", "rbm", "--data", "bars:3", "--hidden", "4", "--epochs", "1", "--out", out); code != 0 {
		t.Fatal(errb)
	}
	before, _ := os.ReadFile(out)
	for _, c := range cases {
		fails(t, c.code, c.args, c.want...)
	}
	if after, _ := os.ReadFile(out); !bytes.Equal(before, after) {
		t.Error("a failed command changed the model file")
	}
	// --pictures on data without an image shape draws nothing, and says so once.
	code, _, errb := latent(t, "train", "rbm", "--data", real, "--binarize", "dynamic", "--epochs", "2",
		"--out", filepath.Join(dir, "d.ckpt"), "--pictures", filepath.Join(dir, "p"))
	if code != 0 || strings.Count(errb, "no image shape") != 1 {
		t.Errorf("--pictures without an image shape: exit %d, stderr %q", code, errb)
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

// Issue 13 item 16: a grbm trains on data with constant columns (MNIST's and
// optdigits' border pixels) by leaving them out; samples and means hold their
// value, eval scores the other columns and says how many were left out.
func TestGRBMConstantColumns(t *testing.T) {
	dir := noData(t)
	x := tensor.New(300, 16)
	s := rng.New(5)
	for i := 0; i < x.Rows; i++ {
		for j := range x.Row(i) {
			switch {
			case j%4 == 0: // the image's left column: constant
				x.Set(i, j, 0.25)
			default:
				x.Set(i, j, float32(0.5+0.2*s.NormFloat64()))
			}
		}
	}
	data := filepath.Join(dir, "img.npy")
	if err := dataset.SaveNPY(data, &dataset.Dataset{X: x, Height: 4, Width: 4, Channels: 1}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "g.ckpt")
	pics := filepath.Join(dir, "pics")
	if code, _, errb := latent(t, "train", "grbm", "--data", data, "--hidden", "5", "--epochs", "3", "--out", model,
		"--pictures", pics, "--picture-steps", "20"); code != 0 {
		t.Fatalf("train grbm on constant columns: %s", errb)
	}
	for _, name := range []string{"filters.png", "samples.png"} {
		if _, err := os.Stat(filepath.Join(pics, name)); err != nil {
			t.Errorf("picture: %v", err)
		}
	}
	ev := runJSON(t, "eval", "--model", model, "--data", data, "--json")
	if num(t, ev, "constant_columns") != 4 || num(t, ev, "visible") != 12 || ev["estimator"] != "exact" {
		t.Errorf("eval: %v", ev)
	}
	for _, means := range []string{"--means=false", "--means"} {
		out := filepath.Join(dir, "s"+means+".npy")
		if code, _, errb := latent(t, "sample", "--model", model, "--n", "10", "--gibbs-steps", "5", means, "--out", out); code != 0 {
			t.Fatal(errb)
		}
		d, err := dataset.Load(out, dataset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Dim() != 16 {
			t.Fatalf("samples have %d columns, want 16", d.Dim())
		}
		spread := false
		for i := 0; i < d.Len(); i++ {
			for j, v := range d.X.Row(i) {
				if j%4 == 0 && v != 0.25 {
					t.Fatalf("%s: sample %d column %d = %v, want the constant 0.25", means, i, j, v)
				}
				spread = spread || (j%4 != 0 && v != d.X.At(0, j))
			}
		}
		if !spread {
			t.Errorf("%s: the modelled columns do not vary", means)
		}
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
	if is["model_samples"] != 50.0 || is["gibbs_steps"] != 20.0 {
		t.Errorf("ising settings: %v", is)
	}
}

// Issue 13 item 3: a learning rate of 1e30 stops training in its first epoch with
// an error naming the epoch and the parameter, instead of finishing with a
// log-likelihood of −3e30; the model file already at --out is left as it was. (The
// library's TestDivergenceNamesEpoch checks that a run keeps its last good epoch.)
func TestRBMDivergenceKeepsLastGoodModel(t *testing.T) {
	noData(t)
	model := filepath.Join(t.TempDir(), "d.ckpt")
	args := []string{"train", "rbm", "--data", "bars:3", "--hidden", "5", "--batch", "4", "--momentum", "0.9", "--epochs", "3", "--out", model}
	if code, _, errb := latent(t, args...); code != 0 {
		t.Fatal(errb)
	}
	before, _ := os.ReadFile(model)
	code, _, errb := latent(t, append(args, "--lr", "1e30")...)
	if code != 1 {
		t.Fatalf("training with --lr 1e30: exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(errb), "\n")
	last := lines[len(lines)-1]
	for _, want := range []string{"latent: epoch 1: ", "diverged", "learning rate is 1e+30", model + " was not written"} {
		if !strings.Contains(last, want) {
			t.Errorf("last stderr line %q lacks %q", last, want)
		}
	}
	if after, _ := os.ReadFile(model); !bytes.Equal(before, after) {
		t.Error("the diverged run changed the model file")
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
	fails(t, 1, []string{"eval", "--model", model, "--data", data, "--exact"}, "--exact", "4×40 grbm", "30 hidden units")
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

// --dense trains, is recorded in the model file's settings and training state,
// agrees with the sparse path up to float rounding, and is kept (or must agree) on
// resume.
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
	if code, _, errb := latent(t, args(dense, "4", "--dense")...); code != 0 {
		t.Fatalf("train --dense: exit %d: %s", code, errb)
	}
	if code, _, errb := latent(t, args(sparse, "4")...); code != 0 {
		t.Fatalf("train: exit %d: %s", code, errb)
	}
	denseConfig := func(path string) bool {
		t.Helper()
		f, err := checkpoint.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		m, s, err := model.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		d := m.(*rbm.Trainer).Config().Dense
		if s.Flags["dense"] != map[bool]string{true: "true", false: "false"}[d] {
			t.Errorf("%s: settings say --dense=%s, the trainer %v", path, s.Flags["dense"], d)
		}
		return d
	}
	if !denseConfig(dense) || denseConfig(sparse) {
		t.Errorf("model file Dense: %v with --dense, %v without", denseConfig(dense), denseConfig(sparse))
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
	// A --dense that contradicts the saved setting is an error naming it.
	fails(t, 2, args(filepath.Join(dir, "x.ckpt"), "6", "--resume", half, "--dense=false"), "--dense", "--dense=true", half)
}
