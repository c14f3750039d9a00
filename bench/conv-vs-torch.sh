#!/bin/sh
# conv-vs-torch.sh: nn.Conv2D and nn.ConvTranspose2D against
# torch.nn.functional.conv2d / conv_transpose2d (float32; torch NCHW with its
# default backend, oneDNN where it applies) on DCGAN / small U-Net layers, batch 64
# and 128, forward, weight gradient and full backward, at 1 and 2 threads.
#
# Usage: bench/conv-vs-torch.sh [ROUNDS] [SECONDS]   (defaults 3 and 0.3)
#
# Go: BenchmarkConv in package nn (go test -cpu t); torch: bench/conv_torch.py t,
# run as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3`. The two
# sides alternate A B A B for ROUNDS rounds (whole suite per side and thread count);
# the tables give medians over the rounds of ms per call on the wall clock and of
# CPU-ms per call (process CPU time; on a loaded machine the less noisy one), the
# ratio torch/go (> 1: Go is faster) and Go's GFLOP/s as a fraction of the FMA peak
# (BenchmarkFMAPeak in package tensor, measured once per round, per core).
set -eu
ROUNDS=${1:-3}
SECS=${2:-0.3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/pydeps.sh"
pydeps numpy torch threadpoolctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 go test -c -o "$tmp/nn.test" ./nn && CGO_ENABLED=0 go test -c -o "$tmp/tensor.test" ./tensor)
gokern=$(cd "$tmp" && ./tensor.test -test.run '^TestGemmKernelName$' -test.v 2>/dev/null | sed -n 's/.*kernel: //p' | head -n1)
printf 'go %s, Go kernel: %s; %s\n' "$(go env GOVERSION)" "$gokern" "$($REF "$here/refinfo.py" torch)"
printf 'CPU: %s; start: %s\n' "$(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -n1)" "$(uptime)"
: >"$tmp/res"
for r in $(seq "$ROUNDS"); do
	(cd "$tmp" && ./tensor.test -test.run '^$' -test.bench "^BenchmarkFMAPeak\$/^${gokern}\$" -test.benchtime 0.3s -test.cpu 1) |
		awk '/GFLOP\/cpu-s/ { for (i = 1; i < NF; i++) if ($(i+1) == "GFLOP/cpu-s") print "peak", $i }' >>"$tmp/res"
	for t in 1 2; do
		(cd "$tmp" && ./nn.test -test.run '^$' -test.bench '^BenchmarkConv$' -test.benchtime "${SECS}s" -test.cpu "$t") |
			awk -v t="$t" '/^BenchmarkConv\// {
				name = $1; sub(/^BenchmarkConv\//, "", name); sub(/-[0-9]+$/, "", name)
				for (i = 1; i < NF; i++) { if ($(i+1) == "ns/op") w = $i / 1e6; if ($(i+1) == "cpu-ms/op") c = $i; if ($(i+1) == "GFLOP/cpu-s") g = $i; if ($(i+1) == "allocs/op") a = $i }
				print "go", t, name, w, c, g, a }' >>"$tmp/res"
		OMP_NUM_THREADS=$t $REF "$here/conv_torch.py" "$t" "$SECS" | awk -v t="$t" '{ print "pt", t, $1, $2, $3 }' >>"$tmp/res"
	done
	echo "round $r done: $(uptime)" >&2
done
printf 'end: %s\n' "$(uptime)"
cp "$tmp/res" "${CONV_RAW:-/dev/null}" 2>/dev/null || true
median() { # column -> median of that column of stdin
	awk -v c="$1" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}
peak=$(awk '$1 == "peak" { print $2 }' "$tmp/res" | median 1)
printf 'FMA peak %s GFLOP/cpu-s per core (median of %s rounds)\n' "$peak" "$ROUNDS"
printf '%-34s %3s %9s %9s %6s %9s %9s %6s %8s %6s\n' case thr go_ms pt_ms pt/go go_cpums pt_cpums pt/go go/peak allocs
for name in $(awk '$1 == "go" { print $3 }' "$tmp/res" | awk '!seen[$0]++'); do
	for t in 1 2; do
		gw=$(awk -v t="$t" -v n="$name" '$1 == "go" && $2 == t && $3 == n { print $4 }' "$tmp/res" | median 1)
		gc=$(awk -v t="$t" -v n="$name" '$1 == "go" && $2 == t && $3 == n { print $5 }' "$tmp/res" | median 1)
		gg=$(awk -v t="$t" -v n="$name" '$1 == "go" && $2 == t && $3 == n { print $6 }' "$tmp/res" | median 1)
		ga=$(awk -v t="$t" -v n="$name" '$1 == "go" && $2 == t && $3 == n { print $7 }' "$tmp/res" | median 1)
		pw=$(awk -v t="$t" -v n="$name" '$1 == "pt" && $2 == t && $3 == n { print $4 }' "$tmp/res" | median 1)
		pc=$(awk -v t="$t" -v n="$name" '$1 == "pt" && $2 == t && $3 == n { print $5 }' "$tmp/res" | median 1)
		awk -v n="$name" -v t="$t" -v gw="$gw" -v gc="$gc" -v gg="$gg" -v ga="$ga" -v pw="$pw" -v pc="$pc" -v k="$peak" 'BEGIN {
			printf "%-34s %3d %9.2f %9.2f %6.2f %9.2f %9.2f %6.2f %8.2f %6d\n", n, t, gw, pw, pw / gw, gc, pc, pc / gc, gg / k, ga }'
	done
done
