package tensor

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// withPath runs f once for every element-wise kernel set this CPU supports.
func withPath(t *testing.T, f func(t *testing.T)) {
	saved := elemImpl
	defer func() { elemImpl = saved }()
	for _, p := range elemPaths() {
		elemImpl = p
		t.Run(p.name, f)
	}
}

const ulp32 = 0x1p-23

// grid returns n points evenly spaced over [lo, hi], plus lo and hi.
func grid(lo, hi float64, n int) []float32 {
	x := make([]float32, 0, n+1)
	for i := 0; i <= n; i++ {
		x = append(x, float32(lo+(hi-lo)*float64(i)/float64(n)))
	}
	return x
}

// logGrid returns ±values spread evenly in log scale over [lo, hi] (lo > 0).
func logGrid(lo, hi float64, n int) []float32 {
	x := make([]float32, 0, 2*n+2)
	for i := 0; i <= n; i++ {
		v := float32(lo * math.Pow(hi/lo, float64(i)/float64(n)))
		x = append(x, v, -v)
	}
	return x
}

type elemCase struct {
	name string
	f    func(dst, x []float32)
	ref  func(float64) float64
	// Inputs whose results must be within maxULP of ref (relative error in units of
	// 2⁻²³), or within absTol absolutely (for subnormal results).
	x      []float32
	maxULP float64
	absTol float64
}

