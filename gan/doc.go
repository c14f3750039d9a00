// Package gan trains generative adversarial networks (Goodfellow et al. 2014):
// a generator G(z), z ~ N(0, I), against a discriminator D(x) in the game
//
//	min_G max_D  E_data[log D(x)] + E_z[log(1 − D(G(z)))],
//
// with the non-saturating generator loss −log D(G(z)). The MLP GAN ("gan") and
// the convolutional DCGAN of Radford et al. 2016 ("dcgan", as pytorch/examples
// dcgan builds it for 28×28 images) may be conditioned on labels (--conditional:
// the one-hot label is appended to z and given to D), or given a categorical
// code to recover (--info: an InfoGAN, Chen et al. 2016, whose density is the
// mixture over its codes). An exponential moving
// average of the generator's weights is kept beside them, saved with the model
// and used for samples.
//
// Unlike the tools people use, a GAN here reports a log-likelihood in nats: the
// generator is read as the decoder of p(x) = ∫ p(z) N(x; G(z), σ² I) dz and
// scored by annealed importance sampling over z (Wu, Burda, Salakhutdinov &
// Grosse, ICLR 2017).
package gan
