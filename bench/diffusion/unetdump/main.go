// Command unetdump is the Go half of the same-network check of
// bench/diffusion/run.sh: it builds latent's U-Net (diffusion.NewUNet on 28×28×1
// images), sets every weight at random (the last convolution, which starts at
// zero, included), computes ε̂ for a few random images at steps 1, 500 and 1000
// and the gradients of L = Σ c⊙ε̂ for random c, and writes them for
// unet_torch.py --check, which loads the weights into its own network and
// compares.
//
//	go run ./bench/diffusion/unetdump -out DIR [-channels 32]
//	go run ./bench/diffusion/unetdump -init -out DIR [-channels 32]
//
// DIR/unet.json holds the parameter sizes (in UNet.Params' order), the steps
// and the number of images; DIR/unet.bin the float32 values, little-endian:
// the weights, their gradients, the images x, the cotangents c and ε̂, each
// image as latent stores it (H·W·C, channel fastest).
//
// With -init it writes only the weights of a U-Net as diffusion.NewUNet
// initialises it (He and Glorot draws, the last convolution at zero), in
// DIR/init.json (sizes, channels) and DIR/init.bin, so that unet_torch.py
// --mnist starts from latent's initialisation.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/latent-ml/latent/diffusion"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func main() {
	out := flag.String("out", "", "folder for unet.json and unet.bin")
	ch := flag.Int("channels", 32, "U-Net channels at full resolution (even)")
	initOnly := flag.Bool("init", false, "write only the initial weights (init.json, init.bin)")
	flag.Parse()
	run := run
	if *initOnly {
		run = initWeights
	}
	if err := run(*out, *ch); err != nil {
		fmt.Fprintln(os.Stderr, "unetdump:", err)
		os.Exit(1)
	}
}

func run(out string, ch int) error {
	if out == "" {
		return fmt.Errorf("-out: a folder is required")
	}
	if ch < 2 || ch%2 != 0 {
		return fmt.Errorf("-channels: must be even and at least 2, got %d", ch)
	}
	s := rng.New(5)
	u := diffusion.NewUNet(28, 28, 1, ch, s)
	for _, p := range u.Params() {
		s.FillNormal(p.W, 0, 0.1)
	}
	ts := []int{1, 500, 1000}
	n := len(ts)
	x := tensor.New(n, 784)
	s.FillNormal(x.Data, 0, 1)
	c := tensor.New(n, 784)
	s.FillNormal(c.Data, 0, 1)
	eps := append([]float32(nil), u.Eps(x, ts).Data...) // (n, 28·28·1)
	u.Backward(c)
	var ws, gs []float32
	var sizes []int
	for _, p := range u.Params() {
		ws = append(ws, p.W...)
		gs = append(gs, p.G...)
		sizes = append(sizes, len(p.W))
	}
	f, err := os.Create(filepath.Join(out, "unet.bin"))
	if err != nil {
		return err
	}
	for _, a := range [][]float32{ws, gs, x.Data, c.Data, eps} {
		if err := binary.Write(f, binary.LittleEndian, a); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	b, err := json.Marshal(map[string]any{"sizes": sizes, "t": ts, "n": n, "channels": ch})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "unet.json"), b, 0o644)
}

// initWeights writes the weights of a freshly initialised U-Net.
func initWeights(out string, ch int) error {
	if out == "" {
		return fmt.Errorf("-out: a folder is required")
	}
	if ch < 2 || ch%2 != 0 {
		return fmt.Errorf("-channels: must be even and at least 2, got %d", ch)
	}
	u := diffusion.NewUNet(28, 28, 1, ch, rng.New(7))
	var ws []float32
	var sizes []int
	for _, p := range u.Params() {
		ws = append(ws, p.W...)
		sizes = append(sizes, len(p.W))
	}
	f, err := os.Create(filepath.Join(out, "init.bin"))
	if err != nil {
		return err
	}
	if err := binary.Write(f, binary.LittleEndian, ws); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b, err := json.Marshal(map[string]any{"sizes": sizes, "channels": ch})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "init.json"), b, 0o644)
}
