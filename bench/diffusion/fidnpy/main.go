// Command fidnpy scores images from any program in latent's digit classifier:
// the FID between the samples and the first as many rows of the data, and the
// fraction of samples in each predicted class (classifier.Model.Quality, what
// `latent eval --fid` reports for latent's own models). bench/diffusion/duel.sh
// uses it on latent's and PyTorch's DDPM samples alike.
//
//	go run ./bench/diffusion/fidnpy -samples FILE.npy [-data mnist:test] [-classifier models/digits.model]
//
// FILE.npy holds one image per row in [0, 1], (n, 784) or (n, 28, 28). It
// prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/latent-ml/latent/classifier"
	"github.com/latent-ml/latent/dataset"
)

func main() {
	samples := flag.String("samples", "", "data SPEC of the samples (a .npy file)")
	data := flag.String("data", "mnist:test", "data SPEC of the reference images")
	cls := flag.String("classifier", "models/digits.model", "classifier model file")
	flag.Parse()
	if err := run(*samples, *data, *cls); err != nil {
		fmt.Fprintln(os.Stderr, "fidnpy:", err)
		os.Exit(1)
	}
}

func run(samples, data, cls string) error {
	if samples == "" {
		return fmt.Errorf("-samples: a file is required")
	}
	c, err := classifier.LoadFile(cls)
	if err != nil {
		return fmt.Errorf("-classifier: %w", err)
	}
	s, err := dataset.Load(samples, dataset.Options{})
	if err != nil {
		return fmt.Errorf("-samples: %w", err)
	}
	d, err := dataset.Load(data, dataset.Options{})
	if err != nil {
		return fmt.Errorf("-data: %w", err)
	}
	q, err := c.Quality(context.Background(), s.X, d.X)
	if err != nil {
		return err
	}
	out := map[string]any{"samples": samples, "data": data, "classifier": cls}
	for _, m := range q {
		out[m.Name] = m.Value
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
