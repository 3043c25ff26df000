#!/bin/bash
# PID 1 shutdown: runit as PID 1 of a PID namespace, stage 2 = runsvdir
# with 100 services (each `sleep`), stage 3 = Debian's (sv force-stop, sv
# exit). Measured: the time from SIGCONT (with /run/runit.stopit armed) to
# the end of the namespace (reboot(2) ends it), and PID 1's proportional
# set size (PSS, /proc/PID/smaps_rollup) while the services run.
# Ours (release build) against Debian's runit, in interleaved rounds; the
# supervision tree is Debian's runsvdir/runsv/sv on both sides, so the
# comparison is PID 1 alone. Ratios are ours/Debian (lower is better).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
SERVICES=${SERVICES:-100}

./scripts/fetch-debian >/dev/null
./scripts/build-release

DEB=$PWD/.debian/root
OURS=$PWD/target/dist/runit
DEBIAN=$DEB/sbin/runit
work=$(mktemp -d /tmp/shutdown-bench.XXXXXX)
# Debian's runsvdir, runsv and sv, inside the namespace and out.
export PATH=$DEB/usr/bin:$DEB/usr/sbin:$PATH
trap 'rm -rf "$work"' EXIT

# One namespace run: prints "<shutdown ms> <pss kB>".
run_once() {
    local bin=$1 d=$work/run
    rm -rf "$d"
    mkdir -p "$d/etc-runit" "$d/ov/upper" "$d/ov/work" "$d/service"
    : >"$d/console"
    for i in $(seq "$SERVICES"); do
        mkdir -p "$d/service/sv$i"
        printf '#!/bin/sh\nexec sleep 100000\n' >"$d/service/sv$i/run"
        chmod +x "$d/service/sv$i/run"
    done
    printf '#!/bin/sh\ninstall -m100 /dev/null /run/runit.stopit\n' >"$d/etc-runit/1"
    printf '#!/bin/sh\nexec env - PATH=$PATH runsvdir -P %s/service\n' "$d" >"$d/etc-runit/2"
    printf '#!/bin/sh\nexec 2>&1\nsv force-stop %s/service/*\nsv exit %s/service/*\n' "$d" "$d" >"$d/etc-runit/3"
    chmod +x "$d/etc-runit/1" "$d/etc-runit/2" "$d/etc-runit/3"
    # nosync: a sync of the host's disks is not what is measured here.
    : >"$d/etc-runit/nosync"

    unshare --pid --fork --kill-child --mount-proc --mount --propagation private sh -c '
        D=$1; shift
        mount -t overlay overlay -o lowerdir=/etc,upperdir=$D/ov/upper,workdir=$D/ov/work /etc || exit 99
        mkdir -p /etc/runit && mount --bind $D/etc-runit /etc/runit || exit 98
        mount -t tmpfs tmpfs /run || exit 97
        mount --bind $D/console /dev/console || exit 96
        exec env -i PATH="$PATH" "$@"' sh "$d" "$bin" </dev/null >/dev/null 2>&1 &
    local u=$! pid1="" up=0
    for _ in $(seq 2000); do
        pid1=$(cut -d' ' -f1 "/proc/$u/task/$u/children" 2>/dev/null || true)
        [ -n "$pid1" ] && up=$(sv status "$d"/service/* 2>/dev/null | grep -c '^run:' || true)
        [ "$up" = "$SERVICES" ] && break
        sleep 0.01
    done
    [ "$up" = "$SERVICES" ] || { echo "services did not come up ($up)" >&2; kill "$u" 2>/dev/null; cat "$d/console" >&2; exit 1; }
    local pss
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$pid1/smaps_rollup")
    local t0 t1
    t0=$(date +%s%N)
    kill -CONT "$pid1"
    wait "$u" || true
    t1=$(date +%s%N)
    echo "$(((t1 - t0) / 1000)) $pss"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

: >"$work/ours" && : >"$work/debian"
for r in $(seq "$ROUNDS"); do
    run_once "$OURS" >>"$work/ours"
    run_once "$DEBIAN" >>"$work/debian"
done

o_t=$(cut -d' ' -f1 "$work/ours" | median)
d_t=$(cut -d' ' -f1 "$work/debian" | median)
o_m=$(cut -d' ' -f2 "$work/ours" | median)
d_m=$(cut -d' ' -f2 "$work/debian" | median)
echo "PID 1 with $SERVICES services, median of $ROUNDS rounds"
printf '%-34s %12s %12s %8s\n' metric ours debian ratio
printf '%-34s %12.1f %12.1f %8.2f\n' "SIGCONT -> namespace end (ms)" \
    "$(echo "$o_t / 1000" | bc -l)" "$(echo "$d_t / 1000" | bc -l)" "$(echo "$o_t / $d_t" | bc -l)"
printf '%-34s %12d %12d %8.2f\n' "PID 1 PSS (kB)" "$o_m" "$d_m" "$(echo "$o_m / $d_m" | bc -l)"
