package model

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// fake is a trainer whose state depends on the order of every value it sees:
// acc ← 0.5·acc + x for each row in turn. It records the batches of the last
// epoch, and can be told to fail.
type fake struct {
	acc      []float64
	batch    int
	nanAt    int // epoch index (0-based) whose loss is NaN; -1: never
	badAt    int // epoch index after which Check fails; -1: never
	seen     [][]int
	lastRows []float32
	byRow    map[int][]float32
	epochs   int
}

func (f *fake) Kind() string   { return "fake" }
func (f *fake) Dim() int       { return len(f.acc) }
func (f *fake) BatchSize() int { return f.batch }
func (f *fake) Epoch(ctx context.Context, e *Epoch) (Stats, error) {
	f.seen = nil
	f.lastRows = nil
	f.byRow = map[int][]float32{}
	f.epochs++
	var buf *tensor.Mat
	for x, idx := e.Next(buf); x != nil; x, idx = e.Next(buf) {
		buf = x
		f.seen = append(f.seen, append([]int(nil), idx...))
		for i := 0; i < x.Rows; i++ {
			for j, v := range x.Row(i) {
				f.acc[j] = 0.5*f.acc[j] + float64(v)
				f.lastRows = append(f.lastRows, v)
			}
			f.byRow[idx[i]] = append([]float32(nil), x.Row(i)...)
		}
	}
	loss := f.acc[0]
	if e.Index == f.nanAt {
		loss = math.NaN()
	}
	return Stats{Loss: loss, Metrics: []Metric{{Name: "acc1", Value: f.acc[1]}}}, nil
}
func (f *fake) Check() error {
	if f.badAt >= 0 && f.epochs-1 == f.badAt {
		return errors.New("acc[0] exploded")
	}
	return nil
}
func (f *fake) Save(file *checkpoint.File) error {
	file.Kind = "fake"
	if err := file.SetMeta(map[string]int{"batch": f.batch}); err != nil {
		return err
	}
	file.AddF64("acc", []int{len(f.acc)}, f.acc)
	return nil
}

func init() {
	Register(Family{Name: "fake", Summary: "a test family",
		Config: func() any { return &struct{}{} },
		New: func(cfg any, d *dataset.Dataset, s *Settings) (Trainer, error) {
			return &fake{acc: make([]float64, d.Dim()), batch: 3, nanAt: -1, badAt: -1}, nil
		},
		Load: func(f *checkpoint.File) (Model, error) {
			var m map[string]int
			if err := f.GetMeta(&m); err != nil {
				return nil, err
			}
			acc, err := f.F64("acc", 2)
			if err != nil {
				return nil, err
			}
			return &fake{acc: acc, batch: m["batch"], nanAt: -1, badAt: -1}, nil
		}})
}

// testData returns n rows of 2 values in [0, 1].
func testData(n int) *dataset.Dataset {
	x := tensor.New(n, 2)
	s := rng.New(9)
	s.FillUniform(x.Data)
	return &dataset.Dataset{Name: "test", X: x}
}

func newRun(t *testing.T, d *dataset.Dataset, binarize string, epochs int) (*fake, *Settings) {
	t.Helper()
	s := NewSettings("fake", d, "test", binarize, 5, epochs)
	tr, err := Lookup("fake").New(&struct{}{}, d, s)
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*fake), s
}

