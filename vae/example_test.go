package vae_test

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/vae"
)

// The KL divergence of N(μ, σ²) from N(0, 1) in closed form: for μ = 1, σ² = 1 it
// is μ²/2 = 0.5 nats per dimension.
func ExampleKL() {
	fmt.Printf("%.4f\n", vae.KL([]float32{1, 1}, []float32{0, 0}))
	fmt.Printf("%.4f\n", vae.KL([]float32{0}, []float32{-1})) // ½(e⁻¹ − 1 + 1) = 0.1839
	// Output:
	// 1.0000
	// 0.1839
}

// A zero Config is pytorch/examples vae: 784-400-20-400-784 with ReLU and a
// Bernoulli decoder.
func ExampleNew() {
	m, err := vae.New(vae.Config{}, 784, rng.New(1))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Config.Kind, m.Config.Latent, m.Config.Hidden, m.Config.Decoder, len(m.Params()))
	_, err = vae.New(vae.Config{Kind: vae.KindConvVAE, Height: 28, Width: 28, Channels: 1}, 100, rng.New(1))
	fmt.Println(err)
	// Output:
	// vae 20 [400] bernoulli 8
	// vae: convvae image shape 28×28×1 needs 784 values per example, data has 100
}
