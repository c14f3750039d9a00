package nn

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestSetTrainingNested: the switch reaches layers inside nested stacks, and
// layers without modes are left alone.
func TestSetTrainingNested(t *testing.T) {
	s := rng.New(81)
	bn, dr := NewBatchNorm(3), NewDropout(0.5, s)
	inner := NewSequential(NewLinear(3, 3, He, s), dr)
	net := NewSequential(NewLinear(2, 3, He, s), bn, ReLU(), inner)
	if !bn.Training() || !dr.Training() {
		t.Fatal("layers do not start in training mode")
	}
	SetTraining(net, false)
	if bn.Training() || dr.Training() {
		t.Error("SetTraining(false) did not reach every layer")
	}
	net.SetTraining(true)
	if !bn.Training() || !dr.Training() {
		t.Error("SetTraining(true) did not reach every layer")
	}
	SetTraining(ReLU(), false) // not Trainable: no effect, no panic
}

// TestBuffersNested: buffers are collected in layer order through nested stacks,
// have no gradient and are not among the parameters an optimiser sees.
func TestBuffersNested(t *testing.T) {
	s := rng.New(82)
	b1, b2 := NewBatchNorm(3), NewBatchNorm2D(2, 2, 1)
	net := NewSequential(b1, NewSequential(NewLinear(3, 4, He, s), b2))
	bs := Buffers(net)
	want := []*Param{b1.RunMean, b1.RunVar, b2.RunMean, b2.RunVar}
	if len(bs) != len(want) {
		t.Fatalf("%d buffers, want %d", len(bs), len(want))
	}
	for i := range want {
		if bs[i] != want[i] || bs[i].G != nil {
			t.Errorf("buffer %d: %s (G nil: %v)", i, bs[i].Name, bs[i].G == nil)
		}
	}
	for _, p := range net.Params() {
		for _, b := range bs {
			if p == b {
				t.Errorf("buffer %s is among the parameters", b.Name)
			}
		}
	}
	if Buffers(ReLU()) != nil {
		t.Error("a layer without buffers returned some")
	}
}
