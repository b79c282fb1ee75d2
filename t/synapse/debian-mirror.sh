#!/bin/sh
# Print the Debian mirror to debootstrap from: $MX_DEBIAN_MIRROR when set,
# else the one this host's apt already uses, found as apt finds its
# sources: etc/apt/sources.list, then the *.list (one-line format) and
# *.sources (deb822) files of etc/apt/sources.list.d in C-locale order.
# The first "deb" entry whose suite is of Debian's main archive wins: a
# codename or alias, maybe with -updates, -backports or -proposed-updates
# (not -security: that is another archive), over http, https or file.
#   debian-mirror.sh [ROOT]    read ROOT/etc/apt (default /etc/apt)
# Exits 1, saying what to do, when there is none.
set -eu
if [ -n "${MX_DEBIAN_MIRROR:-}" ]; then
	echo "$MX_DEBIAN_MIRROR"
	exit 0
fi
LC_ALL=C
export LC_ALL
etc=${1:-}
etc=${etc%/}/etc/apt
set --
[ -f "$etc/sources.list" ] && set -- "$etc/sources.list"
for f in "$etc"/sources.list.d/*; do
	case ${f##*/} in
	*[!A-Za-z0-9_.-]*) ;;	# apt ignores such names
	*.list | *.sources) [ -f "$f" ] && set -- "$@" "$f" ;;
	esac
done
[ $# -gt 0 ] && awk '
function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }
function debian(s) {
	sub(/-(updates|backports|backports-sloppy|proposed-updates)$/, "", s)
	return s ~ /^(sid|unstable|testing|stable|oldstable|oldoldstable|experimental|squeeze|wheezy|jessie|stretch|buster|bullseye|bookworm|trixie|forky|duke)$/
}
# The first URI of uris (blank-separated) that debootstrap can fetch from,
# when one of suites is Debian: printed, and the search ends.
function pick(uris, suites,   u, s, nu, ns, i, j) {
	nu = split(trim(uris), u, /[ \t]+/)
	ns = split(trim(suites), s, /[ \t]+/)
	for (j = 1; j <= ns; j++) {
		if (!debian(s[j]))
			continue
		for (i = 1; i <= nu; i++) {
			if (u[i] !~ /^(https?:\/\/|file:)/)
				continue
			sub(/\/+$/, "", u[i])
			print u[i]
			found = 1
			exit 0
		}
	}
}
# The end of a deb822 stanza.
function flush() {
	if (deb822 && (" " f["types"] " ") ~ /[ \t]deb[ \t]/ &&
	    tolower(trim(f["enabled"])) != "no")
		pick(f["uris"], f["suites"])
	split("", f)
	key = ""
}
FNR == 1 { flush(); deb822 = FILENAME ~ /\.sources$/ }
deb822 && /^#/ { next }
deb822 && /^[ \t]*$/ { flush(); next }
deb822 && /^[ \t]/ { if (key != "") f[key] = f[key] " " $0; next }
deb822 {
	if ((i = index($0, ":")) == 0)
		next
	key = tolower(trim(substr($0, 1, i - 1)))
	f[key] = substr($0, i + 1)
	next
}
{
	sub(/#.*/, "")
	if ($1 != "deb")
		next
	sub(/^[ \t]*deb[ \t]+/, "")
	if (/^\[/ && !sub(/^\[[^]]*\][ \t]*/, ""))
		next
	split($0, w, /[ \t]+/)
	pick(w[1], w[2])
}
END {
	if (!found)
		flush()
	exit !found
}' "$@" && exit 0
echo "debian-mirror: no Debian mirror in $etc/sources.list nor in" \
	"$etc/sources.list.d/*.list or *.sources;" \
	"set MX_DEBIAN_MIRROR to the URL of one" >&2
exit 1
