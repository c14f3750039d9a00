package nn

import (
	"testing"

	"github.com/latent-ml/latent/rng"
)

// TestDCGANStackGrad: a miniature DCGAN generator and discriminator built from
// the new layers, in training mode (batch statistics) and in evaluation mode
// (running statistics, as gradient-based samplers of a trained generator use it),
// checked end to end with central differences. Tanh stands in for DCGAN's ReLU
// and LeakyReLU: inside a stack some pre-activations sit near their kink, where a
// finite difference straddling it is meaningless (their own derivatives are
// tested with values kept away from the kink in activation_test.go).
func TestDCGANStackGrad(t *testing.T) {
	s := rng.New(91)
	gen := NewSequential(
		NewLinear(3, 2*2*4, Glorot, s), NewBatchNorm(16), Tanh(), &Reshape{In: 16}, // (batch, 2·2·4)
		NewConvTranspose2D(2, 2, 4, 4, 4, 2, 3, 2, 1, Glorot, s), NewBatchNorm2D(4, 4, 2), Tanh(), // (batch, 4·4·2)
		NewConvTranspose2D(4, 4, 2, 8, 8, 1, 3, 2, 1, Glorot, s), Tanh()) // (batch, 8·8·1)
	z := randMat(s, 3, 3, 1)
	checkGrad(t, "generator (training)", gen, z, false)
	SetTraining(gen, false)
	checkGrad(t, "generator (evaluation)", gen, z, false)

	disc := NewSequential(
		NewConv2D(ConvGeom{InH: 8, InW: 8, InC: 1, OutC: 2, K: 3, Stride: 2, Pad: 1}, Glorot, s), Tanh(), // (batch, 4·4·2)
		NewConv2D(ConvGeom{InH: 4, InW: 4, InC: 2, OutC: 3, K: 3, Stride: 2, Pad: 1}, Glorot, s),
		NewBatchNorm2D(2, 2, 3), Tanh(), Flatten(2, 2, 3), NewDropout(0, nil), NewLinear(12, 1, Glorot, s))
	x := randMat(s, 2, 64, 1)
	checkGrad(t, "discriminator (training)", disc, x, false)
}

// TestUNetBlockGrad: the pieces of a diffusion U-Net block in sequence — GroupNorm,
// SiLU, convolution, nearest-neighbour upsampling — on an odd image, batch 1.
func TestUNetBlockGrad(t *testing.T) {
	s := rng.New(92)
	block := NewSequential(
		NewGroupNorm(2, 3, 3, 4), SiLU(),
		NewConv2D(ConvGeom{InH: 3, InW: 3, InC: 4, OutC: 4, K: 3, Stride: 1, Pad: 1}, Glorot, s), // (1, 3·3·4)
		NewUpsample(3, 3, 4, 2), // (1, 6·6·4)
		NewGroupNorm(4, 6, 6, 4), SiLU(),
		NewConv2D(ConvGeom{InH: 6, InW: 6, InC: 4, OutC: 2, K: 3, Stride: 1, Pad: 1}, Glorot, s))
	for _, p := range block.Params() {
		if p.Name == "gamma" || p.Name == "beta" {
			randomAffine(s, p)
		}
	}
	checkGrad(t, "U-Net block", block, randMat(s, 1, 3*3*4, 1), false)
}
