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
# pinned they agree to 0.1%. Both binaries are copied to paths of the
# same shape, so that path lookup costs the same.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3000}
CPU=${CPU:-$(($(nproc) - 1))}

./scripts/fetch-debian >/dev/null
./scripts/build-release

TRUE=$(type -P true)
work=$(mktemp -d /tmp/chpst-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/env" "$work/ours" "$work/debn"
for v in A B C D E F G H; do echo "value of $v" >"$work/env/$v"; done
: >"$work/env/HOME"
cp target/dist/chpst "$work/ours/chpst"
cp .debian/root/usr/bin/chpst "$work/debn/chpst"
for d in ours debn; do ln -s chpst "$work/$d/envdir"; done

scenario() {
    local label=$1 shape=$2
    echo "== $label"
    taskset -c "$CPU" python3 bench/exec-overhead.py "$RUNS" "$TRUE" \
        "debian=${shape//@/$work/debn}" "ours=${shape//@/$work/ours}"
}
scenario "chpst -u nobody -e DIR true" "@/chpst -u nobody -e $work/env $TRUE"
scenario "envdir DIR true" "@/envdir $work/env $TRUE"
scenario "chpst -P -o 1000 -c 0 -b x true" "@/chpst -P -o 1000 -c 0 -b x $TRUE"
echo "(ratio = overhead over plain true relative to Debian's; ours <= 1.0 is the target)"
