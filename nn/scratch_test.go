package nn

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs the package's tests with borrowed scratch filled with NaN, so
// that a layer reading scratch it has not written (values left by another layer
// or an earlier call) fails the tests that compare its outputs. Benchmarks
// (-test.bench) run without the filling, which would be timed with them.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		scratchPoison = true
	}
	os.Exit(m.Run())
}

// TestScratchPoison: borrowed scratch is NaN in this package's tests, and a
// buffer given back is handed out again for a request of its size: borrowing
// and giving back allocate nothing once one buffer of the size is free. (Which
// free buffer of that size comes back depends on what earlier tests gave back.)
func TestScratchPoison(t *testing.T) {
	a := borrow(1000)
	for _, x := range a {
		if x == x {
			t.Fatal("poisoned scratch is not NaN")
		}
	}
	giveBack(a)
	if n := testing.AllocsPerRun(10, func() { giveBack(borrow(1000)) }); n != 0 && !raceEnabled {
		t.Errorf("borrow(1000) after a buffer of its size was given back: %v allocations", n)
	}
}
