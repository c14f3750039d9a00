package rbm

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/rng"
	"github.com/latent-ml/latent/tensor"
)

func loadFile(path string) (*checkpoint.File, error) { return checkpoint.Load(path) }

func randomDBN(t testing.TB, sizes []int, scale float32, seed uint64) *DBN {
	t.Helper()
	n, err := NewDBN(sizes)
	if err != nil {
		t.Fatal(err)
	}
	for l := range n.RBMs {
		n.RBMs[l] = randomRBM(t, Bernoulli, sizes[l], sizes[l+1], scale, seed+uint64(l))
	}
	return n
}

// bruteDBN returns log p(v, x_1, …, x_{L−1}) for every state of the
// intermediate layers (index: their bits in order, layer 1 first), from the
// definition: the top RBM's marginal by brute force over both its layers, each
// directed layer's Bernoulli probabilities.
func bruteDBN(n *DBN, v []float32) (logJoint []float64, states [][][]float32) {
	top := n.Top()
	nt, nh := top.NumVisible(), top.NumHidden()
	// log p_top(x) over every state of the top RBM's visible layer.
	var all []float64
	logPStar := make([]float64, 1<<nt)
	xs, hs := make([]float32, nt), make([]float32, nh)
	for a := 0; a < 1<<nt; a++ {
		bitsOf(xs, a)
		var terms []float64
		for b := 0; b < 1<<nh; b++ {
			bitsOf(hs, b)
			terms = append(terms, -top.Energy(xs, hs))
		}
		logPStar[a] = logSumExp(terms)
		all = append(all, logPStar[a])
	}
	logZ := logSumExp(all)
	L := len(n.RBMs)
	total := 0
	for _, m := range n.RBMs[:L-1] {
		total += m.NumHidden()
	}
	for s := 0; s < 1<<total; s++ {
		layers := make([][]float32, L-1)
		k := 0
		for l := range layers {
			layers[l] = make([]float32, n.RBMs[l].NumHidden())
			for j := range layers[l] {
				layers[l][j] = float32(s >> k & 1)
				k++
			}
		}
		lj := logPStar[stateIndex(layers[L-2])] - logZ
		below := v
		for l := 0; l < L-1; l++ {
			m := n.RBMs[l]
			for i := range below {
				a := float64(m.B[i])
				for j := range layers[l] {
					a += float64(m.W.At(i, j)) * float64(layers[l][j])
				}
				p := sigmoid64(a)
				if below[i] != 0 {
					lj += math.Log(p)
				} else {
					lj += math.Log(1 - p)
				}
			}
			below = layers[l]
		}
		logJoint = append(logJoint, lj)
		states = append(states, layers)
	}
	return logJoint, states
}

// logQ returns log Q(x_1, …, x_{L−1} | v) of the recognition model (the greedy
// one, or the untied one after Untie).
func logQ(n *DBN, v []float32, layers [][]float32) float64 {
	var s float64
	below := v
	for l, h := range layers {
		m := n.Recognition(l)
		for j := range h {
			a := float64(m.C[j])
			for i := range below {
				a += float64(m.W.At(i, j)) * float64(below[i])
			}
			p := sigmoid64(a)
			if h[j] != 0 {
				s += math.Log(p)
			} else {
				s += math.Log(1 - p)
			}
		}
		below = h
	}
	return s
}

