// Package nn provides the neural-network pieces the autoencoders, GANs and diffusion
// models are built from: layers with explicit backward passes (Linear, Conv2D,
// ConvTranspose2D, element-wise activations including SiLU, Reshape, BatchNorm,
// GroupNorm, Dropout, nearest-neighbour Upsample), a Sequential stack, likelihoods and
// losses computed stably from logits (Bernoulli and Gaussian log-likelihoods, softmax
// cross-entropy, binary cross-entropy), the sinusoidal time embedding,
// Glorot/He initialisation, the Adam and SGD optimisers, gradient-norm clipping and an
// exponential moving average of parameters.
//
// Conventions.
//
//   - A batch is a *tensor.Mat with one example per row. Image tensors are stored
//     NHWC: row b holds example b as H×W×C values, channel fastest, so an image of
//     height H and width W with C channels is the row-major (H, W, C) array. For one
//     channel this is the usual row-major image, which is how dataset rows arrive.
//     Flatten and Reshape are therefore free (they only check the width).
//   - Forward(x) returns a buffer owned by the layer, valid until the next Forward.
//     The layer remembers x (or its own output) for Backward, so the caller must not
//     change x in between. Backward(dy) sets (does not accumulate) the gradients of
//     the layer's parameters and returns ∂L/∂x, again in a layer-owned buffer.
//   - Buffers are reused (tensor.Reuse): once the batch size stops changing, a
//     forward-backward step allocates no new matrices.
//   - Work is split over examples, rows or columns in pieces that depend only on the
//     shapes (tensor.ParallelFor), and every output element is written by exactly
//     one piece in a fixed order, so results are bit-identical for any number of
//     workers.
//
// Parameters are float32 (as in PyTorch); sums that decide a reported figure, such as
// per-example log-likelihoods, and the statistics of the normalisation layers
// accumulate in float64.
//
// Modes and buffers. Layers that behave differently in training and evaluation
// (BatchNorm, Dropout) implement Trainable and start in training mode;
// SetTraining(net, false) switches a whole Sequential, nested stacks included.
// State that is saved but not trained (BatchNorm's running mean and variance) is
// held in buffers: Params with a nil G, listed by Buffers (the Buffered interface),
// never by Params, so optimisers do not see them. SaveLayer and LoadLayer store a
// layer's parameters and buffers together; a model that saves only Params loses the
// running statistics.
package nn
