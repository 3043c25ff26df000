#!/usr/bin/env bash
# Readiness latency: how long after a service writes its readiness line
# (notification-fd) our `sv -w 10 up` returns `ok:`. N rounds of down/up;
# prints the median and the worst. Debian's runit has no readiness; its
# column is the same measure for a plain start under Debian's runsv and
# sv (from the moment run has started until sv returns).
#
# usage: bench/readiness.sh [N]   (N rounds, 20)
set -euo pipefail

N=${1:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
(cd "$root" && cargo build --release -q -p runsv -p sv)
deb=${RUNIT_DEBIAN_ROOT:-$root/.debian/root}
[ -x "$deb/usr/bin/runsv" ] || { echo "Debian's runit missing: $deb" >&2; exit 1; }

work=$(mktemp -d /tmp/readiness.XXXXXX)
# measure runs in a subshell: the runsv pids are kept in a file.
cleanup() {
  for p in $(cat "$work/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

# measure RUNSV SV TAG WITH_FD: prints "median worst" in ms.
measure() {
  local runsv=$1 sv=$2 tag=$3 withfd=$4 d=$work/$3/svc
  mkdir -p "$d"
  touch "$d/down"
  if [ "$withfd" = yes ]; then
    echo 3 >"$d/notification-fd"
    printf '#!/bin/sh\nsleep 0.2\ndate +%%s%%N >%s/t\necho >&3\nexec sleep 1000\n' "$d" >"$d/run"
  else
    printf '#!/bin/sh\ndate +%%s%%N >%s/t\nexec sleep 1000\n' "$d" >"$d/run"
  fi
  chmod +x "$d/run"
  "$runsv" "$d" </dev/null >/dev/null 2>&1 &
  echo $! >>"$work/pids"
  until [ -p "$d/supervise/ok" ] && [ -s "$d/supervise/status" ]; do sleep 0.01; done
  local i t1 lat=()
  for i in $(seq 1 "$N"); do
    "$sv" -w 10 up "$d" >/dev/null
    t1=$(date +%s%N)
    lat+=($(( (t1 - $(cat "$d/t")) / 1000 )))
    "$sv" -w 10 down "$d" >/dev/null
    sleep 1.1 # past runsv's restart throttle
  done
  printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f %.1f\n", a[int((NR+1)/2)]/1000, a[NR]/1000}'
}

read -r om ow < <(measure "$root/target/release/runsv" "$root/target/release/sv" ours yes)
read -r dm dw < <(measure "$deb/usr/bin/runsv" "$deb/usr/bin/sv" debian no)
printf '%-44s %10s %10s\n' "" ours debian
printf '%-44s %8sms %8sms\n' "sv -w up returns after ready (median)" "$om" "$dm"
printf '%-44s %8sms %8sms\n' "                               (worst)" "$ow" "$dw"
