package diffusion

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// fdNet compares the analytic gradients of L = Σ c⊙f() with central
// differences (float32 network, h = 1e-2, evaluated in float64 sums) for
// every value of the inputs listed in in (their analytic gradients in din)
// and for up to per values of every parameter.
func fdNet(t *testing.T, name string, f func() *tensor.Mat, back func(c *tensor.Mat), params []*nn.Param,
	in []*tensor.Mat, din func() []*tensor.Mat, per int) {
	t.Helper()
	s := rng.New(99)
	y := f()
	c := tensor.New(y.Rows, y.Cols)
	s.FillNormal(c.Data, 0, 1)
	back(c)
	var dIn [][]float32
	for _, d := range din() {
		dIn = append(dIn, append([]float32(nil), d.Data...))
	}
	grads := make([][]float32, len(params))
	for k, p := range params {
		grads[k] = append([]float32(nil), p.G...)
	}
	loss := func() float64 {
		y := f()
		var sum float64
		for i, v := range y.Data {
			sum += float64(v) * float64(c.Data[i])
		}
		return sum
	}
	const h = 1e-2
	cmp := func(what string, an float32, v *float32) {
		old := *v
		*v = old + h
		fp := loss()
		*v = old - h
		fm := loss()
		*v = old
		num := (fp - fm) / (2 * h)
		if math.Abs(float64(an)-num) > 5e-3+2e-2*math.Abs(num) {
			t.Errorf("%s: %s: analytic %.6g, finite difference %.6g", name, what, an, num)
		}
	}
	for k, x := range in {
		for i := range x.Data {
			cmp(fmt.Sprintf("input %d [%d]", k, i), dIn[k][i], &x.Data[i])
		}
	}
	for k, p := range params {
		step := max(1, len(p.W)/per)
		for i := 0; i < len(p.W); i += step {
			cmp(fmt.Sprintf("param %d (%s)[%d]", k, p.Name, i), grads[k][i], &p.W[i])
		}
	}
}

func randomize(s *rng.Stream, ps []*nn.Param) {
	for _, p := range ps {
		if p.Name == "gamma" {
			for i := range p.W {
				p.W[i] = 1 + 0.3*float32(s.NormFloat64())
			}
		} else if p.Name == "beta" || p.Name == "b" {
			s.FillNormal(p.W, 0, 0.3)
		}
	}
}

// Every residual block against finite differences: with a 1×1 skip
// convolution (channels change) and with the identity skip, on odd images;
// the gradients of the input, of the time features and of every parameter.
func TestResBlockGrad(t *testing.T) {
	s := rng.New(11)
	for _, c := range []struct{ h, w, in, out int }{{3, 5, 4, 6}, {4, 3, 4, 4}} {
		b := NewResBlock(c.h, c.w, c.in, c.out, 5, s)
		randomize(s, b.Params())
		x := tensor.New(2, c.h*c.w*c.in)
		s.FillNormal(x.Data, 0, 1)
		tau := tensor.New(2, 5)
		s.FillNormal(tau.Data, 0, 1)
		dtau := tensor.New(2, 5)
		var dx *tensor.Mat
		fdNet(t, fmt.Sprintf("ResBlock%+v", c), func() *tensor.Mat { return b.Forward(x, tau) },
			func(dy *tensor.Mat) { dtau.Zero(); dx = b.Backward(dy, dtau) }, b.Params(),
			[]*tensor.Mat{x, tau}, func() []*tensor.Mat { return []*tensor.Mat{dx, dtau} }, 6)
	}
}

// gradUNet returns the stream (seed) it drew from, a U-Net of 8×8×2 images
// with 4 channels, randomised biases and norms and a non-zero output
// convolution, a batch of 2 images and their steps.
func gradUNet(seed uint64) (*rng.Stream, *UNet, *tensor.Mat, []int) {
	s := rng.New(seed)
	u := NewUNet(8, 8, 2, 4, s)
	randomize(s, u.Params())
	s.FillNormal(u.Out.W.W, 0, 0.3)
	x := tensor.New(2, 8*8*2)
	s.FillNormal(x.Data, 0, 1)
	return s, u, x, []int{3, 70}
}

// The whole U-Net on 8×8×2 images (batch 2, different steps) against finite
// differences, for a sample of every parameter (the output convolution made
// non-zero first).
func TestUNetGrad(t *testing.T) {
	_, u, x, ts := gradUNet(12)
	fdNet(t, "UNet", func() *tensor.Mat { return u.Eps(x, ts) }, u.Backward, u.Params(),
		nil, func() []*tensor.Mat { return nil }, 4)
}

