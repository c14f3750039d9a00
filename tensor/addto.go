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
		addVec(&dst[0], &dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	for i, v := range src {
		dst[i] += v
	}
}

// Add sets dst[i] = a[i] + b[i] for every i < len(dst), each sum one float32
// addition (the bits of the scalar loop, whatever the vector width): one pass
// over the three slices where copy and AddTo take two. dst may be a or b, or
// overlap neither. It panics if a or b is shorter than dst.
func Add(dst, a, b []float32) {
	if len(a) < len(dst) || len(b) < len(dst) {
		panic(fmt.Sprintf("tensor: Add: %d + %d values into %d", len(a), len(b), len(dst)))
	}
	a, b = a[:len(dst)], b[:len(dst)]
	if n := len(dst) &^ 7; n >= addToMinVector && haveAddTo {
		addVec(&dst[0], &a[0], &b[0], n)
		dst, a, b = dst[n:], a[n:], b[n:]
	}
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// addToMinVector is the shortest run AddTo hands to the vector loop: below it
// the call costs more than the scalar additions.
const addToMinVector = 16
