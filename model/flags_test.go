package model

import (
	"flag"
	"io"
	"strings"
	"testing"
)

type testConfig struct {
	Hidden int     `flag:"hidden" help:"hidden units" range:"[1,100]"`
	LR     float64 `flag:"lr" help:"learning rate" range:"(0,inf)"`
	Mom    float64 `flag:"momentum" help:"momentum" range:"[0,1)"`
	Method string  `flag:"method" help:"sampler" choices:"cd|pcd"`
	Sizes  []int   `flag:"sizes" help:"layers" range:"[1,9]"`
	Dense  bool    `flag:"dense" help:"dense products"`
	Seed2  uint64  `flag:"seed2" help:"another seed"`
	Epochs int     `flag:"iters" help:"iterations" resume:"free"`
	Plain  float64 `flag:"plain" help:"no range"`
	hidden int     // untagged: left alone
}

func parse(t *testing.T, args ...string) (*testConfig, *flag.FlagSet, error) {
	t.Helper()
	cfg := &testConfig{Hidden: 10, LR: 0.1, Method: "cd", Sizes: []int{4, 4}}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	Bind(fs, cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, fs, err
	}
	return cfg, fs, Validate(cfg)
}

func TestBindDefaultsAndParse(t *testing.T) {
	cfg, fs, err := parse(t, "--hidden", "20", "--sizes", "3, 5", "--dense", "--seed2", "7", "--method", "pcd")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hidden != 20 || cfg.LR != 0.1 || cfg.Method != "pcd" || !cfg.Dense || cfg.Seed2 != 7 ||
		len(cfg.Sizes) != 2 || cfg.Sizes[0] != 3 || cfg.Sizes[1] != 5 {
		t.Fatalf("parsed %+v", cfg)
	}
	vals, given := FlagValues(fs), GivenFlags(fs)
	if vals["lr"] != "0.1" || vals["sizes"] != "3,5" || vals["hidden"] != "20" {
		t.Errorf("FlagValues = %v", vals)
	}
	if _, ok := given["lr"]; ok || given["hidden"] != "20" || len(given) != 5 {
		t.Errorf("GivenFlags = %v", given)
	}
	if f := FreeFlags(cfg); !f["iters"] || len(f) != 1 {
		t.Errorf("FreeFlags = %v", f)
	}
}

func TestValidateNamesFlagBoundAndValue(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--hidden", "0"}, "--hidden: must be in [1,100], got 0"},
		{[]string{"--hidden", "101"}, "--hidden: must be in [1,100], got 101"},
		{[]string{"--lr", "0"}, "--lr: must be in (0,inf), got 0"},
		{[]string{"--lr", "NaN"}, "--lr: must be in (0,inf), got NaN"},
		{[]string{"--lr", "+Inf"}, "--lr: must be in (0,inf), got +Inf"},
		{[]string{"--momentum", "1"}, "--momentum: must be in [0,1), got 1"},
		{[]string{"--method", "gibbs"}, `--method: must be one of cd, pcd, got "gibbs"`},
		{[]string{"--sizes", "3,0"}, "--sizes: must be in [1,9], got 3,0"},
		{[]string{"--plain", "Inf"}, "--plain: must be a finite number, got +Inf"},
	} {
		_, _, err := parse(t, c.args...)
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		if err != nil && !IsFlagError(err) {
			t.Errorf("%v: %v is not a FlagError", c.args, err)
		}
	}
	if _, _, err := parse(t, "--sizes", "3,x"); err == nil || !strings.Contains(err.Error(), "comma-separated") {
		t.Errorf("--sizes 3,x: %v", err)
	}
	if _, _, err := parse(t, "--momentum", "0", "--lr", "1e9", "--hidden", "1"); err != nil {
		t.Errorf("bounds: %v", err)
	}
}

func TestCheckResume(t *testing.T) {
	s := &Settings{Data: "bars:4", Flags: map[string]string{"hidden": "10", "lr": "0.1", "method": "cd"},
		Given: map[string]string{"hidden": "10"}}
	if err := s.CheckResume("m.model", map[string]string{"hidden": "10", "iters": "5"}, map[string]bool{"iters": true}); err != nil {
		t.Errorf("same values: %v", err)
	}
	err := s.CheckResume("m.model", map[string]string{"lr": "0.05"}, nil)
	if err == nil || !strings.Contains(err.Error(), "--lr: m.model was trained with --lr=0.1") || !IsFlagError(err) {
		t.Errorf("changed lr: %v", err)
	}
	if err := s.CheckResume("m.model", map[string]string{"unknown": "1"}, nil); err != nil {
		t.Errorf("a flag the file does not record: %v", err)
	}
}
