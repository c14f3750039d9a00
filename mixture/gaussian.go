package mixture

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// CovarianceType selects how a GaussianMixture parameterises its covariances.
type CovarianceType int

const (
	Full      CovarianceType = iota // one d×d covariance per component
	Diag                            // one diagonal covariance per component
	Spherical                       // one variance per component, σ_k² I
	Tied                            // one d×d covariance shared by all components
)

var covNames = [...]string{"full", "diag", "spherical", "tied"}

func (c CovarianceType) String() string {
	if c >= 0 && int(c) < len(covNames) {
		return covNames[c]
	}
	return fmt.Sprintf("CovarianceType(%d)", int(c))
}

// ParseCovariance parses "full", "diag", "spherical" or "tied".
func ParseCovariance(s string) (CovarianceType, error) {
	for i, n := range covNames {
		if s == n {
			return CovarianceType(i), nil
		}
	}
	return 0, fmt.Errorf("mixture: covariance type must be full, diag, spherical or tied, got %q", s)
}

// covLen returns the number of float64 values in Covariances for k components in d
// dimensions.
func (c CovarianceType) covLen(k, d int) int {
	switch c {
	case Full:
		return k * d * d
	case Diag:
		return k * d
	case Spherical:
		return k
	case Tied:
		return d * d
	}
	panic("mixture: bad covariance type")
}

// covShape returns the shape of Covariances: K×D×D (full), K×D (diag), K
// (spherical) or D×D (tied).
func (c CovarianceType) covShape(k, d int) []int {
	switch c {
	case Full:
		return []int{k, d, d}
	case Diag:
		return []int{k, d}
	case Spherical:
		return []int{k}
	case Tied:
		return []int{d, d}
	}
	panic("mixture: bad covariance type")
}

// DefaultRegCovar is scikit-learn's default reg_covar.
const DefaultRegCovar = 1e-6

// GaussianConfig holds the settings of FitGaussian.
type GaussianConfig struct {
	Components int            // K >= 1
	Covariance CovarianceType // Full (the zero value), Diag, Spherical or Tied
	// RegCovar is added to the diagonal of every covariance estimate, as
	// scikit-learn's reg_covar. Zero means none (singular data then fail);
	// DefaultRegCovar is the usual choice.
	RegCovar float64
	EM       EMConfig // MaxIter (default 100), Tol (default 1e-3)
	NInit    int      // restarts, keeping the lowest free energy; default 1
	// InitIters is the number of Lloyd (k-means) iterations run after k-means++
	// seeding; the resulting hard assignment gives the initial parameters. 0 means
	// 10, <0 means seeding only.
	InitIters int
	Seed      uint64
	// Init, when non-nil, gives the initial parameters (Weights, Means, Covariances
	// of a model with the same K, d and covariance type) instead of k-means++.
	Init *GaussianMixture
	// FastMath runs the O(n·d²·K) products through float32 tensor.Gemm (see the
	// package documentation).
	FastMath bool
}

// GaussianMixture is a mixture of K Gaussians in d dimensions,
//
//	p(x) = Σ_k π_k N(x | μ_k, Σ_k).
type GaussianMixture struct {
	K, D       int
	Covariance CovarianceType
	Weights    []float64 // π, len K
	Means      []float64 // μ, K×D row-major
	// Covariances: Full K×D×D, Diag K×D (variances), Spherical K (variances),
	// Tied D×D.
	Covariances []float64
	RegCovar    float64 // used by MStep
	FastMath    bool

	// derived from Covariances by prepare: for Full and Tied the inverse Cholesky
	// factors L⁻¹ (lower, Σ = L Lᵀ); for Diag and Spherical 1/σ.
	linv   []float64
	logDet []float64 // per component: log det L⁻¹ = -½ log|Σ_k|
}

