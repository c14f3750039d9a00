// Package nn provides the neural-network pieces the variational autoencoders are built
// from: layers with explicit backward passes (Linear, Conv2D, ConvTranspose2D,
// element-wise activations, Reshape), a Sequential stack, likelihoods computed stably
// from logits, Glorot/He initialisation and the Adam and SGD optimisers.
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
// per-example log-likelihoods, accumulate in float64.
package nn
