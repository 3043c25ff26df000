#!/bin/bash
# chpst exec overhead: `chpst -u nobody -e DIR true` against plain `true`,
# our chpst (release build) against Debian's, measured with hyperfine
# (no shell in between, warm caches). Overhead = time(chpst ... true) -
# time(true); the ratio ours/Debian is the figure of merit (target <= 1.0).
# Also the envdir personality and `chpst -P -o 1000 -c 0 -b x` for a broader mix.
# The machine may be busy, and load only ever adds time: each command is
# measured in $ROUNDS rounds interleaved with the others, and both its
# lowest median and its fastest single run are kept; the ratio is given
# for both (the fastest run is the steadier figure on a loaded machine).
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-500}
ROUNDS=${ROUNDS:-3}

./scripts/fetch-debian >/dev/null
command -v hyperfine >/dev/null || apt-get install -y hyperfine >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
./scripts/build-release

OURS=$PWD/target/dist/chpst
DEBIAN=$PWD/.debian/root/usr/bin/chpst
TRUE=$(command -v true)
work=$(mktemp -d /tmp/chpst-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/env" "$work/ours" "$work/debian"
for v in A B C D E F G H; do echo "value of $v" >"$work/env/$v"; done
: >"$work/env/HOME"
ln -s "$OURS" "$work/ours/envdir"
ln -s "$DEBIAN" "$work/debian/envdir"

# stats CMD...: "median min" wall time in microseconds over $RUNS runs.
stats() {
    hyperfine -N --warmup 50 --runs "$RUNS" --export-json "$work/run.json" "$*" >/dev/null 2>&1 ||
        { echo "failed: $*" >&2; exit 1; }
    python3 -c "import json,sys; r = json.load(open(sys.argv[1]))['results'][0]; print('%.1f %.1f' % (r['median'] * 1e6, r['min'] * 1e6))" "$work/run.json"
}
# measure CMD...: keeps the lowest median and the lowest minimum so far.
declare -A MED MIN
measure() {
    local m n
    read -r m n < <(stats "$@")
    if [ -z "${MED[$*]:-}" ] || (($(echo "$m < ${MED[$*]}" | bc -l))); then MED[$*]=$m; fi
    if [ -z "${MIN[$*]:-}" ] || (($(echo "$n < ${MIN[$*]}" | bc -l))); then MIN[$*]=$n; fi
}

printf '%-32s %-7s %9s %11s %9s %13s %7s\n' scenario stat "true(us)" "debian(us)" "ours(us)" "overhead d/o" "ratio"
row() {
    local label=$1 ours_cmd=$2 deb_cmd=$3 r
    for r in $(seq "$ROUNDS"); do
        measure "$TRUE"
        measure "$deb_cmd"
        measure "$ours_cmd"
    done
    python3 - "$label" "${MED[$TRUE]}" "${MED[$deb_cmd]}" "${MED[$ours_cmd]}" \
        "${MIN[$TRUE]}" "${MIN[$deb_cmd]}" "${MIN[$ours_cmd]}" <<'PY'
import sys
label = sys.argv[1]
v = list(map(float, sys.argv[2:]))
for stat, (base, d, o) in (("median", v[0:3]), ("fastest", v[3:6])):
    od, oo = d - base, o - base
    print("%-32s %-7s %9.1f %11.1f %9.1f %6.0f/%-6.0f %7.2f"
          % (label, stat, base, d, o, od, oo, oo / od if od > 0 else float('nan')))
    label = ""
PY
}
row "chpst -u nobody -e DIR true" "$OURS -u nobody -e $work/env $TRUE" "$DEBIAN -u nobody -e $work/env $TRUE"
row "envdir DIR true" "$work/ours/envdir $work/env $TRUE" "$work/debian/envdir $work/env $TRUE"
row "chpst -P -o 1000 -c 0 -b x true" "$OURS -P -o 1000 -c 0 -b x $TRUE" "$DEBIAN -P -o 1000 -c 0 -b x $TRUE"
echo "(ratio = our overhead / Debian's overhead over plain true; lower is better)"