func TestUNetShapes(t *testing.T) {
	for _, c := range [][2]int{{28, 28}, {8, 12}, {4, 4}} {
		if err := CheckUNetShape(c[0], c[1]); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	for _, c := range [][2]int{{27, 28}, {2, 2}, {6, 6}} {
		if err := CheckUNetShape(c[0], c[1]); err == nil || !contains(err.Error(), "multiples of 4") {
			t.Errorf("%v: %v", c, err)
		}
	}
}

// The conditional U-Net's label path (one-hot → Linear added to the time
// features) against finite differences.
func TestUNetConditionalGrad(t *testing.T) {
	s := rng.New(13)
	u := NewUNetCond(4, 4, 1, 4, 3, s)
	randomize(s, u.Params())
	s.FillNormal(u.Out.W.W, 0, 0.3)
	x := tensor.New(3, 16)
	s.FillNormal(x.Data, 0, 1)
	u.SetLabels([]int{0, 2, 3}) // 3: no label
	ts := []int{5, 1, 40}
	ps := u.Params()
	fdNet(t, "conditional UNet", func() *tensor.Mat { return u.Eps(x, ts) }, u.Backward, ps[len(ps)-2:],
		nil, func() []*tensor.Mat { return nil }, 12)
}

// The U-Net with self-attention at 2×2 (8×8 images) against finite
// differences, the attention's output projection made non-zero; and a new
// attention block leaves the network's output as it was.
func TestUNetAttentionGrad(t *testing.T) {
	s, u, x, ts := gradUNet(14)
	before := u.Eps(x, ts).Clone()
	u.AddAttention(s)
	after := u.Eps(x, ts)
	for i, v := range before.Data {
		if after.Data[i] != v {
			t.Fatalf("a new attention block changed output %d: %g → %g", i, v, after.Data[i])
		}
	}
	randomize(s, u.Attn.Params())
	s.FillNormal(u.Attn.Proj.W.W, 0, 0.5)
	s.FillNormal(u.Attn.QKV.W.W, 0, 0.5)
	ps := u.Params()
	fdNet(t, "UNet with attention", func() *tensor.Mat { return u.Eps(x, ts) }, u.Backward, ps,
		nil, func() []*tensor.Mat { return nil }, 4)
}

// --attention trains, saves and resumes bit for bit in both families (its
// weights in the model file), and is refused with the MLP, naming the flag.
func TestAttentionResumeAndBadInput(t *testing.T) {
	d := dataset.BarsAndStripes(8) // 8×8: attention over 2×2 positions
	cfg := smallBinaryConfig()
	cfg.Arch, cfg.Channels, cfg.Batch, cfg.EMA, cfg.Attention = "unet", 4, 10, 0.9, true
	m := binaryResumed(t, cfg, d, 3).(*BinaryModel)
	u, ok := m.Net.(*unetX0)
	if !ok || u.Attn == nil {
		t.Fatal("loaded bdiff model has no attention block")
	}
	moved := false
	for _, v := range u.Attn.Proj.W.W {
		moved = moved || v != 0
	}
	if !moved {
		t.Error("the attention's output projection is still zero after 3 epochs: it is not trained")
	}

	g := squares(24, 8, 8, 1)
	gc := tinyGaussConfig()
	gc.Attention = true
	gaussResumed(t, gc, g, t.TempDir())

	cfg = smallBinaryConfig()
	cfg.Attention = true
	if err := cfg.Validate(); err == nil || !contains(err.Error(), "--attention") {
		t.Errorf("Validate: --attention with the MLP: %v", err)
	}
	gc = tinyGaussConfig()
	gc.Arch, gc.Attention = "mlp", true
	_, err := NewGaussModel(gc, g, model.NewSettings(KindGaussian, g, "squares", "", 1, 1))
	if err == nil || !contains(err.Error(), "--attention") {
		t.Errorf("ddpm --arch mlp --attention: %v", err)
	}
}

// TestGenerateInference: Generate runs the U-Net's convolutions in inference
// mode (nothing kept for a backward pass) and leaves them in training mode.
func TestGenerateInference(t *testing.T) {
	d := dataset.Shapes(8, 8, rng.New(1))
	d.Labels, d.NumClasses = nil, 0
	cfg := DefaultGaussConfig()
	cfg.Batch = 8
	cfg.Channels = 16
	m, err := NewGaussModel(*cfg, d, model.NewSettings(KindGaussian, d, "shapes", "", 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	u := m.Net.(*UNet)
	var during []bool
	probe := &inferenceProbe{epsNet: u, u: u, seen: &during}
	m.Net = probe
	if _, _, err := m.Generate(context.Background(), 3, 2, 0, nil, 0, rng.New(2), 0); err != nil {
		t.Fatal(err)
	}
	if len(during) == 0 {
		t.Fatal("Generate never called the network")
	}
	for i, on := range during {
		if !on {
			t.Fatalf("call %d of the network ran with the convolutions in training mode", i)
		}
	}
	for _, c := range []*nn.Conv2D{u.In, u.DS0, u.Down0.Conv1, u.Up0.Conv2, u.Out} {
		if c.Inference {
			t.Fatal("Generate left a convolution in inference mode")
		}
	}
}

// inferenceProbe records, at each call of Eps, whether the U-Net's
// convolutions are in inference mode.
type inferenceProbe struct {
	epsNet
	u    *UNet
	seen *[]bool
}

func (p *inferenceProbe) Eps(x *tensor.Mat, t []int) *tensor.Mat {
	*p.seen = append(*p.seen, p.u.In.Inference && p.u.Mid.Conv1.Inference)
	return p.epsNet.Eps(x, t)
}

func (p *inferenceProbe) SetInference(on bool) { p.u.SetInference(on) }
