package sweep

import (
	"strings"
	"testing"
)

func parse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("s.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func texts(a Axis) string {
	var s []string
	for _, v := range a.Values {
		s = append(s, v.Text)
	}
	return strings.Join(s, " ")
}

func TestAxes(t *testing.T) {
	f := parse(t, `
steps = ["train rbm --data ising:L={L},T={T} --lr {lr} --act {act} --h {h} --k {k}"]
[axes]
T = { from = 1.5, to = 3.5, n = 9 }
L = [4, 8]
lr = { from = 0.001, to = 0.1, n = 3, log = true }
act = ["relu", "tanh"]
h = { from = 16, to = 64, step = 16 }
k = { from = 0.1, to = 0.35, step = 0.05 }
`)
	want := map[string]string{
		"T":   "1.5 1.75 2 2.25 2.5 2.75 3 3.25 3.5",
		"L":   "4 8",
		"lr":  "0.001 0.01 0.1",
		"act": "relu tanh",
		"h":   "16 32 48 64",
		"k":   "0.1 0.15 0.2 0.25 0.3 0.35",
	}
	if got := strings.Join(f.AxisNames(), " "); got != "T L lr act h k" {
		t.Errorf("axis order %q, want the file's", got)
	}
	for _, a := range f.Axes {
		if got := texts(a); got != want[a.Name] {
			t.Errorf("axis %s = %q, want %q", a.Name, got, want[a.Name])
		}
	}
	if v := f.Axes[0].Values[3]; !v.IsNum || v.Num != 2.25 {
		t.Errorf("T[3] = %+v, want the number 2.25", v)
	}
}

func TestExpandCrossAndZip(t *testing.T) {
	f := parse(t, `
steps = ["train x --a {a} --b {b} --c {c} --out {run}/m --i {index}"]
zip = [["a", "c"]]
[axes]
a = [1, 2, 3]
b = ["x", "y"]
c = [10, 20, 30]
`)
	runs, err := f.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, set := range runs {
		var parts []string
		for _, s := range set {
			parts = append(parts, s.Axis+"="+s.Value.Text)
		}
		got = append(got, strings.Join(parts, ","))
	}
	// a and c move together (3 values), crossed with b (2): 6 runs, a slowest.
	want := []string{"a=1,b=x,c=10", "a=1,b=y,c=10", "a=2,b=x,c=20", "a=2,b=y,c=20", "a=3,b=x,c=30", "a=3,b=y,c=30"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("runs\n%v\nwant\n%v", got, want)
	}
	words, err := f.Steps[0].Command(runs[3], map[string]string{"run": "/s/runs/003", "index": "3", "here": "/s"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(words, " "); got != "train x --a 2 --b y --c 20 --out /s/runs/003/m --i 3" {
		t.Errorf("command %q", got)
	}
}

func TestSplitWords(t *testing.T) {
	w, err := splitWords(`eval  --model "a b.lat" --x 'c "d"' --y "q\"r" e{{f}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"eval", "--model", "a b.lat", "--x", `c "d"`, "--y", `q"r`, "e{{f}}"}
	if strings.Join(w, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", w, want)
	}
	f := parse(t, `steps = ["latent eval --x e{{f}}"]`)
	words, err := f.Steps[0].Command(nil, nil)
	if err != nil || strings.Join(words, " ") != "eval --x e{f}" {
		t.Errorf("literal braces: %q, %v", words, err)
	}
}

// Each bad file fails with one line that names what is wrong.
func TestParseErrors(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"axis naming no placeholder", "steps = [\"train rbm --data ising:T={T}\"]\n[axes]\nT = [1]\nseed = [1, 2]", `axis "seed" appears in no step`},
		{"placeholder with no axis", "steps = [\"train rbm --data ising:T={T} --seed {seed}\"]\n[axes]\nT = [1]", `step 1 uses {seed}, which no axis fills`},
		{"empty axis", "steps = [\"train {T}\"]\n[axes]\nT = []", `axis "T" is empty`},
		{"empty range n", "steps = [\"train {T}\"]\n[axes]\nT = {from = 1, to = 2, n = 0}", `axis "T": n = 0: the range is empty`},
		{"empty range step", "steps = [\"train {T}\"]\n[axes]\nT = {from = 2, to = 1, step = 0.5}", `axis "T": step = 0.5 never gets from 2 to 1`},
		{"no steps", "[axes]\nT = [1]", "no steps"},
		{"unknown key", "steps = [\"train {T}\"]\nstep = 1\n[axes]\nT = [1]", `unknown key "step"`},
		{"unknown slurm key", "steps = [\"train {T}\"]\n[slurm]\nmemory = \"1G\"\n[axes]\nT = [1]", `unknown key "slurm.memory"`},
		{"syntax", "steps = [\"train\"\n", "s.toml: line"},
		{"zip lengths", "steps = [\"train {a} {b}\"]\nzip = [[\"a\", \"b\"]]\n[axes]\na = [1, 2]\nb = [1]", `axis "b" has 1 values but "a" has 2`},
		{"zip unknown", "steps = [\"train {a}\"]\nzip = [[\"a\", \"z\"]]\n[axes]\na = [1, 2]", `names "z", which is not an axis`},
		{"unmatched brace", "steps = [\"train {a\"]\n[axes]\na = [1]", "unmatched {"},
		{"builtin name", "steps = [\"train {run}\"]\n[axes]\nrun = [1]", "builtin placeholder {run}"},
		{"sweep in sweep", "steps = [\"sweep x.toml\"]", "a sweep cannot run a sweep"},
		{"range keys", "steps = [\"train {a}\"]\n[axes]\na = {from = 1, to = 2}", "needs n (how many values) or step"},
		{"log range", "steps = [\"train {a}\"]\n[axes]\na = {from = 0, to = 2, n = 3, log = true}", "log = true needs from and to > 0"},
	}
	for _, c := range cases {
		_, err := Parse("s.toml", []byte(c.src))
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "s.toml: ") {
			t.Errorf("%s: error %q, want one line starting s.toml: and holding %q", c.name, msg, c.want)
		}
	}
}

// FuzzParse: Parse never panics, and a file it accepts expands to runs whose
// commands have every placeholder filled.
func FuzzParse(f *testing.F) {
	f.Add("steps = [\"train rbm --data ising:T={T}\"]\n[axes]\nT = {from = 1.5, to = 3.5, n = 9}")
	f.Add("steps = [[\"eval\", \"--x\", \"{a}{b}\"]]\nzip=[[\"a\",\"b\"]]\n[axes]\na=[1,2]\nb=['x','y']")
	f.Add("steps = [\"train {a}\"]\n[axes]\na = {from = 1, to = 10, step = 0.5}\n[slurm]\ncpus=2")
	f.Add("steps = [\"t {{a}} '{a}'\"]\n[axes]\na = {from = 0.1, to = 10, n = 4, log = true}")
	f.Fuzz(func(t *testing.T, src string) {
		file, err := Parse("f.toml", []byte(src))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		total := 1
		for _, a := range file.Axes {
			total *= len(a.Values)
			if total > 5000 {
				return // a big sweep: Expand works but is slow to fuzz
			}
		}
		runs, err := file.Expand()
		if err != nil {
			return
		}
		builtin := map[string]string{"run": "r", "index": "0", "here": "h"}
		for _, set := range runs {
			for _, s := range file.Steps {
				if _, err := s.Command(set, builtin); err != nil {
					t.Fatalf("accepted file, but a command does not fill: %v", err)
				}
			}
		}
	})
}
