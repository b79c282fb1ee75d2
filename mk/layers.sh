#!/bin/sh
# mk/layers.sh: the layer rule of DESIGN.md, checked on the tree.  The pure
# maths in lib/crypto/ (olm, megolm, sas, ciphers, pickles, signed JSON)
# never reaches the I/O layers: a file there may include only headers of
# lib/crypto/ and the primitives util.h, err.h and json.h, and no system
# header of a network or storage library.  lib/ never includes cmd/.
# Prints each offending include and exits 1; silent and 0 when clean.
set -u
cd "$(dirname "$0")/.."
out=$(
for f in lib/crypto/*.[ch]; do
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*//p' "$f" |
	while read -r inc; do
		case $inc in
		\"util.h\"|\"err.h\"|\"json.h\") ;;
		\"*\")
			h=${inc#\"}; h=${h%\"}
			[ -f "lib/crypto/$h" ] ||
				echo "$f: includes $inc, outside the maths layer"
			;;
		\<curl/*|\<sqlite3.h\>|\<magic.h\>|\<cmark.h\>|\<histedit.h\>|\<editline/*)
			echo "$f: includes $inc, an I/O library" ;;
		esac
	done
done
for f in lib/*.[ch] lib/crypto/*.[ch]; do
	grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(cli\|\.\./\)' \
		"$f" | sed 's/$/ (lib must not include cmd\/)/'
done
)
[ -z "$out" ] && exit 0
printf '%s\n' "$out" | sed 's/^/layers: /' >&2
exit 1
