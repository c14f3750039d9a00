# pydeps.sh, sourced by the bench scripts: makes sure /usr/bin/python3 has the
# Debian packages the references need (numpy, torch, scikit-learn, threadpoolctl),
# installing the missing ones with apt-get (as root, or through sudo).
#
#   . bench/pydeps.sh; pydeps numpy torch threadpoolctl
#
# and defines REF, the command prefix every reference runs under: OpenBLAS's two
# throttling variables unset in that command alone (full-speed kernels).
REF="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${PYTHON:-/usr/bin/python3}"

pydeps() {
	_missing=
	for _m in "$@"; do
		if ! ${PYTHON:-/usr/bin/python3} -c "import $_m" 2>/dev/null; then
			case $_m in
			sklearn) _missing="$_missing python3-sklearn" ;;
			*) _missing="$_missing python3-$_m" ;;
			esac
		fi
	done
	# Debian's numpy runs on whichever libblas.so.3 the alternatives system points at;
	# without libopenblas0-pthread that is the reference BLAS (netlib), about 30x
	# slower than OpenBLAS (seen on a fresh machine: 6 GFLOP/s against 196). Make sure
	# OpenBLAS is installed, so the reference is the one the figures name.
	if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1 && ! dpkg -s libopenblas0-openmp >/dev/null 2>&1; then
		_missing="$_missing libopenblas0-pthread"
	fi
	if [ -n "$_missing" ]; then
		echo "installing:$_missing" >&2
		_sudo=
		[ "$(id -u)" = 0 ] || _sudo=sudo
		$_sudo apt-get install -y $_missing >&2 || { $_sudo apt-get update >&2 && $_sudo apt-get install -y $_missing >&2; }
	fi
	openblas_check
}

# openblas_check: stops the bench when numpy's BLAS, as threadpoolctl reports it under
# $REF, is not OpenBLAS (a reference on netlib BLAS would make every ratio meaningless).
openblas_check() {
	if ! OPENBLAS_NUM_THREADS=1 $REF -c 'import sys, numpy, threadpoolctl
sys.exit(0 if any(i.get("internal_api") == "openblas" for i in threadpoolctl.threadpool_info()) else 1)'; then
		echo "numpy does not run on OpenBLAS here (threadpoolctl reports no openblas): install libopenblas0-pthread" >&2
		exit 1
	fi
}
