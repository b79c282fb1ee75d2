#!/bin/sh
# mx-keys import of a key-export file of BENCH_KEYS sessions (10000 by
# default; Element's format, 500000 PBKDF2 rounds as Element writes)
# against matrix-js-sdk 36's Rust crypto (Element's engine) importing the
# same file (bench/jsimport.mjs: the file opened as Element does, then
# CryptoApi.importRoomKeysAsJson into its in-memory store), interleaved in
# one run (bench/lib.sh).  Each mx-keys run imports into a fresh copy of a
# logged-in profile, so every session is new to it; the copy is part of
# the time (a few ms).  Prints (bench/run.sh's format):
#   keys-import-10k-wall   wall ms, medians: mx-keys / js
#   keys-import-10k-rss    peak RSS kB, medians: mx-keys / js
#   keys-import-rss-growth peak RSS kB of mx-keys for 10x the sessions /
#                          for the sessions (1.0: memory flat)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
PATH=$top:$PATH
. "$top/bench/lib.sh"
need_deb time
n=${BENCH_KEYS:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/mx-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export MX_DIR=$work/mx
hs=$MX_TEST_HOMESERVER
die() {
	echo "bench/keys.sh: $*" >&2
	exit 1
}

pkgs="libcurl jansson libsodium libedit libcrypto sqlite3 libcmark libmagic"
[ -f "$top/lib/libmx.a" ] || make -C "$top" lib/libmx.a >&2
${CC:-cc} -std=c11 -O2 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	-I"$top/lib" -I"$top/lib/crypto" $(pkg-config --cflags $pkgs) \
	-o "$work/mkexport" "$top/bench/mkexport.c" "$top/lib/libmx.a" \
	$(pkg-config --libs $pkgs) -lm
cache=$(sh "$top/t/peer/provision.sh") || die "no js peer (t/peer/provision.sh)"
cp "$top/bench/jsimport.mjs" "$cache/jsimport-$$.mjs"
trap 'rm -rf "$work" "$cache/jsimport-$$.mjs"' EXIT

echo "bench passphrase" >"$work/pass"
"$work/mkexport" "$n" "$work/pass" >"$work/keys.txt"
"$work/mkexport" "$((n * 10))" "$work/pass" >"$work/keys10.txt"
u=$(python3 "$top/t/synapse/register.py" "$hs" "$MX_TEST_SHARED_SECRET" \
	"keys-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')" benchpw | cut -d' ' -f1)
echo benchpw | mx-keys -q -p base login -u "$u" --homeserver "$hs" \
	--password-stdin >/dev/null
# Both must import every session.
cp -a "$MX_DIR/base" "$MX_DIR/imp"
got=$(mx-keys -p imp import --passphrase-file "$work/pass" "$work/keys.txt")
[ "$got" = "{\"imported\":$n,\"improved\":0,\"skipped\":0}" ] ||
	die "mx-keys import said $got"
got=$(node "$cache/jsimport-$$.mjs" "$work/keys.txt" "$work/pass" 2>/dev/null)
[ "$(printf '%s' "$got" | jq .imported)" -ge $((n - 1)) ] ||
	die "the js import said $got"

export MX_DIR work cache
mx="sh -c 'rm -rf \"\$MX_DIR/imp\" && cp -a \"\$MX_DIR/base\" \"\$MX_DIR/imp\" && exec mx-keys -p imp import --passphrase-file \"\$work/pass\" \"\$work/\$0\" >/dev/null'"
js="node \"\$cache/jsimport-$$.mjs\" \"\$work/keys.txt\" \"\$work/pass\" >/dev/null 2>&1"
BENCH_RUNS=${BENCH_RUNS:-5} compare "$work/wall" mx "$mx keys.txt" js "$js"
report keys-import-10k-wall "$(median "$work/wall" mx)" \
	"$(median "$work/wall" js)" "mx-keys import / js importRoomKeysAsJson, $n sessions, wall ms"
peak "$work/rss" mx "$mx keys.txt" js "$js"
report keys-import-10k-rss "$(median "$work/rss" mx)" \
	"$(median "$work/rss" js)" "mx-keys import / js, $n sessions, peak RSS kB"
peak "$work/rss10" mx10 "$mx keys10.txt" mx "$mx keys.txt"
report keys-import-rss-growth "$(median "$work/rss10" mx10)" \
	"$(median "$work/rss10" mx)" "mx-keys import of $((n * 10)) / of $n sessions, peak RSS kB (1.0: flat)"