// A DBN's exact log p(v) (the intermediate layers enumerated, the top RBM summed
// in closed form) agrees with the definition summed by brute force; the
// variational bound with Q, summed exactly, is below it by KL(Q ‖ posterior) ≥ 0;
// and LowerBound's Monte Carlo estimate of the bound agrees with the exact bound
// within 4 standard errors.
func TestDBNExactAndBound(t *testing.T) {
	for i, sizes := range [][]int{{6, 4, 3}, {5, 3, 3, 2}} {
		n := randomDBN(t, sizes, 1.0, uint64(20+i))
		lz, err := n.Top().ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		x := allStates(sizes[0])
		exact, err := n.ExactLogProb(nil, x, lz)
		if err != nil {
			t.Fatal(err)
		}
		var total, gap float64
		exactBound := make([]float64, x.Rows)
		for r := 0; r < x.Rows; r++ {
			lj, states := bruteDBN(n, x.Row(r))
			if want := logSumExp(lj); math.Abs(exact[r]-want) > 1e-6 {
				t.Errorf("%v: log p(v=%d) %.7f, brute force %.7f", sizes, r, exact[r], want)
			}
			total += math.Exp(exact[r])
			for k, st := range states {
				lq := logQ(n, x.Row(r), st)
				exactBound[r] += math.Exp(lq) * (lj[k] - lq)
			}
			if exactBound[r] > exact[r]+1e-9 {
				t.Errorf("%v: exact bound %.6f > log p %.6f at v=%d", sizes, exactBound[r], exact[r], r)
			}
			gap += exact[r] - exactBound[r]
		}
		if math.Abs(total-1) > 1e-6 || gap < 0.01 {
			t.Errorf("%v: Σ p(v) = %v, total gap %v", sizes, total, gap)
		}
		b := n.LowerBound(x, 400, 3, lz)
		want := meanOf(exactBound)
		if math.Abs(b.Mean-want) > 4*b.MCStdErr || b.MCStdErr <= 0 || b.MCStdErr > 0.05 {
			t.Errorf("%v: Monte Carlo bound %.4f ± %.4f, exact bound %.4f", sizes, b.Mean, b.MCStdErr, want)
		}
	}
}

// Hinton, Osindero & Teh (2006): an RBM's second layer initialised to its
// transpose (visible bias c, hidden bias b) makes a DBN whose p(v) is the RBM's,
// and whose recognition model is the exact posterior: the bound is then exact.
func TestDBNWithTransposedTopIsTheRBM(t *testing.T) {
	m := randomRBM(t, Bernoulli, 5, 4, 1.0, 30)
	top, _ := New(Bernoulli, 4, 5)
	for i := 0; i < 5; i++ {
		for j := 0; j < 4; j++ {
			top.W.Set(j, i, m.W.At(i, j))
		}
	}
	copy(top.B, m.C)
	copy(top.C, m.B)
	n := &DBN{RBMs: []*RBM{m, top}}
	lzRBM, _ := m.ExactLogZ()
	lzTop, _ := top.ExactLogZ()
	x := allStates(5)
	want := m.LogProb(nil, x, lzRBM)
	got, err := n.ExactLogProb(nil, x, lzTop)
	if err != nil {
		t.Fatal(err)
	}
	for r := range want {
		if math.Abs(got[r]-want[r]) > 1e-5 {
			t.Errorf("v=%d: DBN log p %.7f, RBM %.7f", r, got[r], want[r])
		}
	}
	b := n.LowerBound(x, 2000, 1, lzTop)
	if d := math.Abs(b.Mean - meanOf(want)); d > 4*b.MCStdErr+1e-4 {
		t.Errorf("bound %.5f ± %.5f, exact %.5f", b.Mean, b.MCStdErr, meanOf(want))
	}
}

// Ancestral samples of a DBN follow its exact marginal p(v).
func TestDBNSamplesMatchExactMarginal(t *testing.T) {
	n := randomDBN(t, []int{3, 3, 2}, 1.5, 40)
	lz, _ := n.Top().ExactLogZ()
	x := allStates(3)
	lp, _ := n.ExactLogProb(nil, x, lz)
	const N = 20000
	s, _ := n.Sample(SampleConfig{N: N, Steps: 50, Seed: 9})
	checkHistogram(t, "dbn", s, lp, N)
}

