#!/bin/bash
# socklog throughput: N messages (default 1,000,000) from 4 concurrent
# senders into a unix datagram socket (as /dev/log) -> socklog -> svlogd,
# the programs as installed (scripts/build-release, target/dist/) against
# Debian's socklog 2.1.0 and runit 2.1.2, in one run:
#
#  (a) the pipelines, as the system runs them: our socklog -> our svlogd
#      against Debian's socklog -> Debian's svlogd;
#  (b) socklog alone: each socklog behind the same svlogd (Debian's, then
#      ours), so only socklog differs.
#
# Four pairings per round (Debian/Debian, ours/ours, ours/Debian's svlogd,
# Debian's/our svlogd), in a different order each round. Reported:
# messages/s for the whole pipeline (from the first datagram sent until
# svlogd has written the last line; best and median of RUNS rounds) and the
# CPU time (user + system) socklog and svlogd used (median). The senders
# are threads of the `flood` example (crates/socklog/examples/flood.rs).
#
# A unix datagram socket queues at most net.unix.max_dgram_qlen datagrams
# (the kernel's default is 10; systemd systems set 512): the bench runs
# once with this machine's setting and once in a private network
# namespace (unshare -n) with 512, leaving the host's setting alone.
#
# QLEN=host or QLEN=512 runs only that one; PAIRINGS="dd oo" only the
# pipelines (bench/footprint.sh uses both).
set -eu
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-5}
SENDERS=4
QLEN=${QLEN:-both}
PAIRINGS=${PAIRINGS:-dd oo od do}
export QLEN PAIRINGS
if [ "${1:-}" != --inner ]; then
    ./scripts/fetch-debian
    ./scripts/build-release
    cargo build --release --quiet -p socklog --example flood
    [ "$QLEN" = 512 ] || bash "$0" --inner
    if [ "$QLEN" != host ] && unshare -n true 2>/dev/null; then
        unshare -n bash -c 'echo 512 >/proc/sys/net/unix/max_dgram_qlen && exec bash "$0" --inner' "$0"
    fi
    exit 0
fi
OUR_SL=$PWD/target/dist/socklog
OUR_SV=$PWD/target/dist/svlogd
DEB_SL=$PWD/.debian/root/usr/sbin/socklog
DEB_SV=$PWD/.debian/root/usr/bin/svlogd
FLOOD=$PWD/target/release/examples/flood
TMP=$(mktemp -d /tmp/socklog-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TICK=$(getconf CLK_TCK)

# Every line is "user.notice: bench NNNNNNNN\n" (28 bytes): the expected
# log size tells when the last message has arrived.
LINE_LEN=28
EXPECT=$((N * LINE_LEN))

# utime + stime of a live process, in clock ticks
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run SOCKLOG SVLOGD -> "seconds socklog_cpu_s svlogd_cpu_s"; runs in a
# subshell ($(run ...)), whose exit stops the two programs in any case.
run() {
    local sl=$1 sv=$2 d="$TMP/run"
    svpid='' slpid=''
    trap 'kill $slpid $svpid 2>/dev/null || true' EXIT
    rm -rf "$d"
    mkdir -p "$d/log"
    echo s0 >"$d/log/config"
    # A fifo joins socklog to svlogd, so both run as plain background jobs.
    mkfifo "$d/pipe"
    "$sv" "$d/log" <"$d/pipe" 2>/dev/null &
    svpid=$!
    "$sl" unix "$d/sock" >"$d/pipe" 2>/dev/null &
    slpid=$!
    local i=0
    while [ ! -S "$d/sock" ]; do
        sleep 0.01
        i=$((i + 1))
        [ $i -lt 1000 ] || { echo "socklog did not start" >&2; exit 1; }
    done
    local t0 t1
    t0=$(date +%s.%N)
    "$FLOOD" "$d/sock" "$N" "$SENDERS"
    while [ "$(stat -c %s "$d/log/current" 2>/dev/null || echo 0)" -lt "$EXPECT" ]; do
        kill -0 "$slpid" "$svpid" 2>/dev/null || { echo "$sl or $sv died" >&2; exit 1; }
        sleep 0.005
    done
    t1=$(date +%s.%N)
    local slt svt
    slt=$(ticks "$slpid")
    svt=$(ticks "$svpid")
    kill "$slpid"
    wait "$slpid" 2>/dev/null || true
    wait "$svpid" 2>/dev/null || true
    local lines
    lines=$(wc -l <"$d/log/current")
    [ "$lines" -eq "$N" ] || { echo "lost messages: $lines of $N" >&2; exit 1; }
    awk -v a="$t0" -v b="$t1" -v s="$slt" -v v="$svt" -v hz="$TICK" \
        'BEGIN { printf "%.3f %.3f %.3f\n", b - a, s / hz, v / hz }'
}

# Pairings: name socklog svlogd
PAIRS=()
for p in "dd $DEB_SL $DEB_SV" "oo $OUR_SL $OUR_SV" "od $OUR_SL $DEB_SV" "do $DEB_SL $OUR_SV"; do
    [[ " $PAIRINGS " == *" ${p%% *} "* ]] && PAIRS+=("$p")
done
declare -A WALL SLCPU SVCPU

echo "socklog bench: $N messages, $SENDERS senders, unix socket -> socklog -> svlogd, $RUNS rounds, max_dgram_qlen $(cat /proc/sys/net/unix/max_dgram_qlen), load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$RUNS"); do
    line="  round $r:"
    # Rotate the order each round, so no pairing always runs first.
    for k in "${!PAIRS[@]}"; do
        read -r name sl sv <<<"${PAIRS[$(((k + r) % ${#PAIRS[@]}))]}"
        res=$(run "$sl" "$sv")
        read -r w s v <<<"$res"
        WALL[$name]+="$w "
        SLCPU[$name]+="$s "
        SVCPU[$name]+="$v "
        line+=" $name ${w}s"
    done
    echo "$line"
