#!/bin/bash
# svls benchmark: listing 1,000 services (100 of them with a log service)
# supervised by our runsvdir and runsv, against what runit offers for the
# same glance, Debian's runit 2.1.2 `sv status` over every service.
#   svls             the table (state, pid, uptime, restarts, last exit,
#                    command line from /proc, last log line)
#   svls --json      the same for scripts
#   svls --prometheus   the textfile-collector file
#   Debian's sv status $SVDIR/*
# Timed with hyperfine (installed with apt-get if missing): median and
# mean, and the ratio svls / Debian's sv.
# Usage: bench/svls.sh [services] [runs]   (default 1000 services, 30 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
NSVC=${1:-1000}
RUNS=${2:-30}

./scripts/fetch-debian >/dev/null
./scripts/build-release
REL=$PWD/target/dist
DEB_SV=$PWD/.debian/root/usr/bin/sv
if ! command -v hyperfine >/dev/null 2>&1; then
    apt-get install -y -qq hyperfine >/dev/null 2>&1 || true
fi

tmp=$(mktemp -d /tmp/svls-bench.XXXXXX)
tree=
cleanup() {
    if [ -n "$tree" ]; then
        # HUP: runsvdir sends each runsv TERM, which stops its service.
        kill -HUP "$tree" 2>/dev/null || true
        wait "$tree" 2>/dev/null || true
        for _ in $(seq 100); do
            pgrep -f "$tmp/" >/dev/null 2>&1 || break
            sleep 0.1
        done
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/service"
for i in $(seq -w 1 "$NSVC"); do
    d=$tmp/service/svc$i
    mkdir -p "$d"
    printf '#!/bin/sh\necho started\nexec sleep 100000\n' >"$d/run"
    chmod +x "$d/run"
    if [ $((10#$i % 10)) -eq 0 ]; then
        mkdir -p "$d/log/main"
        printf '#!/bin/sh\nexec svlogd -tt main\n' >"$d/log/run"
        chmod +x "$d/log/run"
    fi
done
export SVDIR=$tmp/service
PATH="$REL:$PATH" setsid "$REL/runsvdir" "$SVDIR" </dev/null >/dev/null 2>&1 &
tree=$!
for _ in $(seq 600); do
    up=$("$REL/sv" status "$SVDIR"/* 2>/dev/null | grep -c '^run: ' || true)
    [ "$up" -ge "$NSVC" ] && break
    sleep 0.1
done
echo "== $up of $NSVC services up under our runsvdir ($(nproc) cores)"
"$REL/svls" | head -3
echo "   ... ($("$REL/svls" | wc -l) lines; exit status $("$REL/svls" >/dev/null; echo $?))"

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$tmp/h.json" \
    "$REL/svls" "$REL/svls --json" "$REL/svls --prometheus" \
    "$DEB_SV status $(printf '%s ' "$SVDIR"/*)" >/dev/null 2>&1
awk '
    /"command":/ { n++ }
    /"mean":/ { gsub(/[",]/, ""); mean[n] = $2 * 1000 }
    /"median":/ { gsub(/[",]/, ""); med[n] = $2 * 1000 }
    END {
        split("svls|svls --json|svls --prometheus|Debian sv status (all)", name, "|")
        for (i = 1; i <= 4; i++)
            printf "   %-26s median %6.1f ms   mean %6.1f ms   ratio to Debian sv %.2fx\n",
                name[i], med[i], mean[i], med[i] / med[4]
    }' "$tmp/h.json"
