#!/bin/sh
# gemm-vs-numpy.sh: tensor.Gemm against numpy float32 matmul (OpenBLAS) on the
# BenchmarkGemm cases, with 1 and 2 threads, measured back to back case by case.
#
# Usage: bench/gemm-vs-numpy.sh [SECONDS] [REPEATS]   (defaults 1 and 3)
#
# Each figure is the best of REPEATS runs of about SECONDS each (GFLOP/s, 2·M·N·K per
# call). Go uses GOMAXPROCS=t (go test -cpu t); numpy uses OPENBLAS_NUM_THREADS=t.
# LATENT_KERNEL=generic|avx2|avx512 picks the Go micro-kernel. Needs /usr/bin/python3
# with numpy. Timings on a shared machine are noisy: run it on a quiet one.
set -eu
SECONDS_PER_RUN=${1:-1}
REPEATS=${2:-3}
PY=${PYTHON:-/usr/bin/python3}
# This machine sets OPENBLAS_CORETYPE=Haswell and OPENBLAS_L2_SIZE, which hold
# Debian's OpenBLAS (numpy's and torch's) to about half speed: the references here
# run at full speed (latent's Go code reads neither variable).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

(cd "$root" && CGO_ENABLED=0 go test -c -o "$tmp/tensor.test" ./tensor)
blas=$(OPENBLAS_VERBOSE=2 OPENBLAS_NUM_THREADS=1 "$PY" -c 'import numpy as np; a=np.ones((64,64),np.float32); a@a' 2>&1 | sed -n 's/^Core: //p' | head -n1)
printf 'go %s, numpy %s (OpenBLAS core: %s), Go kernel: %s\n' \
	"$(go env GOVERSION)" "$("$PY" -c 'import numpy; print(numpy.__version__)')" "${blas:-unknown}" \
	"$(cd "$tmp" && ./tensor.test -test.run '^TestGemmKernelName$' -test.v 2>/dev/null | sed -n 's/.*kernel: //p' | head -n1)"
printf '%-28s %7s %10s %10s %7s\n' case threads go numpy go/numpy

for t in 1 2; do
	for c in NN_100x784x500 NN_128x784x400 NN_128x400x784 NN_1000x784x500 TN_784x100x500; do
		trans=${c%%_*}
		dims=${c#*_}
		m=${dims%%x*}
		rest=${dims#*x}
		k=${rest%%x*}
		n=${rest#*x}
		gof=$(cd "$tmp" && ./tensor.test -test.run '^$' -test.bench "^BenchmarkGemm\$/^f32_${c}\$" \
			-test.benchtime "${SECONDS_PER_RUN}s" -test.count "$REPEATS" -test.cpu "$t" |
			awk '/GFLOP\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "GFLOP/s" && $i > best) best = $i } END { printf "%.1f", best }')
		npf=$(OPENBLAS_NUM_THREADS=$t "$PY" "$here/gemm_numpy.py" "$trans" "$m" "$k" "$n" "$SECONDS_PER_RUN" "$REPEATS")
		ratio=$(awk -v g="$gof" -v p="$npf" 'BEGIN { if (p > 0) printf "%.2f", g / p; else print "-" }')
		printf '%-28s %7d %10s %10s %7s\n' "f32_$c" "$t" "$gof" "$npf" "$ratio"
	done
done
