package nn

import "github.com/latent-ml/latent/tensor"

// colAccum adds to acc[k] the sum of column lo+k of rows [0, rows) of a matrix
// stored from data with the given row stride (in values), row after row in order,
// in float64: each column is the scalar chain acc[k] += float64(m[i, lo+k]) for
// i = 0, 1, …, whichever path runs (the AVX2 kernels run 32 or 8 columns side by
// side). The exception is a matrix of 1, 2 or 4 columns stored without gaps
// (stride = n): see colAccumNarrow. c1's bias gradient, 100,352 rows of 32 at batch 128, was half of its
// layer's weight-gradient time on Zen 5, which went from 2.39 to 1.21 ms.
func colAccum(acc []float64, data []float32, rows, stride, lo int) {
	n := len(acc)
	if rows == 0 || n == 0 {
		return
	}
	_ = data[(rows-1)*stride+lo+n-1] // the kernels read up to here
	if n < 8 && 8%n == 0 && stride == n {
		colAccumNarrow(acc, data[:rows*n])
		return
	}
	k := 0
	if colSumAsm {
		for ; k+32 <= n; k += 32 {
			if colSumAsm512 {
				colSum32x16(&acc[k], &data[lo+k], rows, 4*stride)
			} else {
				colSum32(&acc[k], &data[lo+k], rows, 4*stride)
			}
		}
		for ; k+8 <= n; k += 8 {
			colSum8(&acc[k], &data[lo+k], rows, 4*stride)
		}
	}
	if k == n {
		return
	}
	a := acc[k:n]
	for i := range rows {
		r := data[i*stride+lo+k : i*stride+lo+n]
		for c, v := range r {
			a[c] += float64(v)
		}
	}
}

// colAccumMat is colAccum over all rows of m.
func colAccumMat(acc []float64, m *tensor.Mat, lo int) {
	colAccum(acc, m.Data, m.Rows, m.Stride, lo)
}

// colAccumNarrow is colAccum for n = len(acc) of 1, 2 or 4 columns stored
// without gaps in data (len(data)/n rows). One chain per column would leave
// the vector kernels idle and take a scalar addition per value (the bias
// gradient of a layer with one output channel, 100,352 values at batch 128,
// cost as much as its weight gradient). The values are summed in eight float64
// lanes instead, lane j taking the values j, j + 8, j + 16, … in order (as
// eight columns of colAccum, then the tail), and acc[k] += lane j for j = k,
// k + n, … in order of j: the same bits on every path.
func colAccumNarrow(acc []float64, data []float32) {
	n := len(acc)
	var lanes [8]float64
	m := len(data) / 8
	colAccum(lanes[:], data, m, 8, 0)
	for i := m * 8; i < len(data); i++ {
		lanes[i%8] += float64(data[i])
	}
	for j, v := range lanes {
		acc[j%n] += v
	}
}
