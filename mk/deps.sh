#!/bin/sh
# Install the Debian packages mx needs when they are missing: as root with
# apt-get, otherwise print the exact command to run.
#   deps.sh build   what `make` needs
#   deps.sh test    what `make check`, `demo`, `bench` and `fuzz` need too
set -eu
build="pkg-config libcurl4-openssl-dev libjansson-dev libsodium-dev
	libedit-dev libssl-dev libsqlite3-dev libcmark-dev libmagic-dev
	liblzma-dev libbz2-dev zlib1g-dev"
test="libolm-dev debootstrap python3 curl jq time clang clang-format
	libclang-rt-14-dev valgrind mandoc"

case "${1:-build}" in
build) want=$build ;;
test) want="$build $test" ;;
*) echo "usage: deps.sh build|test" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "mx: missing packages; run as root: $line" >&2
	exit 1
fi
echo "mx: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; update once, then retry once.
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ sleep 5; apt-get install -y -qq --no-install-recommends $missing; }
}
