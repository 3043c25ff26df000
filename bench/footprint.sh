#!/bin/bash
# The footprint of the long-lived processes and of the calls made most
# often, ours against Debian's runit 2.1.2 (and socklog 2.1.0) in one run,
# the same service trees for both; one table with the ratio ours/Debian's.
# Every figure is the median of ROUNDS rounds (default 3), ours and
# Debian's alternating within each round.
#
#   runsvdir   PSS of runsvdir supervising 200 services (smaps_rollup)
#   runsv      PSS per runsv in that same tree (average of the 200)
#   runit      PSS of runit as PID 1, stage 2 running, in a runc container
#              (dist/oci-bundle, ours and --debian; needs .debian/boot/base)
#   sv         `sv status` of 500 services in one call (Debian's runsv
#              supervises them; both sv read the same supervise/ records)
#   start      1,000 services: runsvdir started -> every run script has
#              executed (each appends a line to one file before exec'ing);
#              the tree on a tmpfs mounted for the row (START_ON=disk: in
#              the work directory), as Debian keeps supervise/ in /run
#   chpst      `chpst -u nobody -e DIR true`, wall time over plain `true`
#              (bench/exec-overhead.py: interleaved runs, one processor)
#   socklog    300,000 messages, unix socket -> socklog -> svlogd: user+sys
#              CPU of socklog and svlogd (bench/socklog.sh's pipelines)
#   svlogd-rss svlogd -tt, 200 MB piped in: peak RSS (/usr/bin/time %M),
#              and throughput beside it
#   svlogd     PSS per idle svlogd -tt, 100 loggers, one line logged each
#
# usage: [ROUNDS=n] [ONLY=row,row] bench/footprint.sh
#   ONLY picks rows by the names above (default: all).
#   BINDIR (default target/dist, built by scripts/build-release) holds ours.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
. bench/lib.sh
ROUNDS=${ROUNDS:-3}
ONLY=${ONLY:-runsvdir,runsv,runit,sv,start,chpst,socklog,svlogd-rss,svlogd}
want() { [[ ",$ONLY," == *",$1,"* ]]; }

./scripts/fetch-debian >/dev/null
if [ -z "${BINDIR:-}" ]; then
    ./scripts/build-release
    BINDIR=$top/target/dist
fi
DEB=$top/.debian/root
OURS=$BINDIR
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
# Pages written just now count as dirty in smaps until written back.
sync

work=$(mktemp -d /tmp/footprint.XXXXXX)
runsvdirs=() # "pid dir" of every runsvdir started, for the clean-up
containers=()
cleanup() {
    local e p d c
    for e in "${runsvdirs[@]}"; do
        read -r p d <<<"$e"
        kill -HUP "$p" 2>/dev/null || true
    done
    for e in "${runsvdirs[@]}"; do
        read -r p d <<<"$e"
        wait "$p" 2>/dev/null || true
        supervisors_gone "$d" 30 || true
    done
    for c in "${containers[@]}"; do
        runc kill "$c" KILL >/dev/null 2>&1 || true
        runc delete -f "$c" >/dev/null 2>&1 || true
    done
    if mountpoint -q "$work/run"; then umount "$work/run"; fi
    rm -rf "$work"
}
trap cleanup EXIT
declare -A O D # per row: the values of the rounds, ours and Debian's
declare -A where=() # runsvdir-IMPL, runit-IMPL: where the PSS lies

# impl_bin IMPL PROG: the program of that implementation.
impl_bin() {
    if [ "$1" = ours ]; then
        echo "$OURS/$2"
    elif [ -x "$DEB/usr/bin/$2" ]; then
        echo "$DEB/usr/bin/$2"
    else
        echo "$DEB/usr/sbin/$2"
    fi
}
add() { # add IMPL ROW VALUE
    echo "footprint: $*" >&2
    if [ "$1" = ours ]; then O[$2]+="$3 "; else D[$2]+="$3 "; fi
}
# both R: ours then Debian's in odd rounds, the other way in even ones.
both() { if (($1 % 2)); then echo ours debian; else echo debian ours; fi; }

