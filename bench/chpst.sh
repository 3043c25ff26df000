#!/bin/bash
# chpst exec overhead: `chpst -u nobody -e DIR true` against plain `true`,
# our chpst (release build) against Debian's; also the envdir personality
# and `chpst -P -o 1000 -c 0 -b x true` for a broader mix. Overhead =
# median time of the wrapped command - median time of plain `true`; the
# ratio ours/Debian is the figure of merit (target <= 1.0).
#
# bench/exec-overhead.py interleaves all commands run by run in random
# order (posix_spawn, no shell), so load on this shared machine falls on
# all alike, and reports wall and CPU time. Everything runs pinned to one
# processor: unpinned, two runs of the very same command differed by up
# to 1.3% in medians over 10,000 runs (which processor a run lands on),
# pinned they agree to 0.1%. Each binary is copied to $COPIES files of
# the same path shape, ours and Debian's alike, and the runs of all copies
# pooled: where a copy's pages happen to lie in memory moved one script
# run's result by about 1% against the next.
#
# Wall and CPU time still move by about half a percent from one run of
# this script to the next, so it also counts, with valgrind's callgrind,
# the instructions each chpst executes (dynamic loader and C library
# included) up to the exec: a figure that is the same on every run. The
# program is then a name that does not exist, so that chpst ends with
# its `unable to run` message instead of exec'ing (which would lose the
# count); both chpsts take that same path.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3000}
COPIES=${COPIES:-4}
CPU=${CPU:-$(($(nproc) - 1))}

./scripts/fetch-debian >/dev/null
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y valgrind >/dev/null; }
./scripts/build-release

TRUE=$(type -P true)
work=$(mktemp -d /tmp/chpst-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 711 "$work" # chpst -u writes the instruction count as nobody
mkdir "$work/env"
for v in A B C D E F G H; do echo "value of $v" >"$work/env/$v"; done
: >"$work/env/HOME"
for k in $(seq "$COPIES"); do
    mkdir "$work/ours$k" "$work/debn$k"
    cp target/dist/chpst "$work/ours$k/chpst"
    cp .debian/root/usr/bin/chpst "$work/debn$k/chpst"
    ln -s chpst "$work/ours$k/envdir"
    ln -s chpst "$work/debn$k/envdir"
done

# instructions CMD...: what callgrind counts for CMD (the output file is
# made writable for chpst -u, which writes it as nobody).
instructions() {
    local out=$work/callgrind.out
    rm -f "$out" && : >"$out" && chmod 666 "$out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >/dev/null 2>&1 || true
    awk '/^summary:/ {print $2}' "$out"
}

scenario() {
    local label=$1 shape=$2 deb ours k
    local -a wrappers=()
    for k in $(seq "$COPIES"); do
        wrappers+=("debian=${shape//@/$work/debn$k}" "ours=${shape//@/$work/ours$k}")
    done
    echo "== $label"
    taskset -c "$CPU" python3 bench/exec-overhead.py "$RUNS" "$TRUE" "${wrappers[@]}"
    local nowhere=${shape//$TRUE//nonexistent/true}
    deb=$(instructions ${nowhere//@/$work/debn1})
    ours=$(instructions ${nowhere//@/$work/ours1})
    printf 'instructions until exec: debian %s  ours %s  ratio %.3f\n' \
        "$deb" "$ours" "$(echo "$ours / $deb" | bc -l)"
}
scenario "chpst -u nobody -e DIR true" "@/chpst -u nobody -e $work/env $TRUE"
scenario "envdir DIR true" "@/envdir $work/env $TRUE"
scenario "chpst -P -o 1000 -c 0 -b x true" "@/chpst -P -o 1000 -c 0 -b x $TRUE"
echo "(ratio = overhead over plain true relative to Debian's; ours <= 1.0 is the target)"