// Greedy training on 3×3 bars and stripes, then Score: the exact log-likelihood
// far above the uniform's −6.24, the bound below it, AIS log Z of the top RBM
// within max(0.1, 3σ) of the exact one; a run interrupted and resumed writes
// the same file as one that was not.
func TestDBNTrainsScoresAndResumes(t *testing.T) {
	d := &dataset.Dataset{X: repeat(barsAndStripes(3), 40), Binary: true, Height: 3, Width: 3, Channels: 1}
	f := DefaultDBNFlags()
	f.Hidden, f.LayerEpochs, f.LR, f.Batch, f.Momentum = []int{10, 6}, 40, 0.1, 20, 0.5
	f.PCD, f.Propagate = false, "samples" // CD-1 on samples of the layer below
	dir := t.TempDir()
	out := filepath.Join(dir, "dbn.lt")
	if err := runFamily(t, "dbn", f, d, "", 80, out, 0); err != nil {
		t.Fatal(err)
	}
	tr := loadTrainer(t, out).(*DBNTrainer)
	test := &dataset.Dataset{X: barsAndStripes(3)}
	est, err := tr.Score(context.Background(), test, model.ScoreOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	exact := extra(t, est, "exact_log_likelihood")
	t.Logf("dbn 9-10-6: exact log-likelihood %.3f, bound %.3f ± %.3f (%s)", exact, est.LogLik, est.StdErr, est.Method)
	if exact < -4.8 || est.LogLik > exact+4*est.StdErr || est.Method != "vlb-exact" || est.Bound != "lower" {
		t.Errorf("exact %.3f, bound %.3f ± %.3f (%s, %s)", exact, est.LogLik, est.StdErr, est.Method, est.Bound)
	}
	ais, err := tr.Score(context.Background(), test, model.ScoreOptions{Seed: 1, Family: &DeepEvalFlags{LogZFlags: LogZFlags{AISChains: 100, AISBetas: 2000}, Samples: 10}})
	if err != nil {
		t.Fatal(err)
	}
	lz, se, ex := extra(t, ais, "log_z"), extra(t, ais, "log_z_stderr"), extra(t, ais, "exact_log_z")
	if math.Abs(lz-ex) > max(0.1, 3*se) || ais.Method != "vlb-ais" {
		t.Errorf("AIS log Z %.4f ± %.4f, exact %.4f (%s)", lz, se, ex, ais.Method)
	}
	// --ais-check: two more runs, over each side from a uniform base, each
	// within max(0.1, 3σ) of the exact log Z; log Z is the largest of the three
	// and the first run's figure is the plain run's.
	chk, err := tr.Score(context.Background(), test, model.ScoreOptions{Seed: 1, Family: &DeepEvalFlags{LogZFlags: LogZFlags{AISChains: 100, AISBetas: 2000, AISCheck: true}, Samples: 10}})
	if err != nil {
		t.Fatal(err)
	}
	first, lzc := extra(t, chk, "log_z_first"), extra(t, chk, "log_z")
	vis, hid := extra(t, chk, "log_z_check_visible"), extra(t, chk, "log_z_check_hidden")
	for _, r := range []struct {
		name   string
		lz, se float64
	}{{"visible side", vis, extra(t, chk, "log_z_check_visible_stderr")}, {"hidden side", hid, extra(t, chk, "log_z_check_hidden_stderr")}} {
		if math.Abs(r.lz-ex) > max(0.1, 3*r.se) {
			t.Errorf("--ais-check, %s: log Z %.4f ± %.4f, exact %.4f", r.name, r.lz, r.se, ex)
		}
	}
	if first != lz || lzc != max(first, vis, hid) || vis == hid || vis == first {
		t.Errorf("--ais-check: log Z %.4f from runs %.4f, %.4f, %.4f (plain run %.4f)", lzc, first, vis, hid, lz)
	}
	if b := transposeBipartite(tr.Net.Top().Bipartite()); b.W.Rows != 6 || b.W.At(3, 7) != tr.Net.Top().W.At(7, 3) || &b.B[0] != &tr.Net.Top().C[0] {
		t.Errorf("transposeBipartite: %d rows, W[3,7] %v against W[7,3] %v", b.W.Rows, b.W.At(3, 7), tr.Net.Top().W.At(7, 3))
	}
	// Resume: 3 epochs (layer 1, layer 1, top) against 1 + 2 and (the upper RBM
	// on probabilities) 2 + 1.
	d = barsData()
	f.LayerEpochs, f.PCD, f.Batch = 2, true, 10
	f.Propagate = "samples"
	for _, first := range []int{1, 2} {
		if first == 2 {
			f.Propagate = "probs"
		}
		whole, part := filepath.Join(dir, "whole.lt"), filepath.Join(dir, "part.lt")
		if err := runFamily(t, "dbn", f, d, "", 3, whole, 0); err != nil {
			t.Fatal(err)
		}
		if err := runFamily(t, "dbn", f, d, "", 3, part, first); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("interrupted run: %v", err)
		}
		resumeFile(t, part, d, 3)
		sameFiles(t, "dbn resumed", whole, part)
	}
}

