package alloctest

import "testing"

var sink []byte

// Min reports a step that allocates every time, and zero for one that never does.
func TestMin(t *testing.T) {
	if a := Min(3, 5, func() { sink = make([]byte, 64) }); a != 1 {
		t.Errorf("an allocating step: Min = %v, want 1", a)
	}
	if a := Min(3, 5, func() {}); a != 0 {
		t.Errorf("an empty step: Min = %v, want 0", a)
	}
}
