package diffusion

import (
	"fmt"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/nn"
	"github.com/latent-ml/latent/rng"
)

// Noise holds the settings of the forward process, shared by both families.
type Noise struct {
	T         int     `flag:"timesteps" help:"diffusion steps T" range:"[2,100000]"`
	Schedule  string  `flag:"schedule" help:"noise schedule β_t" choices:"linear|cosine"`
	BetaStart float64 `flag:"beta-start" help:"first β of the linear schedule at T = 1000 (scaled by 1000/T)" range:"(0,1)"`
	BetaEnd   float64 `flag:"beta-end" help:"last β of the linear schedule at T = 1000 (scaled by 1000/T)" range:"(0,1)"`
}

// schedule returns the schedule n names (the linear one by NewLinearScaled: end
// points for T = 1000, scaled by 1000/T), with errors naming its flags.
func (n Noise) schedule() (*Schedule, error) {
	var sc *Schedule
	var err error
	if n.Schedule == "linear" {
		sc, err = NewLinearScaled(n.T, n.BetaStart, n.BetaEnd)
	} else {
		sc, err = NewScheduleRange(n.Schedule, n.T, n.BetaStart, n.BetaEnd)
	}
	switch {
	case err == nil:
		return sc, nil
	case n.T < 2:
		return nil, model.Flagf("timesteps", "%v", err)
	case n.Schedule != "linear" && n.Schedule != "cosine":
		return nil, model.Flagf("schedule", "%v", err)
	case !(n.BetaStart > 0 && n.BetaStart < 1):
		return nil, model.Flagf("beta-start", "%v", err)
	}
	return nil, model.Flagf("beta-end", "%v", err)
}

// trainer is the training state both families keep beside their network: the
// weight average used for samples and the bound, Adam, the stream that draws the
// steps and the noise (and the U-Net's dropout masks when it has dropout), the
// step count and the loss of every epoch.
type trainer struct {
	EMA     *nn.EMA
	opt     *nn.Adam
	Noise   rng.Stream // saved
	Drop    rng.Stream // saved when dropout is on
	dropOn  bool       // the network draws masks from Drop
	net     *UNet      // the U-Net whose dropout train turns on, or nil
	Steps   int        // optimiser steps taken
	History []float64  // loss per epoch
	params  []*nn.Param
}

// init starts training params with Adam at learning rate lr.
func (t *trainer) init(params []*nn.Param, lr float64) {
	t.params = params
	t.EMA = nn.NewEMA(params)
	t.opt = nn.NewAdam(lr)
}

// useDropout gives the U-Net u dropout with probability p > 0, its masks drawn
// from the stream (seed, 2); p = 0 leaves it without.
func (t *trainer) useDropout(u *UNet, p float64, seed uint64) {
	if p <= 0 || u == nil {
		return
	}
	t.Drop = *rng.NewStream(seed, 2)
	t.dropOn, t.net = true, u
	u.SetDropout(p, &t.Drop)
}

// training turns the network's dropout on for a training step, off after it.
func (t *trainer) training(on bool) {
	if t.net != nil {
		t.net.SetTraining(on)
	}
}

// update clips the gradients to norm clip (0: no clipping), takes an Adam step and
// updates the average with decay min(ema, (1+t)/(10+t)) at step t.
func (t *trainer) update(clip, ema float64) {
	if clip > 0 {
		nn.ClipGradNorm(t.params, clip)
	}
	t.opt.Step(t.params)
	s := float64(t.Steps)
	t.EMA.Update(min(ema, (1+s)/(10+s)))
	t.Steps++
}

// withWeights runs f with the weights `latent eval --weights` names: the
// average ("ema", withEMA) or the trained weights as they are ("raw").
func (t *trainer) withWeights(w string, f func()) {
	if w == "raw" {
		f()
		return
	}
	t.withEMA(f)
}

// withEMA runs f with the averaged weights in the network.
func (t *trainer) withEMA(f func()) {
	t.EMA.Swap()
	defer t.EMA.Swap()
	f()
}

// Check implements model.Checker: the network's weights are finite and not huge.
func (t *trainer) Check() error {
	for _, p := range t.params {
		if err := model.CheckFinite("network "+p.Name, 1e8, p.W); err != nil {
			return err
		}
	}
	return nil
}

// parameters returns the number of the network's weights.
func (t *trainer) parameters() int {
	np := 0
	for _, p := range t.params {
		np += len(p.W)
	}
	return np
}

// save writes the average, Adam and the noise stream (after the network).
func (t *trainer) save(f *checkpoint.File) error {
	t.EMA.Save(f, "ema")
	t.opt.Save(f, "adam")
	if err := f.AddState("noise", &t.Noise); err != nil {
		return err
	}
	if t.dropOn {
		return f.AddState("dropout", &t.Drop)
	}
	return nil
}

// load reads what save wrote.
func (t *trainer) load(f *checkpoint.File, kind string) error {
	if err := t.EMA.Load(f, "ema"); err != nil {
		return err
	}
	if err := t.opt.Load(f, "adam", t.params); err != nil {
		return err
	}
	if err := f.State("noise", &t.Noise); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	if t.dropOn {
		if err := f.State("dropout", &t.Drop); err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
	}
	return nil
}
