package rbm

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/mcmc"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// DBM is a deep Boltzmann machine (Salakhutdinov & Hinton 2009): binary layers
// x_0 = v (visible), x_1 … x_L (hidden, L ≥ 2), each connected to its neighbours
// only, with energy
//
//	E(v, h) = −Σ_{l=1..L} x_{l−1}ᵀ W_l x_l − Σ_{l=0..L} b_lᵀ x_l.
//
// Given the even layers (v, h_2, h_4, …) the odd ones are independent, and the
// other way round, so the DBM is one RBM whose "visible" side is the even layers
// concatenated and whose "hidden" side is the odd layers (Goodfellow et al. 2016,
// section 20.4.1). R holds it so: R.W is (Σ even sizes, Σ odd sizes) with W_l in
// the block of rows of layer l−1 and columns of layer l when l is odd, and W_lᵀ
// in the block of rows of layer l and columns of layer l−1 when l is even; the
// blocks of layers that are not neighbours stay zero (a DBM with two hidden layers
// has none). R.B holds the even layers' biases, R.C the odd layers'. Through R the
// DBM reuses the RBM's exact log Z (mcmc.ExactLogZ over the smaller side), AIS
// over the DBM with the odd layers summed out (as Salakhutdinov & Hinton do),
// block-Gibbs sampling and the PCD trainer with its sparse products.
type DBM struct {
	Sizes []int // units per layer, Sizes[0] visible; len ≥ 3
	R     *RBM  // the DBM as a bipartite RBM (see above)
	// Height, Width, Channels describe a visible vector as an image (zeros when
	// it is not one).
	Height, Width, Channels int
	off                     []int // first row (even layer) or column (odd layer) of each layer in R
}

// NewDBM returns a DBM with layer sizes sizes (visible first) and zero
// parameters, or an error naming a layer that has no units or too few layers.
func NewDBM(sizes []int) (*DBM, error) {
	if len(sizes) < 3 {
		return nil, fmt.Errorf("rbm: a DBM needs a visible layer and at least 2 hidden layers, got %d layers in all", len(sizes))
	}
	ne, no := 0, 0
	off := make([]int, len(sizes))
	for l, n := range sizes {
		if n < 1 {
			return nil, fmt.Errorf("rbm: DBM layer %d has %d units; every layer needs at least 1", l, n)
		}
		if l%2 == 0 {
			off[l], ne = ne, ne+n
		} else {
			off[l], no = no, no+n
		}
	}
	r, err := New(Bernoulli, ne, no)
	if err != nil {
		return nil, err
	}
	return &DBM{Sizes: append([]int(nil), sizes...), R: r, off: off}, nil
}

// dbmFromRBM returns the DBM of sizes whose bipartite form is r (from a file).
func dbmFromRBM(sizes []int, r *RBM) (*DBM, error) {
	d, err := NewDBM(sizes)
	if err != nil {
		return nil, err
	}
	if d.R.NumVisible() != r.NumVisible() || d.R.NumHidden() != r.NumHidden() {
		return nil, fmt.Errorf("rbm: DBM layers %v need a %d×%d bipartite form, the file has %d×%d",
			sizes, d.R.NumVisible(), d.R.NumHidden(), r.NumVisible(), r.NumHidden())
	}
	d.R = r
	return d, nil
}

// NumVisible returns the number of visible units.
func (d *DBM) NumVisible() int { return d.Sizes[0] }

// NumLayers returns L, the number of hidden layers.
func (d *DBM) NumLayers() int { return len(d.Sizes) - 1 }

// block returns a view of the rows r0… and columns c0… of R.W.
func block(w *tensor.Mat, r0, rows, c0, cols int) *tensor.Mat {
	o := r0*w.Stride + c0
	return &tensor.Mat{Rows: rows, Cols: cols, Stride: w.Stride, Data: w.Data[o : o+(rows-1)*w.Stride+cols]}
}

// cols returns a view of columns [c0, c0+n) of x.
func cols(x *tensor.Mat, c0, n int) *tensor.Mat {
	if x.Rows == 0 {
		return &tensor.Mat{Cols: n, Stride: x.Stride}
	}
	return block(x, 0, x.Rows, c0, n)
}

// Weights returns a view of the block of R.W that holds W_l (l = 1…L) and
// whether it is transposed: for odd l the block is W_l, (Sizes[l−1], Sizes[l]);
// for even l it is W_lᵀ, (Sizes[l], Sizes[l−1]). It panics if l is out of range.
func (d *DBM) Weights(l int) (w *tensor.Mat, transposed bool) {
	if l < 1 || l >= len(d.Sizes) {
		panic(fmt.Sprintf("rbm: DBM.Weights(%d) of %d hidden layers", l, d.NumLayers()))
	}
	if l%2 == 1 {
		return block(d.R.W, d.off[l-1], d.Sizes[l-1], d.off[l], d.Sizes[l]), false
	}
	return block(d.R.W, d.off[l], d.Sizes[l], d.off[l-1], d.Sizes[l-1]), true
}