// NewGaussianMixture returns a mixture with the given parameters (copied). It
// returns an error if a covariance is not positive definite or a weight is not
// positive.
func NewGaussianMixture(cov CovarianceType, weights, means, covariances []float64) (*GaussianMixture, error) {
	k := len(weights)
	if k == 0 || len(means)%k != 0 {
		return nil, fmt.Errorf("mixture: %d weights and %d mean values do not fit K×D", k, len(means))
	}
	d := len(means) / k
	if cov < Full || cov > Tied {
		return nil, fmt.Errorf("mixture: bad covariance type %d", int(cov))
	}
	if len(covariances) != cov.covLen(k, d) {
		return nil, fmt.Errorf("mixture: %s covariances for K=%d, D=%d need %d values, got %d", cov, k, d, cov.covLen(k, d), len(covariances))
	}
	var sw float64
	for i, w := range weights {
		if !(w > 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("mixture: weight %d = %v, must be positive", i, w)
		}
		sw += w
	}
	if math.Abs(sw-1) > 1e-6 {
		return nil, fmt.Errorf("mixture: weights sum to %v, want 1", sw)
	}
	g := &GaussianMixture{K: k, D: d, Covariance: cov,
		Weights: append([]float64(nil), weights...), Means: append([]float64(nil), means...),
		Covariances: append([]float64(nil), covariances...)}
	for _, v := range g.Means {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("mixture: means contain %v", v)
		}
	}
	if err := g.prepare(); err != nil {
		return nil, err
	}
	return g, nil
}

// prepare computes the Cholesky-based precision factors from Covariances.
func (g *GaussianMixture) prepare() error {
	k, d := g.K, g.D
	g.logDet = resize(g.logDet, k)
	switch g.Covariance {
	case Full, Tied:
		nm := k
		if g.Covariance == Tied {
			nm = 1
		}
		g.linv = resize(g.linv, nm*d*d)
		l := make([]float64, d*d)
		for c := 0; c < nm; c++ {
			copy(l, g.Covariances[c*d*d:(c+1)*d*d])
			if !cholesky(l, d) {
				if g.Covariance == Tied {
					return errNotPD(Tied, -1, g.RegCovar)
				}
				return errNotPD(Full, c, g.RegCovar)
			}
			li := g.linv[c*d*d : (c+1)*d*d]
			lowerInverse(li, l, d)
			var ld float64
			for j := 0; j < d; j++ {
				ld += math.Log(li[j*d+j])
			}
			g.logDet[c] = ld
		}
		if g.Covariance == Tied {
			for c := 1; c < k; c++ {
				g.logDet[c] = g.logDet[0]
			}
		}
	case Diag:
		g.linv = resize(g.linv, k*d)
		for c := 0; c < k; c++ {
			var ld float64
			for j := 0; j < d; j++ {
				v := g.Covariances[c*d+j]
				if !(v > 0) || math.IsInf(v, 0) {
					return errNotPD(Diag, c, g.RegCovar)
				}
				g.linv[c*d+j] = 1 / math.Sqrt(v)
				ld -= 0.5 * math.Log(v)
			}
			g.logDet[c] = ld
		}
	case Spherical:
		g.linv = resize(g.linv, k)
		for c := 0; c < k; c++ {
			v := g.Covariances[c]
			if !(v > 0) || math.IsInf(v, 0) {
				return errNotPD(Spherical, c, g.RegCovar)
			}
			g.linv[c] = 1 / math.Sqrt(v)
			g.logDet[c] = -0.5 * float64(d) * math.Log(v)
		}
	}
	return nil
}

func resize(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// NumComponents returns K.
func (g *GaussianMixture) NumComponents() int { return g.K }

// LogPrior returns 0: the Gaussian mixture is fitted by maximum likelihood.
func (g *GaussianMixture) LogPrior() float64 { return 0 }

// LogJoint sets dst[n*K+k] = log π_k + log N(x_n | μ_k, Σ_k), with
//
//	log N(x | μ, Σ) = -d/2 log 2π + log det L⁻¹ - ½ ‖L⁻¹(x - μ)‖²,  Σ = L Lᵀ.
//
// It panics if x.Cols != D or len(dst) != x.Rows*K.
func (g *GaussianMixture) LogJoint(dst []float64, x *tensor.Mat) {
	if x.Cols != g.D || len(dst) != x.Rows*g.K {
		panic(fmt.Sprintf("mixture: LogJoint: x %d×%d, dst %d for K=%d D=%d", x.Rows, x.Cols, len(dst), g.K, g.D))
	}
	k, d := g.K, g.D
	c0 := -0.5 * float64(d) * math.Log(2*math.Pi)
	logw := make([]float64, k)
	for c := range logw {
		logw[c] = math.Log(g.Weights[c]) + g.logDet[c] + c0
	}
	if g.Covariance == Full || g.Covariance == Tied {
		g.logJointGemm(dst, x, logw)
		return
	}
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		diff := make([]float64, d)
		for i := lo; i < hi; i++ {
			xr := x.Row(i)
			out := dst[i*k : (i+1)*k]
			for c := 0; c < k; c++ {
				mu := g.Means[c*d : (c+1)*d]
				var q float64
				switch g.Covariance {
				case Full, Tied:
					for j := range diff {
						diff[j] = float64(xr[j]) - mu[j]
					}
					li := g.linv
					if g.Covariance == Full {
						li = g.linv[c*d*d : (c+1)*d*d]
					}
					for j := 0; j < d; j++ {
						row := li[j*d : j*d+j+1]
						var y float64
						for p, v := range row {
							y += v * diff[p]
						}
						q += y * y
					}
				case Diag:
					is := g.linv[c*d : (c+1)*d]
					for j := range mu {
						y := (float64(xr[j]) - mu[j]) * is[j]
						q += y * y
					}
				case Spherical:
					for j := range mu {
						y := float64(xr[j]) - mu[j]
						q += y * y
					}
					q *= g.linv[c] * g.linv[c]
				}
				out[c] = logw[c] - 0.5*q
			}
		}
	})
}

