#!/bin/sh
# spec/tools/ci-hardening.sh: the hardening checks, as CI runs them
# (.ci/run calls it; docs/RELIABILITY.md says what each one proves):
# the specs against an ASan + UBSan build and under the EAGAIN mock, the
# fault specs, on Lua 5.4 and LuaJIT; the specs under valgrind (Lua 5.4);
# each libFuzzer target for FUZZ_SECONDS (20 here). Runs every step, then
# fails if any failed. As root it installs the Debian packages it needs
# (.ci/deps hardening); otherwise it prints the command and stops.
# About 5 minutes on 2 cores.
set -u
cd "$(dirname "$0")/../.."
start=$(date +%s)
failed=""
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
export FUZZ_SECONDS

step() { printf '\n---- %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

# run NAME COMMAND...: one check; a failure is remembered, not fatal
run() {
  name=$1
  shift
  step "$name"
  "$@" || failed="$failed
  $name"
}

step "dependencies"
sh .ci/deps hardening || exit 1

for lua in lua5.4 luajit; do
  run "check-asan on $lua" make --no-print-directory LUA=$lua check-asan
  run "check-eagain on $lua" make --no-print-directory LUA=$lua check-eagain
  run "fault specs on $lua" make --no-print-directory LUA=$lua check-faults
done
# the churn spec does 5,000 cycles here rather than 20,000: 20 s less
run "check-valgrind on lua5.4" env HOTLINE_CHURN=5000 \
  make --no-print-directory LUA=lua5.4 check-valgrind
run "fuzz, $FUZZ_SECONDS s per target" make --no-print-directory fuzz

step "done"
if [ -n "$failed" ]; then
  echo "failed:$failed" >&2
  exit 1
fi
echo "all hardening checks passed"
