#!/usr/bin/env python3
"""Start-up overhead of exec wrappers, measured so that a busy machine
cannot tilt the comparison.

usage: exec-overhead.py RUNS BASELINE NAME=COMMAND...

Every command (the baseline, e.g. plain `true`, and each wrapper around
it) is started RUNS times with posix_spawn, no shell in between; each
round starts all of them once, in a new random order, so load that comes
and goes falls on all alike. Per run it records the wall time from spawn
to reaping and the CPU time (user + system) the kernel accounted to the
child. The overhead of a wrapper is its median minus the baseline's
median; one line per wrapper and figure, with the ratio of each
wrapper's overhead to the first wrapper's. A NAME given more than once
(say, the same program copied to several files, so that where its pages
happen to lie in memory averages out) pools the runs of all its commands.
"""
import os
import random
import shlex
import statistics
import sys
import time


# Every command's output goes to /dev/null (the same open for each, so it
# cancels out of the overheads): a report of 500 services is no load on
# whoever reads this script's output.
QUIET = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]


def run_once(argv):
    """Wall and CPU seconds of one run of argv."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=QUIET)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: " + shlex.join(argv))
    return wall, ru.ru_utime + ru.ru_stime


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    commands = [("baseline", shlex.split(sys.argv[2]))]
    for spec in sys.argv[3:]:
        name, _, cmd = spec.partition("=")
        commands.append((name, shlex.split(cmd)))
    for _, argv in commands:  # warm the page cache
        for _ in range(20):
            run_once(argv)
    wall = {name: [] for name, _ in commands}
    cpu = {name: [] for name, _ in commands}
    names = list(wall)
    for _ in range(runs):
        order = commands[:]
        random.shuffle(order)
        for name, argv in order:
            w, c = run_once(argv)
            wall[name].append(w)
            cpu[name].append(c)
    print("%-10s %-6s %10s %10s %8s" % ("command", "figure", "median us", "overhead", "ratio"))
    for figure, samples in (("wall", wall), ("cpu", cpu)):
        base = statistics.median(samples["baseline"])
        first = None
        for name in names:
            med = statistics.median(samples[name])
            if name == "baseline":
                print("%-10s %-6s %10.1f" % (name, figure, med * 1e6))
                continue
            over = med - base
            first = over if first is None else first
            ratio = over / first if first > 0 else float("nan")
            print("%-10s %-6s %10.1f %10.1f %8.3f" % (name, figure, med * 1e6, over * 1e6, ratio))


if __name__ == "__main__":
    main()
