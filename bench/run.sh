#!/bin/sh
# make bench: every bench/*.sh against the test homeserver started by
# t/with-synapse.  Each prints "metric mx reference ratio" lines; all of them
# are collected into bench/out/results.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/out"
: >"$here/out/results.txt"
for b in "$here"/*.sh; do
	case ${b##*/} in run.sh|lib.sh) continue ;; esac
	echo "== ${b##*/}" >&2
	sh "$b" | tee -a "$here/out/results.txt"
done
