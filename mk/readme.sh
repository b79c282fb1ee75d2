#!/bin/sh
# The README's list of programs is mx(7)'s, rendered: each program of the
# DESCRIPTION tag list of man/mx.7 and its job, wrapped at 72 columns.
#   readme.sh      print the list
#   readme.sh -u   write it into README, under "The programs"
#   readme.sh -c   exit 1, showing the difference, when README's is not it
set -eu
cd "$(dirname "$0")/.."

list() {
	mandoc -Tascii man/mx.7 | col -bx | awk '
	/^[A-Z]/ { sec = $0; next }
	sec != "DESCRIPTION" { next }
	/^     [a-z][a-z0-9-]*\([0-9]\)( |$)/ {
		n++
		name[n] = $1
		sub(/\(.*/, "", name[n])
		job[n] = $0
		sub(/^ *[^ ]+ */, "", job[n])
		if (length(name[n]) > w)
			w = length(name[n])
		next
	}
	n && /^      / { t = $0; sub(/^ +/, "", t); job[n] = job[n] == "" ? t : job[n] " " t; next }
	n && NF { exit }
	END {
		if (n == 0) {
			print "readme.sh: no programs in mx(7)" > "/dev/stderr"
			exit 1
		}
		for (i = 1; i <= n; i++) {
			line = sprintf("    %-" (w + 4) "s", name[i])
			pad = sprintf("%" (w + 8) "s", "")
			k = split(job[i], word, / +/)
			len = 0
			for (j = 1; j <= k; j++) {
				if (len > 0 && length(line) + 1 + length(word[j]) > 72) {
					print line
					line = pad
					len = 0
				}
				line = line (len > 0 ? " " : "") word[j]
				len++
			}
			print line
		}
	}'
}

# README with its list replaced by the file $1.
replaced() {
	awk -v new="$1" '
	prev == "The programs" && /^-+$/ { print; state = 1; next }
	state == 1 && /^$/ { print; state = 2; next }
	state == 2 && /^ / { next }
	state == 2 {
		while ((getline l < new) > 0)
			print l
		state = 3
	}
	{ prev = $0; print }
	END { if (state != 3) exit 1 }' README
}

tmp=${TMPDIR:-/tmp}/mx-readme.$$
trap 'rm -f "$tmp" "$tmp.new"' EXIT
list >"$tmp"
case ${1:-} in
'') cat "$tmp" ;;
-u) replaced "$tmp" >"$tmp.new" && cat "$tmp.new" >README ;;
-c)
	replaced "$tmp" >"$tmp.new" || {
		echo "readme.sh: no list under \"The programs\" in README" >&2
		exit 1
	}
	diff -u README "$tmp.new" || {
		echo "readme.sh: README's programs are not mx(7)'s:" \
			"run sh mk/readme.sh -u" >&2
		exit 1
	}
	;;
*) echo "usage: readme.sh [-u | -c]" >&2; exit 2 ;;
esac