// The families' other capabilities through the contract: samples of the data's
// shape, pictures, a description, and the same numbers whatever the number of
// workers.
func TestDeepFamiliesCapabilities(t *testing.T) {
	d := barsData()
	for _, name := range []string{"dbn", "dbm"} {
		fl := model.Lookup(name).Config()
		switch f := fl.(type) {
		case *DBNFlags:
			f.Hidden, f.LayerEpochs, f.Batch = []int{6, 4}, 1, 10
		case *DBMFlags:
			f.Hidden, f.PretrainEpochs, f.Batch = []int{6, 4}, 1, 10
		}
		s := model.NewSettings(name, d, "bars", "", 5, 3)
		tr, err := model.Lookup(name).New(fl, d, s)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		r, err := model.Train(context.Background(), tr, d, s, model.TrainOptions{Pictures: dir})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Pictures) != 2 || !strings.HasSuffix(r.Pictures[1], "samples.png") {
			t.Errorf("%s: pictures %v", name, r.Pictures)
		}
		smp, err := tr.(model.Sampler).Sample(context.Background(), model.SampleOptions{N: 7, Seed: 1, Label: -1})
		if err != nil || smp.X.Rows != 7 || smp.X.Cols != 9 || smp.Height != 3 || !isBinary(smp.X) {
			t.Errorf("%s: samples %v, %v", name, smp, err)
		}
		if desc := tr.(model.Describer).Describe(); len(desc) < 3 || desc[0].Value != "9-6-4" {
			t.Errorf("%s: %v", name, desc)
		}
		mon, err := tr.(model.Monitor).Monitor(context.Background(), d)
		if err != nil || len(mon) < 2 {
			t.Errorf("%s: monitor %v, %v", name, mon, err)
		}
		est, err := tr.(model.Scorer).Score(context.Background(), d, model.ScoreOptions{Seed: 2})
		if err != nil || est.N != d.Len() || len(est.PerExample) != d.Len() || est.Bound != "lower" {
			t.Errorf("%s: %+v, %v", name, est, err)
		}
		extra(t, est, "log_z")
		extra(t, est, "exact_log_likelihood")
		// One worker or three: the same file.
		one, three := filepath.Join(dir, "one.lt"), filepath.Join(dir, "three.lt")
		tensor.SetWorkers(3)
		err = runFamily(t, name, fl, d, "", 3, three, 0)
		tensor.SetWorkers(1)
		err2 := runFamily(t, name, fl, d, "", 3, one, 0)
		tensor.SetWorkers(0)
		if err != nil || err2 != nil {
			t.Fatal(err, err2)
		}
		sameFiles(t, name+" 1 vs 3 workers", one, three)
	}
}

// --schedule linear decays each RBM's learning rate to 0 over its own epochs:
// the last update of the bottom RBM (2 epochs) and of the top one (the other 3)
// both run at lr/(their steps), and a run resumed in either phase writes the
// same file as one that was not interrupted.
func TestDBNLinearSchedule(t *testing.T) {
	d := barsData()
	f := DefaultDBNFlags()
	f.Hidden, f.LayerEpochs, f.Batch, f.LR, f.Schedule = []int{6, 4}, 2, 10, 0.05, "linear"
	// After epoch 2 the bottom RBM has made its last update; after epoch 5 the top.
	dir := checkLinearSchedule(t, "dbn", f, d, 5, func(tr model.Trainer) (int, *Trainer) {
		return tr.(*DBNTrainer).phase, tr.(*DBNTrainer).cur
	}, []phaseRate{{2, 0, 2, f.LR}, {5, 1, 3, f.LR}}, []int{1, 3})
	whole := filepath.Join(dir, "whole.lt")
	// The constant schedule really is another run.
	f.Schedule = "constant"
	other := filepath.Join(dir, "constant.lt")
	if err := runFamily(t, "dbn", f, d, "", 5, other, 0); err != nil {
		t.Fatal(err)
	}
	a, err1 := os.ReadFile(whole)
	b, err2 := os.ReadFile(other)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if string(a) == string(b) {
		t.Error("linear and constant schedules wrote the same file")
	}
}

