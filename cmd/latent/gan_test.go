package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/tensor"
)

// The GAN families through the CLI: train, eval by AIS-HMC with the family's
// flags, sample, resume, and the bad inputs the issue names.
func TestGANThroughTheCLI(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	m := filepath.Join(dir, "gan.model")
	tr := jsonOf(t, "train", "gan", "--data", "bars:4", "--latent", "2", "--g-hidden", "8", "--d-hidden", "8",
		"--batch", "8", "--epochs", "2", "--out", m, "--json")
	for _, k := range []string{"d_loss", "d_real", "d_fake", "loss"} {
		if _, ok := tr[k]; !ok {
			t.Errorf("train --json lacks %q", k)
		}
	}
	ev := jsonOf(t, "eval", "--model", m, "--data", "bars:4", "--chains", "2", "--ais-steps", "10", "--sigma2", "0.05", "--json")
	if ev["estimator"] != "ais-hmc" || ev["bound"] != "lower" || ev["sigma2"] != 0.05 || ev["log_likelihood_stderr"] == nil {
		t.Errorf("eval: %v", ev)
	}
	ok(t, "sample", "--model", m, "--n", "4", "--out", filepath.Join(dir, "s.png"))
	ok(t, "train", "gan", "--resume", m, "--epochs", "3", "--out", m)
	fails(t, 2, []string{"train", "gan", "--resume", m, "--epochs", "4", "--out", m, "--d-hidden", "16"}, "--d-hidden", "trained with --d-hidden=8")
	fails(t, 2, []string{"train", "gan", "--data", "bars:4", "--latent", "0", "--out", m}, "--latent", "[1,4096]")
	fails(t, 1, []string{"train", "dcgan", "--data", "bars:4", "--out", filepath.Join(dir, "d.model")}, "28×28")
	npy := filepath.Join(dir, "x.npy")
	x := tensor.New(4, 3)
	writeNPY(t, npy, x, []int{4, 3})
	fails(t, 2, []string{"train", "gan", "--data", npy, "--conditional", "--out", filepath.Join(dir, "c.model")}, "--conditional", "no labels")
	fails(t, 2, []string{"sample", "--model", m, "--n", "2", "--label", "1", "--out", filepath.Join(dir, "l.png")}, "--label", "not conditional")
	fails(t, 2, []string{"eval", "--model", m, "--data", "bars:4", "--sigma2", "0"}, "--sigma2")
}

// TestGANResumeRetune: --lr and --d-lr may change when a GAN run is resumed. The
// new rates train differently from the file's, are recorded (inspect shows the
// change), and are kept by a later resume that does not repeat them: resuming at
// the new rates to epoch 3 and then plainly to 4 gives the file of one resume to 4.
func TestGANResumeRetune(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	m := filepath.Join(dir, "gan.model")
	common := []string{"--data", "bars:4", "--latent", "2", "--g-hidden", "8", "--d-hidden", "8", "--batch", "8", "--seed", "3"}
	ok(t, append([]string{"train", "gan", "--epochs", "2", "--out", m}, common...)...)
	lo, same, lo3 := filepath.Join(dir, "lo.model"), filepath.Join(dir, "same.model"), filepath.Join(dir, "lo3.model")
	trLo := jsonOf(t, append([]string{"train", "gan", "--resume", m, "--epochs", "4", "--out", lo, "--lr", "5e-5", "--d-lr", "1e-5", "--json"}, common...)...)
	trSame := jsonOf(t, append([]string{"train", "gan", "--resume", m, "--epochs", "4", "--out", same, "--json"}, common...)...)
	if trLo["d_loss"] == nil || trLo["d_loss"] == trSame["d_loss"] {
		t.Errorf("lower rates on resume trained as the file's did: d_loss %v and %v", trLo["d_loss"], trSame["d_loss"])
	}
	ok(t, append([]string{"train", "gan", "--resume", m, "--epochs", "3", "--out", lo3, "--lr", "5e-5", "--d-lr", "1e-5"}, common...)...)
	ok(t, append([]string{"train", "gan", "--resume", lo3, "--epochs", "4", "--out", lo3}, common...)...)
	a, _ := os.ReadFile(lo)
	b, _ := os.ReadFile(lo3)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("a resume at the new rates to epoch 3, then a plain one to 4, differs from one resume to 4")
	}
	code, out, errs := latent(t, "inspect", lo)
	if code != 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{"--d-lr 0 → 1e-05 after epoch 2", "--lr 0.0002 → 5e-05 after epoch 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q: %s", want, out)
		}
	}
}

