package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
)

// latent runs the command in-process and returns its exit status, stdout and stderr.
func latent(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// oneError checks that stderr is exactly one line `latent: ...` containing want.
func oneError(t *testing.T, stderr string, want ...string) {
	t.Helper()
	if !strings.HasPrefix(stderr, "latent: ") || strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not one `latent: ` line: %q", stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q does not contain %q", stderr, w)
		}
	}
}

// fails runs the command with args and checks that it exits with code, prints
// nothing on stdout and one error line on stderr holding every want.
func fails(t *testing.T, code int, args []string, want ...string) {
	t.Helper()
	got, stdout, stderr := latent(t, args...)
	if got != code {
		t.Errorf("%q: exit %d, want %d (stderr %q)", args, got, code, stderr)
	}
	if stdout != "" {
		t.Errorf("%q: stdout %q, want nothing", args, stdout)
	}
	oneError(t, stderr, want...)
}

// noData points LATENT_DATA and the cache at an empty folder.
func noData(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("LATENT_DATA", dir)
	t.Setenv("XDG_CACHE_HOME", dir)
	t.Setenv("HOME", dir)
	return dir
}

func writeNPY(t *testing.T, path string, m *tensor.Mat, shape []int) {
	t.Helper()
	var buf bytes.Buffer
	if err := dataset.WriteNPY(&buf, m, shape); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDataShowNPY(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	// Three 4×4 images; image k is all k/2.
	x := tensor.New(3, 16)
	for k := 0; k < 3; k++ {
		for j := 0; j < 16; j++ {
			x.Set(k, j, float32(k)/2)
		}
	}
	npy := filepath.Join(dir, "tiny.npy")
	writeNPY(t, npy, x, []int{3, 4, 4})
	out := filepath.Join(dir, "grid.png")
	code, stdout, stderr := latent(t, "data", "show", npy, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.TrimSpace(stdout) != out {
		t.Errorf("stdout %q, want the PNG's name", stdout)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// 4×4 tiles scaled by 7 to 28×28, 2 columns, 2 rows, 1-px separators.
	if b := img.Bounds(); b.Dx() != 59 || b.Dy() != 59 {
		t.Fatalf("grid is %v, want 59x59", b.Size())
	}
	for k, want := range []uint32{0, 0x8080, 0xffff} {
		cx, cy := 1+(k%2)*29+14, 1+(k/2)*29+14
		r, g, b, _ := img.At(cx, cy).RGBA()
		if r != want || g != want || b != want {
			t.Errorf("image %d centre = %x %x %x, want grey %x", k, r, g, b, want)
		}
	}
}

func TestDataExportRoundTrip(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "bars.npy")
	code, stdout, stderr := latent(t, "data", "export", "bars:3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	labels := filepath.Join(dir, "bars.labels.npy")
	if stdout != out+"\n"+labels+"\n" {
		t.Errorf("stdout %q", stdout)
	}
	want, err := dataset.Load("bars:3", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := dataset.Load(out, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != want.Len() || got.Dim() != 9 || want.Len() < 14 {
		t.Fatalf("exported %dx%d, want %dx9", got.Len(), got.Dim(), want.Len())
	}
	for i := range want.X.Data {
		if got.X.Data[i] != want.X.Data[i] {
			t.Fatalf("value %d: %v, want %v", i, got.X.Data[i], want.X.Data[i])
		}
	}
	if len(got.Labels) != want.Len() {
		t.Errorf("labels not read back: %v", got.Labels)
	}
	for i, l := range want.Labels {
		if i < len(got.Labels) && got.Labels[i] != l {
			t.Errorf("label %d = %d, want %d", i, got.Labels[i], l)
		}
	}
}

func TestMissingDataSaysHowToGetIt(t *testing.T) {
	empty := noData(t)
	out := filepath.Join(t.TempDir(), "g.png")
	code, _, stderr := latent(t, "data", "show", "mnist:test", "--out", out)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	oneError(t, stderr, "latent data fetch mnist", "LATENT_DATA", "t10k-images-idx3-ubyte")
	if _, err := os.Stat(out); err == nil {
		t.Error("a picture was written without data")
	}
	// --data-dir overrides LATENT_DATA and is named in the message.
	other := filepath.Join(empty, "elsewhere")
	os.Mkdir(other, 0o755)
	code, _, stderr = latent(t, "--data-dir", other, "data", "show", "mnist", "--out", out)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	oneError(t, stderr, other)
}

func TestUsageErrors(t *testing.T) {
	noData(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "no command"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"data", "show", "bars:4", "--bogus", "--out", "x.png"}, 2, "bogus"},
		{[]string{"data", "show", "bars:4", "--n", "zero", "--out", "x.png"}, 2, "zero"},
		{[]string{"data", "show", "bars:4", "--n", "0", "--out", "x.png"}, 2, "--n: must be >= 1, got 0"},
		{[]string{"data", "show", "bars:4"}, 2, "missing --out"},
		{[]string{"data", "show", "bars:4", "--out", "x.jpg"}, 2, ".png"},
		{[]string{"data", "export", "bars:4", "--out", "x.csv"}, 2, ".npy"},
		{[]string{"data", "show", "bars:4", "--out", "x.png", "--binarize", "maybe"}, 2, `--binarize: must be threshold, stochastic or dynamic, got "maybe"`},
		{[]string{"data", "fetch"}, 2, "NAME"},
		{[]string{"data", "fetch", "nosuch"}, 1, "nosuch"},
		{[]string{"data", "frob"}, 2, "frob"},
		{[]string{"data", "show", "nosuchset", "--out", "x.png"}, 1, `unknown data set "nosuchset"`},
		{[]string{"train"}, 2, "missing MODEL"},
		{[]string{"train", "nosuchmodel"}, 2, `unknown MODEL "nosuchmodel"`},
		{[]string{"sample", "--n", "4"}, 2, "missing --model"},
		{[]string{"eval", "--model"}, 2, "--model: needs a model file"},
		{[]string{"eval", "--model", "/no/such/file.ckpt"}, 1, "/no/such/file.ckpt"},
		{[]string{"inspect"}, 2, "want exactly one model file"},
		{[]string{"--data-dir"}, 2, "--data-dir"},
		{[]string{"--cpuprofile"}, 2, "--cpuprofile: needs a file"},
		{[]string{"--cpuprofile=", "version"}, 2, "--cpuprofile: empty file name"},
		{[]string{"--cpuprofile", "/no/such/dir/cpu.prof", "version"}, 1, "/no/such/dir/cpu.prof"},
		{[]string{"demo", "extra"}, 2, `unexpected argument "extra"`},
	}
	for _, c := range cases {
		fails(t, c.code, c.args, c.want)
	}
}

// TestCPUProfile checks that --cpuprofile FILE, anywhere before the command's
// own flags end, writes a profile pprof can read (a gzip stream) and leaves the
// command's output alone.
func TestCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	code, stdout, stderr := latent(t, "version", "--cpuprofile", prof)
	if code != 0 || !strings.HasPrefix(stdout, "latent ") || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile of %d bytes is not gzip-compressed: % x", len(b), b[:min(len(b), 8)])
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"data", "--help"}} {
		code, stdout, stderr := latent(t, args...)
		if code != 0 || !strings.Contains(stdout, "latent data show SPEC") || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %.60q", args, code, stderr, stdout)
		}
	}
	// Each command's -h lists its own flags with their defaults.
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"sample", "-h"}, []string{"--n int", "(default 64)", "--label", "--seed"}},
		{[]string{"eval", "-h"}, []string{"--data", "--per-example", "--binarize"}},
		{[]string{"inspect", "-h"}, []string{"--json", "--meta"}},
		{[]string{"transform", "-h"}, []string{"--out", "--log-likelihood"}},
		{[]string{"train", "pixels", "-h"}, []string{"--alpha", "--epochs", "(default 1)"}},
	} {
		code, stdout, stderr := latent(t, c.args...)
		if code != 0 || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: output lacks %q:\n%s", c.args, w, stdout)
			}
		}
	}
	code, stdout, _ := latent(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "latent "+checkpoint.LatentVersion+" ") {
		t.Errorf("version: %d %q", code, stdout)
	}
}

