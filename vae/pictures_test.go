package vae

import (
	"math"
	"testing"

	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func TestPictures(t *testing.T) {
	m, err := New(Config{Latent: 2, Hidden: []int{8}}, 16, rng.New(1))
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Traversals(nil, 5, 2, nil)
	if tr.Rows != 10 || tr.Cols != 16 {
		t.Fatalf("Traversals: %d×%d, want 10×16", tr.Rows, tr.Cols)
	}
	// row 2 of dimension 0 is h = (0, 0): the decoder mean at the origin
	origin := m.Decode(nil, tensor.New(1, 2), nil)
	for j, v := range origin.Row(0) {
		if tr.At(2, j) != v || v <= 0 || v >= 1 {
			t.Fatalf("traversal midpoint %g, decoder at 0 gives %g", tr.At(2, j), v)
		}
	}
	g := m.Manifold(4, nil)
	if g.Rows != 16 {
		t.Fatalf("Manifold: %d rows", g.Rows)
	}
	if q := NormalQuantile(0.975); math.Abs(q-1.959964) > 1e-5 {
		t.Errorf("NormalQuantile(0.975) = %g", q)
	}
}