// Bias returns a view of the biases b_l of layer l (0 = visible).
func (d *DBM) Bias(l int) []float32 {
	if l%2 == 0 {
		return d.R.B[d.off[l] : d.off[l]+d.Sizes[l]]
	}
	return d.R.C[d.off[l] : d.off[l]+d.Sizes[l]]
}

// mask zeroes the blocks of R.W between layers that are not neighbours.
func (d *DBM) mask() { d.maskMat(d.R.W) }

// maskMat zeroes the blocks of w (shaped as R.W) between layers that are not
// neighbours.
func (d *DBM) maskMat(w *tensor.Mat) {
	for e := 0; e < len(d.Sizes); e += 2 {
		for o := 1; o < len(d.Sizes); o += 2 {
			if e-o == 1 || o-e == 1 {
				continue
			}
			b := block(w, d.off[e], d.Sizes[e], d.off[o], d.Sizes[o])
			for i := 0; i < b.Rows; i++ {
				clear(b.Row(i))
			}
		}
	}
}

// initFromData initialises a DBM without pretraining: the visible biases from
// the data marginals of x and W_l ~ N(0, 0.01²), as RBM.InitFromData does.
func (d *DBM) initFromData(x *tensor.Mat, s *rng.Stream) error {
	e := tensor.New(x.Rows, d.R.NumVisible())
	e.Fill(0.5) // hidden even layers: bias 0
	cols(e, 0, d.NumVisible()).Copy(x)
	if err := d.R.InitFromData(e, s); err != nil {
		return err
	}
	d.mask()
	return nil
}

// setBottom sets the weights and biases of the visible and first hidden
// layers to those of the RBM m (NumVisible × Sizes[1]). With the weights above
// the first hidden layer zero, the DBM's p(v) would be m's: the layers above
// then add the same factor to every term of Z and of p(v, h_1).
func (d *DBM) setBottom(m *RBM) {
	w, _ := d.Weights(1)
	for i := 0; i < w.Rows; i++ {
		copy(w.Row(i), m.W.Row(i))
	}
	copy(d.Bias(0), m.B)
	copy(d.Bias(1), m.C)
}

// MeanField is the result of DBM.MeanField.
type MeanField struct {
	// Even is (n, Σ even sizes): the visible rows, then the means of the even
	// hidden layers; Odd is (n, Σ odd sizes), the means of the odd layers.
	Even, Odd *tensor.Mat
	Iters     int     // updates of both halves made
	Residual  float64 // the largest change of any mean in the last update
	Converged bool    // Residual < the tolerance
	av, t     *tensor.Mat
	sp        tensor.CSR
}

