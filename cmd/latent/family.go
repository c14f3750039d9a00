package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/latent-ml/latent/checkpoint"
	"github.com/latent-ml/latent/dataset"
	"github.com/latent-ml/latent/internal/atomicfile"
	"github.com/latent-ml/latent/model"
	"github.com/latent-ml/latent/tensor"
	"github.com/latent-ml/latent/viz"
)

// trainArgs are the flags `latent train` takes for every family.
type trainArgs struct {
	Data, Test, Binarize, Out, Resume, Pictures string
	Report                                      string
	Epochs                                      int
	Seed                                        uint64
	JSON, Force                                 bool
}

func bindTrainArgs(fs *flag.FlagSet, a *trainArgs, epochs int) {
	fs.StringVar(&a.Data, "data", "", "training data SPEC (on --resume: the file's, unless given)")
	fs.StringVar(&a.Test, "test", "", "held-out data SPEC scored after every epoch")
	fs.StringVar(&a.Binarize, "binarize", "", "threshold, stochastic or dynamic (a fresh draw every mini-batch)")
	fs.IntVar(&a.Epochs, "epochs", epochs, "total epochs, counting those of a resumed run (EM: most iterations)")
	fs.Uint64Var(&a.Seed, "seed", 1, "random seed")
	fs.StringVar(&a.Out, "out", "", "model file to write, atomically, after every epoch")
	fs.StringVar(&a.Resume, "resume", "", "model file to continue training from (its settings are kept)")
	fs.StringVar(&a.Pictures, "pictures", "", "folder for the family's pictures after every epoch")
	fs.StringVar(&a.Report, "report", "", "folder for an HTML training report, rewritten after every epoch (latent serve DIR shows it live)")
	fs.BoolVar(&a.JSON, "json", false, "print one JSON object with the results on stdout")
	fs.BoolVar(&a.Force, "force", false, "overwrite an --out file that is not a latent model file")
}

// familyFlags returns the flag set of `latent train NAME`, the driver's
// arguments and the family's config, bound to it.
func familyFlags(fam *model.Family) (*flag.FlagSet, *trainArgs, any) {
	fs := newFlags("train " + fam.Name)
	a := &trainArgs{}
	epochs := fam.Epochs
	if epochs == 0 {
		epochs = 10
	}
	bindTrainArgs(fs, a, epochs)
	cfg := fam.Config()
	model.Bind(fs, cfg)
	return fs, a, cfg
}

// flagUsage lists the flags of fs with their defaults and meaning.
func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(&b, "%-28s %s\n", line, usage)
	})
	return b.String()
}

func trainFamilyUsage(fam *model.Family) string {
	fs, _, _ := familyFlags(fam)
	s := fmt.Sprintf("latent train %s --data SPEC --out FILE [flags]\n\n%s\n", fam.Name, fam.Summary)
	if fam.Doc != "" {
		s += "\n" + strings.TrimSpace(fam.Doc) + "\n"
	}
	return s + "\nFlags:\n" + flagUsage(fs)
}

// cmdTrainFamily runs `latent train NAME` for a registered family.
func cmdTrainFamily(env *Env, fam *model.Family, args []string) error {
	fs, a, cfg := familyFlags(fam)
	if err := parseOnlyFlags(fs, args, "train "+fam.Name); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(env.Stdout, trainFamilyUsage(fam))
			return nil
		}
		return err
	}
	if err := a.check(); err != nil {
		return err
	}
	given := model.GivenFlags(fs)
	var (
		t   model.Trainer
		s   *model.Settings
		d   *dataset.Dataset
		err error
	)
	if a.Resume != "" {
		t, s, d, err = resumeRun(env, fam, a, cfg, given)
	} else {
		t, s, d, err = newRun(env, fam, a, cfg, fs)
	}
	if err != nil {
		return err
	}
	s.Test = a.Test
	if err := checkNotInput("--out", a.Out, a.Data, a.Test); err != nil {
		return err
	}
	test, err := openTest(env, a.Test, s, d.Dim())
	if err != nil {
		return err
	}
	ctx, stop := signalContext(env)
	defer stop()
	opts := model.TrainOptions{Out: a.Out, Test: test, Pictures: a.Pictures}
	rec, err := reportRecorder(a, s, &opts)
	if err != nil {
		return err
	}
	res, err := model.Train(ctx, t, d, s, opts)
	if err != nil {
		return asUsage(err)
	}
	if rec != nil {
		if err := rec.Finish(res); err != nil {
			return err
		}
	}
	return printTrainResult(env, a, s, res)
}

