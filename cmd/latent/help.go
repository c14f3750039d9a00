package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// helpRequest is returned by parseFlags for -h: run prints the command's
// synopsis and its flags, and exits 0.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return flag.ErrHelp.Error() }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// synopses are the first lines of each command's -h, by flag-set name.
var synopses = map[string]string{
	"demo": `latent demo [--out DIR] [--seed S]

Run every built-in demo on generated data (no files or network needed) and write
the pictures and models into DIR.`,
	"inspect": `latent inspect FILE [--json] [--meta]

Show a model file: its family, how it was trained, a summary of the model and its tensors.`,
	"compare": `latent compare FILE... --data SPEC [--json|--markdown] [--html OUT]

Score every model file on the same data with its family's estimator and eval defaults
(the numbers latent eval gives with the same --seed) and print one table: log-likelihood
in nats per example with its standard error, the estimator and its bound, bits per
dimension, the FID of samples in the digit classifier's features (when its input width
is the data's), parameters and epochs. A model that cannot score the data says why in
its row. Continuous densities on 8-bit data are scored at y = (k+u)/256 of the levels k
(--dequantize auto), their bits/dim those of the 8-bit data; --published CSV adds
figures from the literature (match,data,log_likelihood,source) beside the rows.`,
	"serve": `latent serve DIR... [--addr 127.0.0.1:6006]

Serve training report folders (latent train --report DIR), or folders holding them, on
loopback: a runs index whose curves overlay every run, and each run's page, which
refreshes itself while it trains.`,
	"data list":  "latent data list\n\nList the named data sets, their download size and whether their files are present.",
	"data fetch": "latent data fetch NAME\n\nDownload a named data set into the cache (or --data-dir), checked against SHA-256.",
	"data show": `latent data show SPEC --out grid.png [flags]

Draw the first --n examples of SPEC (or a seeded random selection) as a PNG grid with
each label under its image; 2-D data are drawn as a scatter plot coloured by label.`,
	"data fid": `latent data fid SPEC1 SPEC2 --classifier FILE [--n N]

The Fréchet distance between two data sets in a classifier's features (the floor a
model's eval --fid is read against: the test set's FID to the training set).`,
	"data export": `latent data export SPEC --out FILE.npy [flags]

Write any data set, generated ones included, as a float32 NumPy array (n×H×W for
images), its labels as int64 beside it in FILE.labels.npy.`,
}

// printHelp prints the -h of the command whose flag set is fs.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	if s, ok := synopses[fs.Name()]; ok {
		fmt.Fprintln(w, s)
	} else {
		fmt.Fprintf(w, "latent %s\n", fs.Name())
	}
	fmt.Fprintf(w, "\nFlags:\n%s", flagUsage(fs))
	if strings.HasPrefix(fs.Name(), "data ") {
		fmt.Fprintf(w, "\n%s", specHelp)
	}
}

// specHelp documents data SPECs and their options (also `latent help data`).
const specHelp = `SPEC: a named data set with an optional split and options, or a path.
  mnist, mnist:test, fashion-mnist[:test]   28×28 digits / clothes, scaled to [0, 1]
  binarized-mnist[:valid|:test]             Larochelle & Murray's fixed binarisation
  optdigits[:test], sklearn-digits          UCI 8×8 digits
  bars:N[,n=COUNT]                          every bars-and-stripes pattern of an N×N image
  ising:L=16,T=2.27,n=20000                 2-D Ising configurations; options burn, every,
                                            method=metropolis|wolff, seed
  shapes[,n=1000,size=28]                   squares, ellipses and triangles
  PATH                                      .npy, .npz, .csv, .amat, IDX, or a folder of PNGs
                                            (an existing path is always a path, even with : or ,)
  -                                         standard input: CSV, .npy, IDX or amat (format=)
Options are key=value after a comma: PATH,scale=255 or mnist:test,n=1000.
  scale=none|max|minmax|NUMBER   divide the values (default 255 for 8-bit data, else none)
  labels=FILE                    labels for .npy and IDX files (default FILE.labels.npy beside it)
  x=KEY,y=KEY                    the arrays of an .npz file to use as data and labels
  header=true|false|auto         whether a CSV file's first row names its columns (auto: when
                                 none of its fields is a number)
  sep=comma|tab|semicolon|space  a CSV file's separator (default: the most frequent on line 1)
  format=csv|npy|idx|amat        the format of standard input (default: from its first bytes)
  label=COLUMN                   a CSV column (name or 0-based index) holding labels
  n=COUNT, seed=S                generated sets: how many examples to make, and the seed
  rows=LO:HI[:STEP]              any set: only its examples LO to HI-1 (0-based; HI may be left
                                 out), e.g. mnist,rows=0:50000 and mnist,rows=50000: to hold out
                                 a validation split; with STEP every STEP-th of them from LO
                                 (mnist:test,rows=0:10000:50, 200 images across the test set)
  rows=@FILE                     any set: the examples whose 0-based indices FILE lists, in its
                                 order (white space or commas between them, # comments)
--binarize threshold|stochastic|dynamic turns [0, 1] data into binary data: a threshold at
0.5, one fixed random draw, or (training only) a fresh draw for every mini-batch.
`
