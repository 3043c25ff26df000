#!/bin/bash
# sv benchmark: our sv against Debian's runit 2.1.2 sv, on the same service
# supervised by Debian's runsv.
#   1. `sv status` latency (hyperfine, installed with apt-get if missing;
#      plus a plain loop of 1000 runs timed with bash).
#   2. `sv -w 7 down` / `sv -w 7 up` round trip, measured until sv returns,
#      which for both is when the change has really happened (checked);
#      ours answers `up` once the run has lasted 100 ms.
# Prints ours and Debian's side by side with the ratio ours/Debian's.
# Usage: bench/sv.sh [runs]   (default 1000 status runs, 10 up/down cycles)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-1000}
CYCLES=${CYCLES:-10}

./scripts/fetch-debian >/dev/null
./scripts/build-release
OURS=$PWD/target/dist/sv
THEIRS=$PWD/.debian/root/usr/bin/sv
RUNSV=$PWD/.debian/root/usr/bin/runsv
if ! command -v hyperfine >/dev/null 2>&1; then
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi

tmp=$(mktemp -d /tmp/sv-bench.XXXXXX)
runsv_pid=
cleanup() {
    if [ -n "$runsv_pid" ]; then
        # Stop runsv first so it starts nothing new, then the service.
        kill -STOP "$runsv_pid" 2>/dev/null || true
        svc_pid=$(cat "$tmp/svc/supervise/pid" 2>/dev/null || true)
        [ -n "$svc_pid" ] && kill -KILL "$svc_pid" 2>/dev/null || true
        kill -KILL "$runsv_pid" 2>/dev/null || true
        wait "$runsv_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/svc"
printf '#!/bin/sh\nexec sleep 100000\n' >"$tmp/svc/run"
chmod +x "$tmp/svc/run"
"$RUNSV" "$tmp/svc" </dev/null >/dev/null 2>&1 &
runsv_pid=$!
for _ in $(seq 200); do
    [ -s "$tmp/svc/supervise/pid" ] && break
    sleep 0.05
done
export SVDIR=$tmp
unset SVWAIT

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }
now_us() { local t=${EPOCHREALTIME/./}; echo "$t"; }

echo "== sv status latency (same service, Debian's runsv)"
echo "   ours:   $("$OURS" status svc)"
echo "   Debian: $("$THEIRS" status svc)"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine -N --warmup 50 --runs "$RUNS" --export-json "$tmp/h.json" \
        "$OURS status svc" "$THEIRS status svc" >/dev/null 2>&1 || true
    if [ -s "$tmp/h.json" ]; then
        for stat in mean median min; do
            read -r h_ours h_theirs < <(awk -v k="\"$stat\":" '
                $1 == k { gsub(/[",]/, ""); m[n++] = $2 * 1e6 }
                END { printf "%.0f %.0f\n", m[0], m[1] }' "$tmp/h.json")
            printf '   hyperfine %-6s:  ours %6s us   Debian %6s us   ratio %s\n' \
                "$stat" "$h_ours" "$h_theirs" "$(ratio "$h_ours" "$h_theirs")"
        done
    fi
fi
loop() {
    local bin=$1 i t0 t1
    t0=$(now_us)
    for ((i = 0; i < RUNS; i++)); do "$bin" status svc >/dev/null; done
    t1=$(now_us)
    echo $(((t1 - t0) / RUNS))
}
l_theirs=$(loop "$THEIRS")
l_ours=$(loop "$OURS")
printf '   loop of %d (fork+exec+run):  ours %6s us   Debian %6s us   ratio %s\n' \
    "$RUNS" "$l_ours" "$l_theirs" "$(ratio "$l_ours" "$l_theirs")"

echo "== sv -w 7 down / up round trip, until the change has really happened (median of $CYCLES)"
# runsv delays restarting a service that ran less than a second; let the
# service run past that before each down, so only sv's waiting is measured.
settle() { sleep 1.1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# Prints the median down and up times (us) over CYCLES cycles; the machine
# may be shared, and the median is robust to a few descheduled runs.
roundtrip() {
    local bin=$1 i t0 t1 pid downs=() ups=()
    for ((i = 0; i < CYCLES; i++)); do
        settle
        t0=$(now_us)
        "$bin" -w 7 down svc >/dev/null
        t1=$(now_us)
        downs+=($((t1 - t0)))
        pid=$(cat "$tmp/svc/supervise/pid")
        [ -z "$pid" ] || { echo "   down returned before the service was down" >&2; exit 1; }
        settle
        t0=$(now_us)
        "$bin" -w 7 up svc >/dev/null
        t1=$(now_us)
        ups+=($((t1 - t0)))
        pid=$(cat "$tmp/svc/supervise/pid")
        [ -n "$pid" ] && kill -0 "$pid" || { echo "   up returned before the service ran" >&2; exit 1; }
    done
    echo "$(printf '%s\n' "${downs[@]}" | median) $(printf '%s\n' "${ups[@]}" | median)"
}
read -r d_theirs u_theirs < <(roundtrip "$THEIRS")
read -r d_ours u_ours < <(roundtrip "$OURS")
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
printf '   down:  ours %8s ms   Debian %8s ms   ratio %s\n' \
    "$(ms "$d_ours")" "$(ms "$d_theirs")" "$(ratio "$d_ours" "$d_theirs")"
printf '   up:    ours %8s ms   Debian %8s ms   ratio %s\n' \
    "$(ms "$u_ours")" "$(ms "$u_theirs")" "$(ratio "$u_ours" "$u_theirs")"
rt_ours=$((d_ours + u_ours))
rt_theirs=$((d_theirs + u_theirs))
# ours answers `up` once the run has lasted 100 ms (docs/sv.md: a run that
# exits at once is not a start); Debian's polls every 420 ms.
printf '   down+up round trip:  ours %8s ms   Debian %8s ms   ratio %s   (target: ours <= 120 ms)\n' \
    "$(ms "$rt_ours")" "$(ms "$rt_theirs")" "$(ratio "$rt_ours" "$rt_theirs")"