// logJointGemm is LogJoint for Full and Tied: with s the column mean of x, the
// products Z = (x - s) L⁻ᵀ for all components at once are one GEMM per row chunk
// (tensor.Gemm64, or float32 tensor.Gemm with FastMath), and
// L⁻¹(x - μ) = Z - L⁻¹(μ - s) in float64.
func (g *GaussianMixture) logJointGemm(dst []float64, x *tensor.Mat, logw []float64) {
	k, d := g.K, g.D
	shift := colMean(x)
	nm := k
	if g.Covariance == Tied {
		nm = 1
	}
	// W (d × nm·d): W[i, c·d+j] = L⁻¹_c[j, i]; b[c·d+j] = (L⁻¹_c (μ_c - s))_j.
	w := make([]float64, d*nm*d)
	for c := 0; c < nm; c++ {
		li := g.linv[c*d*d : (c+1)*d*d]
		for j := 0; j < d; j++ {
			for i := 0; i <= j; i++ {
				w[i*nm*d+c*d+j] = li[j*d+i]
			}
		}
	}
	var w32 *tensor.Mat
	if g.FastMath {
		w32 = tensor.New(d, nm*d)
		for i, v := range w {
			w32.Data[i] = float32(v)
		}
	}
	b := make([]float64, k*d)
	for c := 0; c < k; c++ {
		li := g.linv
		if g.Covariance == Full {
			li = g.linv[c*d*d : (c+1)*d*d]
		}
		mu := g.Means[c*d : (c+1)*d]
		for j := 0; j < d; j++ {
			var s float64
			for i := 0; i <= j; i++ {
				s += li[j*d+i] * (mu[i] - shift[i])
			}
			b[c*d+j] = s
		}
	}
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		m := hi - lo
		xs := getF64(m * d)
		z := getF64(m * nm * d)
		for i := 0; i < m; i++ {
			xr, dr := x.Row(lo+i), xs[i*d:(i+1)*d]
			for j := range dr {
				dr[j] = float64(xr[j]) - shift[j]
			}
		}
		if g.FastMath {
			xb, zb := getF32(m*d), getF32(m*nm*d)
			for i, v := range xs {
				xb[i] = float32(v)
			}
			zm := tensor.FromSlice(m, nm*d, zb)
			gemm32(false, false, tensor.FromSlice(m, d, xb), w32, zm)
			for i, v := range zb {
				z[i] = float64(v)
			}
			putF32(xb)
			putF32(zb)
		} else {
			tensor.Gemm64(false, false, m, nm*d, d, 1, xs, d, w, nm*d, 0, z, nm*d)
		}
		for i := 0; i < m; i++ {
			zr := z[i*nm*d : (i+1)*nm*d]
			out := dst[(lo+i)*k : (lo+i+1)*k]
			for c := 0; c < k; c++ {
				zc := zr[:d]
				if g.Covariance == Full {
					zc = zr[c*d : (c+1)*d]
				}
				bc := b[c*d : (c+1)*d]
				var q float64
				for j, v := range zc {
					y := v - bc[j]
					q += y * y
				}
				out[c] = logw[c] - 0.5*q
			}
		}
		putF64(xs)
		putF64(z)
	})
}

func colMean(x *tensor.Mat) []float64 {
	d := x.Cols
	nc := (x.Rows + rowChunk - 1) / rowChunk
	part := make([]float64, nc*d)
	tensor.ParallelFor(x.Rows, rowChunk, func(lo, hi int) {
		p := part[(lo/rowChunk)*d : (lo/rowChunk+1)*d]
		for i := lo; i < hi; i++ {
			for j, v := range x.Row(i) {
				p[j] += float64(v)
			}
		}
	})
	s := make([]float64, d)
	for c := 0; c < nc; c++ {
		for j := range s {
			s[j] += part[c*d+j]
		}
	}
	for j := range s {
		s[j] /= float64(x.Rows)
	}
	return s
}

