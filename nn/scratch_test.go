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
	saved := scratch.free
	scratch.free = nil
	defer func() { scratch.free = saved }()
	a := borrow(100)
	b := borrow(50)
	if len(a) != 100 || len(b) != 50 {
		t.Fatalf("lengths %d, %d", len(a), len(b))
	}
	a[0], b[0] = 1, 2
	if a[0] != 1 || b[0] != 2 {
		t.Fatal("borrowed buffers overlap")
	}
	giveBack(a)
	giveBack(b)
	// The smallest free buffer that fits is reused.
	c := borrow(40)
	if &c[:1][0] != &b[:1][0] {
		t.Error("borrow(40) did not reuse the 50-value buffer")
	}
	d := borrow(80)
	if &d[:1][0] != &a[:1][0] {
		t.Error("borrow(80) did not reuse the 100-value buffer")
	}
	// Nothing free: a new buffer.
	e := borrow(10)
	if &e[:1][0] == &a[:1][0] || &e[:1][0] == &b[:1][0] {
		t.Error("borrow(10) handed out a buffer in use")
	}
	for _, x := range e {
		if x == x {
			t.Fatal("poisoned scratch is not NaN")
		}
	}
	giveBack(c)
	giveBack(d)
	giveBack(e)
	// None large enough: a new buffer, the free ones kept.
	n := len(scratch.free)
	f := borrow(1000)
	if len(scratch.free) != n || cap(f) != 1000 {
		t.Errorf("free list %d → %d, cap %d", n, len(scratch.free), cap(f))
	}
	giveBack(f)
	// Past scratchKeep buffers the smallest are dropped.
	var many [][]float32
	for i := range scratchKeep + 3 {
		many = append(many, borrow(2000+i))
	}
	for _, m := range many {
		giveBack(m)
	}
	if len(scratch.free) != scratchKeep {
		t.Fatalf("%d free buffers, want %d", len(scratch.free), scratchKeep)
	}
	for _, m := range scratch.free {
		if cap(m) < 1000 {
			t.Errorf("a %d-value buffer was kept over larger ones", cap(m))
		}
	}
}
