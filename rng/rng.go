// Package rng provides seeded, splittable, serialisable random streams.
//
// A Stream is a concrete PCG-DXSM generator (math/rand/v2's PCG) with fast helpers
// for filling whole float32 slices. Stream i of seed s is NewStream(s, i); parallel
// chains and workers each take their own stream, so results do not depend on
// scheduling. The state round-trips through MarshalBinary for checkpoints.
package rng

import (
	"fmt"
	"math/rand/v2"
)

// Stream is a random stream. The zero value is not usable; use New or NewStream.
type Stream struct {
	pcg rand.PCG
	r   *rand.Rand
	key uint64 // identity of this stream, used by Child
}

func mix(z uint64) uint64 { // splitmix64 finaliser
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// New returns stream 0 of seed.
func New(seed uint64) *Stream { return NewStream(seed, 0) }

// NewStream returns stream index of seed. Different (seed, index) pairs give
// statistically independent streams.
func NewStream(seed, index uint64) *Stream {
	key := mix(mix(seed) ^ mix(index+0x632be59bd9b4e019))
	return fromKey(key)
}

func fromKey(key uint64) *Stream {
	s := &Stream{key: key}
	s.pcg.Seed(mix(key), mix(key^0xd1b54a32d192ed03))
	s.r = rand.New(&s.pcg)
	return s
}

// Child returns the i-th child stream of s. It depends only on how s was created,
// not on how many numbers s has produced.
func (s *Stream) Child(i uint64) *Stream { return fromKey(mix(s.key ^ mix(i+0x2545f4914f6cdd1d))) }

// Uint64 returns a uniformly distributed 64-bit value.
func (s *Stream) Uint64() uint64 { return s.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1).
func (s *Stream) Float64() float64 { return float64(s.pcg.Uint64()>>11) * (1.0 / (1 << 53)) }

// Float32 returns a uniform value in [0, 1).
func (s *Stream) Float32() float32 { return float32(s.pcg.Uint64()>>40) * (1.0 / (1 << 24)) }

// NormFloat64 returns a standard normal value.
func (s *Stream) NormFloat64() float64 { return s.r.NormFloat64() }

// IntN returns a uniform integer in [0, n). It panics if n <= 0.
func (s *Stream) IntN(n int) int { return s.r.IntN(n) }

// Perm returns a random permutation of [0, n).
func (s *Stream) Perm(n int) []int { return s.r.Perm(n) }

// Shuffle permutes n elements with swap.
func (s *Stream) Shuffle(n int, swap func(i, j int)) { s.r.Shuffle(n, swap) }

// FillUniform sets dst[i] to uniform values in [0, 1).
func (s *Stream) FillUniform(dst []float32) {
	for i := range dst {
		dst[i] = s.Float32()
	}
}

// FillNormal sets dst[i] to draws from N(mean, std²).
func (s *Stream) FillNormal(dst []float32, mean, std float32) {
	for i := range dst {
		dst[i] = mean + std*float32(s.r.NormFloat64())
	}
}

// FillBernoulli sets dst[i] to 1 with probability p[i], else 0. dst may alias p.
func (s *Stream) FillBernoulli(dst, p []float32) {
	for i, pi := range p[:len(dst)] {
		if s.Float32() < pi {
			dst[i] = 1
		} else {
			dst[i] = 0
		}
	}
}

// MarshalBinary returns the stream's full state.
func (s *Stream) MarshalBinary() ([]byte, error) {
	st, err := s.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 8, 8+len(st))
	for i := 0; i < 8; i++ {
		out[i] = byte(s.key >> (8 * i))
	}
	return append(out, st...), nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (s *Stream) UnmarshalBinary(b []byte) error {
	if len(b) < 8 {
		return fmt.Errorf("rng: state too short (%d bytes)", len(b))
	}
	var key uint64
	for i := 0; i < 8; i++ {
		key |= uint64(b[i]) << (8 * i)
	}
	var p rand.PCG
	if err := p.UnmarshalBinary(b[8:]); err != nil {
		return fmt.Errorf("rng: bad state: %w", err)
	}
	s.key, s.pcg = key, p
	s.r = rand.New(&s.pcg)
	return nil
}