// bottomRBM trains a 6-unit RBM on d for 3 epochs into a file in dir, the
// --bottom of the DBN and DBM tests, and returns the file and the RBM.
func bottomRBM(t *testing.T, d *dataset.Dataset, dir string) (string, *RBM) {
	t.Helper()
	rf := DefaultFlags()
	rf.Hidden, rf.Batch, rf.LR = 6, 10, 0.1
	path := filepath.Join(dir, "bottom.lt")
	if err := runFamily(t, "rbm", rf, d, "", 3, path, 0); err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Load(ck)
	if err != nil {
		t.Fatal(err)
	}
	return path, r
}

// --bottom takes a trained RBM as layer 1: the DBN's bottom is that RBM bit for
// bit, every epoch trains the layer above, and the file resumes without it.
func TestDBNBottom(t *testing.T) {
	d := barsData()
	dir := t.TempDir()
	rbmFile, want := bottomRBM(t, d, dir)
	f := DefaultDBNFlags()
	f.Hidden, f.LayerEpochs, f.Batch, f.Bottom = []int{6, 4}, 50, 10, rbmFile
	whole := filepath.Join(dir, "dbn.lt")
	// One epoch suffices: the layer epochs belong to layers below the bottom's.
	if err := runFamily(t, "dbn", f, d, "", 2, whole, 0); err != nil {
		t.Fatal(err)
	}
	tr := loadTrainer(t, whole).(*DBNTrainer)
	if len(tr.Net.RBMs) != 2 || tr.phase != 1 || tr.cur.step != 2*d.Len()/f.Batch {
		t.Fatalf("%d layers, phase %d, %d steps of the top", len(tr.Net.RBMs), tr.phase, tr.cur.step)
	}
	got := tr.Net.RBMs[0]
	if !equalF32(got.W.Data, want.W.Data) || !equalF32(got.B, want.B) || !equalF32(got.C, want.C) {
		t.Error("the DBN's bottom layer is not the --bottom RBM")
	}
	part := filepath.Join(dir, "part.lt")
	if err := runFamily(t, "dbn", f, d, "", 2, part, 1); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := os.Remove(rbmFile); err != nil {
		t.Fatal(err)
	}
	resumeFile(t, part, d, 2)
	sameFiles(t, "dbn --bottom resumed", whole, part)
	// Bad input names the flag.
	for _, c := range []struct {
		hidden []int
		file   string
	}{{[]int{6, 4}, rbmFile}, {[]int{7, 4}, whole}, {[]int{6}, whole}} {
		f.Hidden, f.Bottom = c.hidden, c.file
		s := model.NewSettings("dbn", d, "test", "", 77, 2)
		if _, err := model.Lookup("dbn").New(f, d, s); err == nil || !strings.Contains(err.Error(), "--bottom") {
			t.Errorf("--hidden %v --bottom %s: %v", c.hidden, c.file, err)
		}
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// phaseRate is what checkLinearSchedule expects after an epoch: the phase in
// training, the epochs that phase runs and its base learning rate.
type phaseRate struct {
	epoch, phase, phaseEpochs int
	lr                        float64
}

// checkLinearSchedule trains family name with flags f on d for the given epochs
// and checks, after each epoch of want, that the phase's trainer (from state) is
// want's phase, has made phaseEpochs·steps updates and made the last at
// lr/(its updates); then that runs interrupted after each of cuts epochs and
// resumed write the same file as the whole run, which it leaves in the
// returned folder as whole.lt.
func checkLinearSchedule(t *testing.T, name string, f any, d *dataset.Dataset, epochs int, state func(model.Trainer) (int, *Trainer), want []phaseRate, cuts []int) string {
	t.Helper()
	s := model.NewSettings(name, d, "test", "", 77, epochs)
	tr, err := model.Lookup(name).New(f, d, s)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		phase, step int
		lr          float64
	}
	var log []seen
	ctx := model.WithProgress(context.Background(), model.Progress{Log: func(string) {
		p, cur := state(tr)
		log = append(log, seen{p, cur.step, cur.lrCur})
	}})
	if _, err := model.Train(ctx, tr, d, s, model.TrainOptions{}); err != nil {
		t.Fatal(err)
	}
	_, cur := state(tr)
	steps := (d.Len() + cur.cfg.BatchSize - 1) / cur.cfg.BatchSize
	for _, c := range want {
		if len(log) < c.epoch {
			t.Fatalf("%s: %d progress lines, want at least %d", name, len(log), c.epoch)
		}
		got, total := log[c.epoch-1], c.phaseEpochs*steps
		if w := c.lr / float64(total); got.phase != c.phase || got.step != total || math.Abs(got.lr-w) > 1e-12*c.lr {
			t.Errorf("%s after epoch %d: phase %d after %d steps, last lr %g; want phase %d, %d steps, lr %g", name, c.epoch, got.phase, got.step, got.lr, c.phase, total, w)
		}
	}
	dir := t.TempDir()
	whole, part := filepath.Join(dir, "whole.lt"), filepath.Join(dir, "part.lt")
	if err := runFamily(t, name, f, d, "", epochs, whole, 0); err != nil {
		t.Fatal(err)
	}
	for _, first := range cuts {
		if err := runFamily(t, name, f, d, "", epochs, part, first); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Fatalf("%s: interrupted run: %v", name, err)
		}
		resumeFile(t, part, d, epochs)
		sameFiles(t, name+" --schedule linear resumed", whole, part)
	}
	return dir
}

