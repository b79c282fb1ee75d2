# Sourced by bench/*.sh.
#
# compare OUT NAME CMD [NAME CMD]...: time the commands interleaved, one run
# of each in turn, the order rotated every turn, for BENCH_RUNS turns (after
# BENCH_WARMUP turns not counted).  A homeserver drifts over a run (its
# database grows, its caches warm, its background work comes and goes); back
# to back blocks of one command, as hyperfine times them, let that drift
# land on whichever command ran in the slow stretch, and showed swings of
# 20% between two identical runs.  Interleaved, both commands see the same
# server.  Each command runs in one bash process (so ${EPOCHREALTIME} may be
# used in it for per-run transaction ids) and is timed there as wall time
# from fork to exit; a command that fails stops the bench.  Writes "NAME
# MEDIAN_MS" per command into OUT, and every sample into OUT.times.
compare() {
	_out=$1
	shift
	BENCH_RUNS=${BENCH_RUNS:-40} BENCH_WARMUP=${BENCH_WARMUP:-2} \
	bash -c '
		set -u
		n=$(($# / 2)) i=0
		while [ $i -lt $n ]; do
			name[i]=$1 cmd[i]=$2
			shift 2
			i=$((i + 1))
		done
		r=0
		while [ $r -lt $((BENCH_RUNS + BENCH_WARMUP)) ]; do
			i=0
			while [ $i -lt $n ]; do
				k=$(((i + r) % n))
				t0=${EPOCHREALTIME/./}
				eval "${cmd[k]}" || {
					echo "bench: failed: ${cmd[k]}" >&2
					exit 1
				}
				t1=${EPOCHREALTIME/./}
				[ $r -lt $BENCH_WARMUP ] ||
					echo "${name[k]} $((t1 - t0))"
				i=$((i + 1))
			done
			r=$((r + 1))
		done' bench "$@" >"$_out.times" || return 1
	sort -k1,1 -k2,2n "$_out.times" | awk '
		{ n[$1]++; t[$1, n[$1]] = $2 }
		END {
			for (c in n) {
				m = n[c]
				if (m % 2) med = t[c, (m + 1) / 2]
				else med = (t[c, m / 2] + t[c, m / 2 + 1]) / 2
				printf "%s %.2f\n", c, med / 1000
			}
		}' >"$_out"
}

# ms OUT NAME: the median of NAME from compare's output.
ms() {
	awk -v n="$2" '$1 == n { print $2 }' "$1"
}

# ratio A B: A / B to three places.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'
}

# rss_kb CMD: the peak resident set of one run of CMD (run by bash), in kB.
rss_kb() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(["bash", "-c", sys.argv[1]], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$1"
}
