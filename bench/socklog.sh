#!/bin/bash
# socklog throughput: N messages (default 1,000,000) from 4 concurrent
# senders into a unix datagram socket -> socklog -> svlogd (Debian's svlogd
# on both sides, so only socklog differs), ours (release build) vs
# Debian's socklog 2.1.0. Reports messages/s for the whole pipeline (from
# the first datagram sent until svlogd has written the last line) and the
# CPU time socklog itself used. The senders are threads of the `flood`
# example (crates/socklog/examples/flood.rs).
#
# A unix datagram socket queues at most net.unix.max_dgram_qlen datagrams
# (the kernel's default is 10; systemd systems set 512): the bench runs
# once with this machine's setting and once in a private network
# namespace (unshare -n) with 512, leaving the host's setting alone.
set -eu
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}
SENDERS=4
if [ "${1:-}" != --inner ]; then
    ./scripts/fetch-debian
    cargo build --release -p socklog --bins --example flood >/dev/null 2>&1
    bash "$0" --inner
    if unshare -n true 2>/dev/null; then
        unshare -n bash -c 'echo 512 >/proc/sys/net/unix/max_dgram_qlen && exec bash "$0" --inner' "$0"
    fi
    exit 0
fi
OURS=$PWD/target/release/socklog
DEB=$PWD/.debian/root/usr/sbin/socklog
SVLOGD=$PWD/.debian/root/usr/bin/svlogd
TMP=$(mktemp -d /tmp/socklog-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT
TICK=$(getconf CLK_TCK)

# Every line is "user.notice: bench NNNNNNNN\n" (28 bytes): the expected
# log size tells when the last message has arrived.
LINE_LEN=28
EXPECT=$((N * LINE_LEN))

FLOOD=$PWD/target/release/examples/flood

# run BIN -> "seconds cpu_seconds"
run() {
    local bin=$1 d="$TMP/run"
    rm -rf "$d"
    mkdir -p "$d/log"
    echo s0 >"$d/log/config"
    # A fifo joins socklog to svlogd, so both run as plain background jobs.
    mkfifo "$d/pipe"
    "$SVLOGD" "$d/log" <"$d/pipe" 2>/dev/null &
    local svpid=$!
    PIDS+=("$svpid")
    "$bin" unix "$d/sock" >"$d/pipe" 2>/dev/null &
    local slpid=$!
    PIDS+=("$slpid")
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
        sleep 0.005
    done
    t1=$(date +%s.%N)
    # utime + stime of socklog, in clock ticks
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$slpid/stat")
    kill "$slpid"
    wait "$slpid" 2>/dev/null || true
    wait "$svpid" 2>/dev/null || true
    local lines
    lines=$(wc -l <"$d/log/current")
    [ "$lines" -eq "$N" ] || { echo "lost messages: $lines of $N" >&2; exit 1; }
    awk -v a="$t0" -v b="$t1" -v t="$ticks" -v hz="$TICK" \
        'BEGIN { printf "%.3f %.3f\n", b - a, t / hz }'
}

best() { sort -n | head -1; }

echo "socklog bench: $N messages, $SENDERS senders, unix socket -> socklog -> svlogd (Debian's), best of $RUNS, max_dgram_qlen $(cat /proc/sys/net/unix/max_dgram_qlen)"
deb_wall=() deb_cpu=() our_wall=() our_cpu=()
for r in $(seq "$RUNS"); do
    for who in deb ours; do
        bin=$DEB
        [ $who = ours ] && bin=$OURS
        res=$(run "$bin")
        set -- $res
        echo "  run $r $who: ${1}s wall, ${2}s socklog CPU"
        if [ $who = deb ]; then deb_wall+=("$1"); deb_cpu+=("$2"); else our_wall+=("$1"); our_cpu+=("$2"); fi
    done
done
dw=$(printf '%s\n' "${deb_wall[@]}" | best)
ow=$(printf '%s\n' "${our_wall[@]}" | best)
dc=$(printf '%s\n' "${deb_cpu[@]}" | best)
oc=$(printf '%s\n' "${our_cpu[@]}" | best)
awk -v n="$N" -v dw="$dw" -v ow="$ow" -v dc="$dc" -v oc="$oc" 'BEGIN {
    printf "%-22s %14s %14s %8s\n", "", "Debian", "ours", "ratio"
    printf "%-22s %14.0f %14.0f %7.2fx\n", "messages/s", n / dw, n / ow, dw / ow
    printf "%-22s %14.3f %14.3f %7.2fx\n", "socklog CPU s", dc, oc, (oc > 0 ? dc / oc : 0)
    printf "%-22s %14.3f %14.3f\n", "CPU us/message", dc * 1e6 / n, oc * 1e6 / n
}'