done

best() { tr ' ' '\n' | grep . | sort -n | head -1; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# stats NAME -> "best_wall median_wall median_socklog_cpu median_svlogd_cpu"
stats() {
    echo "$(best <<<"${WALL[$1]}") $(median <<<"${WALL[$1]}") $(median <<<"${SLCPU[$1]}") $(median <<<"${SVCPU[$1]}")"
}
# table TITLE DEBIAN_PAIR OUR_PAIR CPU_ROWS
table() {
    awk -v n="$N" -v title="$1" -v d="$(stats "$2")" -v o="$(stats "$3")" -v rows="$4" 'BEGIN {
        split(d, D); split(o, O)
        printf "%s\n", title
        printf "  %-30s %12s %12s %8s\n", "", "Debian", "ours", "ratio"
        printf "  %-30s %12.0f %12.0f %7.2fx\n", "messages/s, best", n / D[1], n / O[1], D[1] / O[1]
        printf "  %-30s %12.0f %12.0f %7.2fx\n", "messages/s, median", n / D[2], n / O[2], D[2] / O[2]
        if (rows ~ /sl/)
            printf "  %-30s %12.3f %12.3f %7.2fx\n", "socklog CPU s, median", D[3], O[3], (O[3] > 0 ? D[3] / O[3] : 0)
        if (rows ~ /sv/)
            printf "  %-30s %12.3f %12.3f %7.2fx\n", "svlogd CPU s, median", D[4], O[4], (O[4] > 0 ? D[4] / O[4] : 0)
        if (rows ~ /all/)
            printf "  %-30s %12.3f %12.3f %7.2fx\n", "pipeline CPU s, median", D[3] + D[4], O[3] + O[4], (O[3] + O[4] > 0 ? (D[3] + D[4]) / (O[3] + O[4]) : 0)
    }'
}
table "(a) pipelines: Debian's socklog -> Debian's svlogd vs our socklog -> our svlogd" dd oo "sl sv all"
[[ " $PAIRINGS " == *" od "* ]] && table "(b) socklog alone, behind Debian's svlogd" dd od "sl"
[[ " $PAIRINGS " == *" do "* ]] && table "(b) socklog alone, behind our svlogd" do oo "sl"
exit 0
