#!/bin/bash
# What chpst's sandbox (-S) costs at start-up, measured as bench/chpst.sh
# measures chpst: overhead = median time of the wrapped `true` - median
# time of plain `true`, all commands interleaved run by run in random
# order (bench/exec-overhead.py), pinned to one processor.
#
# 1. All knobs at once against Debian's bubblewrap giving the same
#    isolation (once with a PID namespace, once without): new mount,
#    network (loopback only), UTS and PID namespaces; / read-only; a private /dev, /proc, /tmp, /var/tmp; an
#    empty /home and /root; no capabilities; no_new_privs; the seccomp
#    filter of @system-service — bwrap gets chpst's very filter through
#    --seccomp (written by `cargo run --example seccomp-bpf`). The ratio
#    is chpst's overhead over bwrap's (goal: below 1).
# 2. Each knob alone, as overhead over plain `chpst true`: its own cost.
#
# Plain chpst against Debian's chpst is bench/chpst.sh.
set -eu
cd "$(dirname "$0")/.."
RUNS=${RUNS:-1000}
KNOB_RUNS=${KNOB_RUNS:-300}
CPU=${CPU:-$(($(nproc) - 1))}

command -v bwrap >/dev/null || apt-get install -y bubblewrap >/dev/null 2>&1 ||
    { apt-get update >/dev/null && apt-get install -y bubblewrap >/dev/null; }
./scripts/build-release
cargo build --release --quiet -p chpst --example seccomp-bpf

TRUE=$(type -P true)
work=$(mktemp -d /tmp/chpst-sandbox-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp target/dist/chpst "$work/chpst"
target/release/examples/seccomp-bpf syscall-filter=@system-service >"$work/filter.bpf"

# bwrap reads the filter from a descriptor: a small shell opens it, in
# both commands alike, so the shell's cost cancels out in the ratio.
compare() {
    local label=$1 ours=$2 theirs=$3
    echo "== $label"
    taskset -c "$CPU" python3 bench/exec-overhead.py "$RUNS" \
        "/bin/sh -c 'exec $TRUE 9<$work/filter.bpf'" \
        "chpst=/bin/sh -c 'exec $work/chpst $ours $TRUE 9<$work/filter.bpf'" \
        "bwrap=/bin/sh -c 'exec bwrap $theirs --seccomp 9 $TRUE 9<$work/filter.bpf'"
}
ours="-S private-network -S protect-hostname -S protect-system=strict -S private-devices \
-S private-tmp -S protect-home=tmpfs -S protect-kernel-tunables -S caps= -S no-new-privs \
-S syscall-filter=@system-service"
theirs="--unshare-net --unshare-uts --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
--tmpfs /var/tmp --tmpfs /home --tmpfs /root --cap-drop ALL"
compare "all knobs: chpst vs bwrap (same isolation, same seccomp filter)" \
    "$ours -S private-pid" "$theirs --unshare-pid"
echo "(the cpu figure counts only processes their parents wait for: bwrap's in"
echo " its PID namespace are not, chpst's are; compare cpu below)"
compare "the same without the PID namespace" "$ours" "$theirs"
echo "(ratio: bwrap's overhead over chpst's; above 1 means chpst is faster)"
echo
echo "== each knob alone: overhead over plain chpst"
knobs=(no-new-privs caps= ambient-caps=CAP_NET_BIND_SERVICE umask=027 private-tmp
    protect-system protect-system=full protect-system=strict read-only=/var
    inaccessible=/srv protect-home private-devices protect-kernel-tunables
    protect-kernel-modules protect-kernel-logs protect-control-groups private-network
    protect-hostname private-pid syscall-filter=@system-service 'syscall-filter=~@mount'
    syscall-architectures=native memory-deny-write-execute restrict-realtime
    lock-personality restrict-namespaces restrict-address-families=AF_UNIX,AF_INET)
wrappers=()
for k in "${knobs[@]}"; do
    wrappers+=("${k//=/:}=$work/chpst -S $k $TRUE") # NAME=COMMAND: no = in NAME
done
taskset -c "$CPU" python3 bench/exec-overhead.py "$KNOB_RUNS" "$work/chpst $TRUE" \
    "${wrappers[@]}" |
    awk '$2 == "wall" && $1 != "baseline" {printf "%-45s %8.1f us\n", $1, $4}'
echo "(wall time; differences within about 50 us are noise)"
