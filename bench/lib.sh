# Pieces the bench scripts share; sourced (bash), not run.

# ratio A B: A/B as "1.23x", or n/a when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

# median: of the numbers on stdin, one per line or separated by blanks.
median() {
    tr ' ' '\n' | grep . | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# pss_of PID...: the sum of their Pss in kB (/proc/PID/smaps_rollup).
pss_of() {
    local p files=()
    for p in "$@"; do files+=("/proc/$p/smaps_rollup"); done
    { cat "${files[@]}" 2>/dev/null || true; } | awk '/^Pss:/ { s += $2 } END { print s + 0 }'
}

# children_of PID...: their children, from the kernel's list.
children_of() {
    local p
    for p in "$@"; do cat "/proc/$p/task/$p/children" 2>/dev/null || true; done | tr '\n' ' '
}

# make_services DIR N [LINE]: N service directories DIR/s0001.. whose run
# is `#!/bin/sh`, LINE (if given), `exec sleep 100000`.
make_services() {
    local dir=$1 n=$2 line=${3:-} i
    mkdir -p "$dir"
    for i in $(seq -f '%04g' 1 "$n"); do
        mkdir "$dir/s$i"
        printf '#!/bin/sh\n%s%sexec sleep 100000\n' "$line" "${line:+$'\n'}" >"$dir/s$i/run"
        chmod +x "$dir/s$i/run"
    done
}

# running DIR: how many services under DIR/* report `run` in supervise/stat.
running() { cat "$1"/*/supervise/stat 2>/dev/null | grep -c '^run$' || true; }

# supervisors_gone DIR [SECONDS]: waits until no runsv holds the lock of a
# service under DIR (every runsv of the tree has ended); 1 if some still do.
supervisors_gone() {
    local dir=$1 end=$((SECONDS + ${2:-60})) l
    for l in "$dir"/*/supervise/lock; do
        [ -e "$l" ] || continue
        until flock -n "$l" true 2>/dev/null; do
            [ "$SECONDS" -lt "$end" ] || return 1
            sleep 0.05
        done
    done
}

# breakdown PID: where its PSS lies, in kB, one line: the program file's
# text, its read-only pages (data, relocated data, headers), its writable
# data; heap, other anonymous pages (bss, the C library's state), stack,
# and shared libraries' pages (its share of them).
breakdown() {
    local exe
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
    awk -v exe="$exe" '
        /^[0-9a-f]+-[0-9a-f]+ / { perm = $2; name = $6
            if (name != "" && substr(exe, length(exe) - length(name) + 1) == name)
                k = (perm ~ /x/) ? "text" : (perm ~ /w/) ? "data" : "ro"
            else if (name == "[heap]") k = "heap"
            else if (name == "[stack]") k = "stack"
            else if (name ~ /^\//) k = "libs"
            else k = "anon"
            next }
        /^Pss:/ { v[k] += $2 }
        END { printf "text %d, read-only %d, data %d, heap %d, anon %d, stack %d, libs %d\n",
            v["text"], v["ro"], v["data"], v["heap"], v["anon"], v["stack"], v["libs"] }' "/proc/$1/smaps"
}
