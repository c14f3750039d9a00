package decoder

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/tensor"
)

func writeCSV(t *testing.T, path string, x *tensor.Mat) {
	var b strings.Builder
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%.9g", v)
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readBack(t *testing.T, path string) *tensor.Mat {
	d, err := dataset.Load(path, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d.X
}
