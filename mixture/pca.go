package mixture

import (
	"fmt"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/latent-ml/latent/tensor"
)

// PCA is a linear projection onto the leading principal components,
//
//	z = Wᵀ (x - m),
//
// m the data mean and the columns of W (D×Dims) the eigenvectors of the sample
// covariance with the largest eigenvalues (signs fixed so that the largest
// absolute entry of each column is positive).
type PCA struct {
	D, Dims  int
	Mean     []float64 // len D
	W        []float64 // D×Dims row-major
	Variance []float64 // eigenvalues, len Dims, decreasing
}

// FitPCA computes the first dims principal components of the rows of x. The
// covariance is accumulated in float64 over fixed row chunks, each chunk's product
// taken with float32 tensor.Gemm on centred data.
func FitPCA(x *tensor.Mat, dims int) (*PCA, error) {
	n, d := x.Rows, x.Cols
	if dims < 1 || dims > d {
		return nil, fmt.Errorf("mixture: PCA dimensions must be in [1, %d], got %d", d, dims)
	}
	if n < 2 {
		return nil, fmt.Errorf("mixture: PCA needs at least 2 examples, got %d", n)
	}
	if err := checkData(x, 1); err != nil {
		return nil, err
	}
	mean := colMean(x)
	const chunk = 1024
	nc := (n + chunk - 1) / chunk
	part := make([]float64, nc*d*d)
	tensor.ParallelFor(n, chunk, func(lo, hi int) {
		xc := tensor.New(hi-lo, d)
		for i := lo; i < hi; i++ {
			r := xc.Row(i - lo)
			for j, v := range x.Row(i) {
				r[j] = float32(float64(v) - mean[j])
			}
		}
		c := tensor.New(d, d)
		tensor.Gemm(true, false, 1, xc, xc, 0, c) // (D, D) = Xcᵀ Xc
		p := part[(lo/chunk)*d*d : (lo/chunk+1)*d*d]
		for j, v := range c.Data {
			p[j] = float64(v)
		}
	})
	cov := make([]float64, d*d)
	for c := 0; c < nc; c++ {
		for j, v := range part[c*d*d : (c+1)*d*d] {
			cov[j] += v
		}
	}
	for i := 0; i < d; i++ { // symmetrise, divide by n-1
		for j := 0; j <= i; j++ {
			v := (cov[i*d+j] + cov[j*d+i]) / 2 / float64(n-1)
			cov[i*d+j], cov[j*d+i] = v, v
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(d, cov), true) {
		return nil, fmt.Errorf("mixture: PCA eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, d)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	p := &PCA{D: d, Dims: dims, Mean: mean, W: make([]float64, d*dims), Variance: make([]float64, dims)}
	for c := 0; c < dims; c++ {
		col := order[c]
		p.Variance[c] = vals[col]
		big, sign := 0.0, 1.0
		for i := 0; i < d; i++ {
			v := vecs.At(i, col)
			if a := max(v, -v); a > big {
				big = a
				sign = 1
				if v < 0 {
					sign = -1
				}
			}
		}
		for i := 0; i < d; i++ {
			p.W[i*dims+c] = sign * vecs.At(i, col)
		}
	}
	return p, nil
}

// Transform returns the projections z = Wᵀ(x - m) of the rows of x (n×Dims),
// computed in float64. It panics if x.Cols != D.
func (p *PCA) Transform(x *tensor.Mat) *tensor.Mat {
	if x.Cols != p.D {
		panic(fmt.Sprintf("mixture: PCA.Transform: %d columns, want %d", x.Cols, p.D))
	}
	out := tensor.New(x.Rows, p.Dims)
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		acc := make([]float64, p.Dims)
		for i := lo; i < hi; i++ {
			for c := range acc {
				acc[c] = 0
			}
			for j, v := range x.Row(i) {
				y := float64(v) - p.Mean[j]
				if y == 0 {
					continue
				}
				w := p.W[j*p.Dims : (j+1)*p.Dims]
				for c := range acc {
					acc[c] += y * w[c]
				}
			}
			r := out.Row(i)
			for c, v := range acc {
				r[c] = float32(v)
			}
		}
	})
	return out
}

// Inverse maps projections back to data space, x ≈ m + W z.
func (p *PCA) Inverse(z *tensor.Mat) *tensor.Mat {
	out := tensor.New(z.Rows, p.D)
	for i := 0; i < z.Rows; i++ {
		zr, r := z.Row(i), out.Row(i)
		for j := 0; j < p.D; j++ {
			v := p.Mean[j]
			for c, zc := range zr {
				v += p.W[j*p.Dims+c] * float64(zc)
			}
			r[j] = float32(v)
		}
	}
	return out
}
