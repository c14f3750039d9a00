package rng

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Stream is a random stream: a xoshiro256** generator and the key it was derived
// from. The zero value is not usable; use New, NewStream, Child or Seed.
// Copying a Stream copies its state (the copy then repeats the original's numbers).
type Stream struct {
	s0, s1, s2, s3 uint64 // xoshiro256** state, never all zero
	key            uint64 // identity of this stream, used by Child
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 output function applied to z+golden (Steele, Lea & Flood
// 2014): a bijection of uint64 with good avalanche.
func mix(z uint64) uint64 {
	z += golden
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func streamKey(seed, index uint64) uint64 {
	return mix(mix(seed) ^ mix(index+0x632be59bd9b4e019))
}

// New returns stream 0 of seed.
func New(seed uint64) *Stream { return NewStream(seed, 0) }

// NewStream returns stream index of seed. Different (seed, index) pairs give
// statistically independent streams.
func NewStream(seed, index uint64) *Stream {
	s := new(Stream)
	s.setKey(streamKey(seed, index))
	return s
}

// Seed resets s to the state of NewStream(seed, index) without allocating.
func (s *Stream) Seed(seed, index uint64) { s.setKey(streamKey(seed, index)) }

// setKey fills the state with four consecutive splitmix64 outputs of key, as the
// xoshiro authors recommend. The four outputs are distinct images of a bijection,
// so at most one of them is zero and the state is never all zero.
func (s *Stream) setKey(key uint64) {
	s.key = key
	// s_j = mix(key + j·golden), j = 0..3.
	s.s0 = mix(key)
	key += golden
	s.s1 = mix(key)
	key += golden
	s.s2 = mix(key)
	key += golden
	s.s3 = mix(key)
}

// State returns the four xoshiro256** state words of s, for bulk generators
// that step several streams side by side in vector lanes (Blackman & Vigna's
// reference order: s[0], s[1], s[2], s[3]). Uint64 on s continues from them.
func (s *Stream) State() [4]uint64 { return [4]uint64{s.s0, s.s1, s.s2, s.s3} }

// Child returns the i-th child stream of s. It depends only on how s was created,
// not on how many numbers s has produced.
func (s *Stream) Child(i uint64) *Stream {
	c := new(Stream)
	c.setKey(mix(s.key ^ mix(i+0x2545f4914f6cdd1d)))
	return c
}

// Uint64 returns a uniformly distributed 64-bit value (one xoshiro256** step).
func (s *Stream) Uint64() uint64 {
	var r uint64
	r, s.s0, s.s1, s.s2, s.s3 = Next(s.s0, s.s1, s.s2, s.s3)
	return r
}

// Next is one xoshiro256** step on an explicit state (s0, s1, s2, s3): it returns
// the output r and the next state. Stream.Uint64 is Next on the stream's state;
// kernels that run several streams side by side (tensor's Bernoulli lanes) call it
// on states kept in registers. It is small enough to be inlined.
func Next(s0, s1, s2, s3 uint64) (r, n0, n1, n2, n3 uint64) {
	r = bits.RotateLeft64(s1*5, 7) * 9
	t := s1 << 17
	s2 ^= s0
	s3 ^= s1
	s1 ^= s2
	s0 ^= s3
	s2 ^= t
	s3 = bits.RotateLeft64(s3, 45)
	return r, s0, s1, s2, s3
}

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (s *Stream) Float64() float64 { return float64(s.Uint64()>>11) * (1.0 / (1 << 53)) }

// Float32 returns a uniform value in [0, 1) with 24 random bits.
func (s *Stream) Float32() float32 { return float32(s.Uint64()>>40) * (1.0 / (1 << 24)) }

// Uint64N returns a uniform integer in [0, n) by Lemire's multiply-and-reject
// method (Lemire 2019, "Fast random integer generation in an interval").
// It panics if n == 0.
func (s *Stream) Uint64N(n uint64) uint64 {
	if n == 0 {
		panic("rng: Uint64N: n == 0")
	}
	hi, lo := bits.Mul64(s.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.Uint64(), n)
		}
	}
	return hi
}

// IntN returns a uniform integer in [0, n). It panics if n <= 0.
func (s *Stream) IntN(n int) int {
	if n <= 0 {
		panic(fmt.Sprintf("rng: IntN: n = %d, must be > 0", n))
	}
	return int(s.Uint64N(uint64(n)))
}

// Perm returns a uniformly random permutation of [0, n).
func (s *Stream) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	s.Shuffle(n, func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// Shuffle permutes n elements with swap (Fisher–Yates, from the end).
// It panics if n < 0.
func (s *Stream) Shuffle(n int, swap func(i, j int)) {
	if n < 0 {
		panic(fmt.Sprintf("rng: Shuffle: n = %d < 0", n))
	}
	for i := n - 1; i > 0; i-- {
		swap(i, int(s.Uint64N(uint64(i+1))))
	}
}

// FillUniform sets dst[i] to uniform values in [0, 1) with 24 random bits. Each
// 64-bit output gives two values: bits 40–63 for dst[2k] and bits 8–31 for dst[2k+1].
func (s *Stream) FillUniform(dst []float32) {
	s0, s1, s2, s3 := s.s0, s.s1, s.s2, s.s3
	i := 0
	for ; i+2 <= len(dst); i += 2 {
		var r uint64
		r, s0, s1, s2, s3 = Next(s0, s1, s2, s3)
		d := dst[i : i+2 : i+2]
		d[0] = float32(r>>40) * (1.0 / (1 << 24))
		d[1] = float32(uint32(r)>>8) * (1.0 / (1 << 24))
	}
	s.s0, s.s1, s.s2, s.s3 = s0, s1, s2, s3
	if i < len(dst) {
		dst[i] = s.Float32()
	}
}

// FillBernoulli sets dst[i] to 1 with probability p[i], else 0, comparing p[i] with
// uniforms drawn as in FillUniform (u < p gives 1). p[i] <= 0 always gives 0 and
// p[i] >= 1 always gives 1; NaN gives an unspecified 0 or 1. dst may alias p.
// It panics if len(p) < len(dst).
func (s *Stream) FillBernoulli(dst, p []float32) {
	p = p[:len(dst)]
	s0, s1, s2, s3 := s.s0, s.s1, s.s2, s.s3
	i := 0
	for ; i+2 <= len(dst); i += 2 {
		var r uint64
		r, s0, s1, s2, s3 = Next(s0, s1, s2, s3)
		d, q := dst[i:i+2:i+2], p[i:i+2:i+2]
		d[0] = bernoulliBit(uint32(r>>40), q[0])
		d[1] = bernoulliBit(uint32(r)>>8, q[1])
	}
	s.s0, s.s1, s.s2, s.s3 = s0, s1, s2, s3
	if i < len(dst) {
		dst[i] = bernoulliBit(uint32(s.Uint64()>>40), p[i])
	}
}

// bernoulliBit returns 1 if u·2⁻²⁴ < p else 0, without a branch: the sign of the
// rounded difference equals the sign of the exact one (rounding to nearest never
// flips a sign and these values are far from underflow).
func bernoulliBit(u24 uint32, p float32) float32 {
	d := float32(u24)*(1.0/(1<<24)) - p
	return math.Float32frombits((math.Float32bits(d) >> 31) * 0x3f800000)
}

// NormFloat64 returns a standard normal value (128-layer ziggurat).
func (s *Stream) NormFloat64() float64 {
	r := s.Uint64()
	hz := int32(r >> 32)
	iz := r & 127
	if uint32(abs32(hz)) < zigK[iz] {
		return float64(hz) * zigW[iz]
	}
	return s.normSlow(hz, iz)
}

// abs32 returns |x| without a branch (the sign of a random draw is unpredictable).
func abs32(x int32) int64 {
	v := int64(x)
	m := v >> 63
	return (v ^ m) - m
}

// normSlow handles the wedges and the tail of the ziggurat (about 1.3% of draws).
func (s *Stream) normSlow(hz int32, iz uint64) float64 {
	for {
		x := float64(hz) * zigW[iz]
		if iz == 0 {
			// Tail beyond zigR (Marsaglia 1964).
			for {
				x = -math.Log(1-s.Float64()) * (1 / zigR)
				y := -math.Log(1 - s.Float64())
				if y+y >= x*x {
					break
				}
			}
			if hz > 0 {
				return zigR + x
			}
			return -zigR - x
		}
		if zigF[iz]+s.Float64()*(zigF[iz-1]-zigF[iz]) < math.Exp(-0.5*x*x) {
			return x
		}
		r := s.Uint64()
		hz = int32(r >> 32)
		iz = r & 127
		if uint32(abs32(hz)) < zigK[iz] {
			return float64(hz) * zigW[iz]
		}
	}
}

// FillNormal sets dst[i] to draws from N(mean, std²), each the float32 rounding of
// mean + std·NormFloat64().
func (s *Stream) FillNormal(dst []float32, mean, std float32) {
	m, sd := float64(mean), float64(std)
	s0, s1, s2, s3 := s.s0, s.s1, s.s2, s.s3
	for i := range dst {
		// Ziggurat fast path (98.8% of draws) on a hand-inlined Next: written as a
		// call, this loop ran 9% slower (BenchmarkFillNormal_128x500, 150 vs 164 µs).
		r := bits.RotateLeft64(s1*5, 7) * 9
		t := s1 << 17
		s2 ^= s0
		s3 ^= s1
		s1 ^= s2
		s0 ^= s3
		s2 ^= t
		s3 = bits.RotateLeft64(s3, 45)
		hz := int32(r >> 32)
		iz := r & 127
		var z float64
		if uint32(abs32(hz)) < zigK[iz] {
			z = float64(hz) * zigW[iz]
		} else {
			s.s0, s.s1, s.s2, s.s3 = s0, s1, s2, s3
			z = s.normSlow(hz, iz)
			s0, s1, s2, s3 = s.s0, s.s1, s.s2, s.s3
		}
		dst[i] = float32(m + sd*z)
	}
	s.s0, s.s1, s.s2, s.s3 = s0, s1, s2, s3
}

// Ziggurat tables (Marsaglia & Tsang 2000, zigset with 128 layers).
const (
	zigR = 3.442619855899
	zigV = 9.91256303526217e-3
)

var (
	zigK [128]uint32
	zigW [128]float64
	zigF [128]float64
)

func init() {
	const m1 = 1 << 31
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = uint32(dn / q * m1)
	zigK[1] = 0
	zigW[0] = q / m1
	zigW[127] = dn / m1
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = uint32(dn / tn * m1)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / m1
	}
}

// stateMagic tags version 1 of the serialised state (xoshiro256** + key).
const stateMagic = "xsr1"

// stateLen is the length of MarshalBinary's output.
const stateLen = 4 + 5*8

// MarshalBinary returns the stream's full state: "xsr1", then the key and the four
// state words as little-endian uint64s (44 bytes).
func (s *Stream) MarshalBinary() ([]byte, error) {
	out := make([]byte, 0, stateLen)
	out = append(out, stateMagic...)
	for _, w := range [5]uint64{s.key, s.s0, s.s1, s.s2, s.s3} {
		out = binary.LittleEndian.AppendUint64(out, w)
	}
	return out, nil
}

// UnmarshalBinary restores a state written by MarshalBinary. It returns an error,
// leaving s unchanged, if b has the wrong length or tag or an all-zero state.
func (s *Stream) UnmarshalBinary(b []byte) error {
	if len(b) != stateLen {
		return fmt.Errorf("rng: state is %d bytes, want %d", len(b), stateLen)
	}
	if string(b[:4]) != stateMagic {
		return fmt.Errorf("rng: state tag %q, want %q", b[:4], stateMagic)
	}
	var w [5]uint64
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[4+8*i:])
	}
	if w[1]|w[2]|w[3]|w[4] == 0 {
		return errors.New("rng: state words are all zero")
	}
	s.key, s.s0, s.s1, s.s2, s.s3 = w[0], w[1], w[2], w[3], w[4]
	return nil
}
