// Package modeltest holds checks that every family's tests share.
package modeltest

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
)

// ResumeBitIdentical checks the family contract's resume promise: part, a model
// file written after fewer epochs, trained on d with model.Train up to epochs in
// all, must end as the same bytes as whole, the file of a run of epochs that never
// stopped. It returns the resumed model for further checks.
func ResumeBitIdentical(t testing.TB, d *dataset.Dataset, whole, part string, epochs int) model.Model {
	t.Helper()
	f, err := checkpoint.Load(part)
	if err != nil {
		t.Fatal(err)
	}
	m, s, err := model.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	tr, ok := m.(model.Trainer)
	if !ok {
		t.Fatalf("a %s model is not a model.Trainer", m.Kind())
	}
	s.Epochs = epochs
	if _, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Out: part}); err != nil {
		t.Fatal(err)
	}
	a, err := os.ReadFile(whole)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(part)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s: the resumed run's file differs from the uninterrupted run's (%d vs %d bytes)", m.Kind(), len(b), len(a))
	}
	return m
}
