package model

import (
	"math"
	"strings"
	"testing"

	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/tensor"
)

func TestEstimateString(t *testing.T) {
	cases := []struct {
		e    Estimate
		want string
	}{
		{Estimate{LogLik: -3.25, Method: "exact"}, "log p(x) = -3.2500 nats (exact)"},
		{Estimate{LogLik: -86.28, StdErr: 0.04, Method: "ais", Extra: []Metric{{"log_z", 451.25}}},
			"log p(x) ≈ -86.2800 ± 0.0400 nats (ais); log_z 451.2"},
		{Estimate{LogLik: -90, Method: "iwae", Bound: "lower"}, "log p(x) ≥ -90.0000 nats (iwae, a lower bound)"},
		{Estimate{LogLik: -80, Method: "vlb", Bound: "upper", Quantity: "-L_vlb"}, "-L_vlb ≤ -80.0000 nats (vlb, an upper bound)"},
		{Estimate{LogLik: math.NaN(), Method: "none", Extra: []Metric{{"recon", 2.0}}}, "no log-likelihood (none); recon 2"},
	}
	for _, c := range cases {
		if got := c.e.String(); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.e, got, c.want)
		}
	}
	f := Estimate{LogLik: math.Inf(-1), StdErr: 0.5, Method: "ais", N: 7, Extra: []Metric{{"log_z", math.NaN()}}}.Fields()
	if f["log_likelihood"] != nil || f["log_z"] != nil || f["n"] != 7 || f["estimator"] != "ais" || f["log_likelihood_stderr"] != 0.5 {
		t.Errorf("Fields: %v", f)
	}
}

func TestContinueOn(t *testing.T) {
	d := &dataset.Dataset{X: tensor.New(5, 3)}
	s := &Settings{Model: "m", Data: "a", Rows: 4, Dim: 3, Epochs: 2, EpochsDone: 2}
	if _, err := s.ContinueOn("f", "a", d, 0); err == nil || !IsFlagError(err) || !strings.Contains(err.Error(), "trained 2 of 2 epochs") {
		t.Errorf("nothing to do: %v", err)
	}
	switched, err := s.ContinueOn("f", "b", d, 3)
	if err != nil || !switched || s.Data != "b" || s.Rows != 5 || s.Epochs != 3 {
		t.Errorf("other data: %v %v %+v", switched, err, s)
	}
	if _, err := s.ContinueOn("f", "c", &dataset.Dataset{X: tensor.New(5, 4)}, 4); err == nil || !strings.Contains(err.Error(), "rows have 4 values; f was trained on b (5×3)") {
		t.Errorf("width: %v", err)
	}
	s.Converged = true
	if _, err := s.ContinueOn("f", "b", d, 9); err == nil || !strings.Contains(err.Error(), "converged after 2 epochs") {
		t.Errorf("converged: %v", err)
	}
}
