#!/bin/sh
# bench/deps.sh: makes sure the Debian packages the benchmarks use are
# installed. As root it installs what is missing with apt-get; otherwise
# it prints the exact command and carries on: rows whose library is
# missing show as SKIPPED. Off Debian (no dpkg) it checks nothing.
# SPDX-License-Identifier: MIT
set -eu

pkgs="gcc libc6-dev lua5.4 luajit lua-socket lua-copas lua-luv lua-cqueues
      gnuplot-nox util-linux coreutils"

command -v dpkg-query >/dev/null 2>&1 || exit 0

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y$missing"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bench: missing Debian packages:$missing" >&2
  echo "bench: run as root: $cmd" >&2
  exit 0
fi

echo "bench: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# a fresh machine may have no package lists yet: update once, then retry
apt-get install -y -q $missing </dev/null ||
  { apt-get update -q </dev/null && apt-get install -y -q $missing </dev/null; }
