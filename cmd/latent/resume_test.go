package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A resumed run keeps the file's settings. A flag that repeats its saved value, in
// any spelling, is accepted; one that changes it is one clear error naming the flag,
// both values and the file, and neither the resumed file nor --out is written.
func TestResumeRejectsChangedSettings(t *testing.T) {
	dir := noData(t)
	for _, c := range []struct {
		name  string
		train []string // the first run's arguments (without --epochs/--out)
		same  []string // flags that repeat saved values in another spelling
		bad   []string // one changed flag
		want  []string // in the error
	}{
		{"rbm", []string{"train", "rbm", "--data", "bars:3", "--hidden", "5", "--lr", "0.05", "--batch", "4", "--seed", "3"},
			[]string{"--lr", "5e-2", "--hidden", "05", "--pcd=false", "--dense=false", "--seed", "3"},
			[]string{"--momentum", "0.5"}, []string{"--momentum", "--momentum=0"}},
		{"rbm-method", []string{"train", "rbm", "--data", "bars:3", "--hidden", "5", "--batch", "4"},
			[]string{"--cd", "1", "--pcd=false"}, []string{"--pt", "4"}, []string{"--pt", "--pt=0"}},
		{"rbm-pt", []string{"train", "rbm", "--data", "bars:3", "--hidden", "5", "--batch", "4", "--pt", "3"},
			[]string{"--pt", "3"}, []string{"--pt", "4"}, []string{"--pt", "--pt=3"}},
		{"rbm-binarize", []string{"train", "rbm", "--data", "bars:3", "--hidden", "5", "--batch", "4"},
			nil, []string{"--binarize", "threshold"}, []string{"--binarize", "trained without --binarize"}},
		{"vae", []string{"train", "vae", "--data", "bars:3", "--latent", "2", "--hidden", "8,4", "--batch", "4"},
			[]string{"--hidden", "8, 4", "--latent", "2", "--optimizer", "adam"},
			[]string{"--decoder", "gaussian"}, []string{"--decoder=gaussian", "--decoder=bernoulli"}},
		{"helmholtz", []string{"train", "helmholtz", "--data", "bars:3", "--hidden", "4,2", "--batch", "4"},
			[]string{"--hidden", "4,2", "--rws-k", "1"},
			[]string{"--rws-k", "3"}, []string{"--rws-k: ", "--rws-k=1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			first := filepath.Join(dir, c.name+".model")
			if code, _, errs := latent(t, append(c.train, "--epochs", "1", "--out", first)...); code != 0 {
				t.Fatal(errs)
			}
			before, _ := os.ReadFile(first)
			if c.same != nil {
				ok := filepath.Join(dir, c.name+"-ok.model")
				args := append(append(c.train, c.same...), "--epochs", "2", "--resume", first, "--out", ok)
				if code, _, errs := latent(t, args...); code != 0 {
					t.Fatalf("resume repeating the saved settings: %s", errs)
				}
			}
			out := filepath.Join(dir, c.name+"-bad.model")
			args := append(append(append([]string{}, c.train...), c.bad...), "--epochs", "2", "--resume", first, "--out", out)
			fails(t, 2, args, append(c.want, first)...)
			if after, _ := os.ReadFile(first); !bytes.Equal(before, after) {
				t.Error("the resumed file changed")
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("--out was written")
			}
		})
	}
}

// A run trained with --test goes on scoring the same held-out data when it is
// resumed without the flag, and says so; --test on the resumed command wins.
func TestResumeKeepsTest(t *testing.T) {
	dir := noData(t)
	m := filepath.Join(dir, "v.model")
	common := []string{"train", "vae", "--latent", "2", "--hidden", "8", "--batch", "4", "--json"}
	if code, _, errs := latent(t, append(common, "--data", "bars:3", "--test", "bars:3,n=20", "--epochs", "1", "--out", m)...); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := latent(t, append(common, "--resume", m, "--epochs", "2", "--out", m)...)
	if code != 0 || !strings.Contains(errs, "scoring --test bars:3,n=20") {
		t.Fatalf("resume: %d %q", code, errs)
	}
	r := decodeJSON(t, out)
	if r["test"] != "bars:3,n=20" || r["test_elbo"] == nil {
		t.Errorf("resumed run without --test: %v", r)
	}
	code, out, errs = latent(t, append(common, "--resume", m, "--epochs", "3", "--test", "bars:3,n=10", "--out", m)...)
	if r := decodeJSON(t, out); code != 0 || strings.Contains(errs, "scoring --test") || r["test"] != "bars:3,n=10" {
		t.Errorf("resume with --test: %d %q %v", code, errs, r)
	}
}
