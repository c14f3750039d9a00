package mixture

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// TestPCA builds data with known principal axes (a rotation of independent
// coordinates with variances 9, 4, 0.01) and checks the eigenvalues, the axes and
// that two components reconstruct the data up to the third's variance.
func TestPCA(t *testing.T) {
	s := rng.New(4)
	const n = 20000
	c, sn := math.Cos(0.5), math.Sin(0.5)
	rot := [3][3]float64{{c, -sn, 0}, {sn, c, 0}, {0, 0, 1}}
	std := [3]float64{3, 2, 0.1}
	x := tensor.New(n, 3)
	for i := 0; i < n; i++ {
		var z [3]float64
		for j := range z {
			z[j] = std[j] * s.NormFloat64()
		}
		for a := 0; a < 3; a++ {
			var v float64
			for b := 0; b < 3; b++ {
				v += rot[a][b] * z[b]
			}
			x.Set(i, a, float32(v+float64(a)))
		}
	}
	p, err := FitPCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range []float64{9, 4} {
		if math.Abs(p.Variance[c]-want)/want > 0.05 {
			t.Errorf("variance %d = %v, want %v", c, p.Variance[c], want)
		}
		var dot float64
		for a := 0; a < 3; a++ {
			dot += p.W[a*2+c] * rot[a][c]
		}
		if math.Abs(math.Abs(dot)-1) > 1e-3 {
			t.Errorf("axis %d: |cos| = %v", c, math.Abs(dot))
		}
	}
	z := p.Transform(x)
	back := p.Inverse(z)
	var mse float64
	for i := range x.Data {
		d := float64(x.Data[i] - back.Data[i])
		mse += d * d / n
	}
	if math.Abs(mse-0.01) > 0.002 {
		t.Errorf("reconstruction error %v, want ≈ 0.01", mse)
	}
	if _, err := FitPCA(x, 4); err == nil {
		t.Error("4 dims of 3 accepted")
	}
}