// MStep sets, with N_k = Σ_n r_nk + 10ε (as scikit-learn, to avoid dividing by
// zero),
//
//	π_k = N_k / Σ_j N_j,   μ_k = Σ_n r_nk x_n / N_k,
//	Σ_k = Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ / N_k + reg·I          (full)
//	Σ   = Σ_k Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ / Σ_k N_k + reg·I  (tied)
//
// and the diagonal of the full form (diag), or its mean over dimensions
// (spherical). It returns an error if a covariance is not positive definite.
func (g *GaussianMixture) MStep(x *tensor.Mat, resp []float64) error {
	k, d, n := g.K, g.D, x.Rows
	nc := (n + rowChunk - 1) / rowChunk
	// Pass 1: N_k and Σ r x, per chunk, added in chunk order.
	part := make([]float64, nc*k*(d+1))
	tensor.ParallelFor(n, rowChunk, func(lo, hi int) {
		p := part[(lo/rowChunk)*k*(d+1) : (lo/rowChunk+1)*k*(d+1)]
		for i := lo; i < hi; i++ {
			xr := x.Row(i)
			for c := 0; c < k; c++ {
				r := resp[i*k+c]
				if r == 0 {
					continue
				}
				pc := p[c*(d+1) : (c+1)*(d+1)]
				pc[d] += r
				for j, v := range xr {
					pc[j] += r * float64(v)
				}
			}
		}
	})
	sum := make([]float64, k*(d+1))
	for c := 0; c < nc; c++ {
		for j, v := range part[c*k*(d+1) : (c+1)*k*(d+1)] {
			sum[j] += v
		}
	}
	nk := make([]float64, k)
	var ntot float64
	for c := 0; c < k; c++ {
		nk[c] = sum[c*(d+1)+d] + 10*epsilon
		ntot += nk[c]
	}
	for c := 0; c < k; c++ {
		g.Weights[c] = nk[c] / ntot
		for j := 0; j < d; j++ {
			g.Means[c*d+j] = sum[c*(d+1)+j] / nk[c]
		}
	}
	// Pass 2: centred second moments.
	switch g.Covariance {
	case Full, Tied:
		s := g.scatter(x, resp)
		cov := g.Covariances
		if g.Covariance == Full {
			for c := 0; c < k; c++ {
				sc := s[c*d*d : (c+1)*d*d]
				cc := cov[c*d*d : (c+1)*d*d]
				for i := 0; i < d; i++ {
					for j := 0; j <= i; j++ {
						v := sc[i*d+j] / nk[c]
						cc[i*d+j], cc[j*d+i] = v, v
					}
					cc[i*d+i] += g.RegCovar
				}
			}
		} else {
			for i := 0; i < d; i++ {
				for j := 0; j <= i; j++ {
					var v float64
					for c := 0; c < k; c++ {
						v += s[c*d*d+i*d+j]
					}
					v /= ntot
					cov[i*d+j], cov[j*d+i] = v, v
				}
				cov[i*d+i] += g.RegCovar
			}
		}
	case Diag, Spherical:
		part := make([]float64, nc*k*d)
		tensor.ParallelFor(n, rowChunk, func(lo, hi int) {
			p := part[(lo/rowChunk)*k*d : (lo/rowChunk+1)*k*d]
			for i := lo; i < hi; i++ {
				xr := x.Row(i)
				for c := 0; c < k; c++ {
					r := resp[i*k+c]
					if r == 0 {
						continue
					}
					mu := g.Means[c*d : (c+1)*d]
					pc := p[c*d : (c+1)*d]
					for j, v := range xr {
						y := float64(v) - mu[j]
						pc[j] += r * y * y
					}
				}
			}
		})
		v := make([]float64, k*d)
		for c := 0; c < nc; c++ {
			for j, u := range part[c*k*d : (c+1)*k*d] {
				v[j] += u
			}
		}
		for c := 0; c < k; c++ {
			var mean float64
			for j := 0; j < d; j++ {
				vv := v[c*d+j]/nk[c] + g.RegCovar
				if g.Covariance == Diag {
					g.Covariances[c*d+j] = vv
				}
				mean += vv
			}
			if g.Covariance == Spherical {
				g.Covariances[c] = mean / float64(d)
			}
		}
	}
	return g.prepare()
}