// --up-init transpose: the RBM above starts as the one below turned upside
// down, so the DBN's exact log p(v) is the lower RBM's own, to rounding when the
// extra hidden units have zero weights, and within 0.02 nats with the small
// random weights they start with (2 units here); a random start is far below.
// An RBM above with fewer hidden units than the one below has visible units is
// an error naming --up-init.
func TestDBNUpsideDownInit(t *testing.T) {
	bottom := randomRBM(t, Bernoulli, 7, 5, 1.5, 3)
	x := barsAndStripes(3).Slice(0, 10)
	x = &tensor.Mat{Rows: 10, Cols: 7, Stride: x.Stride, Data: x.Data} // 7 of the 9 pixels
	lzB, err := bottom.ExactLogZ()
	if err != nil {
		t.Fatal(err)
	}
	want := bottom.FreeEnergy(nil, x)
	h1 := tensor.New(20, 5)
	rng.New(4).FillUniform(h1.Data)
	for _, c := range []struct {
		name   string
		zero   bool
		random bool
		tol    float64
	}{{"zero extra weights", true, false, 1e-4}, {"as initialised", false, false, 0.02}, {"random start", false, true, 0}} {
		top, _ := New(Bernoulli, 5, 9)
		if err := top.InitFromData(h1, rng.New(5)); err != nil {
			t.Fatal(err)
		}
		if !c.random {
			if err := upsideDown(top, bottom); err != nil {
				t.Fatal(err)
			}
		}
		if c.zero {
			for i := 0; i < 5; i++ {
				for j := 7; j < 9; j++ {
					top.W.Set(i, j, 0)
				}
			}
		}
		lzT, err := top.ExactLogZ()
		if err != nil {
			t.Fatal(err)
		}
		n := &DBN{RBMs: []*RBM{bottom, top}}
		got, err := n.ExactLogProb(nil, x, lzT)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for r := range got {
			worst = max(worst, math.Abs(got[r]-(-want[r]-lzB)))
		}
		if c.random {
			if worst < 0.5 {
				t.Errorf("%s: the DBN's log p(v) within %.3f of the RBM's; the check would not tell", c.name, worst)
			}
			continue
		}
		if worst > c.tol {
			t.Errorf("%s: DBN log p(v) off the lower RBM's by up to %.5f (tolerance %g)", c.name, worst, c.tol)
		}
	}
	top, _ := New(Bernoulli, 5, 6)
	if err := upsideDown(top, bottom); err == nil || !strings.Contains(err.Error(), "--up-init") {
		t.Errorf("6 hidden units above a 7×5 RBM: %v", err)
	}
}
