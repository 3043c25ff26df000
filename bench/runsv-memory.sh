#!/usr/bin/env bash
# Memory per supervised service: 100 services, each under its own runsv,
# once with our runsv and once with Debian's, in one run. Reads Pss and
# Private_Dirty (plus Private_Clean) of every runsv from
# /proc/PID/smaps_rollup, averages them and prints both side by side with
# the ratio ours/Debian's. Ours is the runsv as installed
# (scripts/build-release: static-pie).
#
# usage: bench/runsv-memory.sh [N]   (N services per implementation, 100)
set -euo pipefail

N=${1:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
ours=$root/target/dist/runsv
theirs=${RUNIT_DEBIAN_ROOT:-$root/.debian/root}/usr/bin/runsv

(cd "$root" && ./scripts/build-release)
# Freshly written pages in the page cache count as dirty in smaps.
sync
if [ ! -x "$theirs" ]; then
  [ -x "$root/scripts/fetch-debian" ] && "$root/scripts/fetch-debian" >/dev/null
fi
[ -x "$theirs" ] || { echo "Debian's runsv missing: $theirs" >&2; exit 1; }

work=$(mktemp -d /tmp/runsv-memory.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# start IMPL BIN: N service dirs under $work/IMPL, one runsv each.
declare -A runsv_pids
start() {
  local impl=$1 bin=$2 i d
  runsv_pids[$impl]=""
  for i in $(seq 1 "$N"); do
    d=$work/$impl/s$i
    mkdir -p "$d"
    printf '#!/bin/sh\nexec sleep 100000\n' >"$d/run"
    chmod +x "$d/run"
    "$bin" "$d" </dev/null >/dev/null 2>&1 &
    pids+=($!)
    runsv_pids[$impl]+="$! "
  done
  # Wait until every service runs.
  for i in $(seq 1 "$N"); do
    d=$work/$impl/s$i
    for _ in $(seq 1 500); do
      [ "$(cat "$d/supervise/stat" 2>/dev/null)" = run ] && break
      sleep 0.02
    done
  done
}

# measure IMPL: prints "avg_pss avg_private_dirty avg_private_clean" in kB.
measure() {
  local impl=$1 p
  for p in ${runsv_pids[$impl]}; do
    cat "/proc/$p/smaps_rollup"
  done | awk -v n="$N" '
    /^Pss:/ {pss += $2}
    /^Private_Dirty:/ {pd += $2}
    /^Private_Clean:/ {pc += $2}
    END {printf "%.1f %.1f %.1f\n", pss / n, pd / n, pc / n}'
}

start ours "$ours"
start debian "$theirs"
sleep 1
read -r o_pss o_pd o_pc < <(measure ours)
read -r d_pss d_pd d_pc < <(measure debian)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2fx", a / b; else print "n/a"}'; }
printf 'runsv memory, average over %d services each (kB, /proc/PID/smaps_rollup)\n' "$N"
printf '%-14s %8s %8s %8s\n' metric ours debian ours/deb
for m in Pss Private_Dirty Private_Clean; do
  case $m in
    Pss) o=$o_pss d=$d_pss ;;
    Private_Dirty) o=$o_pd d=$d_pd ;;
    Private_Clean) o=$o_pc d=$d_pc ;;
  esac
  printf '%-14s %8s %8s %8s\n' "$m" "$o" "$d" "$(ratio "$o" "$d")"
done