// MeanField runs mean-field inference for the rows v of x (binary): the
// factorial Q(h) = Π q(h_lj) that maximises the bound of LowerBound, by the
// fixed-point updates
//
//	μ_l = σ(W_lᵀ μ_{l−1} + W_{l+1} μ_{l+1} + b_l),   μ_0 = v, μ_{L+1} = 0,
//
// the odd layers together and then the even ones, until no mean changes by tol
// or more, at most iters times (iters ≥ 1). It starts from the recognition pass
// of Salakhutdinov & Hinton (2009), section 3.1: μ_l = σ(2W_lᵀ μ_{l−1} + b_l)
// below the top (doubled weights stand in for the missing input from above),
// μ_L = σ(W_Lᵀ μ_{L−1} + b_L). mf, when not nil, is reused (a warm call
// allocates nothing); the result is returned in it. Failing to converge is a
// result (Converged, Residual), not an error.
func (d *DBM) MeanField(mf *MeanField, x *tensor.Mat, iters int, tol float64) *MeanField {
	if x.Cols != d.NumVisible() {
		panic(fmt.Sprintf("rbm: DBM.MeanField: %d columns, %d visible units", x.Cols, d.NumVisible()))
	}
	if mf == nil {
		mf = new(MeanField)
	}
	n, nv, ne, no := x.Rows, d.NumVisible(), d.R.NumVisible(), d.R.NumHidden()
	E := tensor.Reuse(mf.Even, n, ne)
	O := tensor.Reuse(mf.Odd, n, no)
	av := tensor.Reuse(mf.av, n, no)
	t := tensor.Reuse(mf.t, n, max(ne, no))
	mf.Even, mf.Odd, mf.av, mf.t = E, O, av, t
	cols(E, 0, nv).Copy(x)
	// av = v·W[v rows], fixed while v is clamped: sparse when v is.
	wv := d.R.W.Slice(0, nv)
	if mf.sp.FromDense(x, false); mf.sp.Density() < SparseBelow {
		tensor.SpMM(1, &mf.sp, wv, 0, av)
	} else {
		tensor.Gemm(false, false, 1, x, wv, 0, av)
	}
	// The recognition pass, bottom up.
	L := d.NumLayers()
	for l := 1; l <= L; l++ {
		alpha := float32(2)
		if l == L {
			alpha = 1
		}
		in, out := d.layerCols(E, O, l-1), d.layerCols(E, O, l)
		w, tr := d.Weights(l)
		if l == 1 {
			// av's first Sizes[1] columns are v·W_1 (W_1 is the block at column 0).
			a := cols(av, 0, d.Sizes[1])
			for i := 0; i < n; i++ {
				o, ar := out.Row(i), a.Row(i)
				for j := range o {
					o[j] = alpha * ar[j]
				}
			}
		} else {
			tensor.Gemm(false, tr, alpha, in, w, 0, out)
		}
		tensor.SigmoidBias(out, out, d.Bias(l))
	}
	// Fixed-point updates: odd layers from the even ones, then the even hidden
	// layers from the odd ones.
	eh, wh := cols(E, nv, ne-nv), d.R.W.Slice(nv, ne)
	bh := d.R.B[nv:]
	mf.Converged, mf.Residual, mf.Iters = false, math.Inf(1), 0
	for it := 1; it <= iters; it++ {
		to := cols(t, 0, no)
		tensor.Gemm(false, false, 1, eh, wh, 0, to)
		to.AddScaled(1, av)
		tensor.SigmoidBias(to, to, d.R.C)
		res := moveTo(O, to)
		te := cols(t, 0, ne-nv)
		tensor.Gemm(false, true, 1, O, wh, 0, te)
		tensor.SigmoidBias(te, te, bh)
		res = max(res, moveTo(eh, te))
		mf.Iters, mf.Residual = it, res
		if res < tol {
			mf.Converged = true
			break
		}
	}
	return mf
}

