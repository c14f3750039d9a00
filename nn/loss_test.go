package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

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
