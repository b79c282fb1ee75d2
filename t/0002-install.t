#!/bin/sh
# make install puts binaries, man pages and completions under DESTDIR+PREFIX.
. "${0%/*}/lib.sh"

test_expect_success 'make install honours DESTDIR and PREFIX' '
	make -s -C "$MX_SRC" install DESTDIR="$TRASH/root" PREFIX=/opt/mx >log 2>&1 &&
	for p in $(cd "$MX_SRC" && ls cmd/mx-*.c | sed "s|cmd/||; s|\.c\$||"); do
		test -x "root/opt/mx/bin/$p" &&
		test -f "root/opt/mx/share/man/man1/$p.1" &&
		test -f "root/opt/mx/share/bash-completion/completions/$p" &&
		test -f "root/opt/mx/share/zsh/site-functions/_$p" &&
		test -f "root/opt/mx/share/fish/vendor_completions.d/$p.fish" ||
		{ echo "missing files for $p"; exit 1; }
	done &&
	test -f root/opt/mx/share/man/man7/mx.7 &&
	cmp root/opt/mx/share/mx/bridge-patterns "$MX_SRC/data/bridge-patterns"
'
test_expect_success 'installed binaries run' '
	for p in $(cd "$MX_SRC" && ls cmd/mx-*.c | sed "s|cmd/||; s|\.c\$||"); do
		"root/opt/mx/bin/$p" --version >out &&
		grep -qE "^$p [0-9]+\.[0-9]+" out || exit 1
	done
'
test_done
