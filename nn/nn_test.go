package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func randMat(s *rng.Stream, r, c int, std float32) *tensor.Mat {
	m := tensor.New(r, c)
	s.FillNormal(m.Data, 0, std)
	return m
}

// projLoss returns L = Σ_ij c_ij·y_ij in float64.
func projLoss(y, c *tensor.Mat) float64 {
	var s float64
	for i := 0; i < y.Rows; i++ {
		for j, v := range y.Row(i) {
			s += float64(v) * float64(c.At(i, j))
		}
	}
	return s
}

// checkGrad compares analytic gradients of L = Σ c⊙layer(x) with central finite
// differences, for the input (unless skipDx) and every parameter.
func checkGrad(t *testing.T, name string, l Layer, x *tensor.Mat, skipDx bool) {
	t.Helper()
	s := rng.New(99)
	y := l.Forward(x)
	c := randMat(s, y.Rows, y.Cols, 1)
	dx := l.Backward(c)
	// copy analytic gradients before the probes overwrite buffers
	var dxa []float32
	if !skipDx {
		dxa = append([]float32(nil), dx.Data[:x.Rows*x.Cols]...)
	}
	grads := map[*Param][]float32{}
	for _, p := range l.Params() {
		grads[p] = append([]float32(nil), p.G...)
	}
	const h = 5e-3
	f := func() float64 { return projLoss(l.Forward(x), c) }
	cmp := func(what string, i int, an float32, v *float32) {
		old := *v
		*v = old + h
		fp := f()
		*v = old - h
		fm := f()
		*v = old
		num := (fp - fm) / (2 * h)
		if d := math.Abs(float64(an) - num); d > 2e-3+1e-2*math.Abs(num) {
			t.Errorf("%s: %s[%d]: analytic %.6g, finite difference %.6g", name, what, i, an, num)
		}
	}
	if !skipDx {
		for i := range dxa {
			cmp("dx", i, dxa[i], &x.Data[i])
		}
	}
	for k, p := range l.Params() {
		for i := range p.W {
			cmp(fmt.Sprintf("param %d %s", k, p.Name), i, grads[p][i], &p.W[i])
		}
	}
}

// awayFromKinks nudges values within 0.05 of zero away from it (ReLU kinks).
func awayFromKinks(m *tensor.Mat) {
	for i, v := range m.Data {
		if v >= 0 && v < 0.05 {
			m.Data[i] = v + 0.05
		} else if v < 0 && v > -0.05 {
			m.Data[i] = v - 0.05
		}
	}
}

func TestLinearGrad(t *testing.T) {
	s := rng.New(1)
	for _, in := range []Init{Glorot, He, LeCunUniform} {
		l := NewLinear(5, 4, in, s)
		l.B.W[1] = 0.3
		checkGrad(t, "Linear/"+in.String(), l, randMat(s, 3, 5, 1), false)
	}
}

func TestLinearNoInputGrad(t *testing.T) {
	s := rng.New(1)
	l := NewLinear(5, 4, Glorot, s)
	l.NoInputGrad = true
	x := randMat(s, 3, 5, 1)
	checkGrad(t, "Linear/NoInputGrad", l, x, true)
	l.Forward(x)
	if dx := l.Backward(randMat(s, 3, 4, 1)); dx != nil {
		t.Errorf("NoInputGrad: Backward returned %v, want nil", dx)
	}
}

func TestActivationGrad(t *testing.T) {
	s := rng.New(2)
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity} {
		x := randMat(s, 3, 7, 2)
		awayFromKinks(x)
		checkGrad(t, k.String(), NewActivation(k), x, false)
	}
}

