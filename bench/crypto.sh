#!/bin/sh
# bench/crypto.sh: build bench/crypto against lib/libmx.a and libolm, run
# it once.  Prints "metric mx_per_s libolm_per_s ratio" lines.  Needs
# `make lib/libmx.a` first (make bench builds it) and libolm-dev.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
mkdir -p "$here/out"
pkgs="libcurl jansson libsodium libedit libcrypto sqlite3 libcmark libmagic olm"
[ -f "$top/lib/libmx.a" ] || make -C "$top" lib/libmx.a >&2
${CC:-cc} -std=c11 -O2 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-I"$top/lib" -I"$top/lib/crypto" $(pkg-config --cflags $pkgs) \
	-o "$here/out/crypto" "$here/crypto.c" "$top/lib/libmx.a" \
	$(pkg-config --libs $pkgs) -lm
exec "$here/out/crypto" "$@"