// moveTo copies src into dst and returns the largest |change|.
func moveTo(dst, src *tensor.Mat) float64 {
	var r float32
	for i := 0; i < dst.Rows; i++ {
		d, s := dst.Row(i), src.Row(i)
		for j, v := range s {
			r = max(r, abs32(v-d[j]))
			d[j] = v
		}
	}
	return float64(r)
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// layerCols returns the view of layer l's columns in E (even l) or O (odd l).
func (d *DBM) layerCols(E, O *tensor.Mat, l int) *tensor.Mat {
	if l%2 == 0 {
		return cols(E, d.off[l], d.Sizes[l])
	}
	return cols(O, d.off[l], d.Sizes[l])
}

// LowerBound sets dst[n] (allocated when nil) to the mean-field lower bound on
// log p(v_n) for the rows of x, given mf = MeanField of x and log Z:
//
//	log p(v) ≥ E_Q[−E(v, h)] + H(Q) − log Z
//	         = Σ_l b_lᵀμ_l + Σ_l μ_{l−1}ᵀ W_l μ_l + Σ_{hidden j} H(μ_j) − log Z,
//
// with μ_0 = v and H(μ) = −μ log μ − (1 − μ) log(1 − μ) (Salakhutdinov & Hinton
// 2009, eq. 5). The energy is bilinear between layers and Q factorial, so its
// expectation is exact. Accumulated in float64.
func (d *DBM) LowerBound(dst []float64, mf *MeanField, logZ float64) []float64 {
	E, O := mf.Even, mf.Odd
	n, nv := E.Rows, d.NumVisible()
	if dst == nil {
		dst = make([]float64, n)
	}
	a := tensor.New(n, O.Cols)
	tensor.Gemm(false, false, 1, E, d.R.W, 0, a) // (n, odd) = E W
	for i := 0; i < n; i++ {
		var s float64
		for j, e := range E.Row(i) {
			s += float64(e) * float64(d.R.B[j])
			if j >= nv {
				s += entropy(float64(e))
			}
		}
		ar := a.Row(i)
		for j, o := range O.Row(i) {
			s += float64(o)*(float64(ar[j])+float64(d.R.C[j])) + entropy(float64(o))
		}
		dst[i] = s - logZ
	}
	return dst
}

// entropy returns the entropy of a Bernoulli(p) variable in nats.
func entropy(p float64) float64 {
	var h float64
	if p > 0 {
		h -= p * math.Log(p)
	}
	if p < 1 {
		h -= (1 - p) * math.Log1p(-p)
	}
	return h
}

// CanEnumerate reports whether ExactLogZ can enumerate: the smaller side of R
// (the even or the odd layers together) has at most mcmc.MaxExactUnits units.
func (d *DBM) CanEnumerate() bool { return d.R.CanEnumerate() }

// ExactLogZ returns log Z by enumerating the 2^n states of the smaller side of
// the bipartite form (the even or the odd layers), the other side summed out in
// closed form (mcmc.ExactLogZ).
func (d *DBM) ExactLogZ() (float64, error) { return d.R.ExactLogZ() }

// CanEnumerateHidden reports whether ExactLogProb can enumerate: given v the
// hidden layers form a bipartite model (even hidden layers against odd ones)
// whose smaller side must have at most mcmc.MaxExactUnits units.
func (d *DBM) CanEnumerateHidden() bool {
	nv, ne, no := d.NumVisible(), d.R.NumVisible(), d.R.NumHidden()
	return min(ne-nv, no) <= mcmc.MaxExactUnits
}

// ExactLogProb sets dst[n] (allocated when nil) to log p(v_n) = log p*(v_n) − log Z
// for the rows of x, where the hidden layers are summed out exactly:
//
//	log p*(v) = b_0ᵀv + log Σ_h exp(Σ_{l≥1} b_lᵀx_l + vᵀW_1 x_1 + Σ_{l≥2} x_{l−1}ᵀW_l x_l),
//
// given v, a bipartite model of the even hidden layers against the odd ones, the
// odd biases shifted by W_1ᵀv (mcmc.ExactLogZ). It returns an error when the
// hidden layers cannot be enumerated (CanEnumerateHidden).
func (d *DBM) ExactLogProb(dst []float64, x *tensor.Mat, logZ float64) ([]float64, error) {
	if !d.CanEnumerateHidden() {
		return nil, fmt.Errorf("rbm: exact log p(v) of a DBM with layers %v enumerates too many hidden states", d.Sizes)
	}
	if dst == nil {
		dst = make([]float64, x.Rows)
	}
	nv, ne := d.NumVisible(), d.R.NumVisible()
	wh := d.R.W.Slice(nv, ne)
	c := make([]float64, d.R.NumHidden())
	c32 := make([]float32, len(c))
	for n := 0; n < x.Rows; n++ {
		for j := range c {
			c[j] = float64(d.R.C[j])
		}
		var lin float64
		for i, v := range x.Row(n) {
			if v == 0 {
				continue
			}
			lin += float64(v) * float64(d.R.B[i])
			for j, w := range d.R.W.Row(i) {
				c[j] += float64(v) * float64(w)
			}
		}
		for j := range c {
			c32[j] = float32(c[j])
		}
		lz, err := mcmc.ExactLogZ(mcmc.Bipartite{W: wh, B: d.R.B[nv:], C: c32})
		if err != nil {
			return nil, err
		}
		dst[n] = lin + lz - logZ
	}
	return dst, nil
}

// ExactGradient returns the gradient of the mean log-likelihood of the rows of x
// with respect to R's parameters, with both expectations exact:
//
//	∂/∂W = E_{p(h|v)}[x_e σ(x_eᵀW + c)ᵀ]_data − E_{p(x_e)}[x_e σ(x_eᵀW + c)ᵀ],
//	∂/∂b = E[x_e]_data − E[x_e],   ∂/∂c = E[σ(x_eᵀW + c)]_data − E[σ(x_eᵀW + c)],
//
// where x_e is the state of the even layers (v and the even hidden layers) and
// the odd layers are summed out in closed form; the data expectation enumerates
// the even hidden states given each v, the model's every even state. The
// blocks of non-neighbouring layers get 0. gW is (R.NumVisible(), R.NumHidden())
// row-major. It is the known answer the stochastic gradient of DBMTrainer (mean
// field for the data term, persistent chains for the model's) estimates, and it
// returns an error when the even layers have more than 20 units.
func (d *DBM) ExactGradient(x *tensor.Mat) (gW, gB, gC []float64, err error) {
	nv, ne, no := d.NumVisible(), d.R.NumVisible(), d.R.NumHidden()
	if ne > 20 {
		return nil, nil, nil, fmt.Errorf("rbm: ExactGradient enumerates 2^%d even states; at most 20", ne)
	}
	gW, gB, gC = make([]float64, ne*no), make([]float64, ne), make([]float64, no)
	state := make([]float64, ne)
	p := make([]float64, no)
	// logp sets p = σ(x_eᵀW + c) and returns log p*(x_e) = bᵀx_e + Σ softplus.
	logp := func() float64 {
		var s float64
		for j := range p {
			a := float64(d.R.C[j])
			for i, e := range state {
				if e != 0 {
					a += float64(d.R.W.At(i, j))
				}
			}
			p[j] = sigmoid64(a)
			s += softplus(a)
		}
		for i, e := range state {
			s += e * float64(d.R.B[i])
		}
		return s
	}
	add := func(w float64) {
		for i, e := range state {
			if e == 0 {
				continue
			}
			gB[i] += w
			for j := range p {
				gW[i*no+j] += w * p[j]
			}
		}
		for j := range p {
			gC[j] += w * p[j]
		}
	}
	// expect adds sign·E[stats] over the 2^k states of units [lo, ne), the first
	// lo fixed, each weighted by p*(x_e).
	expect := func(lo int, sign float64) {
		k := ne - lo
		lw := make([]float64, 1<<k)
		mx := math.Inf(-1)
		for s := range lw {
			for i := lo; i < ne; i++ {
				state[i] = float64(s >> (i - lo) & 1)
			}
			lw[s] = logp()
			mx = max(mx, lw[s])
		}
		var z float64
		for _, l := range lw {
			z += math.Exp(l - mx)
		}
		for s := range lw {
			for i := lo; i < ne; i++ {
				state[i] = float64(s >> (i - lo) & 1)
			}
			logp()
			add(sign * math.Exp(lw[s]-mx) / z)
		}
	}
	for n := 0; n < x.Rows; n++ {
		for i, v := range x.Row(n) {
			state[i] = float64(v)
		}
		expect(nv, 1/float64(x.Rows))
	}
	expect(0, -1)
	// Non-neighbouring blocks are not parameters.
	for e := 0; e < len(d.Sizes); e += 2 {
		for o := 1; o < len(d.Sizes); o += 2 {
			if e-o != 1 && o-e != 1 {
				for i := d.off[e]; i < d.off[e]+d.Sizes[e]; i++ {
					clear(gW[i*no+d.off[o] : i*no+d.off[o]+d.Sizes[o]])
				}
			}
		}
	}
	return gW, gB, gC, nil
}

// AISLogZ estimates log Z by AIS over the bipartite form (mcmc.AIS), the odd
// layers summed out, as Salakhutdinov & Hinton (2009, section 4) do: the base
// model has the visible units' base rates from the rows of x and, for the even
// hidden layers, the mean of their mean-field means over x (mf of x, or nil for
// uniform units).
func (d *DBM) AISLogZ(x *tensor.Mat, mf *MeanField, cfg mcmc.AISConfig) (mcmc.AISResult, error) {
	if mf != nil {
		cfg.BaseBias = mcmc.BaseRateBias(mf.Even)
	} else {
		cfg.BaseBias = make([]float32, d.R.NumVisible())
		copy(cfg.BaseBias, mcmc.BaseRateBias(x))
	}
	return d.R.AISLogZ(cfg)
}

// Sample runs cfg.N block-Gibbs chains of the DBM (odd layers given even, then
// even given odd) for cfg.Steps steps from the base rate and returns the
// visible states and their means given the last odd state, (N, NumVisible).
// cfg.Init, when set, holds visible rows to start from (the even hidden layers
// then start from draws of σ(b)).
func (d *DBM) Sample(cfg SampleConfig) (samples, means *tensor.Mat) {
	nv := d.NumVisible()
	if cfg.Init != nil {
		init := tensor.New(cfg.Init.Rows, d.R.NumVisible())
		s := rng.NewStream(cfg.Seed, 1<<20)
		for i := 0; i < init.Rows; i++ {
			r := init.Row(i)
			for j := nv; j < len(r); j++ {
				r[j] = bern(s, float64(d.R.B[j]))
			}
		}
		cols(init, 0, nv).Copy(cfg.Init)
		cfg.Init = init
	}
	s, m := d.R.Sample(cfg)
	return cols(s, 0, nv).Clone(), cols(m, 0, nv).Clone()
}

// FirstLayer returns an RBM that views the DBM's visible layer and first hidden
// layer (W_1, b_0, b_1; not copies), for pictures of its filters.
func (d *DBM) FirstLayer() *RBM {
	w, _ := d.Weights(1)
	return &RBM{Visible: Bernoulli, W: w, B: d.Bias(0), C: d.Bias(1), Height: d.Height, Width: d.Width, Channels: d.Channels}
}
