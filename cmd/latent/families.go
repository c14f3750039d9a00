package main

// The model families built into the command: each registers itself with
// package model from its own init function.
import (
	_ "github.com/latent-ml/latent/classifier"
	_ "github.com/latent-ml/latent/diffusion"
	_ "github.com/latent-ml/latent/ebm"
	_ "github.com/latent-ml/latent/gan"
	_ "github.com/latent-ml/latent/helmholtz"
	_ "github.com/latent-ml/latent/mixture"
	_ "github.com/latent-ml/latent/pixels"
	_ "github.com/latent-ml/latent/rbm"
	_ "github.com/latent-ml/latent/vae"
)