func log1pExp(x float64) float64 { // softplus in float64
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func elemCases() []elemCase {
	const n = 400000
	wide := append(grid(-120, 120, n), logGrid(1e-30, 1e4, n/4)...)
	return []elemCase{
		{"Exp", Exp, math.Exp, append(grid(-104, 88.72, n), logGrid(1e-30, 88, n/4)...), 1, 0x1p-149},
		{"Sigmoid", Sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
			append(grid(-30, 30, n), wide...), 2, 0x1p-148},
		{"Softplus", Softplus, log1pExp, wide, 1.5, 0x1p-148},
		{"LogSigmoid", LogSigmoid, func(x float64) float64 { return -log1pExp(-x) }, wide, 1.5, 0x1p-148},
		{"Tanh", Tanh, math.Tanh, append(grid(-10, 10, n), logGrid(1e-38, 100, n/4)...), 1.5, 0},
		{"Log", Log, math.Log, append(logGrid(1e-45, 3e38, n), grid(0.5, 2, n)...), 1, 0},
		{"ReLU", ReLU, func(x float64) float64 { return math.Max(x, 0) }, wide, 0, 0},
		// σ stays normal above x = −87; below it x·σ(x) is tiny but σ has lost bits.
		{"SiLU", SiLU, func(x float64) float64 { return x / (1 + math.Exp(-x)) },
			append(append(grid(-80, 30, n), logGrid(1e-30, 80, n/4)...), grid(30, 1e4, 1000)...), 3, 0x1p-148},
	}
}

// TestElemAccuracy checks every kernel on every path against float64 math.
func TestElemAccuracy(t *testing.T) {
	withPath(t, func(t *testing.T) {
		for _, c := range elemCases() {
			x := c.x
			if c.name == "Log" {
				x = append([]float32(nil), x...)
				for i := range x {
					x[i] = abs32(x[i])
				}
			}
			y := make([]float32, len(x))
			c.f(y, x)
			worst, at := 0.0, float32(0)
			for i, v := range x {
				ref := c.ref(float64(v))
				err := math.Abs(float64(y[i]) - ref)
				if err <= c.absTol {
					continue
				}
				u := err / math.Abs(ref) / ulp32
				if !(u <= worst) {
					worst, at = u, v
				}
			}
			t.Logf("%-10s max error %.3f ulp at x = %g", c.name, worst, at)
			if !(worst <= c.maxULP) {
				t.Errorf("%s: max error %.3f ulp at x = %g (%v, want %v), bound %v ulp",
					c.name, worst, at, ref32(c, at), c.ref(float64(at)), c.maxULP)
			}
		}
	})
}

func ref32(c elemCase, x float32) float32 {
	y := []float32{0}
	c.f(y, []float32{x})
	return y[0]
}

// TestElemSpecial checks ±Inf, NaN, zeros and the overflow/underflow edges.
func TestElemSpecial(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	one := func(f func(dst, x []float32), x float32) float32 {
		y := []float32{0}
		f(y, []float32{x})
		return y[0]
	}
	// same compares values, sign of zero included; all NaNs are the same.
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
	}
	negZero := float32(math.Copysign(0, -1))
	withPath(t, func(t *testing.T) {
		for _, c := range []struct {
			name string
			f    func(dst, x []float32)
			x, y float32
		}{
			{"Exp", Exp, inf, inf}, {"Exp", Exp, -inf, 0}, {"Exp", Exp, nan, nan},
			{"Exp", Exp, 89, inf}, {"Exp", Exp, -104, 0}, {"Exp", Exp, 0, 1},
			{"Sigmoid", Sigmoid, inf, 1}, {"Sigmoid", Sigmoid, -inf, 0}, {"Sigmoid", Sigmoid, nan, nan},
			{"Sigmoid", Sigmoid, 0, 0.5}, {"Sigmoid", Sigmoid, 200, 1}, {"Sigmoid", Sigmoid, -200, 0},
			{"Softplus", Softplus, inf, inf}, {"Softplus", Softplus, -inf, 0}, {"Softplus", Softplus, nan, nan},
			{"Softplus", Softplus, 1e30, 1e30}, {"Softplus", Softplus, -200, 0},
			{"LogSigmoid", LogSigmoid, inf, 0}, {"LogSigmoid", LogSigmoid, -inf, -inf},
			{"LogSigmoid", LogSigmoid, nan, nan}, {"LogSigmoid", LogSigmoid, -1e30, -1e30},
			{"ReLU", ReLU, -inf, 0}, {"ReLU", ReLU, inf, inf}, {"ReLU", ReLU, nan, nan}, {"ReLU", ReLU, -3, 0},
			{"Tanh", Tanh, inf, 1}, {"Tanh", Tanh, -inf, -1}, {"Tanh", Tanh, nan, nan}, {"Tanh", Tanh, 0, 0},
			{"Log", Log, 0, -inf}, {"Log", Log, -1, nan}, {"Log", Log, inf, inf}, {"Log", Log, nan, nan},
			{"Log", Log, 1, 0}, {"Log", Log, negZero, -inf},
			{"ReLU", ReLU, negZero, negZero}, {"ReLU", ReLU, 0, 0}, {"Tanh", Tanh, negZero, negZero},
			{"Exp", Exp, 88.73, inf}, {"Exp", Exp, -103.98, 0}, {"Exp", Exp, 0x1p-30, 1},
			{"Sigmoid", Sigmoid, negZero, 0.5}, {"Softplus", Softplus, 0, float32(math.Ln2)},
			{"LogSigmoid", LogSigmoid, 0, -float32(math.Ln2)}, {"Tanh", Tanh, 20, 1},
		} {
			if g := one(c.f, c.x); !same(g, c.y) {
				t.Errorf("%s(%v) = %v, want %v", c.name, c.x, g, c.y)
			}
		}
	})
}

// TestElemTailsAndAliasing checks that an element's result does not depend on
// its position (vector body or padded tail) and that in-place calls work.
func TestElemTailsAndAliasing(t *testing.T) {
	withPath(t, func(t *testing.T) {
		s := rng.New(5)
		for _, f := range []func(dst, x []float32){Exp, Sigmoid, Softplus, LogSigmoid, ReLU, Tanh, SiLU, siluGradOfOnes} {
			x := make([]float32, 37)
			s.FillNormal(x, 0, 4)
			y := make([]float32, len(x))
			f(y, x)
			for i := range x {
				one := []float32{0}
				f(one, x[i:i+1])
				if one[0] != y[i] {
					t.Fatalf("element %d: %v alone, %v in a slice", i, one[0], y[i])
				}
			}
			f(x, x)
			for i := range x {
				if x[i] != y[i] {
					t.Fatalf("in place differs at %d", i)
				}
			}
			// Longer x is read up to len(dst).
			f(y[:5], x)
		}
	})
}

