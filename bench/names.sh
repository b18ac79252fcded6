#!/bin/sh
# bench/names.sh: the names benchmark (make bench-names). As root, in a new
# mount and network namespace: a DNS server on 127.0.0.1:53
# (spec/tools/dnsserver.py) and a private /etc/resolv.conf naming it, so
# that hotline (c-ares), luv (getaddrinfo in libuv's thread pool) and
# LuaSocket (blocking getaddrinfo) all ask it, and nothing leaves the
# machine. Prints lookups/s of distinct names, then loadgen's pingpong100
# against a hotline serve with 0 and with 100 lookups outstanding in the
# same process (answers delayed 0.5 s, each answered lookup replaced).
#   sh bench/names.sh [LUA]    (lua5.4 by default; hotline built for it)
set -eu
cd "$(dirname "$0")/.."
LUA=${1:-lua5.4}
if [ "${HOTLINE_NAMES_INSIDE:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "bench-names: needs root (unshare -mn)" >&2; exit 1; }
  HOTLINE_NAMES_INSIDE=1 exec unshare -mn sh bench/names.sh "$LUA"
fi
ip link set lo up
tmp=$(mktemp -d)
dns=""
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$dns" ] && kill "$dns" 2>/dev/null && wait "$dns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
python3 spec/tools/dnsserver.py --port 53 'n*.bench=a:127.0.0.2,aaaa:::1' \
  'slow*.bench=a:127.0.0.2,aaaa:::1,delay:0.5' >"$tmp/port" 2>/dev/null &
dns=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
echo "nameserver 127.0.0.1" >"$tmp/resolv.conf"
mount --bind "$tmp/resolv.conf" /etc/resolv.conf
version=$($LUA -e 'print(jit and "jit" or _VERSION:match("%d+%.%d+"))')
LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;"
LUA_CPATH="$PWD/build/$version/?.so;;"
export LUA_PATH LUA_CPATH

echo "names: lookups of distinct names (A and AAAA) against a local DNS server, $LUA"
for row in "hotline 2000 100" "luv 2000 100" "luasocket 500 1"; do
  set -- $row
  printf '%-10s %5s lookups, %3s in flight: ' "$1" "$2" "$3"
  $LUA bench/names.lua lookups "$1" "$2" "$3" 2>&1 | tail -n 1
done

echo "pingpong100 against a hotline serve (loadgen, 3 s), lookups outstanding in its process:"
for outstanding in 0 100; do
  $LUA bench/names.lua serve $outstanding >"$tmp/serve" 2>&1 &
  server=$!
  i=0
  while ! grep -q '^PORT' "$tmp/serve" && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
  port=$(sed -n 's/^PORT //p' "$tmp/serve")
  printf '%3s outstanding: ' "$outstanding"
  bench/bin/loadgen --scenario pingpong100 --port "$port" --seconds 3 |
    tr ' ' '\n' | grep -E '^(rate|p50_us|p99_us|errors)=' | tr '\n' ' '
  echo
  kill "$server"; wait "$server" 2>/dev/null || true
  server=""
done