# start_tree IMPL DIR: runsvdir of IMPL (and its runsv) over DIR; sets $tree_pid.
start_tree() {
    local bin
    bin=$(impl_bin "$1" runsvdir)
    PATH="$(dirname "$(impl_bin "$1" runsv)"):$PATH" "$bin" "$2" </dev/null >/dev/null 2>&1 &
    tree_pid=$!
    runsvdirs+=("$tree_pid $2")
}
# stop_tree PID DIR: runsvdir's SIGHUP stops every runsv, which stop their
# services; waits for all of it.
stop_tree() {
    kill -HUP "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    supervisors_gone "$2" 60 || echo "footprint: runsv still running under $2" >&2
}
wait_running() { # wait_running DIR N
    local end=$((SECONDS + 120))
    until [ "$(running "$1")" -ge "$2" ]; do
        [ "$SECONDS" -lt "$end" ] || { echo "footprint: $1: not all $2 services run" >&2; exit 1; }
        sleep 0.05
    done
}

# --- runsvdir and runsv PSS, 200 services
if want runsvdir || want runsv; then
    for r in $(seq "$ROUNDS"); do
        for impl in $(both "$r"); do
            d=$work/tree200-$impl-$r
            make_services "$d" 200
            start_tree "$impl" "$d"
            wait_running "$d" 200
            sleep 2 # settle: every runsv has written its records
            kids=$(children_of "$tree_pid")
            add "$impl" runsvdir "$(pss_of "$tree_pid")"
            [ "$r" = 1 ] && where[runsvdir-$impl]=$(breakdown "$tree_pid" || true)
            # shellcheck disable=SC2086
            add "$impl" runsv "$(awk -v s="$(pss_of $kids)" -v n="$(wc -w <<<"$kids")" 'BEGIN { printf "%.1f", s / n }')"
            stop_tree "$tree_pid" "$d"
            rm -rf "$d"
        done
    done
fi

# --- 1,000 services started; sv status of 500 of them (Debian's tree)
# The service directories are on the disk and their supervise/ on a tmpfs,
# as Debian's runit package lays them out (/etc/sv/NAME/supervise ->
# /run/runit/supervise/NAME). START_ON=disk keeps supervise/ on the disk;
# this machine's ext4 has no journal, and such an ext4 gives a new file an
# inode only after skipping every inode freed in the last minutes (up to
# five), reading their inode table blocks: a tree started after another
# was removed then pays mostly for that search (perf: 29% of all samples
# in one such start), and the row measures the order of the rounds more
# than the programs.
if want start || want sv; then
    if [ "${START_ON:-tmpfs}" = tmpfs ]; then
        mkdir "$work/run"
        mount -t tmpfs -o mode=0755 footprint "$work/run"
    fi
    for r in $(seq "$ROUNDS"); do
        for impl in $(both "$r"); do
            d=$work/tree1000-$impl-$r
            ran=$work/ran-$impl-$r
            : >"$ran"
            make_services "$d" 1000 "echo >>$ran"
            if [ -d "$work/run" ]; then
                for s in "$d"/*; do
                    mkdir -p -m 0700 "$work/run/$impl-$r/${s##*/}"
                    ln -s "$work/run/$impl-$r/${s##*/}" "$s/supervise"
                done
            fi
            touch -d '1 hour ago' "$d"
            sync
            t0=${EPOCHREALTIME/./}
            start_tree "$impl" "$d"
            until [ "$(wc -l <"$ran")" -ge 1000 ]; do sleep 0.01; done
            t1=${EPOCHREALTIME/./}
            add "$impl" start "$(awk -v u=$((t1 - t0)) 'BEGIN { printf "%.3f", u / 1e6 }')"
            if want sv && [ "$impl" = debian ]; then
                wait_running "$d" 1000
                names=$(cd "$d" && echo s0[0-4]* s0500)
                # both sv on the same records, interleaved run by run
                out=$(SVDIR=$d taskset -c "$(($(nproc) - 1))" python3 bench/exec-overhead.py "${SV_RUNS:-300}" \
                    "$(type -P true)" "debian=$(impl_bin debian sv) status $names" \
                    "ours=$(impl_bin ours sv) status $names")
                for i in ours debian; do
                    add "$i" sv "$(awk -v n="$i" '$1 == n && $2 == "wall" { printf "%.3f", $3 / 1000 }' <<<"$out")"
                done
            fi
            stop_tree "$tree_pid" "$d"
            rm -rf "$d" "$work/run/$impl-$r"
        done
    done
fi

