package tensor

import "fmt"

// AddTo sets dst[i] += src[i] for every i < len(src), each sum one float32
// addition (the same bits as the scalar loop, whatever the vector width). dst
// must hold at least len(src) values and must not overlap src. It panics if dst
// is shorter than src.
func AddTo(dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("tensor: AddTo: %d values into %d", len(src), len(dst)))
	}
	dst = dst[:len(src)]
	if n := len(src) &^ 7; n >= addToMinVector && haveAddTo {
		addToVec(&dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	for i, v := range src {
		dst[i] += v
	}
}

// addToMinVector is the shortest run AddTo hands to the vector loop: below it
// the call costs more than the scalar additions.
const addToMinVector = 16
