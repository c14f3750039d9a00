package ebm

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
		t.Skip("trains a small model")
	}
	dir := t.TempDir()
	var lines []string
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(l string) { lines = append(lines, l) }})
	if err := demo(ctx, dir, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ebm-ring.png")); err != nil {
		t.Error(err)
	}
	found := false
	for _, l := range lines {
		if strings.HasPrefix(l, "ebm on a 2-D ring") {
			t.Log(l)
			found = true
		}
	}
	if !found {
		t.Errorf("demo lines: %q", lines)
	}
}