// siluGradOfOnes is SiLUGrad with y = 1 and dy = 1, a unary function for the
// tails-and-aliasing test.
func siluGradOfOnes(dst, x []float32) {
	ones := make([]float32, len(dst))
	for i := range ones {
		ones[i] = 1
	}
	SiLUGrad(dst, x, ones, ones)
}

// TestSiLUGrad checks SiLUGrad on every path against the float64 derivative of
// x·σ(x), dy·(σ + xσ(1 − σ)), with y = SiLU(x) from the same path, and against
// the float32 formula it documents (bit for bit on the generic path).
func TestSiLUGrad(t *testing.T) {
	x := append(grid(-40, 30, 20000), logGrid(1e-20, 1e3, 2000)...)
	s := rng.New(9)
	dy := make([]float32, len(x))
	s.FillNormal(dy, 0, 1)
	withPath(t, func(t *testing.T) {
		y := make([]float32, len(x))
		SiLU(y, x)
		d := make([]float32, len(x))
		SiLUGrad(d, x, y, dy)
		worst := 0.0
		for i, v := range x {
			sg := 1 / (1 + math.Exp(-float64(v)))
			want := float64(dy[i]) * (sg + float64(v)*sg*(1-sg))
			// 1 − s loses its bits to cancellation where σ is near 1: up to a few
			// ulp of s, times y ≈ x.
			scale := math.Abs(float64(dy[i])) * (4*(sg+math.Abs(float64(v))*sg*(1-sg)) + 3*math.Abs(float64(v))*sg)
			u := math.Abs(float64(d[i])-want) / (scale*ulp32 + 1e-38)
			if !(u <= 1) {
				t.Fatalf("x = %g, dy = %g: SiLUGrad %g, want %g (%.2f of the bound)", v, dy[i], d[i], want, u)
			}
			worst = max(worst, u)
		}
		t.Logf("SiLUGrad: max error %.2f of the bound", worst)
		if elemImpl.isa == isaGeneric {
			for i, v := range x {
				sg := sigmoid32(v)
				if want := dy[i] * (sg + float32(y[i]*(1-sg))); math.Float32bits(d[i]) != math.Float32bits(want) {
					t.Fatalf("generic SiLUGrad at x = %g: %g, formula %g", v, d[i], want)
				}
			}
		}
		// In place over dy.
		dd := append([]float32(nil), dy...)
		SiLUGrad(dd, x, y, dd)
		for i := range dd {
			if dd[i] != d[i] {
				t.Fatalf("in place differs at %d", i)
			}
		}
	})
}

func TestGrads(t *testing.T) {
	y := []float32{0.25, 0.5, -0.5}
	dy := []float32{2, 4, 1}
	d := make([]float32, 3)
	SigmoidGrad(d, y, dy)
	if want := []float32{0.375, 1, -0.75}; fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("SigmoidGrad = %v, want %v", d, want)
	}
	TanhGrad(d, y, dy)
	if want := []float32{1.875, 3, 0.75}; fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("TanhGrad = %v, want %v", d, want)
	}
	ReLUGrad(d, y, dy)
	if want := []float32{2, 4, 0}; fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("ReLUGrad = %v, want %v", d, want)
	}
	// Finite differences: dσ/dx = σ(1−σ), dtanh/dx = 1 − tanh².
	for _, x := range []float64{-3, -0.5, 0, 0.7, 2.5} {
		const h = 1e-3
		sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
		yy := []float32{float32(sig(x)), float32(math.Tanh(x))}
		SigmoidGrad(d[:1], yy[:1], []float32{1})
		fd := (sig(x+h) - sig(x-h)) / (2 * h)
		if math.Abs(float64(d[0])-fd) > 1e-6 {
			t.Errorf("SigmoidGrad at %v = %v, finite difference %v", x, d[0], fd)
		}
		TanhGrad(d[:1], yy[1:], []float32{1})
		fd = (math.Tanh(x+h) - math.Tanh(x-h)) / (2 * h)
		if math.Abs(float64(d[0])-fd) > 1e-6 {
			t.Errorf("TanhGrad at %v = %v, finite difference %v", x, d[0], fd)
		}
	}
}