func TestTrainVisitsEveryRowOncePerEpochInSeededOrder(t *testing.T) {
	d := testData(10)
	f, s := newRun(t, d, "", 2)
	var orders [][]int
	ctx := WithProgress(context.Background(), Progress{Log: func(string) {}})
	for e := 0; e < 2; e++ {
		s.Epochs = e + 1
		if _, err := Train(ctx, f, d, s, TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		var order []int
		seen := map[int]bool{}
		for _, b := range f.seen {
			if len(b) > 3 {
				t.Fatalf("batch of %d rows, want at most 3", len(b))
			}
			for _, i := range b {
				if seen[i] {
					t.Fatalf("row %d twice in epoch %d", i, e)
				}
				seen[i] = true
				order = append(order, i)
			}
		}
		if len(seen) != 10 || len(f.seen) != 4 {
			t.Fatalf("epoch %d: %d rows in %d batches, want 10 in 4", e, len(seen), len(f.seen))
		}
		orders = append(orders, order)
	}
	same := true
	for i := range orders[0] {
		same = same && orders[0][i] == orders[1][i]
	}
	if same {
		t.Errorf("epochs 1 and 2 visit the rows in the same order %v", orders[0])
	}
	// The order is the one dataset.Batches gives for the driver's stream.
	b := dataset.NewBatches(10, 3, rng.NewStream(5, ShuffleStream))
	b.SetEpoch(1)
	var want []int
	for idx := b.Next(); idx != nil; idx = b.Next() {
		want = append(want, idx...)
	}
	for i := range want {
		if want[i] != orders[1][i] {
			t.Fatalf("epoch 2 order %v, want %v", orders[1], want)
		}
	}
}

// A run stopped after k epochs and resumed from its file writes the same bytes
// as the run that never stopped, with dynamic binarisation and without.
func TestResumeIsBitIdentical(t *testing.T) {
	for _, bin := range []string{"", "dynamic"} {
		dir := t.TempDir()
		d := testData(11)
		whole := filepath.Join(dir, "whole.model")
		f, s := newRun(t, d, bin, 5)
		if _, err := Train(context.Background(), f, d, s, TrainOptions{Out: whole}); err != nil {
			t.Fatal(err)
		}
		part := filepath.Join(dir, "part.model")
		f, s = newRun(t, d, bin, 2)
		if _, err := Train(context.Background(), f, d, s, TrainOptions{Out: part}); err != nil {
			t.Fatal(err)
		}
		file, err := checkpoint.Load(part)
		if err != nil {
			t.Fatal(err)
		}
		m, s2, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if s2.EpochsDone != 2 || s2.Seed != 5 || s2.Binarize != bin {
			t.Fatalf("settings after load: %+v", s2)
		}
		s2.Epochs = 5
		if _, err := Train(context.Background(), m.(Trainer), d, s2, TrainOptions{Out: part}); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(whole)
		b, _ := os.ReadFile(part)
		if !bytes.Equal(a, b) {
			t.Errorf("binarize %q: the resumed run's file differs from the uninterrupted run's", bin)
		}
	}
}

func TestDynamicBinarisationDrawsAfreshEachEpoch(t *testing.T) {
	d := testData(6)
	f, s := newRun(t, d, "dynamic", 1)
	if _, err := Train(context.Background(), f, d, s, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	first := append([]float32(nil), f.lastRows...)
	firstByRow := f.byRow
	ones := 0
	for _, v := range first {
		if v != 0 && v != 1 {
			t.Fatalf("value %v in a dynamically binarised batch", v)
		}
		ones += int(v)
	}
	if ones == 0 || ones == len(first) {
		t.Fatalf("draw of %d values has %d ones", len(first), ones)
	}
	s.Epochs = 2
	if _, err := Train(context.Background(), f, d, s, TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(f.lastRows) != len(first) {
		t.Fatal("epoch sizes differ")
	}
	differ := false
	for i, r := range f.byRow {
		for j := range r {
			differ = differ || r[j] != firstByRow[i][j]
		}
	}
	if !differ {
		t.Error("epoch 2 drew the same binarisation of every row as epoch 1")
	}
	// The data themselves are untouched.
	if dataset.IsBinary(d.X) {
		t.Error("dynamic binarisation changed the training data in place")
	}
}

func TestNaNLossStopsAndKeepsLastGoodFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.model")
	d := testData(7)
	f, s := newRun(t, d, "", 5)
	f.nanAt = 2
	_, err := Train(context.Background(), f, d, s, TrainOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), "epoch 3") || !strings.Contains(err.Error(), "NaN") ||
		!strings.Contains(err.Error(), "keeps the model after epoch 2") {
		t.Fatalf("error %v, want one naming epoch 3, NaN and the kept epoch 2", err)
	}
	file, err := checkpoint.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	_, s2, err := Load(file)
	if err != nil || s2.EpochsDone != 2 {
		t.Fatalf("kept file: %v, epochs done %d, want 2", err, s2.EpochsDone)
	}
}

func TestCheckerStopsAndKeepsLastGoodFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "m.model")
	d := testData(7)
	f, s := newRun(t, d, "", 5)
	f.badAt = 0
	_, err := Train(context.Background(), f, d, s, TrainOptions{Out: out})
	if err == nil || !strings.Contains(err.Error(), "epoch 1: acc[0] exploded") || !strings.Contains(err.Error(), "was not written") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a diverged first epoch wrote %s", out)
	}
}

func TestFullBatchRefusesDynamicBinarisation(t *testing.T) {
	d := testData(4)
	f, s := newRun(t, d, "dynamic", 1)
	f.batch = 0
	_, err := Train(context.Background(), f, d, s, TrainOptions{})
	if err == nil || !IsFlagError(err) || !strings.Contains(err.Error(), "--binarize") {
		t.Fatalf("error %v, want a --binarize flag error", err)
	}
	s.Binarize = ""
	if _, err := Train(context.Background(), f, d, s, TrainOptions{}); err != nil || len(f.seen) != 1 || len(f.seen[0]) != 4 {
		t.Fatalf("full batch: %v, batches %v", err, f.seen)
	}
}

func TestCancelledContextStops(t *testing.T) {
	d := testData(4)
	f, s := newRun(t, d, "", 3)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Train(ctx, f, d, s, TrainOptions{})
	if !errors.Is(err, context.Canceled) || s.EpochsDone != 0 {
		t.Fatalf("error %v after %d epochs", err, s.EpochsDone)
	}
}

func TestSettingsHoldNoClock(t *testing.T) {
	// Two identical runs write identical files.
	dir := t.TempDir()
	d := testData(5)
	var files [][]byte
	for i := 0; i < 2; i++ {
		p := filepath.Join(dir, "m.model")
		f, s := newRun(t, d, "", 2)
		if _, err := Train(context.Background(), f, d, s, TrainOptions{Out: p}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		files = append(files, b)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("identical runs wrote different files")
	}
}

func TestCheckFinite(t *testing.T) {
	if err := CheckFinite("W", 1e6, []float32{1, -2, 3}); err != nil {
		t.Error(err)
	}
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), 2e6} {
		if err := CheckFinite("W", 1e6, []float32{0, v}); err == nil || !strings.Contains(err.Error(), "W[1]") {
			t.Errorf("%v: %v", v, err)
		}
	}
}