func TestActivationValues(t *testing.T) {
	x := tensor.FromSlice(1, 5, []float32{-3, -0.5, 0, 0.5, 3})
	ref := map[ActKind]func(float64) float64{
		ActReLU:      func(v float64) float64 { return math.Max(v, 0) },
		ActLeakyReLU: func(v float64) float64 { return math.Max(v, 0.01*v) },
		ActTanh:      math.Tanh,
		ActSigmoid:   func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
		ActSoftplus:  func(v float64) float64 { return math.Log1p(math.Exp(v)) },
		ActIdentity:  func(v float64) float64 { return v },
	}
	for k, f := range ref {
		y := NewActivation(k).Forward(x)
		for j, v := range x.Data {
			if d := math.Abs(float64(y.Data[j]) - f(float64(v))); d > 1e-6 {
				t.Errorf("%v(%g) = %g, want %g", k, v, y.Data[j], f(float64(v)))
			}
		}
	}
}

func TestSequentialGrad(t *testing.T) {
	s := rng.New(3)
	net := NewSequential(NewLinear(6, 5, He, s), Tanh(), NewLinear(5, 3, Glorot, s), Softplus())
	x := randMat(s, 4, 6, 1)
	// Check dx and every parameter of the whole stack with one FD pass.
	checkGrad(t, "Sequential", net, x, false)
	if n := len(net.Params()); n != 4 {
		t.Errorf("Sequential has %d params, want 4", n)
	}
}

// Sequential satisfies Layer, so it can be checked (and nested) like one.
var _ Layer = (*Sequential)(nil)

// naiveConv computes the convolution by its definition.
func naiveConv(x *tensor.Mat, w, b []float32, g ConvGeom) *tensor.Mat {
	oh, ow := g.OutH(), g.OutW()
	y := tensor.New(x.Rows, oh*ow*g.OutC)
	for n := 0; n < x.Rows; n++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				for o := 0; o < g.OutC; o++ {
					s := float64(b[o])
					for ky := 0; ky < g.K; ky++ {
						for kx := 0; kx < g.K; kx++ {
							iy, ix := oy*g.Stride-g.Pad+ky, ox*g.Stride-g.Pad+kx
							if iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW {
								continue
							}
							for c := 0; c < g.InC; c++ {
								s += float64(x.At(n, (iy*g.InW+ix)*g.InC+c)) * float64(w[((ky*g.K+kx)*g.InC+c)*g.OutC+o])
							}
						}
					}
					y.Set(n, (oy*ow+ox)*g.OutC+o, float32(s))
				}
			}
		}
	}
	return y
}

var convGeoms = []ConvGeom{
	{InH: 5, InW: 6, InC: 2, OutC: 3, K: 3, Stride: 2, Pad: 1},
	{InH: 4, InW: 4, InC: 1, OutC: 2, K: 3, Stride: 1, Pad: 1},
	{InH: 7, InW: 5, InC: 3, OutC: 2, K: 2, Stride: 2, Pad: 0},
	{InH: 6, InW: 6, InC: 2, OutC: 2, K: 3, Stride: 3, Pad: 2},
}

func TestConv2DMatchesDefinition(t *testing.T) {
	s := rng.New(4)
	for _, g := range convGeoms {
		l := NewConv2D(g, LeCunUniform, s)
		x := randMat(s, 3, g.InH*g.InW*g.InC, 1)
		y := l.Forward(x)
		want := naiveConv(x, l.W.W, l.B.W, g)
		for i, v := range want.Data {
			if math.Abs(float64(v-y.Data[i])) > 1e-5 {
				t.Fatalf("%+v: y[%d] = %g, want %g", g, i, y.Data[i], v)
			}
		}
	}
}

func TestConv2DGrad(t *testing.T) {
	s := rng.New(5)
	for _, g := range convGeoms {
		l := NewConv2D(g, Glorot, s)
		s.FillNormal(l.B.W, 0, 0.5)
		checkGrad(t, fmt.Sprintf("Conv2D%+v", g), l, randMat(s, 2, g.InH*g.InW*g.InC, 1), false)
	}
}

