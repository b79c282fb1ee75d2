#!/bin/sh
# Install the JavaScript peer's packages (package-lock.json, exact
# versions) into a cache outside the work tree, once per lockfile; print the
# cache directory.  Exit 77 when Node is missing or older than 20.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${MX_TEST_CACHE:-/var/cache/mx-test}/jspeer
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || {
	echo "provision: node and npm are needed (Node 20)" >&2
	exit 77
}
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || { echo "provision: Node $major is older than 20" >&2; exit 77; }
mkdir -p "$cache"
stamp=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
(
	flock 9
	if [ "$(cat "$cache/.stamp" 2>/dev/null)" != "$stamp" ]; then
		cp "$here/package.json" "$here/package-lock.json" "$cache/"
		cd "$cache"
		rm -rf node_modules
		npm ci --no-audit --no-fund --loglevel=error >"$cache/npm.log" 2>&1 || {
			sleep 2	# a network hiccup: once more
			npm ci --no-audit --no-fund --loglevel=error >"$cache/npm.log" 2>&1
		} || { tail -5 "$cache/npm.log" >&2; exit 1; }
		echo "$stamp" >"$cache/.stamp"
	fi
) 9>"$cache/.lock"
echo "$cache"