const epsilon = 2.220446049250313e-16 // float64 machine epsilon, numpy's finfo.eps

// scatter returns S_k = Σ_n r_nk (x_n - μ_k)(x_n - μ_k)ᵀ for every component
// (K×D×D; only the lower triangle is guaranteed).
func (g *GaussianMixture) scatter(x *tensor.Mat, resp []float64) []float64 {
	k, d, n := g.K, g.D, x.Rows
	nc := (n + rowChunk - 1) / rowChunk
	part := make([]float64, nc*k*d*d)
	tensor.ParallelFor(n, rowChunk, func(lo, hi int) {
		p := part[(lo/rowChunk)*k*d*d : (lo/rowChunk+1)*k*d*d]
		// Per component: D = √r ⊙ (x - μ_k) (m×d), S_k += DᵀD (one GEMM).
		m := hi - lo
		dm := getF64(m * d)
		cm := getF64(d * d)
		var db, cb []float32
		if g.FastMath {
			db, cb = getF32(m*d), getF32(d*d)
		}
		for c := 0; c < k; c++ {
			mu := g.Means[c*d : (c+1)*d]
			for i := 0; i < m; i++ {
				sr := math.Sqrt(resp[(lo+i)*k+c])
				xr, dr := x.Row(lo+i), dm[i*d:(i+1)*d]
				for j := range dr {
					dr[j] = sr * (float64(xr[j]) - mu[j])
				}
			}
			pc := p[c*d*d : (c+1)*d*d]
			if g.FastMath {
				for i, v := range dm {
					db[i] = float32(v)
				}
				dmm := tensor.FromSlice(m, d, db)
				gemm32(true, false, dmm, dmm, tensor.FromSlice(d, d, cb))
				for j, v := range cb {
					pc[j] = float64(v)
				}
			} else {
				tensor.Gemm64(true, false, d, d, m, 1, dm, d, dm, d, 0, cm, d)
				copy(pc, cm)
			}
		}
		putF64(dm)
		putF64(cm)
		if g.FastMath {
			putF32(db)
			putF32(cb)
		}
	})
	s := make([]float64, k*d*d)
	for c := 0; c < nc; c++ {
		for j, v := range part[c*k*d*d : (c+1)*k*d*d] {
			s[j] += v
		}
	}
	return s
}

// NumParams returns the number of free parameters: K-1 weights, K·D means and the
// covariance parameters (K·D(D+1)/2 full, D(D+1)/2 tied, K·D diag, K spherical).
func (g *GaussianMixture) NumParams() int {
	k, d := g.K, g.D
	var c int
	switch g.Covariance {
	case Full:
		c = k * d * (d + 1) / 2
	case Tied:
		c = d * (d + 1) / 2
	case Diag:
		c = k * d
	case Spherical:
		c = k
	}
	return k - 1 + k*d + c
}

// FitGaussian fits a Gaussian mixture to the rows of x by EM, NInit times from
// k-means++ initialisations (or once from cfg.Init), and returns the model with the
// lowest final free energy.
func FitGaussian(x *tensor.Mat, cfg GaussianConfig) (*GaussianMixture, Result, error) {
	k, d := cfg.Components, x.Cols
	if err := checkData(x, k); err != nil {
		return nil, Result{}, err
	}
	if cfg.RegCovar < 0 || math.IsNaN(cfg.RegCovar) {
		return nil, Result{}, fmt.Errorf("mixture: RegCovar must be >= 0, got %v", cfg.RegCovar)
	}
	if cfg.Covariance < Full || cfg.Covariance > Tied {
		return nil, Result{}, fmt.Errorf("mixture: bad covariance type %d", int(cfg.Covariance))
	}
	g := newGaussian(k, d, cfg.Covariance, cfg.RegCovar, cfg.FastMath)
	nInit := cfg.NInit
	if cfg.Init != nil {
		in := cfg.Init
		if in.K != k || in.D != d || in.Covariance != cfg.Covariance {
			return nil, Result{}, fmt.Errorf("mixture: Init has K=%d D=%d %s, want K=%d D=%d %s", in.K, in.D, in.Covariance, k, d, cfg.Covariance)
		}
		nInit = 1
	}
	iters := cfg.InitIters
	if iters == 0 {
		iters = 10
	}
	init := func(i int) error {
		if cfg.Init != nil {
			copy(g.Weights, cfg.Init.Weights)
			copy(g.Means, cfg.Init.Means)
			copy(g.Covariances, cfg.Init.Covariances)
			return g.prepare()
		}
		return initKMeans(g, x, max(iters, 0), rng.NewStream(cfg.Seed, uint64(i)))
	}
	save := func() any { return g.clone() }
	restore := func(p any) {
		c := p.(*GaussianMixture)
		copy(g.Weights, c.Weights)
		copy(g.Means, c.Means)
		copy(g.Covariances, c.Covariances)
		if err := g.prepare(); err != nil {
			panic("mixture: restoring a fitted model failed: " + err.Error())
		}
	}
	res, err := fitRestarts(nInit, g, x, cfg.EM, init, save, restore)
	if err != nil {
		return nil, res, err
	}
	return g, res, nil
}

