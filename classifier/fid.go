package classifier

import (
	"context"
	"fmt"
	"math"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
	"gonum.org/v1/gonum/mat"
)

// FrechetDistance returns the Fréchet distance between Gaussians fitted to the
// rows of a and of b (Heusel et al. 2017, eq. 6; Dowson & Landau 1982):
//
//	d² = |μ_a − μ_b|² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})
//
// with the trace of the square root computed as Tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2}),
// a symmetric positive semi-definite matrix, by eigendecompositions in float64.
// Covariances use n − 1. It returns an error when a or b has fewer than two
// rows or their widths differ.
func FrechetDistance(a, b *tensor.Mat) (float64, error) {
	if a.Cols != b.Cols {
		return 0, fmt.Errorf("classifier: Fréchet distance of %d- and %d-dimensional features", a.Cols, b.Cols)
	}
	if a.Rows < 2 || b.Rows < 2 {
		return 0, fmt.Errorf("classifier: Fréchet distance needs at least 2 examples on each side, got %d and %d", a.Rows, b.Rows)
	}
	ma, ca := meanCov(a)
	mb, cb := meanCov(b)
	var d2 float64
	for j := range ma {
		d := ma[j] - mb[j]
		d2 += d * d
	}
	sa, err := sqrtSym(ca)
	if err != nil {
		return 0, err
	}
	var p mat.Dense
	p.Mul(sa, cb)
	p.Mul(&p, sa)
	n := a.Cols
	ps := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			ps.SetSym(i, j, 0.5*(p.At(i, j)+p.At(j, i)))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(ps, false) {
		return 0, fmt.Errorf("classifier: eigendecomposition failed")
	}
	var trSqrt float64
	for _, v := range eig.Values(nil) {
		trSqrt += math.Sqrt(math.Max(v, 0))
	}
	return d2 + mat.Trace(ca) + mat.Trace(cb) - 2*trSqrt, nil
}

// meanCov returns the column means and the covariance (n − 1) of the rows of x.
func meanCov(x *tensor.Mat) ([]float64, *mat.SymDense) {
	n, d := x.Rows, x.Cols
	mu := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x.Row(i) {
			mu[j] += float64(v)
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	c := mat.NewDense(n, d, nil)
	for i := 0; i < n; i++ {
		for j, v := range x.Row(i) {
			c.Set(i, j, float64(v)-mu[j])
		}
	}
	cov := mat.NewSymDense(d, nil)
	cov.SymOuterK(1/float64(n-1), c.T())
	return mu, cov
}

// sqrtSym returns the symmetric square root of a positive semi-definite matrix
// (negative eigenvalues from rounding are taken as 0).
func sqrtSym(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("classifier: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	n := len(vals)
	d := mat.NewDiagDense(n, nil)
	for i, x := range vals {
		d.SetDiag(i, math.Sqrt(math.Max(x, 0)))
	}
	var r mat.Dense
	r.Mul(&v, d)
	r.Mul(&r, v.T())
	return &r, nil
}

// Histogram returns the fraction of predictions in each of k classes and the
// largest absolute deviation from the uniform 1/k.
func Histogram(pred []int, k int) (frac []float64, maxDev float64) {
	frac = make([]float64, k)
	for _, p := range pred {
		if p >= 0 && p < k {
			frac[p]++
		}
	}
	for i := range frac {
		frac[i] /= float64(max(len(pred), 1))
		maxDev = math.Max(maxDev, math.Abs(frac[i]-1/float64(k)))
	}
	return frac, maxDev
}

// LoadFile reads a classifier model file.
func LoadFile(path string) (*Model, error) {
	f, err := checkpoint.LoadKind(path, Kind)
	if err != nil {
		return nil, err
	}
	cls, err := Load(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cls, nil
}

// SampleQuality draws n samples from m (with seed) and scores them in the
// classifier's features: "fid", the Fréchet distance between the features of the
// samples and of the first n rows of ref; "fid_n", the n used (at most ref's rows);
// "class_fractions", the fraction of samples in each predicted class;
// "class_max_deviation", its largest deviation from uniform; and for a
// conditional model (samples drawn with labels, cycling through the classes)
// "label_agreement", the fraction the classifier assigns to their own label.
func (c *Model) SampleQuality(ctx context.Context, m model.Model, ref *tensor.Mat, n int, seed uint64) ([]model.Metric, error) {
	if c.Dim() != m.Dim() {
		return nil, fmt.Errorf("the classifier takes rows of %d values, the model makes %d", c.Dim(), m.Dim())
	}
	sm, ok := m.(model.Sampler)
	if !ok {
		return nil, fmt.Errorf("a %s model cannot draw samples", m.Kind())
	}
	if n = min(n, ref.Rows); n < 2 {
		return nil, fmt.Errorf("need at least 2 examples, got %d", n)
	}
	samples, err := sm.Sample(ctx, model.SampleOptions{N: n, Seed: seed + 7, Label: -1})
	if err != nil {
		return nil, err
	}
	return c.quality(ctx, samples.X, samples.Labels, ref)
}

// LabelAgreement returns the fraction of i with pred[i] == labels[i]: for the
// samples of a conditional model, how often the classifier sees the class each
// sample was drawn for.
func LabelAgreement(pred, labels []int) float64 {
	n := min(len(pred), len(labels))
	if n == 0 {
		return 0
	}
	same := 0
	for i := range n {
		if pred[i] == labels[i] {
			same++
		}
	}
	return float64(same) / float64(n)
}

// Quality scores the rows of samples (from any source: a model's, another
// program's) in the classifier's features: "fid", the Fréchet distance between
// the features of the samples and of the first rows of ref, as many as there
// are samples (or all of ref when it has fewer); "fid_n", that number;
// "class_fractions" and "class_max_deviation" as in SampleQuality.
func (c *Model) Quality(ctx context.Context, samples, ref *tensor.Mat) ([]model.Metric, error) {
	return c.quality(ctx, samples, nil, ref)
}

// quality is Quality, with "label_agreement" (LabelAgreement) added when the
// samples come with the labels they were drawn for (a conditional model's).
func (c *Model) quality(ctx context.Context, samples *tensor.Mat, labels []int, ref *tensor.Mat) ([]model.Metric, error) {
	if samples.Cols != c.Dim() || ref.Cols != c.Dim() {
		return nil, fmt.Errorf("the classifier takes rows of %d values, got samples of %d and data of %d", c.Dim(), samples.Cols, ref.Cols)
	}
	n := min(samples.Rows, ref.Rows)
	if n < 2 {
		return nil, fmt.Errorf("need at least 2 examples, got %d", n)
	}
	fs, err := c.Features(ctx, samples.Slice(0, n))
	if err != nil {
		return nil, err
	}
	fr, err := c.Features(ctx, ref.Slice(0, n))
	if err != nil {
		return nil, err
	}
	fid, err := FrechetDistance(fs, fr)
	if err != nil {
		return nil, err
	}
	pred, err := c.Predict(ctx, samples.Slice(0, n))
	if err != nil {
		return nil, err
	}
	frac, dev := Histogram(pred, c.Classes)
	q := []model.Metric{{Name: "fid", Value: fid}, {Name: "fid_n", Value: n},
		{Name: "class_fractions", Value: frac}, {Name: "class_max_deviation", Value: dev}}
	if labels != nil {
		q = append(q, model.Metric{Name: "label_agreement", Value: LabelAgreement(pred, labels[:n])})
	}
	return q, nil
}
