package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// FileInfo describes one file of a named data set.
type FileInfo struct {
	// Path is where the file lies under a data folder, e.g.
	// "mnist/train-images-idx3-ubyte.gz". It is also found directly in the
	// folder, and under the data set's name, and gzip-compressed or not.
	Path string
	URL  string // canonical download address
	// SHA256 is the hash of the file as downloaded from URL; ContentSHA256 that
	// of its decompressed content (equal to SHA256 for uncompressed downloads).
	// Load checks ContentSHA256, so a locally (de)compressed copy is accepted.
	SHA256, ContentSHA256 string
	Size                  int64 // bytes as downloaded
}

// Info describes a named data set (see List).
type Info struct {
	Name        string
	Description string
	Splits      []string // the first is the default
	License     string
	Files       []FileInfo
	dirs        []string // folder names the files may lie in
}

const (
	mnistURL   = "https://ossci-datasets.s3.amazonaws.com/mnist/"
	fashionURL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
	bmnistURL  = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
	optURL     = "https://archive.ics.uci.edu/ml/machine-learning-databases/optdigits/"
)

var named = []*Info{
	{
		Name:        "mnist",
		Description: "MNIST handwritten digits, 28x28 grey, 60000 train + 10000 test, labels 0-9 (LeCun, Cortes, Burges)",
		Splits:      []string{"train", "test"},
		License:     "CC BY-SA 3.0 (as commonly stated)",
		dirs:        []string{"mnist", "MNIST"},
		Files: []FileInfo{
			{"mnist/train-images-idx3-ubyte.gz", mnistURL + "train-images-idx3-ubyte.gz",
				"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 9912422},
			{"mnist/train-labels-idx1-ubyte.gz", mnistURL + "train-labels-idx1-ubyte.gz",
				"3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 28881},
			{"mnist/t10k-images-idx3-ubyte.gz", mnistURL + "t10k-images-idx3-ubyte.gz",
				"8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 1648877},
			{"mnist/t10k-labels-idx1-ubyte.gz", mnistURL + "t10k-labels-idx1-ubyte.gz",
				"f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 4542},
		},
	},
	{
		Name:        "fashion-mnist",
		Description: "Fashion-MNIST clothing images, 28x28 grey, 60000 train + 10000 test, 10 classes (Zalando)",
		Splits:      []string{"train", "test"},
		License:     "MIT, Copyright 2017 Zalando SE",
		dirs:        []string{"fashion-mnist", "fashion_mnist", "fashion"},
		Files: []FileInfo{
			{"fashion-mnist/train-images-idx3-ubyte.gz", fashionURL + "train-images-idx3-ubyte.gz",
				"3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", 26421880},
			{"fashion-mnist/train-labels-idx1-ubyte.gz", fashionURL + "train-labels-idx1-ubyte.gz",
				"a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", 29515},
			{"fashion-mnist/t10k-images-idx3-ubyte.gz", fashionURL + "t10k-images-idx3-ubyte.gz",
				"346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", 4422102},
			{"fashion-mnist/t10k-labels-idx1-ubyte.gz", fashionURL + "t10k-labels-idx1-ubyte.gz",
				"67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", 5148},
		},
	},
	{
		Name: "binarized-mnist",
		Description: "Binarized MNIST of Larochelle & Murray (2011), fixed stochastic binarisation, 28x28, " +
			"50000 train + 10000 valid + 10000 test, no labels (test labels derived from MNIST when present)",
		Splits:  []string{"train", "valid", "test"},
		License: "derived from MNIST, under its terms",
		dirs:    []string{"binarized_mnist", "binarized-mnist"},
		Files: []FileInfo{
			{"binarized_mnist/binarized_mnist_train.amat", bmnistURL + "binarized_mnist_train.amat",
				"ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d", "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d", 78400000},
			{"binarized_mnist/binarized_mnist_valid.amat", bmnistURL + "binarized_mnist_valid.amat",
				"1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2", "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2", 15680000},
			{"binarized_mnist/binarized_mnist_test.amat", bmnistURL + "binarized_mnist_test.amat",
				"e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c", "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c", 15680000},
		},
	},
	{
		Name:        "optdigits",
		Description: "UCI optical digits, 8x8 counts 0-16 scaled to [0,1], 3823 train + 1797 test, labels 0-9 (Alpaydin, Kaynak)",
		Splits:      []string{"train", "test"},
		License:     "CC BY 4.0 (UCI)",
		dirs:        []string{"optdigits"},
		Files: []FileInfo{
			{"optdigits/optdigits.tra", optURL + "optdigits.tra",
				"e1b683cc211604fe8fd8c4417e6a69f31380e0c61d4af22e93cc21e9257ffedd", "e1b683cc211604fe8fd8c4417e6a69f31380e0c61d4af22e93cc21e9257ffedd", 563639},
			{"optdigits/optdigits.tes", optURL + "optdigits.tes",
				"6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8", "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8", 264712},
		},
	},
}

// List describes the named data sets that Load and Fetch know.
func List() []Info {
	out := make([]Info, len(named))
	for i, n := range named {
		out[i] = *n
		out[i].Splits = append([]string(nil), n.Splits...)
		out[i].Files = append([]FileInfo(nil), n.Files...)
	}
	return out
}

func lookupNamed(name string) *Info {
	for _, n := range named {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (n *Info) file(base string) FileInfo {
	for _, f := range n.Files {
		if path.Base(f.Path) == base {
			return f
		}
	}
	panic("dataset: no file " + base + " in " + n.Name)
}

// CacheDir returns the download cache, os.UserCacheDir()/latent.
func CacheDir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("dataset: no cache folder: %w", err)
	}
	return filepath.Join(d, "latent"), nil
}

// roots returns the folders searched for files, in order.
func roots(opt Options) []string {
	var r []string
	if opt.DataDir != "" {
		r = append(r, opt.DataDir)
	} else if e := os.Getenv("LATENT_DATA"); e != "" {
		r = append(r, e)
	}
	if c, err := CacheDir(); err == nil {
		r = append(r, c)
	}
	return r
}

// candidates lists the paths where f may lie under root.
func (n *Info) candidates(root string, f FileInfo) []string {
	base := path.Base(f.Path)
	names := []string{base}
	if strings.HasSuffix(base, ".gz") {
		names = append(names, strings.TrimSuffix(base, ".gz"))
	} else {
		names = append(names, base+".gz")
	}
	dirs := append([]string{path.Dir(f.Path)}, n.dirs...)
	dirs = append(dirs, n.Name, "")
	var out []string
	seen := map[string]bool{}
	for _, d := range dirs {
		for _, b := range names {
			p := filepath.Join(root, filepath.FromSlash(d), b)
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// locate finds f under the roots; it returns "" when absent.
func (n *Info) locate(f FileInfo, opt Options) string {
	for _, root := range roots(opt) {
		for _, p := range n.candidates(root, f) {
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// Locate returns the path where file f of the named data set set lies, looking
// where Load looks (opt.DataDir or LATENT_DATA, then the cache; under the
// file's folder, the set's name or directly; gzip-compressed or not), or ""
// when it is absent or set is unknown. It does not check the file's hash.
func Locate(set string, f FileInfo, opt Options) string {
	n := lookupNamed(set)
	if n == nil {
		return ""
	}
	return n.locate(f, opt)
}

// missingError says which files are needed and how to get them.
func (n *Info) missingError(f FileInfo, opt Options) error {
	var looked []string
	for _, r := range roots(opt) {
		looked = append(looked, filepath.Join(r, path.Dir(f.Path)))
	}
	var all []string
	for _, g := range n.Files {
		all = append(all, g.Path)
	}
	return fmt.Errorf("dataset: %s: missing file %s (looked in %s); download it with `latent data fetch %s`, "+
		"or set LATENT_DATA or --data-dir to a folder holding %s (gzip-compressed or not)",
		n.Name, f.Path, strings.Join(looked, ", "), n.Name, strings.Join(all, ", "))
}

// open finds, opens and (when Load is done with it) verifies one file.
func (n *Info) open(base string, opt Options) (*source, FileInfo, error) {
	f := n.file(base)
	p := n.locate(f, opt)
	if p == "" && opt.Download {
		if err := Fetch(n.Name, opt, nil); err != nil {
			return nil, f, err
		}
		p = n.locate(f, opt)
	}
	if p == "" {
		return nil, f, n.missingError(f, opt)
	}
	s, err := openSource(p, displayName(p, f), true)
	if err != nil {
		return nil, f, err
	}
	return s, f, nil
}

// displayName names a found file in errors: its data-folder-relative path when
// it lies where expected, else the full path.
func displayName(p string, f FileInfo) string {
	rel := filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p)))
	if path.Dir(rel) == path.Dir(f.Path) {
		return rel
	}
	return p
}

// finish drains s, checks its content hash against f and closes it.
func finish(s *source, f FileInfo) error {
	defer s.Close()
	if _, err := s.drain(); err != nil {
		return ferr(s.name, "%v", err)
	}
	if got := s.sum(); got != f.ContentSHA256 {
		return ferr(s.name, "SHA-256 of the content is %s, want %s (corrupted or a different file; "+
			"delete it and run `latent data fetch`)", got, f.ContentSHA256)
	}
	return nil
}

// Fetch downloads the files of the named data set that are not already present
// (in opt.DataDir, LATENT_DATA or the cache) into opt.DataDir, or into the
// cache (CacheDir) when opt.DataDir is empty. Each file is written to a
// temporary file, checked against its SHA-256, synced and renamed into place,
// so an interrupted download never leaves a partial file. Progress lines go to
// progress when it is not nil.
func Fetch(name string, opt Options, progress io.Writer) error {
	n := lookupNamed(name)
	if n == nil {
		var names []string
		for _, x := range named {
			names = append(names, x.Name)
		}
		return fmt.Errorf("dataset: fetch: unknown data set %q (known: %s)", name, strings.Join(names, ", "))
	}
	dest := opt.DataDir
	if dest == "" {
		c, err := CacheDir()
		if err != nil {
			return err
		}
		dest = c
	}
	for _, f := range n.Files {
		if p := n.locate(f, opt); p != "" {
			if progress != nil {
				fmt.Fprintf(progress, "%s: present at %s\n", f.Path, p)
			}
			continue
		}
		target := filepath.Join(dest, filepath.FromSlash(f.Path))
		if err := download(f, target, progress); err != nil {
			return err
		}
	}
	return nil
}

var httpClient = &http.Client{Timeout: 30 * time.Minute}

func download(f FileInfo, target string, progress io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("dataset: fetch %s: %w", f.Path, err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "%s: downloading %s (%d bytes)\n", f.Path, f.URL, f.Size)
	}
	resp, err := httpClient.Get(f.URL)
	if err != nil {
		return fmt.Errorf("dataset: fetch %s: %v (no network? copy the file there by hand, or set LATENT_DATA to a folder holding it)", f.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dataset: fetch %s: %s answered %s", f.Path, f.URL, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".part-*")
	if err != nil {
		return fmt.Errorf("dataset: fetch %s: %w", f.Path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	nb, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if err != nil {
		return fmt.Errorf("dataset: fetch %s: download failed after %d bytes: %v", f.Path, nb, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("dataset: fetch %s: SHA-256 of the download is %s, want %s (%d bytes); nothing was kept",
			f.Path, got, f.SHA256, nb)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("dataset: fetch %s: %w", f.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("dataset: fetch %s: %w", f.Path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("dataset: fetch %s: %w", f.Path, err)
	}
	ok = true
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		d.Sync() // make the rename durable; best effort
		d.Close()
	}
	if progress != nil {
		fmt.Fprintf(progress, "%s: ok (%d bytes, SHA-256 verified)\n", f.Path, nb)
	}
	return nil
}
