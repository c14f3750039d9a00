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
	if [ -n "$_missing" ]; then
		echo "installing:$_missing" >&2
		_sudo=
		[ "$(id -u)" = 0 ] || _sudo=sudo
		$_sudo apt-get install -y $_missing >&2 || { $_sudo apt-get update >&2 && $_sudo apt-get install -y $_missing >&2; }
	fi
}
