package rng_test

import (
	"fmt"

	"github.com/latent-ml/latent/rng"
)

// Streams are seeded explicitly; stream i of a seed and the children of a stream
// are independent of each other and of how many numbers were drawn before.
func ExampleNewStream() {
	s := rng.NewStream(42, 0) // same as rng.New(42)
	fmt.Println(s.IntN(100), s.IntN(100), s.IntN(100))
	w := rng.NewStream(42, 1) // worker 1's stream
	fmt.Println(w.IntN(100))
	// Output:
	// 43 38 25
	// 78
}

// A stream's state goes into a checkpoint and comes back bit for bit.
func ExampleStream_MarshalBinary() {
	s := rng.New(7)
	s.Float64()
	state, _ := s.MarshalBinary()
	a := s.Float64()

	var r rng.Stream
	if err := r.UnmarshalBinary(state); err != nil {
		panic(err)
	}
	fmt.Println(a == r.Float64())
	// Output: true
}