// fakeCLI is a family registered for TestDispatch: --mode panic makes New
// panic, --mode fail return a two-line error.
type fakeCLI struct{}

type fakeCLIConfig struct {
	Mode string `flag:"mode" help:"how the fake behaves" choices:"ok|panic|fail"`
}

func (fakeCLI) Kind() string   { return "fakecli" }
func (fakeCLI) Dim() int       { return 16 }
func (fakeCLI) BatchSize() int { return 0 }
func (fakeCLI) Save(f *checkpoint.File) error {
	f.Kind = "fakecli"
	return f.SetMeta(map[string]int{"dim": 16})
}
func (fakeCLI) Epoch(ctx context.Context, e *model.Epoch) (model.Stats, error) {
	for x, _ := e.Next(nil); x != nil; x, _ = e.Next(nil) {
	}
	return model.Stats{Loss: 1}, nil
}
func (fakeCLI) Sample(ctx context.Context, o model.SampleOptions) (*dataset.Dataset, error) {
	return &dataset.Dataset{X: tensor.New(o.N, 16)}, nil
}
func (fakeCLI) Score(ctx context.Context, d *dataset.Dataset, o model.ScoreOptions) (model.Estimate, error) {
	return model.Estimate{LogLik: -1.5, Method: "exact", N: d.Len()}, nil
}

