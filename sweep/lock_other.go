//go:build !unix

package sweep

// Lock does nothing where flock is not available.
func (sw *Sweep) Lock() (unlock func(), err error) { return func() {}, nil }