# --- chpst -u nobody -e DIR true, over true
if want chpst; then
    mkdir -p "$work/env"
    chmod 711 "$work"
    for v in A B C D E F G H; do echo "value of $v" >"$work/env/$v"; done
    : >"$work/env/HOME"
    TRUE=$(type -P true)
    for r in $(seq "$ROUNDS"); do
        out=$(taskset -c "$(($(nproc) - 1))" python3 bench/exec-overhead.py "${CHPST_RUNS:-2000}" "$TRUE" \
            "debian=$(impl_bin debian chpst) -u nobody -e $work/env $TRUE" \
            "ours=$(impl_bin ours chpst) -u nobody -e $work/env $TRUE")
        for i in ours debian; do
            add "$i" chpst "$(awk -v n="$i" '$1 == n && $2 == "wall" { printf "%.4f", $4 / 1000 }' <<<"$out")"
        done
    done
fi

# --- socklog -> svlogd, 300,000 messages: CPU of both programs
if want socklog; then
    out=$(N=300000 RUNS=$ROUNDS PAIRINGS="dd oo" QLEN=host bash bench/socklog.sh)
    read -r d o < <(awk '/pipeline CPU s, median/ { print $(NF - 2), $(NF - 1); exit }' <<<"$out")
    O[socklog]=$o D[socklog]=$d
fi

# --- svlogd -tt, 200 MB: peak RSS and throughput
if want svlogd-rss; then
    awk 'BEGIN { pad = sprintf("%90s", ""); gsub(/ /, "x", pad);
        for (i = 0; i < 2000000; i++) printf "%08d %s\n", i, pad }' >"$work/input"
    for r in $(seq "$ROUNDS"); do
        for impl in $(both "$r"); do
            rm -rf "$work/log" && mkdir "$work/log"
            printf 's100000000\nn5\n' >"$work/log/config"
            t0=${EPOCHREALTIME/./}
            cat "$work/input" | /usr/bin/time -f %M -o "$work/time" "$(impl_bin "$impl" svlogd)" -tt "$work/log"
            t1=${EPOCHREALTIME/./}
            got=$(cat "$work"/log/current "$work"/log/@* 2>/dev/null | wc -l)
            [ "$got" -eq 2000000 ] || { echo "footprint: svlogd $impl logged $got of 2000000 lines" >&2; exit 1; }
            add "$impl" svlogd-rss "$(awk '{ printf "%.2f", $1 / 1024 }' "$work/time")"
            add "$impl" svlogd-mbs "$(awk -v u=$((t1 - t0)) -v b="$(stat -c %s "$work/input")" 'BEGIN { printf "%.0f", b / u }')"
        done
    done
    rm -rf "$work/input" "$work/log"
fi

# --- PSS per idle svlogd, 100 loggers
if want svlogd; then
    for r in $(seq "$ROUNDS"); do
        for impl in $(both "$r"); do
            pids=()
            for i in $(seq 100); do
                l=$work/loggers/$i
                mkdir -p "$l/log"
                mkfifo "$l/in"
                # read-write: the logger holds a writer itself and never
                # sees end of input; it is stopped with SIGTERM below.
                "$(impl_bin "$impl" svlogd)" -tt "$l/log" <>"$l/in" >/dev/null 2>&1 &
                pids+=($!)
                echo "logger $i" >"$l/in"
            done
            for i in $(seq 100); do
                until grep -q "logger $i" "$work/loggers/$i/log/current" 2>/dev/null; do sleep 0.02; done
            done
            sleep 1
            add "$impl" svlogd "$(awk -v s="$(pss_of "${pids[@]}")" 'BEGIN { printf "%.1f", s / 100 }')"
            kill -TERM "${pids[@]}" 2>/dev/null || true
            wait "${pids[@]}" 2>/dev/null || true
            rm -rf "$work/loggers"
        done
    done
fi

