package rbm

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
)

// The deep families' bad input not covered by TestDeepBadInput: fine-tuning
// settings that cannot be met, non-binary data at eval and for --test, a
// conditional sample of an unconditional model, and mean field that does not
// converge at eval (a warning with the residual, and mf_converged false).
func TestDeepBadInputMore(t *testing.T) {
	d := barsData()
	// --finetune-epochs with one hidden layer: a flag error naming it.
	f := DefaultDBNFlags()
	f.Hidden, f.FinetuneEpochs = []int{4}, 2
	if err := model.Validate(f); err == nil || !model.IsFlagError(err) || !strings.HasPrefix(err.Error(), "--finetune-epochs") {
		t.Errorf("fine-tuning a one-layer DBN: %v", err)
	}
	// --up-init transpose onto a layer narrower than the one two down: named at
	// validation (hidden layers) and when the layer starts (the data's width:
	// bars are 9 pixels, the second hidden layer 5 units).
	u := DefaultDBNFlags()
	u.Hidden, u.UpInit = []int{6, 4, 5}, "transpose"
	if err := model.Validate(u); err == nil || !model.IsFlagError(err) || !strings.HasPrefix(err.Error(), "--up-init") {
		t.Errorf("--up-init transpose with hidden 6,4,5: %v", err)
	}
	u.Hidden, u.LayerEpochs = []int{6, 5}, 1
	if err := runFamily(t, "dbn", u, d, "", 2, filepath.Join(t.TempDir(), "u.lt"), 0); err == nil || !strings.Contains(err.Error(), "--up-init") {
		t.Errorf("--up-init transpose, 5 units above 9 pixels: %v", err)
	}
	// Too few epochs for the layers and the fine-tuning: --epochs, naming both.
	f.Hidden, f.LayerEpochs = []int{4, 3}, 2
	s := model.NewSettings("dbn", d, "bars", "", 1, 4)
	if _, err := model.Lookup("dbn").New(f, d, s); err == nil || !strings.HasPrefix(err.Error(), "--epochs") || !strings.Contains(err.Error(), "--finetune-epochs") || !strings.Contains(err.Error(), "more than 4") {
		t.Errorf("4 epochs for 2 layer epochs and 2 of fine-tuning: %v", err)
	}
	gray := &dataset.Dataset{X: d.X.Clone(), Height: 3, Width: 3, Channels: 1}
	gray.X.Data[3] = 0.5
	for _, name := range []string{"dbn", "dbm"} {
		fl := model.Lookup(name).Config()
		switch f := fl.(type) {
		case *DBNFlags:
			f.Hidden, f.LayerEpochs, f.Batch, f.FinetuneEpochs = []int{5, 3}, 1, 10, 1
		case *DBMFlags:
			f.Hidden, f.PretrainEpochs, f.Batch = []int{5, 3}, 1, 10
		}
		s := model.NewSettings(name, d, "bars", "", 1, 3)
		tr, err := model.Lookup(name).New(fl, d, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := tr.(model.Scorer).Score(context.Background(), gray, model.ScoreOptions{Seed: 1}); err == nil || !strings.Contains(err.Error(), "example 0 has the value 0.5 in column 3") || !strings.Contains(err.Error(), "--binarize") {
			t.Errorf("%s: scoring non-binary data: %v", name, err)
		}
		if _, err := tr.(model.Monitor).Monitor(context.Background(), gray); err == nil || !strings.Contains(err.Error(), "the value 0.5") {
			t.Errorf("%s: monitoring non-binary data: %v", name, err)
		}
		if _, err := tr.(model.Sampler).Sample(context.Background(), model.SampleOptions{N: 2, Seed: 1, Label: 1}); err == nil || !strings.HasPrefix(err.Error(), "--label") {
			t.Errorf("%s: a sample of label 1: %v", name, err)
		}
		if name != "dbm" {
			continue
		}
		var lines []string
		ctx := model.WithProgress(context.Background(), model.Progress{Log: func(l string) { lines = append(lines, l) }})
		est, err := tr.(model.Scorer).Score(ctx, d, model.ScoreOptions{Seed: 1, Family: &DeepEvalFlags{MFIters: 1, MFTol: 0, Samples: 1}})
		if err != nil {
			t.Fatal(err)
		}
		warned := false
		for _, l := range lines {
			warned = warned || strings.Contains(l, "did not converge") && strings.Contains(l, "residual")
		}
		var conv any
		res := -1.0
		for _, m := range est.Extra {
			switch m.Name {
			case "mf_converged":
				conv = m.Value
			case "mf_residual":
				res, _ = m.Value.(float64)
			}
		}
		if !warned || conv != false || !(res > 0) {
			t.Errorf("dbm eval with 1 mean-field update: warned %t, mf_converged %v, mf_residual %v (lines %q)", warned, conv, res, lines)
		}
	}
}