// TestReLUGrads checks ReLUGrad and LeakyReLUGrad on every kernel path, with 1
// and 2 workers, against their definitions value by value (bits, so −0 and NaN
// count): lengths around the vector width and above the parallel grain, inputs
// with ±0, NaN and ±Inf, gradients with ±Inf and NaN (which a dead ReLU unit must
// not pass on), and in place over dy.
func TestReLUGrads(t *testing.T) {
	defer SetWorkers(0)
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	special := []float32{0, float32(math.Copysign(0, -1)), nan, inf, -inf, 1e-40, -1e-40, 3, -2}
	const slope = 0.2
	withPath(t, func(t *testing.T) {
		for _, w := range []int{1, 2} {
			SetWorkers(w)
			for _, n := range []int{1, 7, 8, 15, 16, 17, 33, 400, elemGrain + 37, 3*elemGrain + 5} {
				s := rng.New(uint64(n))
				x, dy := make([]float32, n), make([]float32, n)
				s.FillNormal(x, 0, 1)
				s.FillNormal(dy, 0, 1)
				for i := range min(n, len(special)) {
					x[i] = special[i]
					dy[(i+3)%n] = special[len(special)-1-i]
				}
				want := func(i int, leaky bool) float32 {
					switch {
					case x[i] > 0:
						return dy[i]
					case leaky:
						return slope * dy[i]
					}
					return 0
				}
				for _, leaky := range []bool{false, true} {
					d := make([]float32, n)
					in := append([]float32(nil), dy...)
					if leaky {
						LeakyReLUGrad(d, x, dy, slope)
						LeakyReLUGrad(in, x, in, slope)
					} else {
						ReLUGrad(d, x, dy)
						ReLUGrad(in, x, in)
					}
					for i := range d {
						wv := want(i, leaky)
						if math.Float32bits(d[i]) != math.Float32bits(wv) || math.Float32bits(in[i]) != math.Float32bits(wv) {
							t.Fatalf("leaky %v, n %d, %d workers, x[%d] = %g, dy = %g: got %g (in place %g), want %g",
								leaky, n, w, i, x[i], dy[i], d[i], in[i], wv)
						}
					}
				}
			}
		}
	})
}

func TestSigmoidBias(t *testing.T) {
	withPath(t, func(t *testing.T) {
		s := rng.New(3)
		big := New(9, 41)
		s.FillNormal(big.Data, 0, 3)
		x := big.Slice(2, 9) // a view with stride
		x.Cols = 37
		bias := make([]float32, 37)
		s.FillNormal(bias, 0, 1)
		dst := New(7, 37)
		SigmoidBias(dst, x, bias)
		for i := 0; i < 7; i++ {
			for j := 0; j < 37; j++ {
				want := []float32{0}
				Sigmoid(want, []float32{x.At(i, j) + bias[j]})
				if dst.At(i, j) != want[0] {
					t.Fatalf("(%d,%d) = %v, want %v", i, j, dst.At(i, j), want[0])
				}
			}
		}
		SigmoidBias(dst, x, nil)
		for j := 0; j < 37; j++ {
			want := []float32{0}
			Sigmoid(want, []float32{x.At(3, j)})
			if dst.At(3, j) != want[0] {
				t.Fatalf("nil bias: (3,%d) = %v, want %v", j, dst.At(3, j), want[0])
			}
		}
	})
}

