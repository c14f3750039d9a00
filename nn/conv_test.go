package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

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