// check checks the driver's flags before any work is done.
func (a *trainArgs) check() error {
	if a.Epochs < 1 {
		return usagef("--epochs: must be >= 1, got %d", a.Epochs)
	}
	if err := checkBinarizeFlag(a.Binarize); err != nil {
		return err
	}
	if err := checkOutFile("--out", a.Out); err != nil {
		return err
	}
	if err := checkOverwrite("--out", a.Out, a.Force); err != nil {
		return err
	}
	if a.Pictures != "" {
		if err := os.MkdirAll(a.Pictures, 0o755); err != nil {
			return fmt.Errorf("--pictures: %w", err)
		}
	}
	return nil
}

// newRun makes a new model of fam on --data, with its settings recorded.
func newRun(env *Env, fam *model.Family, a *trainArgs, cfg any, fs *flag.FlagSet) (model.Trainer, *model.Settings, *dataset.Dataset, error) {
	if err := model.Validate(cfg); err != nil {
		return nil, nil, nil, asUsage(err)
	}
	d, err := openData(env, a.Data, a.Binarize, a.Seed)
	if err != nil {
		return nil, nil, nil, err
	}
	t, s, err := model.NewRun(fam, cfg, d, model.RunOptions{Data: a.Data, Binarize: a.Binarize, Seed: a.Seed,
		Epochs: a.Epochs, Flags: model.FlagValues(fs), Given: model.GivenFlags(fs)})
	return t, s, d, asUsage(err)
}

// resumeRun loads --resume, checks the command line against its settings and
// opens the data it goes on with (the file's, unless --data says otherwise).
func resumeRun(env *Env, fam *model.Family, a *trainArgs, cfg any, given map[string]string) (model.Trainer, *model.Settings, *dataset.Dataset, error) {
	t, s, err := model.Resume(a.Resume, fam, cfg, given)
	if err != nil {
		return nil, nil, nil, asUsage(err)
	}
	if given["data"] == "" {
		a.Data = s.Data
	}
	if given["test"] == "" && s.Test != "" {
		a.Test = s.Test
		progress(env, "train: scoring --test %s after every epoch, as the run being resumed did", s.Test)
	}
	d, err := openData(env, a.Data, s.Binarize, s.Seed)
	if err != nil {
		return nil, nil, nil, err
	}
	old := s.Describe()
	epochs := 0
	if given["epochs"] != "" {
		epochs = a.Epochs
	}
	switched, err := s.ContinueOn(a.Resume, a.Data, d, epochs)
	if switched {
		progress(env, "train: resuming on --data %s (%d×%d); %s was trained on %s, so this run goes on with other data",
			a.Data, d.Len(), d.Dim(), a.Resume, old)
	}
	return t, s, d, asUsage(err)
}

// openTest opens the held-out data of --test, binarised as the training data.
func openTest(env *Env, spec string, s *model.Settings, dim int) (*dataset.Dataset, error) {
	if spec == "" {
		return nil, nil
	}
	test, err := openData(env, spec, s.EvalBinarize(), s.Seed+1)
	if err != nil {
		return nil, fmt.Errorf("--test: %w", err)
	}
	if test.Dim() != dim {
		return nil, fmt.Errorf("--test %s: rows have %d values, the training data %d", spec, test.Dim(), dim)
	}
	return test, nil
}