// TestSigmoidBernoulliScheme checks the documented draw scheme exactly: element L
// compares uniform L mod randPiece of NewStream(base, L/randPiece) with σ.
func TestSigmoidBernoulliScheme(t *testing.T) {
	withPath(t, func(t *testing.T) {
		const rows, cols = 23, 513 // 11799 elements: 3 pieces, odd row length
		s := rng.New(17)
		x := New(rows, cols)
		s.FillNormal(x.Data, 0, 2)
		bias := make([]float32, cols)
		s.FillNormal(bias, 0, 1)
		prob, sample := New(rows, cols), New(rows, cols)
		call := rng.New(99)
		SigmoidBiasBernoulli(prob, sample, x, bias, call)
		base := rng.New(99).Uint64()
		if a, b := call.Uint64(), rng.New(99); a != func() uint64 { b.Uint64(); return b.Uint64() }() {
			t.Fatal("SigmoidBiasBernoulli did not advance s by exactly one number")
		}
		u := schemeUniforms(base, rows*cols)
		ones := 0
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				want := []float32{0}
				Sigmoid(want, []float32{x.At(i, j) + bias[j]})
				if prob.At(i, j) != want[0] {
					t.Fatalf("prob(%d,%d) = %v, want %v", i, j, prob.At(i, j), want[0])
				}
				ws := float32(0)
				if u[i*cols+j] < want[0] {
					ws = 1
				}
				if sample.At(i, j) != ws {
					t.Fatalf("sample(%d,%d) = %v, want %v (u = %v, p = %v)", i, j, sample.At(i, j), ws, u[i*cols+j], want[0])
				}
				ones += int(ws)
			}
		}
		// The slice version with zero bias uses the same scheme over the flat index.
		flat := make([]float32, rows*cols)
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				flat[i*cols+j] = x.At(i, j) + bias[j]
			}
		}
		fs := make([]float32, len(flat))
		SigmoidBernoulli(nil, fs, flat, rng.New(99))
		for i := range fs {
			if fs[i] != sample.Data[i] {
				t.Fatalf("slice version differs at %d", i)
			}
		}
		// In place: prob, sample and x the same matrix.
		xx := x.Clone()
		SigmoidBiasBernoulli(nil, xx, xx, bias, rng.New(99))
		for i := range xx.Data {
			if xx.Data[i] != sample.Data[i] {
				t.Fatalf("in-place version differs at %d", i)
			}
		}
		// SampleBernoulli on the probabilities draws the same samples.
		sb := New(rows, cols)
		SampleBernoulli(sb, prob, rng.New(99))
		for i := range sb.Data {
			if sb.Data[i] != sample.Data[i] {
				t.Fatalf("SampleBernoulli differs at %d", i)
			}
		}
	})
}

// TestBernoulliFrequencies: for n draws at probability p the count of ones is
// Binomial(n, p); |k − np| < 5√(np(1−p)) fails with probability < 10⁻⁶.
func TestBernoulliFrequencies(t *testing.T) {
	withPath(t, func(t *testing.T) {
		const n = 200003
		s := rng.New(23)
		for _, p := range []float64{1e-3, 0.1, 0.5, 0.73, 0.999} {
			logit := float32(math.Log(p / (1 - p)))
			x := make([]float32, n)
			for i := range x {
				x[i] = logit
			}
			prob, sample := make([]float32, n), make([]float32, n)
			SigmoidBernoulli(prob, sample, x, s)
			q := float64(prob[0])
			k := 0
			for _, v := range sample {
				if v != 0 && v != 1 {
					t.Fatalf("sample value %v", v)
				}
				k += int(v)
			}
			if sd := math.Sqrt(n * q * (1 - q)); math.Abs(float64(k)-n*q) > 5*sd {
				t.Errorf("p=%v: %d ones in %d, want %.0f ± %.0f", p, k, n, n*q, 5*sd)
			}
			// Fresh draws each call: two calls on one stream differ.
			s2 := make([]float32, n)
			SigmoidBernoulli(nil, s2, x, s)
			same := 0
			for i := range s2 {
				if s2[i] == sample[i] {
					same++
				}
			}
			if p == 0.5 && same > n*6/10 {
				t.Errorf("two calls agree on %d of %d draws", same, n)
			}
		}
		// p = 0 and 1 exactly (x = ∓Inf), and SampleBernoulli with p outside [0, 1].
		x := []float32{float32(math.Inf(-1)), float32(math.Inf(1))}
		sm := make([]float32, 2)
		for i := 0; i < 100; i++ {
			SigmoidBernoulli(nil, sm, x, s)
			if sm[0] != 0 || sm[1] != 1 {
				t.Fatalf("σ(∓Inf) draws %v", sm)
			}
		}
		p := FromSlice(1, 4, []float32{-1, 0, 1, 2})
		d := New(1, 4)
		for i := 0; i < 100; i++ {
			SampleBernoulli(d, p, s)
			if fmt.Sprint(d.Data) != "[0 0 1 1]" {
				t.Fatalf("SampleBernoulli(%v) = %v", p.Data, d.Data)
			}
		}
	})
}

