#!/usr/bin/env bash
# Stop timeouts: N services whose run ignores SIGTERM, each under its own
# runsv with timeout-kill 300, all told to exit at once: how long until
# every runsv has gone. Debian's runsv has no timeout-kill (it would wait
# forever), so its column is the same shutdown of services that do exit
# on TERM, the best runit can do.
#
# usage: bench/runsv-timeouts.sh [N]   (N services, 50)
set -euo pipefail

N=${1:-50}
root=$(cd "$(dirname "$0")/.." && pwd)
ours=$root/target/release/runsv
theirs=${RUNIT_DEBIAN_ROOT:-$root/.debian/root}/usr/bin/runsv
(cd "$root" && cargo build --release -q -p runsv)
[ -x "$theirs" ] || { echo "Debian's runsv missing: $theirs" >&2; exit 1; }

work=$(mktemp -d /tmp/runsv-timeouts.XXXXXX)
# run_set runs in a subshell: the runsv pids are kept in a file.
cleanup() {
  for p in $(cat "$work/pids" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# run_set BIN TAG RUN_BODY [timeout-kill]: prints seconds to stop all.
run_set() {
  local bin=$1 tag=$2 body=$3 tk=${4:-}
  local set=() i d
  for i in $(seq 1 "$N"); do
    d=$work/$tag/s$i
    mkdir -p "$d"
    printf '#!/bin/sh\n%s\n' "$body" >"$d/run"
    chmod +x "$d/run"
    [ -n "$tk" ] && echo "$tk" >"$d/timeout-kill"
    "$bin" "$d" </dev/null >/dev/null 2>&1 &
    set+=($!)
    echo $! >>"$work/pids"
  done
  for i in $(seq 1 "$N"); do
    d=$work/$tag/s$i
    until [ "$(cat "$d/supervise/stat" 2>/dev/null)" = run ]; do sleep 0.01; done
  done
  local t0 t1
  t0=$(date +%s.%N)
  for i in $(seq 1 "$N"); do printf x >"$work/$tag/s$i/supervise/control"; done
  for p in "${set[@]}"; do wait "$p" 2>/dev/null || true; done
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

a=$(run_set "$ours" ours "trap '' TERM; exec sleep 1000" 300)
b=$(run_set "$theirs" debian "exec sleep 1000")
printf '%-48s %8s %8s %6s\n' "" ours debian ratio
printf '%-48s %7.3fs %7.3fs %6.2f\n' "$N services stopped (ours: ignoring TERM, tk 300)" \
  "$a" "$b" "$(echo "$a / $b" | bc -l)"