func TestConvTranspose2DGrad(t *testing.T) {
	s := rng.New(6)
	for _, g := range convGeoms {
		// the transposed layer maps the conv's output shape back to its input shape
		l := NewConvTranspose2D(g.OutH(), g.OutW(), g.OutC, g.InH, g.InW, g.InC, g.K, g.Stride, g.Pad, He, s)
		s.FillNormal(l.B.W, 0, 0.5)
		checkGrad(t, fmt.Sprintf("ConvT%+v", g), l, randMat(s, 2, g.OutH()*g.OutW()*g.OutC, 1), false)
	}
}

// TestConvTransposeIsAdjoint checks ⟨conv(x), u⟩ = ⟨x, convT(u)⟩ when the transposed
// layer's weights are the convolution's, transposed, and both biases are zero.
func TestConvTransposeIsAdjoint(t *testing.T) {
	s := rng.New(7)
	for _, g := range convGeoms {
		c := NewConv2D(g, Glorot, s)
		clear(c.B.W)
		ct := NewConvTranspose2D(g.OutH(), g.OutW(), g.OutC, g.InH, g.InW, g.InC, g.K, g.Stride, g.Pad, Glorot, s)
		kc := g.K * g.K * g.InC
		for r := 0; r < kc; r++ {
			for o := 0; o < g.OutC; o++ {
				ct.W.W[o*kc+r] = c.W.W[r*g.OutC+o]
			}
		}
		x := randMat(s, 2, g.InH*g.InW*g.InC, 1)
		u := randMat(s, 2, c.OutDim(), 1)
		lhs := projLoss(c.Forward(x), u)
		rhs := projLoss(ct.Forward(u), x)
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Errorf("%+v: ⟨conv x, u⟩ = %g, ⟨x, convT u⟩ = %g", g, lhs, rhs)
		}
	}
}

func TestConvTransposeBadGeometryPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("7×7 → 15×15 with k3 s2 p1 did not panic")
		}
	}()
	NewConvTranspose2D(7, 7, 4, 15, 15, 2, 3, 2, 1, Glorot, rng.New(1))
}

func TestConvStackGrad(t *testing.T) {
	// A miniature conv VAE encoder and decoder: shapes flow through Reshape.
	s := rng.New(8)
	g1 := ConvGeom{InH: 8, InW: 8, InC: 1, OutC: 2, K: 3, Stride: 2, Pad: 1}
	enc := NewSequential(NewConv2D(g1, He, s), Tanh(), Flatten(4, 4, 2), NewLinear(32, 3, Glorot, s))
	checkGrad(t, "conv encoder", enc, randMat(s, 2, 64, 1), false)
	dec := NewSequential(NewLinear(3, 32, Glorot, s), Tanh(), &Reshape{In: 32},
		NewConvTranspose2D(4, 4, 2, 8, 8, 2, 3, 2, 1, Glorot, s), Tanh(),
		NewConvTranspose2D(8, 8, 2, 8, 8, 1, 3, 1, 1, Glorot, s))
	checkGrad(t, "conv decoder", dec, randMat(s, 2, 3, 1), false)
}

func TestBernoulliLogLik(t *testing.T) {
	s := rng.New(9)
	l := randMat(s, 3, 6, 3)
	l.Data[0], l.Data[1] = 40, -40 // far tails must stay finite
	x := tensor.New(3, 6)
	s.FillUniform(x.Data)
	x.Data[2], x.Data[3] = 0, 1
	ll := make([]float64, 3)
	dl := tensor.New(3, 6)
	BernoulliLogLik(ll, dl, l, x)
	for i := 0; i < 3; i++ {
		var want float64
		for j := 0; j < 6; j++ {
			v, xv := float64(l.At(i, j)), float64(x.At(i, j))
			// log σ(v) = −log(1+e^{−v}), log(1−σ(v)) = −log(1+e^{v})
			want += xv*-math.Log1p(math.Exp(-v)) + (1-xv)*-math.Log1p(math.Exp(v))
			p := 1 / (1 + math.Exp(-v))
			if d := math.Abs(float64(dl.At(i, j)) - (p - xv)); d > 1e-6 {
				t.Errorf("dl[%d,%d] = %g, want %g", i, j, dl.At(i, j), p-xv)
			}
		}
		if math.Abs(ll[i]-want) > 1e-4*math.Abs(want) {
			t.Errorf("ll[%d] = %g, want %g", i, ll[i], want)
		}
	}
}