// TestElemWorkersInvariance: same inputs and seed give the same bits with 1 and 2
// workers, on sizes that split into several parallel pieces.
func TestElemWorkersInvariance(t *testing.T) {
	defer SetWorkers(0)
	run := func(w int) [][]float32 {
		SetWorkers(w)
		s := rng.New(7)
		x := New(300, 517) // 155100 elements: 10 element pieces, 38 random pieces
		s.FillNormal(x.Data, 0, 3)
		bias := make([]float32, 517)
		s.FillNormal(bias, 0, 1)
		var out [][]float32
		for _, f := range []func(dst, x []float32){Exp, Sigmoid, Softplus, LogSigmoid, ReLU, Tanh, Log, SiLU} {
			y := make([]float32, len(x.Data))
			f(y, x.Data)
			out = append(out, y)
		}
		sd := make([]float32, len(x.Data))
		SiLUGrad(sd, x.Data, out[len(out)-1], x.Data)
		out = append(out, sd)
		lse := make([]float64, 300)
		LogSumExpRows(lse, x)
		for _, v := range lse {
			out = append(out, []float32{float32(v), float32(v - float64(float32(v)))})
		}
		p, smp, sb := New(300, 517), New(300, 517), New(300, 517)
		SigmoidBiasBernoulli(p, smp, x, bias, s)
		SampleBernoulli(sb, p, s)
		sg := New(300, 517)
		SigmoidBias(sg, x, bias)
		fs := make([]float32, len(x.Data))
		SigmoidBernoulli(nil, fs, x.Data, s)
		return append(out, p.Data, smp.Data, sb.Data, sg.Data, fs, []float32{s.Float32()})
	}
	withPath(t, func(t *testing.T) {
		a, b := run(1), run(2)
		for k := range a {
			for i := range a[k] {
				if math.Float32bits(a[k][i]) != math.Float32bits(b[k][i]) {
					t.Fatalf("output %d differs at %d with 1 and 2 workers: %v vs %v", k, i, a[k][i], b[k][i])
				}
			}
		}
	})
}

