package mcmc

import (
	"fmt"
	"math"

	"github.com/latent-ml/latent/tensor"
)

// Decoder is the observation model p(x | z) of a decoder-based generative model
// (a GAN's generator, a VAE's decoder) whose prior on z ∈ ℝ^LatentDim() is N(0, I):
// what AISDecoder needs to estimate log p(x) = log ∫ N(z; 0, I) p(x | z) dz.
type Decoder interface {
	// LatentDim returns the dimension of z.
	LatentDim() int
	// LogLik sets, for each row r of z (LatentDim() columns) and of x (one data
	// example per row, repeated for each chain of that example),
	//
	//	ll[r] = log p(x_r | z_r),   grad's row r = ∇_z log p(x_r | z_r),
	//
	// with sums in float64. grad has z's shape; len(ll) == z.Rows == x.Rows. It is
	// called from one goroutine at a time (a network's buffers may be reused) with up
	// to DecoderAISConfig.Batch rows; a row's result should depend on that row alone.
	LogLik(grad, z, x *tensor.Mat, ll []float64)
}

// Generator is a differentiable batched map z ↦ G(z) whose Backward returns ∂L/∂z for
// the batch of the last Forward, given ∂L/∂G(z): nn.Sequential is one. Backward may
// also set parameter gradients, which the decoders here ignore.
type Generator interface {
	Forward(z *tensor.Mat) *tensor.Mat
	Backward(dy *tensor.Mat) *tensor.Mat
}

// GaussianDecoder is the Gaussian observation model p(x | z) = N(x; G(z), σ² I) of
// Wu et al. (2017) for GANs and VAEs on continuous (dequantised) data: with D the
// dimension of x,
//
//	log p(x | z) = −‖x − G(z)‖²/(2σ²) − (D/2) log(2πσ²),
//	∇_z log p(x | z) = J_G(z)ᵀ (x − G(z))/σ²,
//
// the second by one backward pass of G with ∂L/∂G = (x − G(z))/σ².
type GaussianDecoder struct {
	G      Generator
	Latent int     // dimension of z
	Sigma2 float64 // observation variance σ²
	dy     *tensor.Mat
}

// NewGaussianDecoder returns the decoder N(x; G(z), σ² I) for z ∈ ℝ^latent. It
// returns an error if latent < 1 or σ² is not positive and finite.
func NewGaussianDecoder(g Generator, latent int, sigma2 float64) (*GaussianDecoder, error) {
	if latent < 1 {
		return nil, fmt.Errorf("mcmc: decoder latent dimension must be >= 1, got %d", latent)
	}
	if !(sigma2 > 0) || math.IsInf(sigma2, 0) {
		return nil, fmt.Errorf("mcmc: decoder observation variance sigma2 must be positive and finite, got %g", sigma2)
	}
	if g == nil {
		panic("mcmc: NewGaussianDecoder: nil generator")
	}
	return &GaussianDecoder{G: g, Latent: latent, Sigma2: sigma2}, nil
}

// LatentDim implements Decoder.
func (d *GaussianDecoder) LatentDim() int { return d.Latent }

// LogLik implements Decoder. It panics if G(z) and x differ in shape.
func (d *GaussianDecoder) LogLik(grad, z, x *tensor.Mat, ll []float64) {
	checkTargetShapes("GaussianDecoder", d.Latent, grad, z, ll)
	y := d.G.Forward(z)
	if y.Rows != x.Rows || y.Cols != x.Cols {
		panic(fmt.Sprintf("mcmc: GaussianDecoder: G(z) is %d×%d, x is %d×%d", y.Rows, y.Cols, x.Rows, x.Cols))
	}
	d.dy = tensor.Reuse(d.dy, y.Rows, y.Cols)
	is2 := 1 / d.Sigma2
	c := -0.5 * float64(x.Cols) * math.Log(2*math.Pi*d.Sigma2)
	tensor.ParallelFor(y.Rows, rowGrain(y.Cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, xr, dr := y.Row(r), x.Row(r), d.dy.Row(r)
			var s float64
			for j, v := range yr {
				e := float64(xr[j]) - float64(v)
				s += e * e
				dr[j] = float32(e * is2)
			}
			ll[r] = c - 0.5*is2*s
		}
	})
	grad.Copy(d.G.Backward(d.dy))
}

// BernoulliDecoder is the Bernoulli observation model of binary data whose generator
// returns logits l = G(z): p(x | z) = Π_j σ(l_j)^x_j (1 − σ(l_j))^(1−x_j),
//
//	log p(x | z) = Σ_j [x_j l_j − softplus(l_j)],
//	∇_z log p(x | z) = J_G(z)ᵀ (x − σ(l)).
type BernoulliDecoder struct {
	G      Generator // returns logits
	Latent int
	dy     *tensor.Mat
}

// LatentDim implements Decoder.
func (d *BernoulliDecoder) LatentDim() int { return d.Latent }

// LogLik implements Decoder. It panics if G(z) and x differ in shape.
func (d *BernoulliDecoder) LogLik(grad, z, x *tensor.Mat, ll []float64) {
	checkTargetShapes("BernoulliDecoder", d.Latent, grad, z, ll)
	y := d.G.Forward(z)
	if y.Rows != x.Rows || y.Cols != x.Cols {
		panic(fmt.Sprintf("mcmc: BernoulliDecoder: G(z) is %d×%d, x is %d×%d", y.Rows, y.Cols, x.Rows, x.Cols))
	}
	d.dy = tensor.Reuse(d.dy, y.Rows, y.Cols)
	tensor.ParallelFor(y.Rows, rowGrain(y.Cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			yr, xr, dr := y.Row(r), x.Row(r), d.dy.Row(r)
			var s float64
			for j, v := range yr {
				l, xv := float64(v), float64(xr[j])
				s += xv*l - softplus(l)
				dr[j] = float32(xv - 1/(1+math.Exp(-l)))
			}
			ll[r] = s
		}
	})
	grad.Copy(d.G.Backward(d.dy))
}