func printTrainResult(env *Env, a *trainArgs, s *model.Settings, res model.Result) error {
	if !a.JSON {
		fmt.Fprintf(env.Stdout, "%s: %s\n", a.Out, res.Summary(s))
		return nil
	}
	out := res.Fields(s)
	out["out"] = a.Out
	if a.Test != "" {
		out["test"] = a.Test
	}
	return printJSON(env, out)
}

// asUsage makes a model.FlagError a usage error (exit 2).
func asUsage(err error) error {
	if model.IsFlagError(err) {
		return &usageError{err}
	}
	return err
}

func checkBinarizeFlag(b string) error {
	switch b {
	case "", "none", "threshold", "stochastic", "dynamic":
		return nil
	}
	return usagef("--binarize: must be threshold, stochastic or dynamic, got %q", b)
}

// signalContext returns a context cancelled by SIGINT or SIGTERM; a second
// signal ends the process at once.
func signalContext(env *Env) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			progress(env, "latent: %v: stopping after this step (again to stop now); the last saved model stays", sig)
			cancel()
			select {
			case <-ch:
				atomicfile.RemoveInFlight() // a save cut short leaves no temporary file
				os.Exit(130)
			case <-done:
			}
		case <-done:
		}
	}()
	p := newProgress(env)
	ctx = model.WithProgress(ctx, p.model())
	return ctx, func() {
		p.finish()
		signal.Stop(ch)
		close(done)
		cancel()
	}
}

// sameFile reports whether a and b name the same existing file (hard links included).
func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// checkNotInput refuses an output path that is one of the command's inputs.
func checkNotInput(flagName, out string, inputs ...string) error {
	for _, in := range inputs {
		if in != "" && sameFile(out, in) {
			return usagef("%s: %s is also an input of this command (%s); write the output elsewhere", flagName, out, in)
		}
	}
	return nil
}

// checkOverwriteData refuses to replace an existing data file without force.
func checkOverwriteData(flagName, path string, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return usagef("%s: %s exists; refusing to overwrite it (--force overwrites)", flagName, path)
	}
	return nil
}

// checkOverwrite refuses to replace an existing file that is not a latent model
// file unless force is set.
func checkOverwrite(flagName, path string, force bool) error {
	st, err := os.Stat(path)
	if err != nil || force {
		return nil
	}
	if !st.Mode().IsRegular() {
		return usagef("%s: %s exists and is not a regular file", flagName, path)
	}
	if _, err := checkpoint.PeekKind(path); err != nil {
		return usagef("%s: %s exists and is not a latent model file; refusing to overwrite it (--force overwrites)", flagName, path)
	}
	return nil
}

// sampleFlagSet returns the flags of `latent sample` for fam (nil: the common ones).
func sampleFlagSet(fam *model.Family) (*flag.FlagSet, *sampleArgs, *int, any) {
	fs := newFlags("sample")
	a := sampleFlags(fs)
	label := fs.Int("label", -1, "class to condition on (conditional models; an InfoGAN's code; default: cycle through them)")
	fs.BoolVar(&a.Force, "force", false, "overwrite an existing .npy file")
	var fcfg any
	if fam != nil && fam.SampleConfig != nil {
		fcfg = fam.SampleConfig()
		model.Bind(fs, fcfg)
	}
	return fs, a, label, fcfg
}

const sampleUsage = `latent sample --model FILE --n N --out samples.png|samples.npy [flags]

Draw N samples from a model file: a PNG grid when the training data were images
(a scatter of the first two columns for 2-D data), or a float32 .npy array (labels,
when the model drew them, beside it in FILE.labels.npy).
`

const evalUsage = `latent eval --model FILE --data SPEC [flags]

Report the mean log-likelihood in nats per example of SPEC under a model file,
with the family's best estimator: exact, AIS, IWAE or importance sampling, a
bound or an estimate (the output says which), and its standard error. Data are
binarised as in training unless --binarize says otherwise. --json prints one
JSON object with model, data, n, log_likelihood, estimator, seconds and, where
they apply, log_likelihood_stderr, bound, log_z, log_z_stderr, exact_log_z, elbo.
`

