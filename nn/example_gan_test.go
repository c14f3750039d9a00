package nn_test

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

// The discriminator's and the generator's losses of a GAN from the
// discriminator's logits: real examples have target 1, fakes 0, and the
// non-saturating generator loss −log D(G(z)) gives fakes target 1.
func ExampleBCEWithLogits() {
	real := tensor.FromSlice(2, 1, []float32{2, 0.5})  // D's logits on data
	fake := tensor.FromSlice(2, 1, []float32{-1, 0.5}) // D's logits on G(z)
	dReal, dFake := tensor.New(2, 1), tensor.New(2, 1)
	lossD := nn.BCEWithLogits(dReal, real, 1) + nn.BCEWithLogits(dFake, fake, 0)
	lossG := nn.BCEWithLogits(dFake, fake, 1)
	fmt.Printf("loss D %.4f, loss G %.4f, dG/dlogit %.4f %.4f\n", lossD, lossG, dFake.Data[0], dFake.Data[1])
	// Output:
	// loss D 0.9442, loss G 0.8937, dG/dlogit -0.3655 -0.1888
}

// A generator with BatchNorm trains on batch statistics, samples with running
// statistics, and keeps both and an EMA of its weights in the model file.
func ExampleSetTraining() {
	s := rng.New(1)
	gen := nn.NewSequential(nn.NewLinear(2, 4, nn.He, s), nn.NewBatchNorm(4), nn.ReLU(), nn.NewLinear(4, 3, nn.Glorot, s))
	ema := nn.NewEMA(gen.Params())
	opt := nn.NewAdam(1e-3)
	z := tensor.New(8, 2)
	for range 5 {
		s.FillNormal(z.Data, 0, 1)
		y := gen.Forward(z) // batch statistics; running ones updated
		gen.Backward(y)     // (a stand-in loss ½‖y‖²)
		opt.Step(gen.Params())
		ema.Update(0.9)
	}
	f := &checkpoint.File{Kind: "example"}
	nn.SaveLayer(f, "gen", gen) // parameters and running statistics
	ema.Save(f, "gen_ema")

	nn.SetTraining(gen, false) // sample with the running statistics...
	ema.Swap()                 // ...and the averaged weights
	y := gen.Forward(z)
	ema.Swap()
	fmt.Println(y.Rows, y.Cols, len(nn.Buffers(gen)), len(f.Tensors))
	// Output:
	// 8 3 2 14
}
