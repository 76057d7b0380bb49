#!/usr/bin/env bash
# Another qbittorrent-nox for the real-server tests: Debian's package of another release,
# installed in a debootstrap chroot, and a wrapper the harness runs through EARMARK_TEST_QBT.
#
#   usage (as root):  tests/harness/qbt-chroot.sh SUITE [ROOT]
#     SUITE  trixie (Debian 13: qBittorrent 5.1), sid (5.3 at the time of writing), bookworm (4.5)
#     ROOT   where the chroot goes (default /var/tmp/earmark-qbt-SUITE)
#   then:    EARMARK_TEST_QBT=ROOT/qbittorrent-nox make test
#
# The chroot shares this machine's network (loopback included), so the tests reach its WebUI
# and BitTorrent ports as they reach the host's own qbittorrent-nox. The harness puts every
# profile and download folder under the temporary directory, so the wrapper bind-mounts
# /tmp (and proc) into the chroot: the paths the tests pass mean the same file inside.
set -euo pipefail
suite=${1:?usage: $0 SUITE [ROOT]}
root=${2:-/var/tmp/earmark-qbt-$suite}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

if [ ! -x "$root/usr/bin/qbittorrent-nox" ]; then
  command -v debootstrap >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  [ -x "$root/usr/bin/apt-get" ] || debootstrap --variant=minbase "$suite" "$root" "$mirror" >/dev/null
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # a mirror snapshot of a moving suite (sid) may carry an expired Release file
  chroot "$root" /bin/sh -c 'apt-get -o Acquire::Check-Valid-Until=false update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qbittorrent-nox >/dev/null &&
    apt-get clean'
fi

cat >"$root/qbittorrent-nox" <<WRAPPER
#!/bin/sh
# qbittorrent-nox of Debian $suite, run from its chroot with the host's /tmp (made by $0)
root='$root'
mountpoint -q "\$root/tmp" || mount --bind /tmp "\$root/tmp"
mountpoint -q "\$root/proc" || mount -t proc proc "\$root/proc"
exec chroot "\$root" /usr/bin/qbittorrent-nox "\$@"
WRAPPER
chmod +x "$root/qbittorrent-nox"
echo "$("$root/qbittorrent-nox" --version) in $root; run the tests with:"
echo "  EARMARK_TEST_QBT=$root/qbittorrent-nox make test"
