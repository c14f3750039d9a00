// Package rng provides seeded, splittable, serialisable random streams.
//
// A Stream is a concrete xoshiro256** generator (Blackman & Vigna 2018,
// "Scrambled linear pseudorandom number generators") held by value: no interface
// call per number, and its whole state is four words plus the key it was derived
// from. Bulk helpers (FillUniform, FillNormal, FillBernoulli) keep the state in
// registers and take two float32 draws from each 64-bit output.
//
// # Streams and splitting
//
// Stream i of seed s is NewStream(s, i). The state is filled by splitmix64 from
// a key that hashes (s, i), so streams of different (seed, index) pairs are
// statistically independent (they start at unrelated points of a 2²⁵⁶−1 period).
// Child(i) derives a stream from the key of its parent, not from its position,
// so a parent's children are the same however many numbers the parent has drawn.
// Code that runs in parallel gives each fixed piece of work its own stream, derived
// from (seed, piece index), so results never depend on the number of workers:
//
//	base := s.Uint64()          // advance s once per call
//	var ps rng.Stream
//	ps.Seed(base, uint64(piece)) // allocation-free NewStream(base, piece)
//
// State exposes the four state words, so a vectorised generator can step several
// such streams side by side (tensor's fused Bernoulli kernels run eight lanes,
// NewStream(base, 8·piece + lane), in AVX-512 or AVX2 registers).
//
// # Reproducibility
//
// The sequence of every method is part of the API: the tests pin the first
// numbers of New(1), so any change of generator or of a sampling algorithm is
// visible. MarshalBinary captures the full state (44 bytes); a stream restored
// with UnmarshalBinary continues with exactly the numbers the original would have
// produced, which is how checkpoints resume a run bit for bit.
//
// # Distributions
//
// Float32 and Float64 are uniform on [0, 1) with 24 and 53 random bits.
// NormFloat64 and FillNormal use a 128-layer ziggurat (Marsaglia & Tsang 2000,
// "The ziggurat method for generating random variables") with 31-bit resolution.
// FillBernoulli compares a 24-bit uniform with p, so P(1) = ⌈p·2²⁴⌉/2²⁴ for
// p in [0, 1]: exact to 6·10⁻⁸.
//
// A Stream is not safe for concurrent use.
package rng
