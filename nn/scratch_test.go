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
		scratch.poison = true
	}
	os.Exit(m.Run())
}

func TestScratchReuse(t *testing.T) {
	saved, savedUsed := scratch.free, scratch.used
	scratch.free, scratch.used = nil, nil
	defer func() { scratch.free, scratch.used = saved, savedUsed }()
	for n, want := range map[int]int{1: 1, 16: 16, 17: 18, 100: 104, 1000: 1024, 1025: 1152, 4096: 4096} {
		if c := scratchClass(n); c != want {
			t.Errorf("scratchClass(%d) = %d, want %d", n, c, want)
		}
	}
	a := borrow(100)
	b := borrow(50)
	if len(a) != 100 || len(b) != 50 || cap(a) != 104 || cap(b) != 52 {
		t.Fatalf("lengths %d, %d, caps %d, %d", len(a), len(b), cap(a), cap(b))
	}
	a[0], b[0] = 1, 2
	if a[0] != 1 || b[0] != 2 {
		t.Fatal("borrowed buffers overlap")
	}
	giveBack(a)
	giveBack(b)
	// A request of the same class takes the free buffer of that class.
	c := borrow(51)
	if &c[:1][0] != &b[:1][0] {
		t.Error("borrow(51) did not reuse the buffer of class 52")
	}
	// Another class does not take it, even though it is larger.
	d := borrow(40)
	if &d[:1][0] == &a[:1][0] {
		t.Error("borrow(40) took the buffer of class 104")
	}
	for _, x := range d {
		if x == x {
			t.Fatal("poisoned scratch is not NaN")
		}
	}
	giveBack(c)
	giveBack(d)
	// Past scratchKeep buffers the one given back longest ago is dropped: here
	// the two small ones, then the first of the new ones.
	var many [][]float32
	for i := range scratchKeep + 1 {
		many = append(many, borrow(2000+256*i))
	}
	for _, m := range many {
		giveBack(m)
	}
	if len(scratch.free) != scratchKeep {
		t.Fatalf("%d free buffers, want %d", len(scratch.free), scratchKeep)
	}
	for _, m := range scratch.free {
		if cap(m) < 2000 || &m[0] == &many[0][0] {
			t.Errorf("a buffer of %d values given back early was kept", cap(m))
		}
	}
}
