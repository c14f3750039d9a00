package dataset

import "github.com/latent-ml/latent/tensor"

// IsBinary reports whether every value of x is 0 or 1.
func IsBinary(x *tensor.Mat) bool {
	for i := 0; i < x.Rows; i++ {
		if !isBinary(x.Row(i)) {
			return false
		}
	}
	return true
}
