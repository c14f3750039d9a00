package model

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
)

// TestOnEpoch: the hook sees every epoch after its file is saved, with the
// epoch's own stats, and its error stops training naming the epoch.
func TestOnEpoch(t *testing.T) {
	d := testData(10)
	f, s := newRun(t, d, "", 3)
	out := filepath.Join(t.TempDir(), "m.model")
	var got []EpochInfo
	hook := func(ctx context.Context, e EpochInfo) error {
		// The file already holds this epoch.
		file, err := checkpoint.Load(out)
		if err != nil {
			return err
		}
		_, fs, err := Load(file)
		if err != nil {
			return err
		}
		if fs.EpochsDone != e.Settings.EpochsDone {
			t.Errorf("hook at epoch %d, file at %d", e.Settings.EpochsDone, fs.EpochsDone)
		}
		e.Settings = &Settings{EpochsDone: e.Settings.EpochsDone} // a copy: s changes
		got = append(got, e)
		return nil
	}
	res, err := Train(context.Background(), f, d, s, TrainOptions{Out: out, OnEpoch: hook})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("hook called %d times, want 3", len(got))
	}
	for i, e := range got {
		if e.Settings.EpochsDone != i+1 || e.Final != (i == 2) || e.Model != Model(f) {
			t.Errorf("call %d: epoch %d final %v", i, e.Settings.EpochsDone, e.Final)
		}
	}
	if got[2].Stats.Loss != res.Last.Loss || got[2].Stats.Metrics[0].Value != res.Last.Metrics[0].Value {
		t.Errorf("last hook's stats %+v, result's %+v", got[2].Stats, res.Last)
	}

	f2, s2 := newRun(t, d, "", 3)
	out2 := filepath.Join(t.TempDir(), "m.model")
	_, err = Train(context.Background(), f2, d, s2, TrainOptions{Out: out2, OnEpoch: func(ctx context.Context, e EpochInfo) error {
		if e.Settings.EpochsDone == 2 {
			return errors.New("report folder gone")
		}
		return nil
	}})
	if err == nil || !strings.Contains(err.Error(), "epoch 2: report folder gone") {
		t.Errorf("hook error: %v", err)
	}
	if _, err := os.Stat(out2); err != nil {
		t.Errorf("the model of epoch 2 was not kept: %v", err)
	}
}
