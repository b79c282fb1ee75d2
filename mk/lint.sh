#!/bin/sh
# mk/lint.sh: the tree's own rules, checked before any test.
#  - The layers of DESIGN.md: the pure maths in lib/crypto/ (olm, megolm,
#    sas, ciphers, pickles, signed JSON) never reaches the I/O layers: a
#    file there may include only headers of lib/crypto/, the primitives
#    util.h, err.h and json.h, and banned.h, and no system header of a
#    network or storage library.  lib/ never includes cmd/.
#  - banned.h (unbounded copies, atoi and friends) is included by every C
#    file of lib/ and cmd/, after its other headers.
#  - The C is formatted as .clang-format says (clang-format 14, Debian 12's):
#    a file that would change is named with the command that fixes it.
# Prints each offence and exits 1; silent and 0 when clean.
set -u
cd "$(dirname "$0")/.."
out=$(
for f in lib/crypto/*.[ch]; do
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*//p' "$f" |
	while read -r inc; do
		case $inc in
		\"util.h\"|\"err.h\"|\"json.h\"|\"banned.h\") ;;
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
for f in lib/*.c lib/crypto/*.c cmd/*.c; do
	last=$(grep -n '^#[[:space:]]*include' "$f" | tail -n 1)
	case $last in
	*'"banned.h"') ;;
	*) echo "$f: banned.h is not its last include" ;;
	esac
done
for f in lib/*.[ch] lib/crypto/*.[ch] cmd/*.[ch]; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 ||
		echo "$f: not formatted; run clang-format -i $f"
done
)
[ -z "$out" ] && exit 0
printf '%s\n' "$out" | sed 's/^/lint: /' >&2
exit 1
