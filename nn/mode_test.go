package nn

import (
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
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

// With parameter gradients off, Backward gives the same ∂L/∂x and leaves every
// gradient as it was.
func TestSetParamGrad(t *testing.T) {
	s := rng.New(3)
	g := ConvGeom{InH: 6, InW: 5, InC: 2, OutC: 3, K: 3, Stride: 2, Pad: 1}
	net := NewSequential(NewConv2D(g, LeCunUniform, s), SiLU(), Flatten(g.OutH(), g.OutW(), 3),
		NewLinear(g.OutH()*g.OutW()*3, 4, LeCunUniform, s))
	x := tensor.New(2, 6*5*2)
	s.FillNormal(x.Data, 0, 1)
	dy := tensor.New(2, 4)
	s.FillNormal(dy.Data, 0, 1)
	net.Forward(x)
	want := net.Backward(dy).Clone()
	var grads [][]float32
	for _, p := range net.Params() {
		grads = append(grads, append([]float32(nil), p.G...))
		for i := range p.G {
			p.G[i] = 7
		}
	}
	SetParamGrad(net, false)
	net.Forward(x)
	got := net.Backward(dy)
	for i := range want.Data {
		if got.Data[i] != want.Data[i] {
			t.Fatalf("dx[%d] %g, want %g", i, got.Data[i], want.Data[i])
		}
	}
	for _, p := range net.Params() {
		for _, v := range p.G {
			if v != 7 {
				t.Fatalf("%s: gradient changed with parameter gradients off", p.Name)
			}
		}
	}
	SetParamGrad(net, true)
	net.Forward(x)
	net.Backward(dy)
	for k, p := range net.Params() {
		for i, v := range p.G {
			if v != grads[k][i] {
				t.Fatalf("%s[%d]: %g after turning gradients back on, want %g", p.Name, i, v, grads[k][i])
			}
		}
	}
}
