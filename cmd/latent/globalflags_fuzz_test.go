package main

import (
	"slices"
	"strings"
	"testing"
)

// FuzzGlobalFlags feeds globalFlags command lines (arguments separated by NUL).
// It must not panic; on success what it returns is the input with the global
// flags (and their values) taken out, in order, with none left before a "--",
// and each value it stored is one of the arguments or the text after an "=".
func FuzzGlobalFlags(f *testing.F) {
	for _, s := range []string{
		"train\x00vae\x00--data-dir\x00/d\x00--quiet",
		"--cpuprofile=p.prof\x00eval\x00--model\x00m",
		"-q\x00--\x00--data-dir\x00x",
		"--cpuprofile",
		"--data-dir=\x00inspect",
		"---cpuprofile\x00a\x00--quiet=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		env := &Env{}
		out, err := globalFlags(env, args)
		if err != nil {
			if !isUsage(err) {
				t.Fatalf("%q: error %v is not a usage error", args, err)
			}
			return
		}
		// out is a subsequence of args.
		i := 0
		for _, a := range out {
			for i < len(args) && args[i] != a {
				i++
			}
			if i == len(args) {
				t.Fatalf("%q: returned %q, not a subsequence", args, out)
			}
			i++
		}
		for _, a := range out {
			if a == "--" {
				break
			}
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && (name == "data-dir" || name == "cpuprofile") {
				t.Fatalf("%q: %q left in %q", args, a, out)
			}
		}
		for _, v := range []string{env.DataDir, env.CPUProfile} {
			if v == "" {
				continue
			}
			found := slices.Contains(args, v)
			for _, a := range args {
				if _, after, ok := strings.Cut(a, "="); ok && after == v {
					found = true
				}
			}
			if !found {
				t.Fatalf("%q: stored %q, not among the arguments", args, v)
			}
		}
	})
}