func TestLogSumExp(t *testing.T) {
	withPath(t, func(t *testing.T) {
		s := rng.New(13)
		x := New(6, 1000)
		s.FillNormal(x.Data, 0, 5)
		x.Set(1, 3, 80) // one dominant term
		for j := range x.Row(2) {
			x.Set(2, j, -90) // would underflow without the shift
		}
		for j := range x.Row(3)[:999] {
			x.Set(3, j, float32(math.Inf(-1)))
		}
		dst := make([]float64, 6)
		LogSumExpRows(dst, x)
		for i := 0; i < 6; i++ {
			r := make([]float64, x.Cols)
			for j, v := range x.Row(i) {
				r[j] = float64(v)
			}
			want := LogSumExp64(r)
			// Reference in float64 by brute force around the max.
			if math.Abs(dst[i]-want) > 3e-7 {
				t.Errorf("row %d: LogSumExpRows = %.9g, float64 %.9g", i, dst[i], want)
			}
		}
		if got := dst[2]; math.Abs(got-(-90+math.Log(1000))) > 1e-5 {
			t.Errorf("row of −90: %v", got)
		}
		// Awkward row lengths (tails), a NaN after a finite max, +Inf then NaN.
		for _, cols := range []int{1, 5, 15, 16, 17, 37, 129} {
			m := New(3, cols)
			s.FillNormal(m.Data, 0, 30)
			d := make([]float64, 3)
			LogSumExpRows(d, m)
			for i := range d {
				r := make([]float64, cols)
				for j, v := range m.Row(i) {
					r[j] = float64(v)
				}
				if w := LogSumExp64(r); math.Abs(d[i]-w) > 3e-7 {
					t.Errorf("%d cols, row %d: %.9g, float64 %.9g", cols, i, d[i], w)
				}
			}
			if cols > 1 {
				m.Set(0, cols-1, float32(math.NaN()))
				m.Set(1, 0, float32(math.Inf(1)))
				m.Set(1, cols-1, float32(math.NaN()))
				LogSumExpRows(d, m)
				if !math.IsNaN(d[0]) || !math.IsNaN(d[1]) {
					t.Errorf("%d cols: rows with NaN give %v, %v", cols, d[0], d[1])
				}
			}
		}
		inf := float32(math.Inf(1))
		sp := FromSlice(4, 2, []float32{float32(math.Inf(-1)), float32(math.Inf(-1)), 1, inf, 1, float32(math.NaN()), 0, 0})
		d := make([]float64, 4)
		LogSumExpRows(d, sp)
		if !math.IsInf(d[0], -1) || !math.IsInf(d[1], 1) || !math.IsNaN(d[2]) || math.Abs(d[3]-math.Ln2) > 1e-7 {
			t.Errorf("special rows: %v", d)
		}
		LogSumExpRows(d[:0], New(0, 3))
		LogSumExpRows(d[:1], New(1, 0))
		if !math.IsInf(d[0], -1) {
			t.Errorf("empty row: %v", d[0])
		}
	})
	// LogSumExp64 against direct summation where that is safe, and stability.
	if g, w := LogSumExp64([]float64{1, 2, 3}), math.Log(math.E+math.Exp(2)+math.Exp(3)); math.Abs(g-w) > 1e-15 {
		t.Errorf("LogSumExp64 = %v, want %v", g, w)
	}
	if g := LogSumExp64([]float64{1000, 1000}); math.Abs(g-(1000+math.Ln2)) > 1e-12 {
		t.Errorf("LogSumExp64(1000,1000) = %v", g)
	}
	if g := LogSumExp64(nil); !math.IsInf(g, -1) {
		t.Errorf("LogSumExp64(nil) = %v", g)
	}
	if g := LogSumExp64([]float64{1, math.NaN()}); !math.IsNaN(g) {
		t.Errorf("LogSumExp64 with NaN = %v", g)
	}
}

func TestChooseElem(t *testing.T) {
	if p := chooseElem("generic"); p != &genericElem {
		t.Errorf("LATENT_KERNEL=generic chose %s", p.name)
	}
	if p := chooseElem(""); p != elemPaths()[0] {
		t.Errorf("default chose %s, want %s", p.name, elemPaths()[0].name)
	}
	if p := chooseElem("bogus"); p != elemPaths()[0] {
		t.Errorf("unknown name chose %s", p.name)
	}
}

func TestElemPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"short x":   func() { Sigmoid(make([]float32, 3), make([]float32, 2)) },
		"bias len":  func() { SigmoidBias(New(2, 3), New(2, 3), make([]float32, 2)) },
		"shape":     func() { SigmoidBiasBernoulli(nil, New(2, 3), New(3, 2), nil, rng.New(1)) },
		"lse len":   func() { LogSumExpRows(make([]float64, 1), New(2, 2)) },
		"prob len":  func() { SigmoidBernoulli(make([]float32, 1), make([]float32, 2), make([]float32, 2), rng.New(1)) },
		"sample sh": func() { SampleBernoulli(New(1, 2), New(2, 1), rng.New(1)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// TestElemKernelName logs the kernel set in use (bench/elem-vs-torch.sh reads it).
func TestElemKernelName(t *testing.T) {
	t.Logf("element-wise kernel: %s", ElemKernel())
	if want := chooseElem(os.Getenv("LATENT_KERNEL")).name; ElemKernel() != want {
		t.Errorf("kernel %s, want %s (LATENT_KERNEL=%q)", ElemKernel(), want, os.Getenv("LATENT_KERNEL"))
	}
}

// TestElemNoAllocs: with one worker the kernels do not allocate (a warm training
// step should not). With several workers ParallelFor's goroutines allocate a little.
func TestElemNoAllocs(t *testing.T) {
	defer SetWorkers(0)
	SetWorkers(1)
	s := rng.New(1)
	x, y, p := New(128, 500), New(128, 500), New(128, 500)
	s.FillNormal(x.Data, 0, 2)
	bias := make([]float32, 500)
	lse := make([]float64, 128)
	for name, f := range map[string]func(){
		"Sigmoid":              func() { Sigmoid(y.Data, x.Data) },
		"Tanh":                 func() { Tanh(y.Data[:77], x.Data) },
		"SigmoidBias":          func() { SigmoidBias(y, x, bias) },
		"SigmoidBernoulli":     func() { SigmoidBernoulli(nil, y.Data[:999], x.Data, s) },
		"SigmoidBiasBernoulli": func() { SigmoidBiasBernoulli(p, y, x, bias, s) },
		"SampleBernoulli":      func() { SampleBernoulli(y, p, s) },
		"LogSumExpRows":        func() { LogSumExpRows(lse, x) },
		"SiLU":                 func() { SiLU(y.Data, x.Data) },
		"SiLUGrad":             func() { SiLUGrad(p.Data, x.Data, y.Data, x.Data) },
	} {
		if n := testing.AllocsPerRun(5, f); n != 0 {
			t.Errorf("%s: %v allocations per call", name, n)
		}
	}
}

// schemeUniforms rebuilds the uniforms of the documented Bernoulli scheme with
// rng's scalar API: piece p, lane l is NewStream(base, 8p+l).
func schemeUniforms(base uint64, n int) []float32 {
	var u []float32
	for p := 0; p*randPiece < n; p++ {
		var lanes [8]*rng.Stream
		for l := range lanes {
			lanes[l] = rng.NewStream(base, uint64(8*p+l))
		}
		for k := 0; k < randPiece/16; k++ {
			for l := range lanes {
				r := lanes[l].Uint64()
				u = append(u, float32(uint32(r)>>8)/(1<<24), float32(r>>40)/(1<<24))
			}
		}
	}
	return u
}

// TestSiLUSigmoid: on every path SiLUSigmoid gives SiLU's bits and Sigmoid's,
// and SiLUGradSigmoid on that σ gives SiLUGrad's bits (in place over dy too), on
// lengths with and without a tail, several workers, and NaN, ±Inf and ±0.
func TestSiLUSigmoid(t *testing.T) {
	defer SetWorkers(0)
	x := append(grid(-40, 30, 20001), logGrid(1e-20, 1e3, 2000)...)
	f32 := func(v float64) float32 { return float32(v) }
	x = append(x, f32(math.NaN()), f32(math.Inf(1)), f32(math.Inf(-1)), 0, f32(math.Copysign(0, -1)), 88.7, -103.9)
	s := rng.New(10)
	dy := make([]float32, len(x))
	s.FillNormal(dy, 0, 1)
	withPath(t, func(t *testing.T) {
		for _, w := range []int{1, 2} {
			SetWorkers(w)
			for _, n := range []int{len(x), 13, 8, 5} {
				xs, dys := x[len(x)-n:], dy[len(x)-n:]
				y, sg := make([]float32, n), make([]float32, n)
				SiLUSigmoid(y, sg, xs)
				wantY, wantS := make([]float32, n), make([]float32, n)
				SiLU(wantY, xs)
				Sigmoid(wantS, xs)
				name := fmt.Sprintf("%d workers, %d values", w, n)
				sameBits32(t, name+": SiLUSigmoid's y", y, wantY)
				sameBits32(t, name+": SiLUSigmoid's σ", sg, wantS)
				d, want := make([]float32, n), make([]float32, n)
				SiLUGradSigmoid(d, sg, y, dys)
				SiLUGrad(want, xs, y, dys)
				sameBits32(t, name+": SiLUGradSigmoid", d, want)
				dd := append([]float32(nil), dys...)
				SiLUGradSigmoid(dd, sg, y, dd)
				sameBits32(t, name+": SiLUGradSigmoid in place", dd, want)
			}
		}
	})
}

// sameBits32 fails unless a and b hold the same bits (NaN payloads included).
func sameBits32(t *testing.T, name string, a, b []float32) {
	t.Helper()
	for i := range b {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: [%d] = %g, want %g", name, i, a[i], b[i])
		}
	}
}