// newGaussian returns a mixture with zero parameters, for EM to initialise.
func newGaussian(k, d int, ct CovarianceType, reg float64, fast bool) *GaussianMixture {
	return &GaussianMixture{K: k, D: d, Covariance: ct, RegCovar: reg, FastMath: fast,
		Weights: make([]float64, k), Means: make([]float64, k*d), Covariances: make([]float64, ct.covLen(k, d))}
}

// initKMeans sets m's parameters by one M-step from the hard assignment of
// k-means++ seeding followed by iters Lloyd iterations, drawn from s.
func initKMeans(m Model, x *tensor.Mat, iters int, s *rng.Stream) error {
	k := m.NumComponents()
	labels := KMeansPlusPlus(x, k, iters, s)
	resp := make([]float64, x.Rows*k)
	for n, l := range labels {
		resp[n*k+l] = 1
	}
	if err := m.MStep(x, resp); err != nil {
		return fmt.Errorf("%w (initialisation)", err)
	}
	return nil
}

func (g *GaussianMixture) clone() *GaussianMixture {
	c := *g
	c.Weights = append([]float64(nil), g.Weights...)
	c.Means = append([]float64(nil), g.Means...)
	c.Covariances = append([]float64(nil), g.Covariances...)
	c.linv = append([]float64(nil), g.linv...)
	c.logDet = append([]float64(nil), g.logDet...)
	return &c
}

// Sample draws n points: a component k ~ π, then x = μ_k + L_k z, z ~ N(0, I). It
// returns the points (n×D, float32) and their components.
func (g *GaussianMixture) Sample(n int, s *rng.Stream) (*tensor.Mat, []int) {
	return g.SampleComponent(n, -1, s)
}

// SampleComponent draws n points from component c (c < 0: a component k ~ π for
// each point, as Sample). It panics if c >= K.
func (g *GaussianMixture) SampleComponent(n, c int, s *rng.Stream) (*tensor.Mat, []int) {
	if c >= g.K {
		panic(fmt.Sprintf("mixture: SampleComponent: component %d of %d", c, g.K))
	}
	d := g.D
	var chol []float64
	if g.Covariance == Full || g.Covariance == Tied {
		chol = append([]float64(nil), g.Covariances...)
		for c := 0; c < len(chol)/(d*d); c++ {
			if !cholesky(chol[c*d*d:(c+1)*d*d], d) {
				panic("mixture: Sample: covariance not positive definite")
			}
		}
	}
	out := tensor.New(n, d)
	labels := make([]int, n)
	z := make([]float64, d)
	fixed := c
	for i := 0; i < n; i++ {
		c := fixed
		if c < 0 {
			c = drawCategorical(g.Weights, s)
		}
		labels[i] = c
		for j := range z {
			z[j] = s.NormFloat64()
		}
		mu := g.Means[c*d : (c+1)*d]
		row := out.Row(i)
		for j := 0; j < d; j++ {
			var v float64
			switch g.Covariance {
			case Full, Tied:
				l := chol
				if g.Covariance == Full {
					l = chol[c*d*d : (c+1)*d*d]
				}
				for p := 0; p <= j; p++ {
					v += l[j*d+p] * z[p]
				}
			case Diag:
				v = math.Sqrt(g.Covariances[c*d+j]) * z[j]
			case Spherical:
				v = math.Sqrt(g.Covariances[c]) * z[j]
			}
			row[j] = float32(mu[j] + v)
		}
	}
	return out, labels
}

func drawCategorical(w []float64, s *rng.Stream) int {
	u := s.Float64()
	var acc float64
	for c, p := range w {
		acc += p
		if u < acc {
			return c
		}
	}
	return len(w) - 1
}