# --- runit as PID 1 in a runc container, stage 2 running
# pid1_pss IMPL BUNDLE CID: sets pid1_kb to the median of 3 samples of
# PID 1's PSS, once the container's runsvdir has a runsv running the
# ticker service.
pid1_pss() {
    local impl=$1 bundle=$2 cid=$3 pid="" end i k rsd samples=""
    runc run -b "$bundle" "$cid" </dev/null >"$work/$cid.log" 2>&1 &
    end=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$end" ]; do
        pid=$(runc state "$cid" 2>/dev/null | awk -F'[:,]' '/"pid"/ { gsub(/ /, "", $2); print $2 }' || true)
        if [ -n "$pid" ] && [ "$pid" != 0 ]; then
            rsd=$(for k in $(children_of "$pid"); do [ "$(cat "/proc/$k/comm" 2>/dev/null)" = runsvdir ] && echo "$k"; done)
            # shellcheck disable=SC2046
            [ -n "$rsd" ] && [ -n "$(children_of $(children_of "$rsd"))" ] && break
        fi
        pid=""
        sleep 0.1
    done
    [ -n "$pid" ] || { echo "footprint: container $cid did not reach stage 2: $(cat "$work/$cid.log")" >&2; exit 1; }
    sleep 2
    for i in 1 2 3; do
        samples+="$(pss_of "$pid") "
        where[runit-$impl]=$(breakdown "$pid" || true)
        sleep 1
    done
    runc kill "$cid" TERM >/dev/null 2>&1 || true
    for i in $(seq 150); do
        [ "$(runc state "$cid" 2>/dev/null | awk -F'"' '/"status"/ { print $4 }' || true)" = running ] || break
        sleep 0.1
    done
    runc delete -f "$cid" >/dev/null 2>&1 || true
    pid1_kb=$(median <<<"$samples")
}
if want runit; then
    command -v runc >/dev/null || apt-get install -y -qq runc >/dev/null
    # the bundles copy .debian/boot/base, which the machine tests share;
    # without them the row is left out, the others still printed
    if ! flock -w 900 /tmp/runit-vm.lock sh -c '
        dist/oci-bundle "$1/ours" >/dev/null && dist/oci-bundle --debian "$1/debian" >/dev/null' \
        sh "$work/bundle"; then
        echo "footprint: no OCI bundles (dist/oci-bundle failed): runit row left out" >&2
        ROUNDS_RUNIT=0
    fi
    for r in $(seq "${ROUNDS_RUNIT:-$ROUNDS}"); do
        for impl in $(both "$r"); do
            cid=footprint-$impl-$r-$$
            containers+=("$cid")
            pid1_pss "$impl" "$work/bundle/$impl" "$cid"
            add "$impl" runit "$pid1_kb"
        done
    done
    rm -rf "$work/bundle"
fi

# --- the table
row() { # row NAME FIGURE UNIT TARGET
    local o d
    [ -n "${O[$1]:-}" ] || return 0
    o=$(median <<<"${O[$1]}")
    d=$(median <<<"${D[$1]}")
    printf '| %s | %s %s | %s %s | %s | %s |\n' "$2" "$d" "$3" "$o" "$3" "$(ratio "$o" "$d")" "$4"
}
echo
echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date -u +%Y-%m-%d); medians of $ROUNDS rounds"
echo
echo "| figure | Debian's | ours | ours/Debian | target |"
echo "|---|---|---|---|---|"
row runsvdir "runsvdir PSS, 200 services" KiB "≤ 143 KiB"
row runit "runit (PID 1) PSS, stage 2 running, runc container" KiB "≤ 1.0×"
row sv "\`sv status\` of 500 services in one call" ms "≤ 1.0×"
row start "1000 services: runsvdir start → all run scripts executed" s "≤ 1.0×"
row chpst "chpst \`-u nobody -e DIR true\`, cost over \`true\`" ms "≤ 1.0×"
row socklog "socklog, 300,000 messages into svlogd: CPU of socklog+svlogd" s "≤ 0.5×"
row svlogd-rss "svlogd peak RSS, 200 MB with -tt" MiB "≤ 2 MiB"
row svlogd-mbs "svlogd -tt throughput, 200 MB (beside the RSS)" MB/s "same"
row runsv "runsv PSS per supervisor, 200 services" KiB "≤ 0.5×"
row svlogd "svlogd PSS per idle logger, 100 loggers" KiB "≤ 0.5×"

if [ ${#where[@]} -gt 0 ]; then
    echo
    echo "Where the PSS of the singletons lies (kB; the round-1 runsvdir, the last runit sample):"
    for k in runsvdir-debian runsvdir-ours runit-debian runit-ours; do
        [ -n "${where[$k]:-}" ] && printf '  %-16s %s\n' "$k" "${where[$k]}"
    done
fi
