package tensor

import "fmt"

// Mat is a dense float32 matrix in row-major order. Element (i, j) is
// Data[i*Stride+j]. A Mat may be a view onto another Mat's storage.
type Mat struct {
	Rows, Cols, Stride int
	Data               []float32
}

// New returns a zeroed rows×cols matrix.
func New(rows, cols int) *Mat {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("tensor: negative dimension %d×%d", rows, cols))
	}
	return &Mat{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
}

// FromSlice wraps data (not copied) as a rows×cols matrix.
// It panics if len(data) != rows*cols.
func FromSlice(rows, cols int, data []float32) *Mat {
	if len(data) != rows*cols {
		panic(fmt.Sprintf("tensor: FromSlice: len %d != %d×%d", len(data), rows, cols))
	}
	return &Mat{Rows: rows, Cols: cols, Stride: cols, Data: data}
}

// At returns element (i, j).
func (m *Mat) At(i, j int) float32 { return m.Data[i*m.Stride+j] }

// Set sets element (i, j) to v.
func (m *Mat) Set(i, j int, v float32) { m.Data[i*m.Stride+j] = v }

// Row returns row i as a slice sharing storage with m.
func (m *Mat) Row(i int) []float32 {
	o := i * m.Stride
	return m.Data[o : o+m.Cols : o+m.Cols]
}

// Slice returns a view of rows [i0, i1) sharing storage with m.
func (m *Mat) Slice(i0, i1 int) *Mat {
	if i0 < 0 || i1 > m.Rows || i0 > i1 {
		panic(fmt.Sprintf("tensor: Slice [%d,%d) of %d rows", i0, i1, m.Rows))
	}
	if i0 == i1 {
		return &Mat{Rows: 0, Cols: m.Cols, Stride: m.Stride}
	}
	end := (i1-1)*m.Stride + m.Cols
	return &Mat{Rows: i1 - i0, Cols: m.Cols, Stride: m.Stride, Data: m.Data[i0*m.Stride : end]}
}

// Contiguous reports whether the rows of m are stored back to back.
func (m *Mat) Contiguous() bool { return m.Stride == m.Cols || m.Rows <= 1 }

// Clone returns a contiguous copy of m.
func (m *Mat) Clone() *Mat {
	c := New(m.Rows, m.Cols)
	c.Copy(m)
	return c
}

// Copy copies src into m. It panics if the shapes differ.
func (m *Mat) Copy(src *Mat) {
	mustSameShape("Copy", m, src)
	for i := 0; i < m.Rows; i++ {
		copy(m.Row(i), src.Row(i))
	}
}

// Fill sets every element to v.
func (m *Mat) Fill(v float32) {
	for i := 0; i < m.Rows; i++ {
		r := m.Row(i)
		for j := range r {
			r[j] = v
		}
	}
}

// Zero sets every element to 0.
func (m *Mat) Zero() { m.Fill(0) }

// Reuse returns m reshaped to rows×cols if it has the capacity, else a new matrix.
// It is the allocation-free way for a training step to keep scratch buffers:
//
//	buf = tensor.Reuse(buf, batch, nHidden)
//
// The contents are unspecified.
func Reuse(m *Mat, rows, cols int) *Mat {
	if m != nil && cap(m.Data) >= rows*cols {
		m.Rows, m.Cols, m.Stride = rows, cols, cols
		m.Data = m.Data[:rows*cols]
		return m
	}
	return New(rows, cols)
}

func mustSameShape(op string, a, b *Mat) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("tensor: %s: shape %d×%d != %d×%d", op, a.Rows, a.Cols, b.Rows, b.Cols))
	}
}

// AddRowVec adds v to every row of m: m[i,j] += v[j]. It panics if len(v) != m.Cols.
func (m *Mat) AddRowVec(v []float32) {
	if len(v) != m.Cols {
		panic(fmt.Sprintf("tensor: AddRowVec: len %d != %d cols", len(v), m.Cols))
	}
	for i := 0; i < m.Rows; i++ {
		r := m.Row(i)
		for j := range r {
			r[j] += v[j]
		}
	}
}

// SumCols sets dst[j] = alpha*Σ_i m[i,j] + beta*dst[j] (column sums, e.g. bias gradients).
// The sum over rows accumulates in float64. It panics if len(dst) != m.Cols.
func (m *Mat) SumCols(dst []float32, alpha, beta float32) {
	if len(dst) != m.Cols {
		panic(fmt.Sprintf("tensor: SumCols: len %d != %d cols", len(dst), m.Cols))
	}
	acc := make([]float64, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, x := range m.Row(i) {
			acc[j] += float64(x)
		}
	}
	for j := range dst {
		dst[j] = alpha*float32(acc[j]) + beta*dst[j]
	}
}

// SumRows sets dst[i] = Σ_j m[i,j], accumulated in float64. It panics if len(dst) != m.Rows.
func (m *Mat) SumRows(dst []float64) {
	if len(dst) != m.Rows {
		panic(fmt.Sprintf("tensor: SumRows: len %d != %d rows", len(dst), m.Rows))
	}
	for i := 0; i < m.Rows; i++ {
		var s float64
		for _, x := range m.Row(i) {
			s += float64(x)
		}
		dst[i] = s
	}
}

// Scale multiplies every element by a.
func (m *Mat) Scale(a float32) {
	for i := 0; i < m.Rows; i++ {
		r := m.Row(i)
		for j := range r {
			r[j] *= a
		}
	}
}

// AddScaled sets m += a*x. It panics if the shapes differ.
func (m *Mat) AddScaled(a float32, x *Mat) {
	mustSameShape("AddScaled", m, x)
	for i := 0; i < m.Rows; i++ {
		r, xr := m.Row(i), x.Row(i)
		for j := range r {
			r[j] += a * xr[j]
		}
	}
}
