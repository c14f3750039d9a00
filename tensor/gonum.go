package tensor

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// ToDense copies m into a gonum float64 matrix and returns it. If dst is nil a new
// *mat.Dense is allocated; otherwise dst must be empty (then it is resized) or have
// m's shape. Every float32 is exactly representable in float64, so
// FromDense(nil, ToDense(nil, m)) reproduces m bit for bit.
// It panics if m has a zero dimension (gonum has no empty Dense) or if dst's shape
// differs.
func ToDense(dst *mat.Dense, m *Mat) *mat.Dense {
	if m.Rows == 0 || m.Cols == 0 {
		panic(fmt.Sprintf("tensor: ToDense: empty matrix %d×%d", m.Rows, m.Cols))
	}
	if dst == nil {
		dst = mat.NewDense(m.Rows, m.Cols, nil)
	} else if dst.IsEmpty() {
		dst.ReuseAs(m.Rows, m.Cols)
	} else if r, c := dst.Dims(); r != m.Rows || c != m.Cols {
		panic(fmt.Sprintf("tensor: ToDense: dst %d×%d, src %d×%d", r, c, m.Rows, m.Cols))
	}
	raw := dst.RawMatrix()
	for i := 0; i < m.Rows; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+m.Cols]
		for j, v := range m.Row(i) {
			row[j] = float64(v)
		}
	}
	return dst
}

// FromDense copies a gonum matrix into dst, rounding each element to the nearest
// float32, and returns dst. If dst is nil a new Mat is allocated; otherwise it must
// have d's shape. Any mat.Matrix is accepted; *mat.Dense (and its transpose views)
// are read directly from their storage. It panics if the shapes differ.
func FromDense(dst *Mat, d mat.Matrix) *Mat {
	r, c := d.Dims()
	if dst == nil {
		dst = New(r, c)
	} else if dst.Rows != r || dst.Cols != c {
		panic(fmt.Sprintf("tensor: FromDense: dst %d×%d, src %d×%d", dst.Rows, dst.Cols, r, c))
	}
	switch s := d.(type) {
	case mat.RawMatrixer:
		raw := s.RawMatrix()
		for i := 0; i < r; i++ {
			src := raw.Data[i*raw.Stride : i*raw.Stride+c]
			for j, v := range src {
				dst.Data[i*dst.Stride+j] = float32(v)
			}
		}
	case mat.Transpose:
		if rm, ok := s.Matrix.(mat.RawMatrixer); ok {
			raw := rm.RawMatrix() // c×r, element (j, i) is ours (i, j)
			for j := 0; j < c; j++ {
				src := raw.Data[j*raw.Stride : j*raw.Stride+r]
				for i, v := range src {
					dst.Data[i*dst.Stride+j] = float32(v)
				}
			}
			break
		}
		fromMatrixAt(dst, d)
	default:
		fromMatrixAt(dst, d)
	}
	return dst
}

func fromMatrixAt(dst *Mat, d mat.Matrix) {
	for i := 0; i < dst.Rows; i++ {
		row := dst.Row(i)
		for j := range row {
			row[j] = float32(d.At(i, j))
		}
	}
}