// modelFileUsage prints the help of sample or eval: the common flags and, when
// args name a readable --model file, its family's own.
func modelFileUsage(env *Env, cmd string, args []string) {
	var fam *model.Family
	if path, err := modelFlag(args); err == nil {
		if kind, err := checkpoint.PeekKind(path); err == nil {
			fam = model.Lookup(kind)
		}
	}
	var fs *flag.FlagSet
	text := sampleUsage
	if cmd == "eval" {
		fs, _, _, _ = evalFlagSet(fam)
		text = evalUsage
	} else {
		fs, _, _, _ = sampleFlagSet(fam)
	}
	fmt.Fprint(env.Stdout, text)
	if fam != nil {
		fmt.Fprintf(env.Stdout, "\nFlags (with those of a %s model):\n%s", fam.Name, flagUsage(fs))
		return
	}
	fmt.Fprintf(env.Stdout, "\nFlags (a family adds its own: latent %s --model FILE -h lists them):\n%s", cmd, flagUsage(fs))
}

func cmdSampleFamily(env *Env, fam *model.Family, args []string) error {
	fs, a, label, fcfg := sampleFlagSet(fam)
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if ext := strings.ToLower(filepath.Ext(a.Out)); ext == ".npy" {
		if err := checkOverwriteData("--out", a.Out, a.Force); err != nil {
			return err
		}
	}
	if fcfg != nil {
		if err := model.Validate(fcfg); err != nil {
			return asUsage(err)
		}
	}
	if err := checkNotInput("--out", a.Out, a.Model); err != nil {
		return err
	}
	m, s, err := loadModel(a.Model)
	if err != nil {
		return err
	}
	sm, ok := m.(model.Sampler)
	if !ok {
		return fmt.Errorf("sample: %s holds a %s model, which cannot draw samples", a.Model, fam.Name)
	}
	if err := checkMemory("--n", float64(a.N)*float64(m.Dim())*8); err != nil {
		return err
	}
	ctx, stop := signalContext(env)
	defer stop()
	if a.Pictures != "" {
		if err := samplePictures(ctx, env, m, s, a); err != nil {
			return err
		}
	}
	out, err := sm.Sample(ctx, model.SampleOptions{N: a.N, Seed: a.Seed, Label: *label, Family: fcfg})
	if err != nil {
		return asUsage(err)
	}
	h, w, c, img := s.Image()
	if out.Height > 0 {
		h, w, c, img = out.Height, out.Width, max(out.Channels, 1), true
	}
	if !img && strings.EqualFold(filepath.Ext(a.Out), ".png") && out.Dim() != 2 {
		return fmt.Errorf("sample: --out %s: the model's data had no image shape; write .npy", a.Out)
	}
	if err := viz.SaveSamples(a.Out, out.X, out.Labels, h, w, c); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d samples of %s\n", a.Out, out.Len(), a.Model)
	return nil
}

// samplePictures writes the family's pictures of the model m into a.Pictures,
// as the training driver does after the last epoch, with the training data the
// file names (s.Data, binarised as in training) and --seed.
func samplePictures(ctx context.Context, env *Env, m model.Model, s *model.Settings, a *sampleArgs) error {
	pic, ok := m.(model.Picturer)
	if !ok {
		return usagef("--pictures: a %s model has no pictures", m.Kind())
	}
	if err := os.MkdirAll(a.Pictures, 0o755); err != nil {
		return fmt.Errorf("--pictures: %w", err)
	}
	d, err := openData(env, s.Data, s.Binarize, s.Seed)
	if err != nil {
		return fmt.Errorf("--pictures: the training data of %s: %w", a.Model, err)
	}
	paths, err := pic.Pictures(ctx, a.Pictures, d, true, a.Seed)
	if err != nil {
		return fmt.Errorf("--pictures: %w", err)
	}
	for _, p := range paths {
		fmt.Fprintf(env.Stdout, "%s\n", p)
	}
	return nil
}