func TestGaussianLogLik(t *testing.T) {
	s := rng.New(10)
	m, x := randMat(s, 2, 5, 1), randMat(s, 2, 5, 1)
	ll, dlv := make([]float64, 2), make([]float64, 2)
	dm := tensor.New(2, 5)
	const logVar = -0.7
	GaussianLogLik(ll, dm, m, x, logVar, dlv)
	v := math.Exp(logVar)
	for i := 0; i < 2; i++ {
		var want, wantLV float64
		for j := 0; j < 5; j++ {
			r := float64(x.At(i, j)) - float64(m.At(i, j))
			want += -0.5*r*r/v - 0.5*math.Log(2*math.Pi*v)
			wantLV += 0.5 * (1 - r*r/v)
			if d := math.Abs(float64(dm.At(i, j)) + r/v); d > 1e-5 {
				t.Errorf("dm[%d,%d] = %g, want %g", i, j, dm.At(i, j), -r/v)
			}
		}
		if math.Abs(ll[i]-want) > 1e-5 || math.Abs(dlv[i]-wantLV) > 1e-5 {
			t.Errorf("row %d: ll %g dLogVar %g, want %g, %g", i, ll[i], dlv[i], want, wantLV)
		}
		// finite difference in log σ² of −ll
		h := 1e-4
		lp, lm := make([]float64, 2), make([]float64, 2)
		scratch := tensor.New(2, 5)
		GaussianLogLik(lp, scratch, m, x, logVar+h, nil)
		GaussianLogLik(lm, scratch, m, x, logVar-h, nil)
		if fd := -(lp[i] - lm[i]) / (2 * h); math.Abs(fd-dlv[i]) > 1e-3 {
			t.Errorf("row %d: dLogVar %g, finite difference %g", i, dlv[i], fd)
		}
	}
}

func TestAdamMatchesAlgorithm(t *testing.T) {
	p := NewParam("w", 3)
	copy(p.W, []float32{1, -2, 0.5})
	a := &Adam{LR: 0.1}
	w := []float64{1, -2, 0.5}
	m, v := make([]float64, 3), make([]float64, 3)
	grads := [][]float32{{0.3, -1, 2}, {0.1, 0.5, -3}, {-0.2, 0, 1}}
	for t1, g := range grads {
		copy(p.G, g)
		a.Step([]*Param{p})
		for i := range w {
			gi := float64(g[i])
			m[i] = 0.9*m[i] + 0.1*gi
			v[i] = 0.999*v[i] + 0.001*gi*gi
			mh := m[i] / (1 - math.Pow(0.9, float64(t1+1)))
			vh := v[i] / (1 - math.Pow(0.999, float64(t1+1)))
			w[i] -= 0.1 * mh / (math.Sqrt(vh) + 1e-8)
		}
	}
	for i := range w {
		if math.Abs(float64(p.W[i])-w[i]) > 1e-5 {
			t.Errorf("w[%d] = %g, want %g", i, p.W[i], w[i])
		}
	}
	if a.T != 3 {
		t.Errorf("T = %d, want 3", a.T)
	}
}

func TestSGDMomentum(t *testing.T) {
	p := NewParam("w", 1)
	p.W[0] = 1
	o := &SGD{LR: 0.5, Momentum: 0.9}
	p.G[0] = 1
	o.Step([]*Param{p}) // u = 1, w = 0.5
	o.Step([]*Param{p}) // u = 1.9, w = −0.45
	if math.Abs(float64(p.W[0])+0.45) > 1e-6 {
		t.Errorf("w = %g, want -0.45", p.W[0])
	}
}

