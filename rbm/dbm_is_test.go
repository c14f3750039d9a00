package rbm

import (
	"math"
	"testing"
)

// bruteEven returns log p*(v, h_e) = log Σ_odd exp(−E) for every visible state
// v and every state h_e of the even hidden layers (bit i of h_e's index is
// unit i of the even hidden units in the bipartite order), by enumerating
// every joint state of the layer-wise energy.
func bruteEven(d *DBM) [][]float64 {
	nv, ne := d.NumVisible(), d.R.NumVisible()
	x := make([][]float64, len(d.Sizes))
	total := 0
	for l, n := range d.Sizes {
		x[l] = make([]float64, n)
		total += n
	}
	terms := make([][][]float64, 1<<nv)
	for v := range terms {
		terms[v] = make([][]float64, 1<<(ne-nv))
	}
	for s := 0; s < 1<<total; s++ {
		k := 0
		for l := range x {
			for j := range x[l] {
				x[l][j] = float64(s >> k & 1)
				k++
			}
		}
		h := 0
		for l := 2; l < len(d.Sizes); l += 2 {
			for j, b := range x[l] {
				h |= int(b) << (d.off[l] + j - nv)
			}
		}
		v := s & (1<<nv - 1)
		terms[v][h] = append(terms[v][h], layerEnergy(d, x))
	}
	out := make([][]float64, 1<<nv)
	for v := range terms {
		out[v] = make([]float64, len(terms[v]))
		for h, e := range terms[v] {
			out[v][h] = logSumExp(e)
		}
	}
	return out
}

// The importance-sampled log p(v) of a DBM against enumeration: with one draw
// its expectation (computed exactly over every state of h_2) lies between the
// mean-field bound and the exact log p(v), and the Monte Carlo mean of the
// estimates matches it; exp of the estimate is unbiased for p(v); with many
// draws it is the exact value; chunking the rows changes nothing.
func TestDBMImportanceLogProb(t *testing.T) {
	const floor = 0.01
	for _, sizes := range [][]int{{5, 4, 3}, {4, 3, 3, 2}} {
		d, lz, x, exact, mf := enumeratedDBM(t, sizes)
		bound := d.LowerBound(nil, mf, lz)
		joint := bruteEven(d)
		nv := d.NumVisible()
		// E[log p̂] with one draw, exactly: Σ_h q(h) (log p*(v, h) − log q(h)) − log Z.
		e1 := make([]float64, x.Rows)
		var gap float64
		for r := 0; r < x.Rows; r++ {
			v := stateIndex(x.Row(r))
			m := mf.Even.Row(r)[nv:]
			for h, lp := range joint[v] {
				lq := 0.0
				for j, mu := range m {
					q := min(max(float64(mu), floor), 1-floor)
					if h>>j&1 == 1 {
						lq += math.Log(q)
					} else {
						lq += math.Log1p(-q)
					}
				}
				e1[r] += math.Exp(lq) * (lp - lq)
			}
			e1[r] -= lz
			if bound[r] > e1[r]+1e-6 || e1[r] > exact[r]+1e-6 {
				t.Errorf("%v v=%v: mean-field bound %.6f, one-draw expectation %.6f, exact %.6f out of order",
					sizes, x.Row(r), bound[r], e1[r], exact[r])
			}
			gap += e1[r] - bound[r]
		}
		if gap < 0.01 {
			t.Errorf("%v: the one-draw expectation is not above the mean-field bound anywhere (%g): the check cannot fail", sizes, gap)
		}
		// Monte Carlo: the mean of one-draw estimates over many seeds, and of
		// their exponentials against the exact probability.
		const seeds = 3000
		sum, sum2 := make([]float64, x.Rows), make([]float64, x.Rows)
		rat, rat2 := make([]float64, x.Rows), make([]float64, x.Rows)
		for s := uint64(1); s <= seeds; s++ {
			res := d.ImportanceLogProb(mf, 0, 1, floor, s, lz)
			for r, l := range res.LogProb {
				if res.ESS[r] != 1 {
					t.Fatalf("one draw: ESS %g", res.ESS[r])
				}
				sum[r] += l
				sum2[r] += l * l
				w := math.Exp(l - exact[r])
				rat[r] += w
				rat2[r] += w * w
			}
		}
		for r := range sum {
			m, se := meanSE(sum[r], sum2[r], seeds)
			if math.Abs(m-e1[r]) > 5*se+1e-9 {
				t.Errorf("%v v=%v: one-draw mean %.5f ± %.5f, exact expectation %.5f", sizes, x.Row(r), m, se, e1[r])
			}
			m, se = meanSE(rat[r], rat2[r], seeds)
			if math.Abs(m-1) > 5*se+1e-9 {
				t.Errorf("%v v=%v: E[p̂/p] = %.4f ± %.4f, want 1", sizes, x.Row(r), m, se)
			}
		}
		// Many draws: the exact value.
		res := d.ImportanceLogProb(mf, 0, 20000, floor, 7, lz)
		for r, l := range res.LogProb {
			if math.Abs(l-exact[r]) > 0.02 {
				t.Errorf("%v v=%v: 20,000 draws give %.5f, exact %.5f", sizes, x.Row(r), l, exact[r])
			}
			if res.ESS[r] < 1 || res.ESS[r] > 20000 {
				t.Errorf("ESS %g", res.ESS[r])
			}
		}
		// Chunks of rows, each told where it starts, give the same bits.
		h := x.Rows / 2
		a := d.ImportanceLogProb(&MeanField{Even: mf.Even.Slice(0, h)}, 0, 5, floor, 9, lz)
		b := d.ImportanceLogProb(&MeanField{Even: mf.Even.Slice(h, x.Rows)}, h, 5, floor, 9, lz)
		whole := d.ImportanceLogProb(mf, 0, 5, floor, 9, lz)
		for r, l := range append(a.LogProb, b.LogProb...) {
			if l != whole.LogProb[r] {
				t.Fatalf("%v: row %d chunked %v, whole %v", sizes, r, l, whole.LogProb[r])
			}
		}
	}
}

func meanSE(s, s2 float64, n int) (mean, se float64) {
	mean = s / float64(n)
	v := (s2/float64(n) - mean*mean) * float64(n) / float64(n-1)
	return mean, math.Sqrt(max(v, 0) / float64(n))
}
