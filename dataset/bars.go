package dataset

import (
	"fmt"
	"strconv"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// BarsAndStripes returns every distinct n×n bars-and-stripes pattern, one per
// row: the 2^n patterns whose columns are each all on or all off (bars), then
// the 2^n - 2 patterns whose rows are each all on or all off (stripes) other
// than all-off and all-on, which are already among the bars. That is
//
//	2^(n+1) - 2 distinct patterns
//
// (the "2^(n+1) patterns" of the usual description count all-off and all-on
// twice). Labels: 0 for bars, 1 for stripes (all-off and all-on are bars).
// It panics unless 1 <= n <= 12.
func BarsAndStripes(n int) *Dataset {
	if n < 1 || n > 12 {
		panic(fmt.Sprintf("dataset: BarsAndStripes: n=%d out of [1, 12]", n))
	}
	k := 1<<(n+1) - 2
	if n == 1 {
		k = 2 // 1×1: off and on
	}
	x := tensor.New(k, n*n)
	labels := make([]int, k)
	row := 0
	for b := 0; b < 1<<n; b++ { // bars: column j on when bit j of b is set
		r := x.Row(row)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				r[i*n+j] = float32(b >> j & 1)
			}
		}
		row++
	}
	for b := 1; b < 1<<n-1 && n > 1; b++ { // stripes: row i on when bit i of b is set
		r := x.Row(row)
		labels[row] = 1
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				r[i*n+j] = float32(b >> i & 1)
			}
		}
		row++
	}
	return &Dataset{X: x, Labels: labels, NumClasses: 2, Height: n, Width: n, Channels: 1, Binary: true}
}

// loadBars handles "bars:N" (all distinct patterns) and "bars:N,n=M[,seed=S]"
// (M patterns drawn uniformly, with replacement, from the distinct ones).
func loadBars(sp *Spec, opt Options) (*Dataset, error) {
	if err := sp.checkOpts("n", "seed"); err != nil {
		return nil, err
	}
	size := 4
	if sp.Arg != "" {
		v, err := strconv.Atoi(sp.Arg)
		if err != nil || v < 1 || v > 12 {
			return nil, fmt.Errorf("dataset: bars:%s: want a pattern size in 1..12 (e.g. bars:4)", sp.Arg)
		}
		size = v
	}
	all := BarsAndStripes(size)
	if _, ok := sp.Opts["n"]; !ok {
		return all, nil
	}
	m, err := sp.intOpt("n", 0, 1, 1<<26/(size*size))
	if err != nil {
		return nil, err
	}
	seed, err := sp.seed(opt)
	if err != nil {
		return nil, err
	}
	s := rng.New(seed)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = s.IntN(all.Len())
	}
	d := *all
	d.X = all.Gather(nil, idx)
	d.Labels = make([]int, m)
	for i, k := range idx {
		d.Labels[i] = all.Labels[k]
	}
	return &d, nil
}