// loadModel reads a model file of a registered family.
func loadModel(path string) (model.Model, *model.Settings, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, nil, err
	}
	m, s, err := model.Load(f)
	if err != nil {
		return nil, nil, fmt.Errorf("--model %s: %w", path, err)
	}
	return m, s, nil
}

// cmdEvalFamily runs `latent eval` for a registered family.
// evalFlagSet returns the flags of `latent eval` for fam (nil: the common ones).
func evalFlagSet(fam *model.Family) (*flag.FlagSet, *evalArgs, *string, any) {
	fs := newFlags("eval")
	a := evalFlags(fs)
	fs.StringVar(&a.Per, "per-example", "", "also write each example's log-likelihood to this .npy or .csv file")
	fs.StringVar(&a.FID, "fid", "", "classifier model file: also report the FID of samples against --data in its features, and their class fractions")
	fs.IntVar(&a.FIDN, "fid-n", 10000, "samples (and data examples) for --fid")
	fs.BoolVar(&a.SkipLL, "skip-ll", false, "with --fid: skip the log-likelihood")
	var fcfg any
	if fam != nil && fam.EvalConfig != nil {
		fcfg = fam.EvalConfig()
		model.Bind(fs, fcfg)
	}
	if fam != nil && !fam.Needs.Binary && !fam.Quantized && fs.Lookup("dequantize") == nil {
		fs.BoolVar(&a.Dequantize, "dequantize", false, "read the values as 8-bit levels k/255 and score y = (k + u)/256, u ~ U(0, 1) from --seed (as latent compare does on 8-bit data)")
	}
	return fs, a, &a.Per, fcfg
}

func cmdEvalFamily(env *Env, fam *model.Family, args []string) error {
	fs, a, perExample, fcfg := evalFlagSet(fam)
	if err := a.parse(fs, args); err != nil {
		return err
	}
	if fcfg != nil {
		if err := model.Validate(fcfg); err != nil {
			return asUsage(err)
		}
	}
	if err := a.checkOutputs(); err != nil {
		return err
	}
	m, s, err := loadModel(a.Model)
	if err != nil {
		return err
	}
	sc, ok := m.(model.Scorer)
	if !ok && !a.SkipLL {
		return fmt.Errorf("eval: a %s model defines no log-likelihood", fam.Name)
	}
	d, ref, err := evalData(env, a, m, s, fam)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(env)
	defer stop()
	start := time.Now()
	est := model.Estimate{LogLik: math.NaN(), Method: "skipped (--skip-ll)", N: d.Len()}
	if !a.SkipLL {
		sd := d
		if a.Dequantize {
			y, err := dataset.Dequantize(d.X, a.Data, a.Seed)
			if err != nil {
				return fmt.Errorf("--dequantize: %w", err)
			}
			dd := *d
			dd.X = y
			sd = &dd
		}
		if est, err = sc.Score(ctx, sd, model.ScoreOptions{Seed: a.Seed, Family: fcfg, Data: a.Data, DataDir: env.DataDir}); err != nil {
			return asUsage(err)
		}
		if a.Dequantize {
			est.Extra = append(est.Extra, model.Metric{Name: "dequantized", Value: dataset.Dequantization})
			if est.Quantity == "" {
				est.Extra = append(est.Extra, model.Metric{Name: "bits_per_dim", Value: dataset.BitsPerDim8(est.LogLik, d.Dim())})
			}
		}
	}
	if a.FID != "" {
		q, err := sampleQuality(ctx, m, ref, a.FID, a.FIDN, a.Seed)
		if err != nil {
			return err
		}
		est.Extra = append(est.Extra, q...)
	}
	secs := time.Since(start).Seconds()
	if *perExample != "" {
		if err := writePerExample(*perExample, est.PerExample); err != nil {
			return err
		}
	}
	return printEstimate(env, a, fam.Name, est, secs)
}

