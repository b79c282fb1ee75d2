# Sourced by bench/*.sh.  compare OUT NAME CMD [NAME CMD]...: time the
# commands with hyperfine in rounds, the order rotated each round (a server
# that slows down or warms up over a run would otherwise favour whichever
# command goes first); writes "NAME MEDIAN_MS" per command into OUT, the
# median over every run of every round.
compare() {
	_out=$1
	shift
	_rounds=${BENCH_ROUNDS:-4}
	_per=$(( (${BENCH_RUNS:-40} + _rounds - 1) / _rounds ))
	_n=$(($# / 2))
	_r=0
	: >"$_out.times"
	while [ $_r -lt $_rounds ]; do
		_args=
		_i=0
		while [ $_i -lt $_n ]; do
			_k=$(( (_i + _r) % _n ))
			eval "_nm=\${$((2 * _k + 1))} _cm=\${$((2 * _k + 2))}"
			_args="$_args -n '$_nm' '$(printf '%s' "$_cm" | sed "s/'/'\\\\''/g")'"
			_i=$((_i + 1))
		done
		eval "hyperfine --shell=bash --warmup 2 --runs $_per \
			--export-json '$_out.$_r.json' $_args" >"$_out.log" 2>&1 ||
			{ cat "$_out.log" >&2; return 1; }
		jq -r '.results[] | .command as $c | .times[] | "\($c) \(.)"' \
			"$_out.$_r.json" >>"$_out.times"
		_r=$((_r + 1))
	done
	sort -k1,1 -k2,2g "$_out.times" | awk '
		{ n[$1]++; t[$1, n[$1]] = $2 }
		END {
			for (c in n) {
				m = n[c]
				if (m % 2) med = t[c, (m + 1) / 2]
				else med = (t[c, m / 2] + t[c, m / 2 + 1]) / 2
				printf "%s %.2f\n", c, med * 1000
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
