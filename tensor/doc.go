// Package tensor provides float32 row-major matrices, a blocked GEMM, fused
// element-wise kernels and a deterministic worker pool: the numeric core that every
// model in latent runs on.
//
// A Mat is a view onto a []float32 with a row stride, so row ranges are taken
// without copying. Shape errors are caller bugs and panic with a "tensor:" prefix.
//
// Results never depend on the number of workers: work is split into fixed-size
// pieces whose boundaries depend only on the shapes, and each output element is
// computed by exactly one piece in a fixed order.
package tensor
