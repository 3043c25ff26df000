#!/bin/bash
# svlogd throughput: 2,000,000 lines (~200 MB) piped into each logger, with
# no timestamp and with -tt (s6-log: T), rotation s100000000 n5 (s6-log:
# s100000000 n5). Compares our svlogd (release build), Debian's svlogd,
# s6-log and `cat > file` (the ceiling). Best of $RUNS runs each; CPU
# seconds are the logger's user+system time.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
LINES=${LINES:-2000000}

./scripts/fetch-debian >/dev/null
command -v s6-log >/dev/null || apt-get install -y s6 >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y s6 >/dev/null; }
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
command -v bc >/dev/null || apt-get install -y bc >/dev/null
./scripts/build-release

OURS=$PWD/target/dist/svlogd
DEBIAN=$PWD/.debian/root/usr/bin/svlogd
work=$(mktemp -d /tmp/svlogd-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Lines of 100 bytes: an 8-digit counter, a space, 90 bytes of text.
awk -v n="$LINES" 'BEGIN {
    pad = sprintf("%90s", ""); gsub(/ /, "x", pad);
    for (i = 0; i < n; i++) printf "%08d %s\n", i, pad }' >"$work/input"
bytes=$(stat -c %s "$work/input")

# run NAME MODE: prints "wall cpu" of the best run.
run() {
    local name=$1 mode=$2 best="" r
    for r in $(seq "$RUNS"); do
        rm -rf "$work/log" "$work/cat.out"
        mkdir "$work/log"
        printf 's100000000\nn5\n' >"$work/log/config"
        local ts=""
        case $name in
        ours | debian)
            local bin=$OURS
            [ "$name" = debian ] && bin=$DEBIAN
            [ "$mode" = tt ] && ts=-tt
            cmd=("$bin" $ts "$work/log") ;;
        s6-log)
            [ "$mode" = tt ] && ts=T
            cmd=(s6-log -b n5 s100000000 $ts "$work/log") ;;
        cat)
            cmd=(sh -c "exec cat >'$work/cat.out'") ;;
        esac
        local t0 t1
        t0=$(date +%s.%N)
        cat "$work/input" | /usr/bin/time -f "%U %S" -o "$work/time" "${cmd[@]}"
        t1=$(date +%s.%N)
        local wall cpu
        wall=$(echo "$t1 - $t0" | bc -l)
        cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$work/time")
        # Check nothing was lost: every byte of input (plus stamps) is there.
        local got
        got=$(cat "$work"/log/current "$work"/log/@* "$work/cat.out" 2>/dev/null | wc -l)
        [ "$got" -eq "$LINES" ] || { echo "$name $mode: $got lines, want $LINES" >&2; exit 1; }
        if [ -z "$best" ] || (($(echo "$wall < ${best% *}" | bc -l))); then
            best="$wall $cpu"
        fi
    done
    echo "$best"
}

printf '%-8s %-7s %10s %12s %9s %8s %10s %10s %8s\n' \
    mode logger wall_s lines/s MB/s cpu_s "vs_debian" "vs_s6-log" "vs_cat"
for mode in none tt; do
    declare -A W C
    for name in cat ours debian s6-log; do
        [ "$name" = cat ] && [ "$mode" = tt ] && { W[cat]=${W[cat]}; C[cat]=${C[cat]}; continue; }
        read -r W[$name] C[$name] < <(run "$name" "$mode")
    done
    for name in ours debian s6-log cat; do
        w=${W[$name]}
        awk -v m="$mode" -v n="$name" -v w="$w" -v c="${C[$name]}" -v l="$LINES" -v b="$bytes" \
            -v wd="${W[debian]}" -v ws="${W[s6-log]}" -v wc="${W[cat]}" 'BEGIN {
            printf "%-8s %-7s %10.3f %12.0f %9.1f %8.2f %9.2fx %9.2fx %7.0f%%\n",
                m, n, w, l / w, b / w / 1e6, c, wd / w, ws / w, 100 * wc / w }'
    done
done
echo "(ratios are throughput ratios: >1x means faster than debian / s6-log; vs_cat is % of cat's throughput)"
