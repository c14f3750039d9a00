package nn

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// fdCheck compares analytic gradients g of L(x) = Σ c⊙f(x) with central
// differences of L in every value of x.
func fdCheck(t *testing.T, name string, x *tensor.Mat, g *tensor.Mat, loss func() float64) {
	t.Helper()
	const h = 1e-2
	for i := range x.Data {
		old := x.Data[i]
		x.Data[i] = old + h
		fp := loss()
		x.Data[i] = old - h
		fm := loss()
		x.Data[i] = old
		num := (fp - fm) / (2 * h)
		if an := float64(g.Data[i]); math.Abs(an-num) > 1e-4*(1+math.Abs(num)) {
			t.Errorf("%s: value %d: analytic %v, finite difference %v", name, i, an, num)
		}
	}
}

func TestAddGrad(t *testing.T) {
	s := rng.New(1)
	a, b := randMat(s, 2, 6, 1), randMat(s, 2, 6, 1)
	y := Add(nil, a, b)
	c := randMat(s, 2, 6, 1)
	for i := range y.Data {
		if y.Data[i] != a.Data[i]+b.Data[i] {
			t.Fatalf("Add: y[%d] = %v", i, y.Data[i])
		}
	}
	loss := func() float64 { return projLoss(Add(nil, a, b), c) }
	fdCheck(t, "Add ∂/∂a", a, c, loss) // ∂L/∂a = ∂L/∂b = dy = c
	fdCheck(t, "Add ∂/∂b", b, c, loss)
}

func TestConcatChannelsGrad(t *testing.T) {
	s := rng.New(2)
	const pos, ca, cb = 5, 2, 3
	a, b := randMat(s, 3, pos*ca, 1), randMat(s, 3, pos*cb, 1)
	y := ConcatChannels(nil, a, b, ca, cb)
	if y.At(1, 3*(ca+cb)+1) != a.At(1, 3*ca+1) || y.At(2, 4*(ca+cb)+ca+2) != b.At(2, 4*cb+2) {
		t.Fatal("ConcatChannels put a value in the wrong place")
	}
	c := randMat(s, 3, pos*(ca+cb), 1)
	da, db := SplitChannels(nil, nil, c, ca, cb)
	loss := func() float64 { return projLoss(ConcatChannels(nil, a, b, ca, cb), c) }
	fdCheck(t, "Concat ∂/∂a", a, da, loss)
	fdCheck(t, "Concat ∂/∂b", b, db, loss)
}

func TestAddChannelVecGrad(t *testing.T) {
	s := rng.New(3)
	const pos, ch = 6, 4
	x, v := randMat(s, 2, pos*ch, 1), randMat(s, 2, ch, 1)
	y := AddChannelVec(nil, x, v)
	if y.At(1, 5*ch+3) != x.At(1, 5*ch+3)+v.At(1, 3) {
		t.Fatal("AddChannelVec added the wrong value")
	}
	c := randMat(s, 2, pos*ch, 1)
	loss := func() float64 { return projLoss(AddChannelVec(nil, x, v), c) }
	fdCheck(t, "AddChannelVec ∂/∂x", x, c, loss)
	fdCheck(t, "AddChannelVec ∂/∂v", v, ChannelVecGrad(nil, c, ch), loss)
}

// ChannelVecGrad with more channels than it sums at once, and no allocation
// once its output exists.
func TestChannelVecGradWide(t *testing.T) {
	s := rng.New(4)
	const pos, ch = 3, 150
	dy := randMat(s, 2, pos*ch, 1)
	dv := ChannelVecGrad(nil, dy, ch)
	for i := range 2 {
		for k := range ch {
			var want float64
			for p := range pos {
				want += float64(dy.At(i, p*ch+k))
			}
			if math.Abs(float64(dv.At(i, k))-want) > 1e-5 {
				t.Fatalf("dv[%d,%d] = %v, want %v", i, k, dv.At(i, k), want)
			}
		}
	}
	noAllocs(t, "ChannelVecGrad", func() { ChannelVecGrad(dv, dy, ch) })
}

// TestAddSameBits checks Add's vector rows against the scalar sum a[i] + b[i]
// bit for bit, into a new matrix and in place into either input, on a matrix
// large enough to be split between workers and on one with a ragged row length.
func TestAddSameBits(t *testing.T) {
	s := rng.New(3)
	for _, shape := range [][2]int{{3, 13}, {40, 3001}} {
		r, c := shape[0], shape[1]
		a, b := tensor.New(r, c), tensor.New(r, c)
		s.FillNormal(a.Data, 0, 1)
		s.FillNormal(b.Data, 0, 1e-3)
		want := make([]float32, r*c)
		for i := range want {
			want[i] = a.Data[i] + b.Data[i]
		}
		check := func(name string, got *tensor.Mat) {
			t.Helper()
			for i, v := range got.Data {
				if math.Float32bits(v) != math.Float32bits(want[i]) {
					t.Fatalf("%d×%d, %s: element %d is %v, want %v", r, c, name, i, v, want[i])
				}
			}
		}
		check("new", Add(nil, a, b))
		a2, b2 := a.Clone(), b.Clone()
		check("into a", Add(a2, a2, b))
		check("into b", Add(b2, a, b2))
	}
}