// TestWorkersSameBits runs a conv forward/backward and an Adam step with 1 and 2
// workers on a batch big enough to be split, and requires identical bits.
func TestWorkersSameBits(t *testing.T) {
	run := func(workers int) []float32 {
		tensor.SetWorkers(workers)
		defer tensor.SetWorkers(0)
		s := rng.New(11)
		g := ConvGeom{InH: 12, InW: 12, InC: 2, OutC: 8, K: 3, Stride: 2, Pad: 1}
		net := NewSequential(NewConv2D(g, He, s), ReLU(), NewLinear(6*6*8, 300, Glorot, s), Tanh(),
			NewLinear(300, 200, Glorot, s), Softplus())
		x := randMat(s, 64, 12*12*2, 1)
		y := net.Forward(x)
		dy := randMat(s, y.Rows, y.Cols, 1)
		dx := net.Backward(dy)
		a := NewAdam(1e-3)
		a.Step(net.Params())
		out := append([]float32(nil), y.Data...)
		out = append(out, dx.Data...)
		for _, p := range net.Params() {
			out = append(out, p.G...)
			out = append(out, p.W...)
		}
		return out
	}
	a, b := run(1), run(2)
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("value %d differs: %g with 1 worker, %g with 2", i, a[i], b[i])
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, k := range []ActKind{ActReLU, ActLeakyReLU, ActTanh, ActSigmoid, ActSoftplus, ActIdentity} {
		if got, err := ParseAct(k.String()); err != nil || got != k {
			t.Errorf("ParseAct(%q) = %v, %v", k.String(), got, err)
		}
	}
	if _, err := ParseAct("gelu"); err == nil {
		t.Error("ParseAct(gelu) gave no error")
	}
	for _, in := range []Init{Glorot, He, LeCunUniform} {
		if got, err := ParseInit(in.String()); err != nil || got != in {
			t.Errorf("ParseInit(%q) = %v, %v", in.String(), got, err)
		}
	}
}

// TestStateRoundTrip saves parameters and optimiser state into a checkpoint.File and
// loads them into fresh objects: the next step must give identical bits.
func TestStateRoundTrip(t *testing.T) {
	mk := func() []*Param {
		s := rng.New(1)
		return NewLinear(4, 3, Glorot, s).Params()
	}
	grad := func(ps []*Param, k int) {
		for _, p := range ps {
			for i := range p.G {
				p.G[i] = float32((i*7+k)%5) - 2
			}
		}
	}
	for _, name := range []string{"adam", "sgd"} {
		a := mk()
		var oa, ob Optimizer
		if name == "adam" {
			oa, ob = NewAdam(0.01), NewAdam(0.01)
		} else {
			oa, ob = &SGD{LR: 0.01, Momentum: 0.9}, &SGD{LR: 0.01, Momentum: 0.9}
		}
		for k := 0; k < 3; k++ {
			grad(a, k)
			oa.Step(a)
		}
		f := &checkpoint.File{Kind: "test"}
		SaveParams(f, "p", a)
		b := mk()
		switch o := oa.(type) {
		case *Adam:
			o.Save(f, "opt")
			if err := ob.(*Adam).Load(f, "opt", b); err != nil {
				t.Fatal(err)
			}
		case *SGD:
			o.Save(f, "opt")
			if err := ob.(*SGD).Load(f, "opt", b); err != nil {
				t.Fatal(err)
			}
		}
		if err := LoadParams(f, "p", b); err != nil {
			t.Fatal(err)
		}
		grad(a, 3)
		grad(b, 3)
		oa.Step(a)
		ob.Step(b)
		for k := range a {
			for i := range a[k].W {
				if math.Float32bits(a[k].W[i]) != math.Float32bits(b[k].W[i]) {
					t.Fatalf("%s: param %d[%d] differs after reload", name, k, i)
				}
			}
		}
	}
	if err := LoadParams(&checkpoint.File{Kind: "test"}, "p", mk()); err == nil {
		t.Error("LoadParams from an empty file gave no error")
	}
}
