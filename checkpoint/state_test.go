package checkpoint

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/rng"
)

// A random stream saved with AddState comes back from a saved file with State
// and goes on drawing the same numbers; a missing blob and bytes the value
// refuses are errors naming the blob.
func TestStateRoundTrip(t *testing.T) {
	s := rng.New(7)
	s.Uint64()
	f := &File{Kind: "test"}
	if err := f.AddState("noise", s); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.model")
	if err := Save(path, f); err != nil {
		t.Fatal(err)
	}
	g, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var back rng.Stream
	if err := g.State("noise", &back); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if a, b := s.Uint64(), back.Uint64(); a != b {
			t.Fatalf("draw %d: %d after the round trip, %d before", i, b, a)
		}
	}
	if err := g.State("dropout", &back); err == nil || !strings.Contains(err.Error(), `"dropout"`) {
		t.Errorf("missing blob: %v", err)
	}
	g.AddBytes("bad", []byte{1, 2})
	if err := g.State("bad", &back); err == nil || !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("refused bytes: %v", err)
	}
	if err := f.AddState("x", failing{}); err == nil || !errors.Is(err, errFail) || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("failing marshal: %v", err)
	}
}

var errFail = errors.New("no state")

type failing struct{}

func (failing) MarshalBinary() ([]byte, error) { return nil, errFail }
