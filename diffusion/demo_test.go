package diffusion

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/model"
)

func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two small models")
	}
	dir := t.TempDir()
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(l string) { lines = append(lines, l) }})
	if err := demo(ctx, dir, 1); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"bdiff-bars-samples.png", "bdiff-bars-chain.png", "ddpm-ring.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	var found int
	for _, l := range lines {
		if strings.HasPrefix(l, "bdiff on bars") || strings.HasPrefix(l, "ddpm on an 8-Gaussian") {
			t.Log(l)
			found++
		}
	}
	if found != 2 {
		t.Errorf("demo lines: %q", lines)
	}
}