// The decoder estimator's extras through the CLI: σ² chosen on held-out rows of
// the data (rows=), the BDMC check, a conditional GAN's log p(x|y), and a VAE
// scored by ais-hmc with its own σ².
func TestDecoderAISThroughTheCLI(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	c := filepath.Join(dir, "cgan.model")
	ok(t, "train", "gan", "--data", "bars:4", "--conditional", "--latent", "2", "--g-hidden", "8", "--d-hidden", "8",
		"--batch", "8", "--epochs", "1", "--out", c)
	ev := jsonOf(t, "eval", "--model", c, "--data", "bars:4,rows=0:12", "--chains", "2", "--ais-steps", "10",
		"--sigma2-grid", "0.02,0.05", "--sigma2-data", "bars:4,rows=12:", "--bdmc", "3", "--json")
	if ev["estimator"] != "ais-hmc" || ev["n"] != 12.0 || ev["sigma2_grid"] == nil || ev["bdmc_gap"] == nil ||
		ev["density"] != "log p(x|y), y the example's label" {
		t.Errorf("eval: %v", ev)
	}
	if s := ev["sigma2"]; s != 0.02 && s != 0.05 {
		t.Errorf("chosen σ² %v is not from the grid", s)
	}
	fails(t, 2, []string{"eval", "--model", c, "--data", "bars:4", "--sigma2-grid", "0.02,x", "--sigma2-data", "bars:4"}, "--sigma2-grid", `"x"`)
	fails(t, 2, []string{"eval", "--model", c, "--data", "bars:4", "--sigma2-grid", "0.02"}, "--sigma2-data")
	v := filepath.Join(dir, "vae.model")
	ok(t, "train", "vae", "--data", "bars:4", "--decoder", "gaussian", "--sigma2", "0.1", "--latent", "2", "--hidden", "8",
		"--epochs", "1", "--out", v)
	ev = jsonOf(t, "eval", "--model", v, "--data", "bars:4", "--estimator", "ais-hmc", "--chains", "2", "--ais-steps", "10", "--json")
	if ev["estimator"] != "ais-hmc" || ev["sigma2"] != 0.1 {
		t.Errorf("vae eval: %v", ev)
	}
	fails(t, 2, []string{"eval", "--model", v, "--data", "bars:4", "--estimator", "exact"}, "--estimator")
}

// --fc adds InfoGAN's fully connected layers (Chen et al. 2016) to the DCGAN: a
// run with them trains, samples and resumes bit for bit, its layers are the
// ones asked for, and the MLP GAN refuses the flag.
func TestDCGANFullyConnected(t *testing.T) {
	noData(t)
	dir := t.TempDir()
	common := []string{"train", "dcgan", "--data", "shapes,n=40,size=28", "--latent", "4", "--width", "4", "--fc", "16",
		"--info", "3", "--batch", "8", "--seed", "2"}
	whole, part := filepath.Join(dir, "whole.model"), filepath.Join(dir, "part.model")
	ok(t, append(common, "--epochs", "2", "--out", whole)...)
	ok(t, append(common, "--epochs", "1", "--out", part)...)
	ok(t, "train", "dcgan", "--resume", part, "--epochs", "2", "--out", part)
	a, _ := os.ReadFile(whole)
	b, _ := os.ReadFile(part)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("2 epochs and 1 + --resume to 2 differ")
	}
	ok(t, "sample", "--model", whole, "--n", "4", "--out", filepath.Join(dir, "s.png"))
	// G: Linear 7→16 (z and the code), BN, ReLU, Linear 16→7·7·8; D: ... Linear
	// 7·7·8→16, BN, LeakyReLU, Linear 16→4 (a logit and Q's 3 logits).
	ins := jsonOf(t, "inspect", "--json", whole)
	shapes := map[string]string{}
	for _, v := range ins["tensors"].([]any) {
		tv := v.(map[string]any)
		shapes[tv["name"].(string)] = fmt.Sprint(tv["shape"])
	}
	for name, want := range map[string]string{"G.0.W": "[7 16]", "G.4.W": "[16 392]", "D.6.W": "[392 16]", "D.10.W": "[16 4]", "D.8.gamma": "[16]"} {
		if shapes[name] != want {
			t.Errorf("%s has shape %s, want %s", name, shapes[name], want)
		}
	}
	fails(t, 2, []string{"train", "gan", "--data", "bars:4", "--fc", "16", "--out", filepath.Join(dir, "m.model")}, "--fc 16", "--g-hidden")
}
