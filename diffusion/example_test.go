package diffusion_test

import (
	"fmt"

	"github.com/latent-ml/latent/diffusion"
)

// The linear schedule of Ho et al. (2020) with T = 1000: how much of x_0 is
// left at a few steps, and the posterior variance β̃_t.
func ExampleNewSchedule() {
	sc, err := diffusion.NewSchedule("linear", 1000)
	if err != nil {
		panic(err)
	}
	for _, t := range []int{1, 250, 500, 1000} {
		fmt.Printf("t=%4d  β=%.5f  √ᾱ=%.4f  β̃=%.5f\n", t, sc.Beta[t], sc.SqrtAB[t], sc.PostVar[t])
	}
	// Output:
	// t=   1  β=0.00010  √ᾱ=0.9999  β̃=0.00000
	// t= 250  β=0.00506  √ᾱ=0.7239  β̃=0.00503
	// t= 500  β=0.01004  √ᾱ=0.2803  β̃=0.01003
	// t=1000  β=0.02000  √ᾱ=0.0064  β̃=0.02000
}
