#!/bin/sh
# make bench: every bench/*.sh against the test homeserver started by
# t/with-synapse.  Each prints "METRIC VALUE REFERENCE RATIO" lines, the
# reference measured in the same run as the value (interleaved, so that a
# busy machine slows both alike) and RATIO = VALUE / REFERENCE: compare
# ratios between runs, not the absolute figures.  What a line measures
# follows it after "#".  Everything is collected into bench/out/results.txt;
# a bench that fails makes the whole run fail, after the others ran.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/out
mkdir -p "$out"
echo "# METRIC VALUE REFERENCE RATIO(VALUE/REFERENCE)  # WHAT: wall times are medians in ms, memory the peak RSS of one process in kB, crypto in operations per second" |
	tee "$out/results.txt"
failed=
for b in "$here"/*.sh; do
	case ${b##*/} in run.sh|lib.sh) continue ;; esac
	echo "# == ${b##*/}" | tee -a "$out/results.txt"
	# A pipeline's status is tee's: the bench's own goes through a file.
	{ st=0; sh "$b" || st=$?; echo $st >"$out/status"; } |
		tee -a "$out/results.txt"
	[ "$(cat "$out/status")" = 0 ] || failed="$failed ${b##*/}"
done
rm -f "$out/status"
[ -z "$failed" ] || { echo "bench: failed:$failed" >&2; exit 1; }
