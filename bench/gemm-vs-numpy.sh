#!/bin/sh
# gemm-vs-numpy.sh: tensor.Gemm against numpy float32 matmul (Debian's OpenBLAS at
# full speed) on the six BenchmarkGemm cases, with 1 and 2 threads, and both against
# this CPU's measured FMA peak (BenchmarkFMAPeak).
#
# Usage: bench/gemm-vs-numpy.sh [ROUNDS] [SECONDS]   (defaults 5 and 0.5)
#
# The two sides alternate, A B A B, case by case, for ROUNDS rounds; each run lasts
# about SECONDS and gives two figures (2·M·N·K flops per call): GFLOP per wall-second
# and GFLOP per CPU-second of the process (getrusage / time.process_time), which
# time-slicing on a loaded machine does not lower (with 2 threads it is the rate per
# busy core, not the pair's). The tables hold medians over the rounds, go/numpy
# (> 1: Go is faster) and each side as a fraction of the FMA peak measured the same
# way (BenchmarkFMAPeak, every round; for wall figures, the peak of t cores). Go uses
# GOMAXPROCS=t (go test -cpu t); numpy OPENBLAS_NUM_THREADS=t. The reference runs as
# `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3` (see bench/pydeps.sh),
# whose kernel threadpoolctl reports in the header; the load average goes with it.
# LATENT_KERNEL=generic|avx2|avx512 picks the Go micro-kernel.
set -eu
ROUNDS=${1:-5}
SECS=${2:-0.5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/pydeps.sh"
pydeps numpy threadpoolctl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 go test -c -o "$tmp/tensor.test" ./tensor)
gokern=$(cd "$tmp" && ./tensor.test -test.run '^TestGemmKernelName$' -test.v 2>/dev/null | sed -n 's/.*kernel: //p' | head -n1)
printf 'go %s, Go kernel: %s; %s\n' "$(go env GOVERSION)" "$gokern" "$(OPENBLAS_NUM_THREADS=1 $REF "$here/refinfo.py")"
printf 'CPU: %s; start: %s\n' "$(sed -n 's/^model name\t: //p' /proc/cpuinfo | head -n1)" "$(uptime)"

cases="NN_100x784x500 NN_128x784x400 NN_128x400x784 NN_1000x784x500 TN_784x100x500 NT_100x500x784"
gobench() { # pattern threads -> GFLOP/s of one run
	(cd "$tmp" && ./tensor.test -test.run '^$' -test.bench "$1" -test.benchtime "${SECS}s" -test.count 1 -test.cpu "$2") |
		awk '/GFLOP\/s/ { for (i = 1; i < NF; i++) { if ($(i+1) == "GFLOP/s") v = $i; if ($(i+1) == "GFLOP/cpu-s") u = $i } }
			END { printf "%.1f %.1f", v, u }'
}
: >"$tmp/res"
for r in $(seq "$ROUNDS"); do
	for t in 1 2; do
		echo "peak $t $(gobench "^BenchmarkFMAPeak\$/^${gokern}\$" "$t")" >>"$tmp/res"
		for c in $cases; do
			trans=${c%%_*}
			dims=${c#*_}
			m=${dims%%x*}
			rest=${dims#*x}
			k=${rest%%x*}
			n=${rest#*x}
			echo "go $t $c $(gobench "^BenchmarkGemm\$/^f32_${c}\$" "$t")" >>"$tmp/res"
			echo "np $t $c $(OPENBLAS_NUM_THREADS=$t $REF "$here/gemm_numpy.py" "$trans" "$m" "$k" "$n" "$SECS" 1)" >>"$tmp/res"
		done
	done
	echo "round $r done: $(uptime)" >&2
done
printf 'end: %s\n' "$(uptime)"
median() { # column -> median of that column of stdin
	awk -v c="$1" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2] + v[NR/2+1]) / 2 }'
}
for col in 1 2; do
	if [ $col = 1 ]; then echo "GFLOP per wall-second (medians over $ROUNDS rounds)"; else echo "GFLOP per CPU-second (medians)"; fi
	printf '%-22s %3s %8s %8s %8s %8s %8s\n' case thr go numpy go/np go/peak np/peak
	for t in 1 2; do
		peak=$(awk -v t="$t" '$1 == "peak" && $2 == t { print $3, $4 }' "$tmp/res" | median $col)
		printf '%-22s %3d %8s %8s %8s %8s %8s\n' "FMA peak" "$t" "$peak" - - - -
		for c in $cases; do
			g=$(awk -v t="$t" -v c="$c" '$1 == "go" && $2 == t && $3 == c { print $4, $5 }' "$tmp/res" | median $col)
			p=$(awk -v t="$t" -v c="$c" '$1 == "np" && $2 == t && $3 == c { print $4, $5 }' "$tmp/res" | median $col)
			awk -v c="$c" -v t="$t" -v g="$g" -v p="$p" -v k="$peak" 'BEGIN {
				printf "%-22s %3d %8.1f %8.1f %8.2f %8.2f %8.2f\n", "f32_" c, t, g, p, g / p, g / k, p / k }'
		done
	done
done
