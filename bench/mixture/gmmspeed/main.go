// Command gmmspeed is the Go half of bench/mixture/gmm_speed.py: it fits a Gaussian
// mixture to an .npy data set from initial parameters in a JSON file, for a fixed
// number of EM iterations, and prints one JSON object with the timings.
//
//	go run ./bench/mixture/gmmspeed -x X.npy -init init.json -iters 20 -repeat 3
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/mixture"
	"github.com/latent-ml/latent/tensor"
)

type initFile struct {
	Covariance  string    `json:"covariance"`
	RegCovar    float64   `json:"reg_covar"`
	Weights     []float64 `json:"weights"`
	Means       []float64 `json:"means"`
	Covariances []float64 `json:"covariances"`
}

func main() {
	xPath := flag.String("x", "", "data .npy (n×d float32)")
	initPath := flag.String("init", "", "initial parameters (JSON)")
	iters := flag.Int("iters", 20, "EM iterations")
	repeat := flag.Int("repeat", 3, "timed repetitions (the minimum is reported)")
	flag.Parse()
	if err := run(*xPath, *initPath, *iters, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "gmmspeed:", err)
		os.Exit(1)
	}
}

func run(xPath, initPath string, iters, repeat int) error {
	f, err := os.Open(xPath)
	if err != nil {
		return err
	}
	st, _ := f.Stat()
	arr, _, err := dataset.ReadNPY(f, xPath, st.Size())
	f.Close()
	if err != nil {
		return err
	}
	if len(arr.Shape) != 2 {
		return fmt.Errorf("%s: shape %v, want 2-D", xPath, arr.Shape)
	}
	x := tensor.FromSlice(arr.Shape[0], arr.Shape[1], arr.Data)
	b, err := os.ReadFile(initPath)
	if err != nil {
		return err
	}
	var in initFile
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	ct, err := mixture.ParseCovariance(in.Covariance)
	if err != nil {
		return err
	}
	init, err := mixture.NewGaussianMixture(ct, in.Weights, in.Means, in.Covariances)
	if err != nil {
		return err
	}
	out := map[string]any{"n": x.Rows, "d": x.Cols, "k": init.K, "iters": iters,
		"gomaxprocs": runtime.GOMAXPROCS(0), "gemm_kernel": tensor.GemmKernel()}
	for _, fast := range []bool{false, true} {
		name := "float64"
		if fast {
			name = "fastmath"
		}
		fit := func(n int) (float64, mixture.Result, error) {
			best := -1.0
			var res mixture.Result
			for r := 0; r < repeat; r++ {
				t0 := time.Now()
				_, rr, err := mixture.FitGaussian(x, mixture.GaussianConfig{Components: init.K, Covariance: ct,
					RegCovar: in.RegCovar, Init: init, EM: mixture.EMConfig{MaxIter: n, Tol: -1}, FastMath: fast})
				s := time.Since(t0).Seconds()
				if err != nil {
					return 0, res, err
				}
				if best < 0 || s < best {
					best = s
				}
				res = rr
			}
			return best, res, nil
		}
		t1, _, err := fit(1)
		if err != nil {
			return err
		}
		tn, res, err := fit(iters)
		if err != nil {
			return err
		}
		e := res.History[len(res.History)-2]
		out[name] = map[string]any{"seconds": tn, "seconds_1iter": t1,
			"seconds_per_iter": (tn - t1) / float64(iters-1),
			"lower_bound":      -e.F, "final_log_likelihood": res.LogLikelihood}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
