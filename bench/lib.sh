# Sourced by bench/*.sh.

# rounds MODE OUT NAME CMD [NAME CMD]...: run the commands interleaved, one
# run of each in turn, the order rotated every turn, for BENCH_RUNS turns
# (after BENCH_WARMUP turns not counted).  A homeserver drifts over a run
# (its database grows, its caches warm, its background work comes and
# goes); back to back blocks of one command, as hyperfine times them, let
# that drift land on whichever command ran in the slow stretch, and showed
# swings of 20% between two identical runs.  Interleaved, both commands see
# the same server.  Each command is evaluated in one bash process shared by
# all runs (so ${EPOCHREALTIME} may be used in it for per-run transaction
# ids, and a variable set by one run is seen by the next; the harness's own
# variables begin with "_"); a command that fails stops the bench.  MODE
# ms: wall time from fork to exit.  MODE kb: the peak resident set of the
# command's process (see peak).  Writes "NAME MEDIAN" per command into OUT
# (ms or kB), and every sample into OUT.times.
rounds() {
	_mode=$1 _out=$2
	shift 2
	BENCH_RUNS=${BENCH_RUNS:-40} BENCH_WARMUP=${BENCH_WARMUP:-2} \
	bash -c '
		set -u
		_mode=$1
		shift
		_n=$(($# / 2)) _i=0
		while [ $_i -lt $_n ]; do
			_name[_i]=$1 _cmd[_i]=$2
			shift 2
			_i=$((_i + 1))
		done
		_f=$(mktemp) || exit 1
		trap "rm -f \"\$_f\"" EXIT
		_r=0
		while [ $_r -lt $((BENCH_RUNS + BENCH_WARMUP)) ]; do
			_i=0
			while [ $_i -lt $_n ]; do
				_k=$(((_i + _r) % _n))
				_t0=${EPOCHREALTIME/./}
				if [ "$_mode" = kb ]; then
					eval "/usr/bin/time -f %M -o \"\$_f\" ${_cmd[_k]}"
				else
					eval "${_cmd[_k]}"
				fi || {
					echo "bench: failed: ${_cmd[_k]}" >&2
					exit 1
				}
				_t1=${EPOCHREALTIME/./}
				if [ $_r -lt $BENCH_WARMUP ]; then
					:
				elif [ "$_mode" = kb ]; then
					echo "${_name[_k]} $(tail -1 "$_f")"
				else
					echo "${_name[_k]} $((_t1 - _t0))"
				fi
				_i=$((_i + 1))
			done
			_r=$((_r + 1))
		done' bench "$_mode" "$@" >"$_out.times" || return 1
	if [ "$_mode" = ms ]; then _div=1000 _fmt=%.2f; else _div=1 _fmt=%.0f; fi
	sort -k1,1 -k2,2n "$_out.times" | awk -v div=$_div -v fmt=$_fmt '
		{ n[$1]++; t[$1, n[$1]] = $2 }
		END {
			for (c in n) {
				m = n[c]
				if (m % 2) med = t[c, (m + 1) / 2]
				else med = (t[c, m / 2] + t[c, m / 2 + 1]) / 2
				printf "%s " fmt "\n", c, med / div
			}
		}' >"$_out"
}

# compare OUT NAME CMD [NAME CMD]...: the median wall time of each command
# in ms (rounds ms).
compare() {
	rounds ms "$@"
}

# peak OUT NAME CMD [NAME CMD]...: the median peak resident set of each
# command in kB, over BENCH_RSS_RUNS interleaved runs (default 5, after one
# not counted).  CMD must be one simple command (redirections allowed, no
# pipe or list): it runs under GNU time, whose %M is the ru_maxrss that
# wait4() gives for that child alone (and what it waited for).  The floor
# is GNU time's own size, which the child has until its exec (about 1 MB:
# `true` shows it).  Not getrusage(RUSAGE_CHILDREN) in a Python or bash
# parent: a child forked from that parent counts the parent's resident
# pages until its exec, so every command read as the parent's size (14 MB
# under Python, even `true`).
peak() {
	(
		BENCH_RUNS=${BENCH_RSS_RUNS:-5} BENCH_WARMUP=1
		rounds kb "$@"
	)
}

# median OUT NAME: the median of NAME from compare's or peak's output.
median() {
	awk -v n="$2" '$1 == n { print $2 }' "$1"
}

# ratio A B: A / B to three places.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'
}

# need_deb PACKAGE...: install the Debian packages that are missing, as
# mk/deps.sh does: with apt-get as root, otherwise print the command to run
# and fail.
need_deb() {
	_missing=
	for _p; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null |
			grep -q 'ok installed' || _missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	_line="apt-get install -y --no-install-recommends$_missing"
	if [ "$(id -u)" != 0 ]; then
		echo "bench: missing packages; run as root: $_line" >&2
		return 1
	fi
	echo "bench: installing$_missing" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $_missing >/dev/null 2>&1 || {
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends $_missing >/dev/null
	}
}

# report METRIC VALUE REFERENCE WHAT: one result line, "METRIC VALUE
# REFERENCE RATIO  # WHAT", RATIO being VALUE / REFERENCE.
report() {
	printf '%s %s %s %s  # %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"
}
