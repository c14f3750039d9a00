package kernel

import "os"

// ISA names a family of micro-kernels.
type ISA int

const (
	// Generic is the portable pure-Go kernel; it runs everywhere.
	Generic ISA = iota
	// AVX2 is the AVX2+FMA kernel (6×16 float32, 6×8 float64 tiles).
	AVX2
	// AVX512 is the AVX-512F kernel (14×32 float32, 14×16 float64 tiles).
	AVX512
)

// String returns the name LATENT_KERNEL uses for i: "generic", "avx2" or "avx512".
func (i ISA) String() string {
	switch i {
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "generic"
}

// Parse returns the ISA named s ("generic", "avx2" or "avx512").
func Parse(s string) (ISA, bool) {
	switch s {
	case "generic":
		return Generic, true
	case "avx2":
		return AVX2, true
	case "avx512":
		return AVX512, true
	}
	return Generic, false
}

// Supported reports whether this CPU (and this build) can run kernels of ISA i.
func Supported(i ISA) bool {
	switch i {
	case Generic:
		return true
	case AVX2:
		return hasAVX2
	case AVX512:
		return hasAVX512
	}
	return false
}

// Best returns the fastest ISA this CPU supports.
func Best() ISA {
	switch {
	case hasAVX512:
		return AVX512
	case hasAVX2:
		return AVX2
	}
	return Generic
}

// Default is the ISA chosen at start-up: the one named by the environment variable
// LATENT_KERNEL when it is valid and supported, otherwise Best(). A request the CPU
// cannot honour falls back to the best supported ISA below it (avx512 → avx2 →
// generic); an unknown name is ignored.
var Default = choose(os.Getenv("LATENT_KERNEL"))

func choose(env string) ISA {
	want, ok := Parse(env)
	if !ok {
		return Best()
	}
	for want > Generic && !Supported(want) {
		want--
	}
	return want
}
