#!/bin/sh
# Provision a Debian unstable chroot holding Synapse (and matrix-nio for the
# interop tests), cached outside the work tree so reruns take no time.
#   MX_CACHE_DIR       where the chroot lives (default /var/cache/mx-test)
#   MX_DEBIAN_MIRROR   the mirror to debootstrap from (default: the one
#                      this host's apt uses; see debian-mirror.sh)
# Prints the chroot path on stdout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${MX_CACHE_DIR:-/var/cache/mx-test}
root=$cache/sid
pkgs="matrix-synapse python3-matrix-nio"

say() { echo "provision: $*" >&2; }

# Retry a command once: the mirror drops a connection now and then.
retry() { "$@" || { say "retrying: $*"; sleep 3; "$@"; }; }

if [ -f "$root/.mx-ready" ]; then
	echo "$root"
	exit 0
fi
[ "$(id -u)" = 0 ] || { say "must run as root (debootstrap, chroot)"; exit 1; }
command -v debootstrap >/dev/null || {
	say "installing debootstrap"
	retry apt-get install -y -qq debootstrap >&2
}
mkdir -p "$cache"
# Serialise concurrent provisioners (two test runs at once).
exec 9>"$cache/.lock"
flock 9
[ -f "$root/.mx-ready" ] && { echo "$root"; exit 0; }

mirror=$(sh "$here/debian-mirror.sh") || exit 1
tmp=$cache/sid.tmp
umount_all() {
	for m in dev/pts dev proc; do
		mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m" || :
	done
}
umount_all "$tmp"
rm -rf "$tmp"
say "debootstrap sid from $mirror into $tmp"
retry debootstrap --variant=minbase sid "$tmp" "$mirror" >&2 ||
	{ rm -rf "$tmp"; debootstrap --variant=minbase sid "$tmp" "$mirror" >&2; }
mount --bind /proc "$tmp/proc"
mount --bind /dev "$tmp/dev"
trap 'umount_all "$tmp"' EXIT
apt_opts="-o Acquire::Check-Valid-Until=false -o Acquire::Retries=2"
retry chroot "$tmp" apt-get $apt_opts -qq update >&2
say "installing $pkgs"
retry chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
	apt-get $apt_opts install -y -qq --no-install-recommends $pkgs >&2
chroot "$tmp" apt-get clean
umount_all "$tmp"
trap - EXIT
touch "$tmp/.mx-ready"
mv "$tmp" "$root"
echo "$root"