func init() {
	model.Register(model.Family{Name: "fakecli", Summary: "a test family of the command's dispatch",
		Config: func() any { return &fakeCLIConfig{Mode: "ok"} },
		New: func(cfg any, d *dataset.Dataset, s *model.Settings) (model.Trainer, error) {
			switch cfg.(*fakeCLIConfig).Mode {
			case "panic":
				var m map[string]int
				m["x"] = 1 // nil map write: a runtime panic
			case "fail":
				return nil, errors.New("fake: --hidden: must be >= 1, got 0\nsecond line")
			}
			return fakeCLI{}, nil
		},
		Load: func(f *checkpoint.File) (model.Model, error) { return fakeCLI{}, nil },
	})
}

func TestDispatch(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	res := jsonOf(t, "train", "fakecli", "--data", "bars:4", "--epochs", "1", "--out", path, "--json")
	if res["model"] != "fakecli" || res["loss"] != 1.0 {
		t.Errorf("train: %v", res)
	}
	code, _, stderr := latent(t, "train", "fakecli", "--data", "bars:4", "--mode", "panic", "--out", path)
	if code != 1 {
		t.Errorf("panic: exit %d", code)
	}
	oneError(t, stderr, "internal error", "nil map")
	if strings.Contains(stderr, "goroutine") {
		t.Error("a Go trace reached stderr")
	}
	code, _, stderr = latent(t, "train", "fakecli", "--data", "bars:4", "--mode", "fail", "--out", path)
	if code != 1 {
		t.Errorf("fail: exit %d", code)
	}
	oneError(t, stderr, "--hidden: must be >= 1, got 0; second line")
	_, _, stderr = latent(t, "train", "nosuch")
	oneError(t, stderr, "known: ", "fakecli")
	// sample and eval go to the family that wrote the file, --model anywhere.
	for _, args := range [][]string{
		{"sample", "--model", path, "--n", "3", "--out", filepath.Join(dir, "s.npy")},
		{"sample", "--n", "3", "--out", filepath.Join(dir, "t.npy"), "--model=" + path},
		{"eval", "-model", path, "--data", "bars:4"},
	} {
		if code, _, stderr := latent(t, args...); code != 0 {
			t.Errorf("%q: exit %d %q", args, code, stderr)
		}
	}
	if out := ok(t, "eval", "--model", path, "--data", "bars:4"); !strings.Contains(out, "fakecli on bars:4 (n=30): log p(x) = -1.5000") {
		t.Errorf("eval: %q", out)
	}
	// A model file of a kind no family reads.
	g := &checkpoint.File{Kind: "martian"}
	other := filepath.Join(dir, "x.ckpt")
	checkpoint.Save(other, g)
	code, _, stderr = latent(t, "sample", "--model", other)
	if code != 1 {
		t.Errorf("unknown kind: exit %d", code)
	}
	oneError(t, stderr, `holds a "martian" model`, "known: ", "fakecli")
	// A file that is not a model.
	junk := filepath.Join(dir, "junk.ckpt")
	os.WriteFile(junk, []byte("hello, world, not a model"), 0o644)
	_, _, stderr = latent(t, "eval", "--model", junk)
	oneError(t, stderr, junk, "not a latent model file")
	// Help lists the family.
	if out := ok(t, "help"); !strings.Contains(out, "a test family of the command's dispatch") {
		t.Errorf("help does not list registered models:\n%s", out)
	}
	// printJSON writes null for NaN.
	var b bytes.Buffer
	printJSON(&Env{Stdout: &b}, map[string]any{"nan": model.JSONFloat(0 * -1.5 / zero())})
	if b.String() != "{\"nan\":null}\n" {
		t.Errorf("printJSON wrote %q", b.String())
	}
}

