package model

import (
	"fmt"
	"math"
	"strings"
)

// JSONFloat returns x, or nil (JSON null) when x is NaN or infinite, which JSON
// cannot hold.
func JSONFloat(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}

// JSONValue is v with non-finite float64s made nil (see JSONFloat).
func JSONValue(v any) any {
	if f, ok := v.(float64); ok {
		return JSONFloat(f)
	}
	return v
}

// Fields returns the estimate as the keys of the CLI contract's eval JSON:
// log_likelihood, estimator, n and, where they apply, log_likelihood_stderr,
// bound, quantity and every Extra metric.
func (e Estimate) Fields() map[string]any {
	res := map[string]any{"n": e.N, "log_likelihood": JSONFloat(e.LogLik), "estimator": e.Method}
	if e.StdErr > 0 {
		res["log_likelihood_stderr"] = JSONFloat(e.StdErr)
	}
	if e.Bound != "" {
		res["bound"] = e.Bound
	}
	if e.Quantity != "" {
		res["quantity"] = e.Quantity
	}
	for _, m := range e.Extra {
		res[m.Name] = JSONValue(m.Value)
	}
	return res
}

// String is the estimate in one line for people, as in
// "log p(x) ≥ -86.2800 ± 0.0400 nats (ais, a lower bound); log_z 451.2".
func (e Estimate) String() string {
	line := fmt.Sprintf("no log-likelihood (%s)", e.Method) // a model without a density (an autoencoder)
	if !math.IsNaN(e.LogLik) {
		line = e.relation()
	}
	var extra []Metric
	for _, m := range e.Extra {
		if _, ok := m.Value.(map[string]any); !ok {
			extra = append(extra, m)
		}
	}
	if len(extra) > 0 {
		line += "; " + FormatMetrics(extra)
	}
	return line
}

// relation is the figure of String: "log p(x) ≥ -86.2800 ± 0.0400 nats (ais, a lower bound)".
func (e Estimate) relation() string {
	rel := "="
	switch {
	case e.Bound == "lower":
		rel = "≥"
	case e.Bound == "upper":
		rel = "≤"
	case e.Method != "exact":
		rel = "≈"
	}
	q := e.Quantity
	if q == "" {
		q = "log p(x)"
	}
	line := fmt.Sprintf("%s %s %.4f", q, rel, e.LogLik)
	if e.StdErr > 0 {
		line += fmt.Sprintf(" ± %.4f", e.StdErr)
	}
	line += fmt.Sprintf(" nats (%s", e.Method)
	if e.Bound != "" {
		article := "a"
		if strings.HasPrefix(e.Bound, "u") {
			article = "an" // an upper bound
		}
		line += ", " + article + " " + e.Bound + " bound"
	}
	return line + ")"
}

// Fields returns the outcome of a training run with settings s as the keys of
// the CLI contract's train JSON (model, data, epochs, seconds,
// seconds_per_epoch, the loss and every metric of the last epoch; test_NAME for
// the Monitor's figures).
func (r Result) Fields(s *Settings) map[string]any {
	out := map[string]any{"model": s.Model, "data": s.Data, "epochs": s.EpochsDone, "epochs_run": r.EpochsRun,
		"seconds": r.Seconds, "seconds_per_epoch": r.SecondsPerEpoch(), "train_seconds": r.TrainSeconds,
		"best_epoch_seconds": r.BestEpochSeconds, "seed": s.Seed, "rows": s.Rows, "converged": r.Converged,
		"loss": JSONFloat(r.Last.Loss)}
	if r.Last.LossName != "" {
		out["loss_name"] = r.Last.LossName
	}
	if s.Binarize != "" {
		out["binarize"] = s.Binarize
	}
	for _, m := range r.Last.Metrics {
		out[m.Name] = JSONValue(m.Value)
	}
	for _, m := range r.Test {
		out["test_"+m.Name] = JSONValue(m.Value)
	}
	if len(r.Pictures) > 0 {
		out["pictures"] = r.Pictures
	}
	return out
}

// Summary is the outcome of a training run with settings s in one line, as in
// "rbm on 60000 rows of mnist after 10 epochs (2 this run, 3.10s per epoch):
// loss 0.0812, ...".
func (r Result) Summary(s *Settings) string {
	name := r.Last.LossName
	if name == "" {
		name = "loss"
	}
	line := fmt.Sprintf("%s on %d rows of %s after %d epochs (%d this run, %.2fs per epoch): %s %.4f",
		s.Model, s.Rows, s.Data, s.EpochsDone, r.EpochsRun, r.SecondsPerEpoch(), name, r.Last.Loss)
	if len(r.Last.Metrics) > 0 {
		line += ", " + FormatMetrics(r.Last.Metrics)
	}
	if len(r.Test) > 0 {
		line += "; test " + FormatMetrics(r.Test)
	}
	if r.Converged {
		line += " (converged)"
	}
	return line
}
