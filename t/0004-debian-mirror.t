#!/bin/sh
# t/synapse/debian-mirror.sh: the mirror Synapse's chroot is debootstrapped
# from is the one the host's apt uses (MX_DEBIAN_MIRROR aside), so that the
# project names no mirror of its own.  Sample apt configurations in the
# trash directory, then this host's own.
. "${0%/*}/lib.sh"
unset MX_DEBIAN_MIRROR 2>/dev/null || :

mirror() { sh "$MX_SRC/t/synapse/debian-mirror.sh" "$@"; }

# host NAME: a fresh fake root, NAME/etc/apt with an empty sources.list.d.
host() { rm -rf "$1" && mkdir -p "$1/etc/apt/sources.list.d"; }

# expect ROOT URI: the mirror found in ROOT is URI.
expect() { echo "$2" >want && mirror "$1" >got && test_cmp want got; }

test_expect_success 'one-line format: deb-src, comments, options, foreign suites skipped' '
	host a && cat >a/etc/apt/sources.list <<-\EOF &&
	deb-src http://src.invalid/debian sid main
	# deb http://comment.invalid/debian sid main
	deb [arch=amd64 signed-by=/k.gpg] http://ubuntu.invalid/ubuntu jammy main
	deb http://sec.invalid/debian-security bookworm-security main
	deb [ arch=amd64 ] http://one.invalid/debian/ bookworm main # a comment
	deb http://two.invalid/debian sid main
	EOF
	expect a http://one.invalid/debian
'

test_expect_success 'deb822: the security archive is not the mirror' '
	host b && cat >b/etc/apt/sources.list.d/debian.sources <<-\EOF &&
	Types: deb
	URIs: http://sec.invalid/debian-security
	Suites: bookworm-security
	Components: main

	Types: deb
	# a comment inside a stanza
	URIs: http://main.invalid/debian
	Suites: bookworm bookworm-updates
	Components: main
	EOF
	expect b http://main.invalid/debian
'

test_expect_success 'deb822: Enabled: no, deb-src only, other schemes skipped; fields any case, folded' '
	host c && cat >c/etc/apt/sources.list.d/debian.sources <<-\EOF &&
	Types: deb
	URIs: http://off.invalid/debian
	Suites: sid
	Enabled: no

	Types: deb-src
	URIs: http://src.invalid/debian
	Suites: sid

	types: deb-src deb
	uris: cdrom:[Debian]/ mirror+file:/etc/apt/mirrors.txt
	  https://folded.invalid/debian/
	suites:
	  trixie-backports
	EOF
	expect c https://folded.invalid/debian
'

test_expect_success 'apt order: sources.list, then sources.list.d by name; other names ignored' '
	host d &&
	echo "deb http://ubuntu.invalid/ubuntu noble main" >d/etc/apt/sources.list &&
	echo "deb http://z.invalid/debian sid main" >d/etc/apt/sources.list.d/z.list &&
	echo "deb http://old.invalid/debian sid main" \
		>d/etc/apt/sources.list.d/a.list.save &&
	echo "deb http://off.invalid/debian sid main" \
		>d/etc/apt/sources.list.d/b.list.disabled &&
	printf "Types: deb\nURIs: http://m.invalid/debian\nSuites: unstable\n" \
		>d/etc/apt/sources.list.d/m.sources &&
	expect d http://m.invalid/debian &&
	echo "deb file:/srv/debian stable main" >d/etc/apt/sources.list &&
	expect d file:/srv/debian
'

test_expect_success 'no Debian mirror: exit 1, saying what to set' '
	host e &&
	echo "deb http://ubuntu.invalid/ubuntu noble main" >e/etc/apt/sources.list &&
	test_expect_code 1 mirror e >out 2>err &&
	test ! -s out && grep -q "^debian-mirror: no Debian mirror in .*MX_DEBIAN_MIRROR" err &&
	rm -r e/etc/apt && test_expect_code 1 mirror e 2>err &&
	grep -q "^debian-mirror: no Debian mirror" err
'

test_expect_success 'MX_DEBIAN_MIRROR overrides' '
	echo http://override.invalid/debian >want &&
	MX_DEBIAN_MIRROR=http://override.invalid/debian mirror a >got &&
	test_cmp want got
'

# apt itself says which archives it reads (once its lists were fetched):
# the mirror found must be one of them, and not for a -security suite.
if apt-get indextargets --format '$(REPO_URI) $(RELEASE)' >targets 2>/dev/null &&
	test -s targets; then
	test_expect_success "this host: the mirror is one apt reads" '
		mirror >m && test $(wc -l <m) = 1 &&
		grep -v -- "-security\$" targets | cut -d" " -f1 | sed "s|/*\$||" |
			grep -qxF "$(cat m)"
	'
else
	test_skip "this host: apt has no package lists to compare with"
fi

# The scripts that fetch what the tests need name no host to fetch from:
# apt and npm bring their own configuration, and the npm lockfile keeps no
# "resolved" URL (npm ci then asks the registry npm is configured with).
test_expect_success 'the provisioning scripts name no host to download from' '
	(cd "$MX_SRC" && grep -nE "(https?|ftp)://" .ci/run Makefile mk/*.sh \
		t/with-synapse t/synapse/* t/peer/*.sh t/peer/package.json) |
		grep -vE "://(127\.0\.0\.1|localhost)([:/]|\$)" >hosts;
	cat hosts && test ! -s hosts &&
	jq -r ".. | objects | .resolved? // empty" \
		"$MX_SRC/t/peer/package-lock.json" >resolved &&
	cat resolved && test ! -s resolved
'
test_done
