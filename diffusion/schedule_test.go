package diffusion

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// q(x_t | x_0) in closed form against composing the Gaussian transitions
// q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t) exactly: a point mass at x_0 stays
// Gaussian, with mean m ← √α_t m and variance v ← α_t v + β_t.
func TestScheduleMarginalMatchesIteratedForward(t *testing.T) {
	for _, kind := range []string{"linear", "cosine"} {
		sc, err := NewSchedule(kind, 1000)
		if err != nil {
			t.Fatal(err)
		}
		m, v := 1.0, 0.0
		for s := 1; s <= sc.T; s++ {
			m, v = math.Sqrt(sc.Alpha[s])*m, sc.Alpha[s]*v+sc.Beta[s]
			if math.Abs(m-sc.SqrtAB[s]) > 1e-12 || math.Abs(v-(1-sc.AlphaBar[s])) > 1e-12 {
				t.Fatalf("%s t=%d: iterated mean %v var %v, closed form %v %v", kind, s, m, v, sc.SqrtAB[s], 1-sc.AlphaBar[s])
			}
		}
		if sc.AlphaBar[sc.T] > 1e-4 {
			t.Errorf("%s: ᾱ_T = %v: x_T is not close to N(0, 1)", kind, sc.AlphaBar[sc.T])
		}
	}
}

// The same by Monte Carlo: 20000 chains run through T = 50 steps of the
// forward process from x_0 = 0.7; their mean and variance at t = 10, 50 agree
// with √ᾱ_t x_0 and 1 − ᾱ_t within 4 standard errors.
func TestScheduleMarginalMonteCarlo(t *testing.T) {
	sc, _ := NewScheduleRange("linear", 50, 1e-3, 0.2)
	const n, x0 = 20000, 0.7
	s := rng.New(1)
	x := make([]float64, n)
	for i := range x {
		x[i] = x0
	}
	for step := 1; step <= sc.T; step++ {
		for i := range x {
			x[i] = math.Sqrt(sc.Alpha[step])*x[i] + math.Sqrt(sc.Beta[step])*s.NormFloat64()
		}
		if step != 10 && step != 50 {
			continue
		}
		var mean, v float64
		for _, xi := range x {
			mean += xi
		}
		mean /= n
		for _, xi := range x {
			v += (xi - mean) * (xi - mean)
		}
		v /= n - 1
		wm, wv := sc.SqrtAB[step]*x0, 1-sc.AlphaBar[step]
		if math.Abs(mean-wm) > 4*math.Sqrt(wv/n) || math.Abs(v-wv) > 4*wv*math.Sqrt(2.0/n) {
			t.Errorf("t=%d: mean %v var %v, want %v %v", step, mean, v, wm, wv)
		}
	}
}

// The posterior q(x_{t−1} | x_t, x_0) against Bayes' rule on a grid:
// q(x_{t−1} | x_0) q(x_t | x_{t−1}), normalised by quadrature; its mean and
// variance agree with C0 x_0 + Ct x_t and β̃_t.
func TestSchedulePosteriorBayes(t *testing.T) {
	sc, _ := NewSchedule("cosine", 100)
	normal := func(x, m, v float64) float64 { return math.Exp(-(x-m)*(x-m)/(2*v)) / math.Sqrt(2*math.Pi*v) }
	for _, step := range []int{2, 5, 50, 100} {
		x0, xt := -0.4, 0.9
		mp, vp := sc.SqrtAB[step-1]*x0, 1-sc.AlphaBar[step-1]
		wm := sc.C0[step]*x0 + sc.Ct[step]*xt
		sd := math.Sqrt(sc.PostVar[step])
		var z, m1, m2 float64
		const n = 20001
		h := 16 * sd / (n - 1)
		for i := range n {
			y := wm - 8*sd + float64(i)*h
			w := normal(y, mp, vp) * normal(xt, math.Sqrt(sc.Alpha[step])*y, sc.Beta[step])
			z += w
			m1 += w * y
			m2 += w * y * y
		}
		mean := m1 / z
		v := m2/z - mean*mean
		if math.Abs(mean-wm) > 1e-6*(1+math.Abs(wm)) || math.Abs(v-sc.PostVar[step]) > 1e-5*sc.PostVar[step] {
			t.Errorf("t=%d: Bayes mean %v var %v, closed form %v %v", step, mean, v, wm, sc.PostVar[step])
		}
		// and the ε form of the mean
		eps := (xt - sc.SqrtAB[step]*x0) / sc.SqrtOneMinusAB[step]
		if got := sc.Mean0(step, xt, eps); math.Abs(got-wm) > 1e-12 {
			t.Errorf("t=%d: Mean0 %v, want %v", step, got, wm)
		}
	}
}

func TestScheduleBadInput(t *testing.T) {
	for _, c := range []struct {
		kind       string
		T          int
		start, end float64
		want       string
	}{
		{"linear", 1, 1e-4, 0.02, "T >= 2"},
		{"linear", 10, 0, 0.02, "outside (0, 1)"},
		{"linear", 10, 1e-4, 1, "outside (0, 1)"},
		{"quadratic", 10, 1e-4, 0.02, "unknown schedule"},
	} {
		_, err := NewScheduleRange(c.kind, c.T, c.start, c.end)
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c, err, c.want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// The linear schedule's end points are for T = 1000 and scale with 1000/T, so
// x_T is noise for any T; at T = 1000 it is Ho et al.'s schedule exactly.
func TestLinearScaled(t *testing.T) {
	a, _ := NewSchedule("linear", 1000)
	b, _ := NewScheduleRange("linear", 1000, 1e-4, 0.02)
	for i := range a.Beta {
		if math.Abs(a.Beta[i]-b.Beta[i]) > 1e-15 {
			t.Fatalf("β_%d = %v, Ho et al. %v", i, a.Beta[i], b.Beta[i])
		}
	}
	for _, T := range []int{10, 100, 250} {
		sc, err := NewSchedule("linear", T)
		if err != nil || sc.AlphaBar[T] > 1e-4 {
			t.Errorf("T = %d: ᾱ_T = %v, %v", T, sc.AlphaBar[T], err)
		}
	}
}