// checkOutputs checks eval's output flags before any work is done.
func (a *evalArgs) checkOutputs() error {
	if a.Per != "" {
		if ext := strings.ToLower(filepath.Ext(a.Per)); ext != ".npy" && ext != ".csv" {
			return usagef("--per-example: must end in .npy or .csv, got %q", a.Per)
		}
		if err := checkOutFile("--per-example", a.Per); err != nil {
			return err
		}
		if err := checkOverwriteData("--per-example", a.Per, a.Force); err != nil {
			return err
		}
		if err := checkNotInput("--per-example", a.Per, a.Model, a.Data); err != nil {
			return err
		}
	}
	if a.SkipLL && a.FID == "" {
		return usagef("--skip-ll: only with --fid (otherwise there is nothing to report)")
	}
	if a.FIDN < 2 {
		return usagef("--fid-n: must be >= 2, got %d", a.FIDN)
	}
	return nil
}

// evalData opens --data for scoring by m: binarised as in training unless
// --binarize says otherwise, checked against the model's width and needs,
// cut to its first --n rows. ref holds all the rows (the FID's reference).
func evalData(env *Env, a *evalArgs, m model.Model, s *model.Settings, fam *model.Family) (d *dataset.Dataset, ref *tensor.Mat, err error) {
	fromTraining := false
	if a.Binarize == "" && s != nil {
		a.Binarize, fromTraining = s.EvalBinarize(), s.Binarize != ""
	}
	d, err = openData(env, a.Data, "", a.Seed)
	if err != nil {
		return nil, nil, err
	}
	if a.Binarize == "threshold" || a.Binarize == "stochastic" {
		switch {
		case d.Binary || dataset.IsBinary(d.X):
			// Either mode leaves binary data as they are: say so in the results.
			a.Binarize = "none (the data are binary)"
		default:
			if fromTraining {
				progress(env, "eval: binarising %s as in training (--binarize %s%s)", a.Data, a.Binarize,
					map[bool]string{true: ", one fixed draw for a model trained with dynamic binarisation", false: ""}[s.Binarize == "dynamic"])
			}
			if err := dataset.Binarize(d, a.Binarize, a.Seed); err != nil {
				return nil, nil, err
			}
		}
	}
	if d.Dim() != m.Dim() {
		return nil, nil, fmt.Errorf("--data %s: rows have %d values, the model %d", a.Data, d.Dim(), m.Dim())
	}
	ref = d.X
	if a.Limit > 0 && a.Limit < d.Len() {
		d.X = d.X.Slice(0, a.Limit)
		if d.Labels != nil {
			d.Labels = d.Labels[:a.Limit]
		}
	}
	if fam.Needs.Binary && !d.Binary && !dataset.IsBinary(d.X) {
		return nil, nil, fmt.Errorf("--data %s: a %s scores binary data; use --binarize threshold or stochastic", a.Data, fam.Name)
	}
	return d, ref, nil
}

// printEstimate prints an estimate as one JSON object or one line.
func printEstimate(env *Env, a *evalArgs, kind string, est model.Estimate, secs float64) error {
	if a.JSON {
		res := est.Fields()
		res["model"], res["data"], res["seconds"] = kind, a.Data, secs
		if a.Binarize != "" {
			res["binarize"] = a.Binarize
		}
		return printJSON(env, res)
	}
	fmt.Fprintf(env.Stdout, "%s on %s (n=%d): %s; %.1fs\n", kind, a.Data, est.N, est, secs)
	return nil
}

func writePerExample(path string, v []float64) error {
	if v == nil {
		return fmt.Errorf("--per-example: this estimator gives no per-example figures")
	}
	return writeTable(path, floatCol(v), []string{"log_likelihood"})
}

// checkMemory refuses work whose estimated size (bytes) exceeds the memory
// this machine has available, naming the flag.
func checkMemory(flagName string, bytes float64) error {
	return asUsage(model.CheckMemory(strings.TrimLeft(flagName, "-"), bytes))
}

// familyHelp lists the registered families for `latent help`.
func familyHelp() []string {
	var out []string
	for _, f := range model.Families() {
		out = append(out, fmt.Sprintf("%-10s %s", f.Name, f.Summary))
	}
	sort.Strings(out)
	return out
}
