package main

import (
	"flag"

	"github.com/latent-ml/latent/tensor"
)

// The rbm and grbm families live in package rbm (registered with package model).
// These two helpers were defined here and are still used by common.go and
// family.go; they belong in common.go.

// flagSet reports which flags were given on the command line.
func flagSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func isBinaryMat(x *tensor.Mat) bool {
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Row(i) {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}