func zero() float64 { return 0 }

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.ckpt")
	f := &checkpoint.File{Kind: "rbm"}
	f.SetMeta(map[string]any{"visible": 3, "hidden": 2, "data": "bars:4"})
	f.AddF32("W", []int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	f.AddF64("trace", []int{2}, []float64{-1, 1})
	f.AddBytes("rng", []byte{1, 2, 3})
	if err := checkpoint.Save(path, f); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := latent(t, "inspect", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"model:     rbm", "latent " + checkpoint.LatentVersion, `"hidden": 2`, "W", "3×2", "3.5", "1.708", "trace", "1 byte blobs, 3 bytes"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = latent(t, "inspect", "--json", path)
	var res struct {
		Kind    string
		Meta    map[string]any
		Tensors []checkpoint.TensorStats
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 {
		t.Fatalf("inspect --json: %v %q", err, stdout)
	}
	w := res.Tensors[0]
	if res.Kind != "rbm" || res.Meta["hidden"] != 2.0 || w.Name != "W" || w.N != 6 || *w.Min != 1 || *w.Max != 6 || *w.Mean != 3.5 {
		t.Errorf("inspect --json: %+v", res)
	}
	// std of 1..6 is sqrt(35/12).
	if d := *w.Std - 1.707825127659933; d > 1e-12 || d < -1e-12 {
		t.Errorf("std %v", *w.Std)
	}
	b, _ := os.ReadFile(path)
	b[len(b)-5] ^= 1
	os.WriteFile(path, b, 0o644)
	code, _, stderr = latent(t, "inspect", path)
	if code != 1 {
		t.Errorf("corrupted: exit %d", code)
	}
	oneError(t, stderr, path, "checksum mismatch")
}

func TestDemoDataSteps(t *testing.T) {
	noData(t)
	// Only the built-in data pictures (Order < 10): the model families' steps
	// are tested in their own packages.
	saved := demoSteps
	defer func() { demoSteps = saved }()
	var mine []demoStep
	for _, s := range demoSteps {
		if s.Order < 10 {
			mine = append(mine, s)
		}
	}
	demoSteps = mine
	defer model.HideDemos(10)()
	out := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr := latent(t, "demo", "--out", out, "--seed", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"data-bars.png", "data-shapes.png", "data-ising.png"} {
		p := filepath.Join(out, name)
		f, err := os.Open(p)
		if err != nil {
			t.Errorf("demo did not write %s", name)
			continue
		}
		if _, err := png.Decode(f); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		f.Close()
		if !strings.Contains(stdout, p) {
			t.Errorf("summary does not list %s:\n%s", p, stdout)
		}
	}
	// Families registered with package model add their own steps (their
	// files are checked in their packages).
	if !strings.Contains(stdout, " files written to "+out) {
		t.Errorf("summary: %q", stdout)
	}
}

// TestBadInputs is the QA sweep's regression table: each bad command line fails
// fast with one `latent:` line naming the flag or file, before any training,
// and never touches an existing model file.
func TestBadInputs(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	small := filepath.Join(dir, "small.npy")
	m := tensor.New(20, 5)
	for i := range m.Data {
		m.Data[i] = float32(i%7) / 7
	}
	writeNPY(t, small, m, []int{20, 5})
	folder := filepath.Join(dir, "folder")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	nodir := filepath.Join(dir, "nodir", "x.model")
	existing := filepath.Join(dir, "existing.model")
	if code, _, errs := latent(t, "train", "bmm", "--data", "bars:3", "--components", "2", "--epochs", "2", "--out", existing); code != 0 {
		t.Fatalf("training the reference model: %s", errs)
	}
	before, err := os.ReadFile(existing)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		want []string
	}{
		// --out checked before the data are read or a model trained.
		{[]string{"train", "vae", "--data", "bars:3", "--out", nodir}, 1, []string{"--out", "folder", "does not exist"}},
		{[]string{"train", "ae", "--data", "bars:3", "--out", folder}, 2, []string{"--out", folder, "is a folder"}},
		{[]string{"train", "gmm", "--data", small, "--components", "2", "--out", nodir}, 1, []string{"--out", "does not exist"}},
		{[]string{"train", "bmm", "--data", "bars:3", "--components", "2", "--out", folder}, 2, []string{"--out", "is a folder"}},
		{[]string{"train", "helmholtz", "--data", "bars:3", "--out", nodir}, 1, []string{"--out", "does not exist"}},
		{[]string{"train", "helmholtz", "--data", "bars:3", "--out", folder}, 2, []string{"--out", "is a folder"}},
		{[]string{"sample", "--model", existing, "--n", "4", "--out", filepath.Join(dir, "nodir", "s.png")}, 1, []string{"--out", "does not exist"}},
		{[]string{"sample", "--model", existing, "--n", "4", "--out", "s.txt"}, 2, []string{"--out", "s.txt"}},
		{[]string{"sample", "--model", existing, "--n", "0", "--out", "s.png"}, 2, []string{"--n", "got 0"}},
		{[]string{"data", "show", "bars:3", "--out", filepath.Join(dir, "nodir", "g.png")}, 1, []string{"--out", "does not exist"}},
		{[]string{"data", "export", "bars:3", "--out", filepath.Join(dir, "nodir", "g.npy")}, 1, []string{"--out", "does not exist"}},
		// A folder where a model file should be.
		{[]string{"eval", "--model", folder, "--data", "bars:3"}, 1, []string{folder, "is a folder"}},
		{[]string{"inspect", folder}, 1, []string{folder, "is a folder"}},
		// Learning rates: NaN, negative and infinite are all refused.
		{[]string{"train", "vae", "--data", "bars:3", "--lr", "Inf", "--out", existing}, 2, []string{"--lr", "+Inf"}},
		{[]string{"train", "vae", "--data", "bars:3", "--lr", "NaN", "--out", existing}, 2, []string{"--lr", "NaN"}},
		{[]string{"train", "helmholtz", "--data", "bars:3", "--lr", "-1", "--out", existing}, 2, []string{"--lr", "-1"}},
		{[]string{"train", "helmholtz", "--data", "bars:3", "--hidden", "400,,400", "--out", existing}, 2, []string{"--hidden", "400,,400"}},
		{[]string{"train", "vae", "--data", "bars:3", "--hidden", "-5", "--out", existing}, 2, []string{"--hidden", "-5"}},
		// Mixtures: the flag is named, and --pictures is checked up front (the
		// free-energy plot, once --plot, is a picture).
		{[]string{"train", "gmm", "--data", small, "--components", "1000", "--out", existing}, 2, []string{"--components", "1000", "20 examples"}},
		{[]string{"train", "gmm", "--data", small, "--components", "2", "--plot", "f.png", "--out", existing}, 2, []string{"-plot"}},
		{[]string{"train", "gmm", "--data", small, "--components", "2", "--pictures", small, "--out", existing}, 1, []string{"--pictures", "small.npy"}},
		{[]string{"train", "bmm", "--data", "bars:3", "--components", "2", "--binarize", "dynamic", "--out", existing}, 2, []string{"--binarize"}},
		// Bad data never replaces an existing model.
		{[]string{"train", "bmm", "--data", filepath.Join(dir, "none.npy"), "--components", "2", "--out", existing}, 1, []string{"none.npy"}},
		{[]string{"train", "vae", "--data", folder, "--out", existing}, 1, []string{folder}},
	}
	for _, c := range cases {
		fails(t, c.code, c.args, c.want...)
	}
	after, err := os.ReadFile(existing)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("existing model file changed by failed commands (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nodir")); err == nil {
		t.Errorf("a failed command created the missing folder")
	}
}
