#!/bin/bash
# socklog throughput: N messages (default 1,000,000) from 4 concurrent
# senders into a unix datagram socket -> socklog -> svlogd (Debian's svlogd
# on both sides, so only socklog differs), ours (release build) vs
# Debian's socklog 2.1.0. Reports messages/s for the whole pipeline (from
# the first datagram sent until svlogd has written the last line) and the
# CPU time socklog itself used. Needs python3 (the senders).
set -eu
cd "$(dirname "$0")/.."
N=${N:-1000000}
RUNS=${RUNS:-3}
SENDERS=4
./scripts/fetch-debian
cargo build --release -p socklog >/dev/null 2>&1
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

cat >"$TMP/send.py" <<'EOF'
import os, socket, sys
path, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
share = n // k
kids = []
for s in range(k):
    pid = os.fork()
    if pid == 0:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        send = sock.sendto
        lo = s * share
        hi = n if s == k - 1 else lo + share
        for i in range(lo, hi):
            send(b"<13>bench %08d" % i, path)
        os._exit(0)
    kids.append(pid)
for p in kids:
    os.waitpid(p, 0)
EOF

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
    python3 "$TMP/send.py" "$d/sock" "$N" "$SENDERS"
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

echo "socklog bench: $N messages, $SENDERS senders, unix socket -> socklog -> svlogd (Debian's), best of $RUNS"
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
