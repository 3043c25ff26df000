#!/bin/bash
# chpst exec overhead: `chpst -u nobody -e DIR true` against plain `true`,
# our chpst (release build) against Debian's, measured with hyperfine
# (no shell in between, warm caches). Overhead = time(chpst ... true) -
# time(true); the ratio ours/Debian is the figure of merit (target <= 1.0).
# Also the envdir personality and `chpst -P -o 1000 -n 1` for a broader mix.
# The machine may be busy: each command is measured in $ROUNDS rounds,
# interleaved with the others, and its best (lowest) median is kept.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-500}
ROUNDS=${ROUNDS:-3}

./scripts/fetch-debian >/dev/null
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
cargo build --release -p chpst >/dev/null 2>&1

OURS=$PWD/target/release/chpst
DEBIAN=$PWD/.debian/root/usr/bin/chpst
TRUE=$(command -v true)
work=$(mktemp -d /tmp/chpst-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/env" "$work/ours" "$work/debian"
for v in A B C D E F G H; do echo "value of $v" >"$work/env/$v"; done
: >"$work/env/HOME"
ln -s "$OURS" "$work/ours/envdir"
ln -s "$DEBIAN" "$work/debian/envdir"

# median CMD...: median wall time in microseconds over $RUNS runs.
median() {
    hyperfine -N --warmup 50 --runs "$RUNS" --export-json "$work/run.json" "$*" >/dev/null 2>&1 ||
        { echo "failed: $*" >&2; exit 1; }
    python3 -c "import json,sys; print('%.1f' % (json.load(open(sys.argv[1]))['results'][0]['median']*1e6))" "$work/run.json"
}
# best CMD...: the lowest of the medians of the rounds done so far.
declare -A BEST
measure() {
    local m
    m=$(median "$@")
    if [ -z "${BEST[$*]:-}" ] || (($(echo "$m < ${BEST[$*]}" | bc -l))); then BEST[$*]=$m; fi
}

printf '%-30s %9s %11s %9s %13s %7s\n' scenario "true(us)" "debian(us)" "ours(us)" "overhead d/o" "ratio"
row() {
    local label=$1 ours_cmd=$2 deb_cmd=$3 r
    for r in $(seq "$ROUNDS"); do
        measure "$TRUE"
        measure "$deb_cmd"
        measure "$ours_cmd"
    done
    python3 - "$label" "${BEST[$TRUE]}" "${BEST[$deb_cmd]}" "${BEST[$ours_cmd]}" <<'PY'
import sys
label, base, d, o = sys.argv[1], *map(float, sys.argv[2:])
od, oo = d - base, o - base
print("%-30s %9.1f %11.1f %9.1f %6.0f/%-6.0f %7.2f" % (label, base, d, o, od, oo, oo / od if od > 0 else float('nan')))
PY
}
row "chpst -u nobody -e DIR true" "$OURS -u nobody -e $work/env $TRUE" "$DEBIAN -u nobody -e $work/env $TRUE"
row "envdir DIR true" "$work/ours/envdir $work/env $TRUE" "$work/debian/envdir $work/env $TRUE"
row "chpst -P -o 1000 -n 1 true" "$OURS -P -o 1000 -n 1 $TRUE" "$DEBIAN -P -o 1000 -n 1 $TRUE"
echo "(ratio = our overhead / Debian's overhead over plain true; lower is better)"
