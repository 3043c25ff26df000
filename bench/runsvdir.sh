#!/bin/bash
# runsvdir benchmark: ours (with our runsv) against Debian's runit 2.1.2
# runsvdir (with Debian's runsv), in one run, printed side by side.
#   1. Pickup latency: a symlink to a new service is created in the scanned
#      directory; measured until the service's `run` is executing (it
#      writes a timestamp). Median and p95 over TRIALS trials (default 20).
#   2. 1,000 services: time from runsvdir's start until `sv status` (the
#      same sv for both) reports `run: ` for all of them, and total memory
#      (PSS sum from /proc/PID/smaps_rollup) of runsvdir's tree, also
#      without the run processes (which are the same `sleep` for both).
#      Three set-ups: ours, Debian's, and ours with Debian's runsv (to show
#      runsvdir's own share); each run ROUNDS times (default 2), best time.
# Usage: [ROUNDS=n] bench/runsvdir.sh [trials] [services]
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-20}
NSVC=${2:-1000}

./scripts/fetch-debian >/dev/null
./scripts/build-release
DEB=$PWD/.debian/root/usr/bin
REL=$PWD/target/dist
SV=$DEB/sv

tmp=$(mktemp -d /tmp/runsvdir-bench.XXXXXX)
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill -HUP "$p" 2>/dev/null || true
    done
    sleep 1
    for p in "${pids[@]}"; do
        pkill -KILL -P "$p" 2>/dev/null || true
        kill -KILL "$p" 2>/dev/null || true
    done
    # Orphaned services of this run only (their directory is under $tmp).
    for f in "$tmp"/*/*/supervise/pid "$tmp"/*/*/*/supervise/pid; do
        [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT

now() { echo "${EPOCHREALTIME/./}"; } # microseconds
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3gx", a / b; else print "n/a" }'; }
pct() { # pct P file-of-numbers
    sort -n "$2" | awk -v p="$1" '{ v[NR] = $1 } END { i = int((NR - 1) * p / 100 + 0.5) + 1; print v[i] }'
}

# start_runsvdir NAME RUNSVDIR RUNSV_BIN_DIR DIR: starts it, prints its pid.
start_runsvdir() {
    PATH="$3:$PATH" "$2" "$4" </dev/null >/dev/null 2>"$tmp/$1.err" &
    echo $!
}

# stop_tree PID: HUP (runsv stop their services) and wait for the tree.
stop_tree() {
    local p=$1 kids i
    kids=$(children_of "$p")
    kill -HUP "$p" 2>/dev/null || true
    for i in $(seq 300); do
        local alive=0 k
        for k in "$p" $kids; do kill -0 "$k" 2>/dev/null && alive=1 && break; done
        [ $alive = 0 ] && break
        sleep 0.1
    done
}

latency() { # latency NAME RUNSVDIR RUNSV_DIR -> file of ms values
    local name=$1 dir=$tmp/$1-lat
    mkdir -p "$dir/sv"
    local p
    p=$(start_runsvdir "$name-lat" "$2" "$3" "$dir/sv")
    pids+=("$p")
    sleep 1
    : >"$tmp/$name.lat"
    local i
    for i in $(seq "$TRIALS"); do
        local s=$dir/svc$i
        mkdir -p "$s"
        printf '#!/bin/sh\necho $(date +%%s%%N) >%s/stamp\nexec sleep 100000\n' "$s" >"$s/run"
        chmod +x "$s/run"
        # Start at a random moment of runit's 5-second rescan cycle.
        sleep "$((RANDOM % 5000 / 1000)).$(printf '%03d' $((RANDOM % 1000)))"
        local t0
        t0=$(now)
        ln -s "$s" "$dir/sv/svc$i"
        while [ ! -s "$s/stamp" ]; do sleep 0.001; done
        local t1
        t1=$(($(cat "$s/stamp") / 1000))
        echo "$(((t1 - t0) / 1000)).$(printf '%03d' $(((t1 - t0) % 1000)))" >>"$tmp/$name.lat"
        rm "$dir/sv/svc$i"
    done
    stop_tree "$p"
}

pss_of() { # pss_of PID... -> kB
    local p files=()
    for p in "$@"; do files+=("/proc/$p/smaps_rollup"); done
    { cat "${files[@]}" 2>/dev/null || true; } | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

children_of() { # children_of PID...: their children, from the kernel's list
    local p
    for p in "$@"; do cat "/proc/$p/task/$p/children" 2>/dev/null || true; done | tr '\n' ' '
}

many() { # many NAME RUNSVDIR RUNSV_DIR -> "secs total_pss supervisors_pss"
    local name=$1 dir=$tmp/$1-many
    mkdir -p "$dir/sv"
    local i
    for i in $(seq -w 1 "$NSVC"); do
        mkdir "$dir/sv/s$i"
        printf '#!/bin/sh\nexec sleep 100000\n' >"$dir/sv/s$i/run"
        chmod +x "$dir/sv/s$i/run"
    done
    touch -d '1 hour ago' "$dir/sv"
    sync
    local t0 p
    t0=$(now)
    p=$(start_runsvdir "$name-many" "$2" "$3" "$dir/sv")
    pids+=("$p")
    while :; do
        local up
        up=$("$SV" status "$dir"/sv/s* 2>/dev/null | grep -c '^run: ' || true)
        [ "$up" -ge "$NSVC" ] && break
        sleep 0.02
    done
    local t1
    t1=$(now)
    sleep 2 # settle before measuring memory
    local runsvs runs
    runsvs=$(children_of "$p")
    # shellcheck disable=SC2086
    runs=$(children_of $runsvs)
    # shellcheck disable=SC2086
    local sup tot
    sup=$(pss_of "$p" $runsvs)
    # shellcheck disable=SC2086
    tot=$((sup + $(pss_of $runs)))
    echo "$(((t1 - t0) / 1000)) $tot $sup $(pss_of "$p")"
    stop_tree "$p"
}

if [ -x "$REL/runsv" ]; then
    OUR_RUNSV=$REL
    runsv_note="our runsv"
else
    OUR_RUNSV=$DEB
    runsv_note="Debian's runsv (ours not ready)"
fi

echo "== runsvdir pickup latency: symlink created -> run executing ($TRIALS trials)"
echo "   ours: our runsvdir + $runsv_note; Debian: Debian's runsvdir + runsv"
latency ours "$REL/runsvdir" "$OUR_RUNSV"
latency debian "$DEB/runsvdir" "$DEB"
om=$(pct 50 "$tmp/ours.lat") op=$(pct 95 "$tmp/ours.lat")
dm=$(pct 50 "$tmp/debian.lat") dp=$(pct 95 "$tmp/debian.lat")
printf '   %-8s %12s %12s\n' "" "median ms" "p95 ms"
printf '   %-8s %12s %12s\n' ours "$om" "$op"
printf '   %-8s %12s %12s\n' Debian "$dm" "$dp"
printf '   %-8s %12s %12s\n' ratio "$(ratio "$om" "$dm")" "$(ratio "$op" "$dp")"

echo "== $NSVC services: runsvdir start -> all 'run: ' in sv status; PSS of the tree"
echo "   ours: our runsvdir + $runsv_note; mixed: our runsvdir + Debian's runsv"
# Alternate the three, ROUNDS times (default 2); keep each one's best time.
for r in $(seq "${ROUNDS:-2}"); do
    for cfg in "ours $REL/runsvdir $OUR_RUNSV" "mixed $REL/runsvdir $DEB" "debian $DEB/runsvdir $DEB"; do
        set -- $cfg
        line=$(many "$1-$r" "$2" "$3")
        if [ ! -s "$tmp/$1.best" ] || [ "${line%% *}" -lt "$(cut -d' ' -f1 "$tmp/$1.best")" ]; then
            echo "$line" >"$tmp/$1.best"
        fi
    done
done
read -r ot opss osup ordir <"$tmp/ours.best"
read -r mt mpss msup mrdir <"$tmp/mixed.best"
read -r dt dpss dsup drdir <"$tmp/debian.best"
row() { printf '   %-14s %10s %14s %24s %16s\n' "$@"; }
row "" "time ms" "tree PSS kB" "runsvdir+runsv PSS kB" "runsvdir PSS kB"
row ours "$ot" "$opss" "$osup" "$ordir"
row mixed "$mt" "$mpss" "$msup" "$mrdir"
row Debian "$dt" "$dpss" "$dsup" "$drdir"
row "ours/Debian" "$(ratio "$ot" "$dt")" "$(ratio "$opss" "$dpss")" \
    "$(ratio "$osup" "$dsup")" "$(ratio "$ordir" "$drdir")"
row "mixed/Debian" "$(ratio "$mt" "$dt")" "$(ratio "$mpss" "$dpss")" \
    "$(ratio "$msup" "$dsup")" "$(ratio "$mrdir" "$drdir")"
