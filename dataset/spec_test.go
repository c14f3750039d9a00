package dataset

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPathsWithColonsAndCommas: an existing file whose name holds ':' or ','
// loads by relative, ./ and absolute path, with and without options.
func TestPathsWithColonsAndCommas(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	npy := npyBytes("<f4", false, "(2, 2)", le32f(1, 2, 3, 4))
	for _, name := range []string{"run:1.npy", "a,b.npy", "x:y,z.npy"} {
		writeFile(t, dir, name, npy)
		abs := filepath.Join(dir, name)
		for _, spec := range []string{name, "./" + name, abs} {
			d, err := Load(spec, Options{})
			if err != nil {
				t.Errorf("%s: %v", spec, err)
				continue
			}
			eqF(t, spec, d.X.Data, []float32{1, 2, 3, 4})
			if d.Name != spec {
				t.Errorf("%s: Name %q", spec, d.Name)
			}
			// Options after the name.
			d, err = Load(spec+":scale=2", Options{})
			if err != nil {
				t.Errorf("%s:scale=2: %v", spec, err)
				continue
			}
			eqF(t, spec+":scale=2", d.X.Data, []float32{0.5, 1, 1.5, 2})
			sp, err := ParseSpec(spec + ",scale=2")
			if err != nil || sp.Name != spec || sp.Opts["scale"] != "2" {
				t.Errorf("ParseSpec(%q): %+v, %v", spec+",scale=2", sp, err)
			}
			if again, err := ParseSpec(sp.String()); err != nil || again.Name != spec {
				t.Errorf("%q does not round-trip: %+v, %v", sp.String(), again, err)
			}
		}
	}
	// A folder of PNG images with a colon in its name.
	if err := os.Mkdir(filepath.Join(dir, "img:set"), 0o755); err != nil {
		t.Fatal(err)
	}
	if sp, err := ParseSpec("img:set:scale=none"); err != nil || sp.Name != "img:set" {
		t.Errorf("folder: %+v, %v", sp, err)
	}
	// A file named like a generator spec is a path when named whole; with more
	// options after it, the generator wins.
	writeFile(t, dir, "bars:3", []byte("1,2\n"))
	if sp, _ := ParseSpec("bars:3"); sp.Name != "bars:3" {
		t.Errorf("bars:3 with a file of that name: %+v", sp)
	}
	if sp, _ := ParseSpec("bars:3,n=5"); sp.Name != "bars" || sp.Arg != "3" {
		t.Errorf("bars:3,n=5: %+v", sp)
	}
	// Missing files still split as before.
	if sp, _ := ParseSpec("nope:1.npy"); sp.Name != "nope" || sp.Arg != "1.npy" {
		t.Errorf("missing file: %+v", sp)
	}
	_, err := ParseSpec("run:1.npy:")
	wantErr(t, err, "nothing after")
}
