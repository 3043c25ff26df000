//! Renders one `supervise/status` record as sv prints it:
//! `run: cron: (pid 2033) 2s, normally down, paused, want down, got TERM`.
//!
//! runit keys every flag on the pid, not on the state byte, and prints the
//! `(pid N)` part whenever the state byte is not 0; we keep both quirks so
//! that output matches for any record, including odd ones.

use runit::decimal;
use runit::status::{Status, STATUS_LEN};
use runit::tai64n::Tai64n;

/// What LSB `status` reports for the main service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    Running,
    Down,
}

/// Formats a status line (without newline) for `name`.
pub fn status_line(name: &str, raw: &[u8; STATUS_LEN], normally_down: bool, now: Tai64n) -> String {
    let mut s = Vec::with_capacity(64 + name.len());
    push_status_line(&mut s, name.as_bytes(), raw, normally_down, now);
    // Only text and ASCII went in.
    String::from_utf8(s).unwrap_or_default()
}

/// Appends the status line (without newline) for `name` (text) to `s`;
/// no allocation beyond `s` growing (a status of many services reuses
/// one), no check of the text as UTF-8.
pub fn push_status_line(
    s: &mut Vec<u8>,
    name: &[u8],
    raw: &[u8; STATUS_LEN],
    normally_down: bool,
    now: Tai64n,
) {
    let st = Status::decode(raw).unwrap_or_default();
    let state = raw[19];
    let mut digits = [0u8; decimal::MAX_LEN];
    s.extend_from_slice(match state {
        0 => b"down: ",
        1 => b"run: ",
        2 => b"finish: ",
        _ => b"",
    });
    s.extend_from_slice(name);
    s.extend_from_slice(b": ");
    if state != 0 {
        s.extend_from_slice(b"(pid ");
        s.extend_from_slice(decimal::unsigned_bytes(u64::from(st.pid), &mut digits));
        s.extend_from_slice(b") ");
    }
    s.extend_from_slice(decimal::unsigned_bytes(
        st.since.secs_until(&now),
        &mut digits,
    ));
    s.push(b's');
    let running = st.pid != 0;
    if !running && !normally_down {
        s.extend_from_slice(b", normally up");
    }
    if running && normally_down {
        s.extend_from_slice(b", normally down");
    }
    if running && st.paused {
        s.extend_from_slice(b", paused");
    }
    if !running && st.wants_up() {
        s.extend_from_slice(b", want up");
    }
    if running && st.wants_down() {
        s.extend_from_slice(b", want down");
    }
    if running && st.term_sent {
        s.extend_from_slice(b", got TERM");
    }
}

/// What follows runit's line for a running service that declares
/// readiness (beyond runit): `, ready 3s` or `, not ready`, then the
/// service's own `STATUS=` text if it sent one.
pub fn readiness_suffix(ready: Option<Tai64n>, text: Option<&str>, now: Tai64n) -> String {
    let mut s = match ready {
        Some(t) => format!(", ready {}s", t.secs_until(&now)),
        None => ", not ready".to_string(),
    };
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        s.push_str(", status: ");
        // The service's own words: no escape sequences to our terminal.
        s.push_str(&runit::secure::escape(t));
    }
    s
}

/// What follows for a running `kill-tree` service in its own cgroup
/// (beyond runit): the cgroup's CPU time from `cpu.stat`, and its memory
/// when the memory controller gives `memory.current`.
pub fn cgroup_suffix(cpu_stat: &str, memory_current: Option<&str>) -> String {
    let mut s = String::new();
    let usec = cpu_stat.lines().find_map(|l| {
        l.strip_prefix("usage_usec ")
            .and_then(|v| v.trim().parse::<u64>().ok())
    });
    if let Some(us) = usec {
        s.push_str(&format!(
            ", cpu {}.{:02}s",
            us / 1_000_000,
            us % 1_000_000 / 10_000
        ));
    }
    if let Some(bytes) = memory_current.and_then(|m| m.trim().parse::<u64>().ok()) {
        s.push_str(", mem ");
        s.push_str(&human_bytes(bytes));
    }
    s
}

/// 512B, 12.3K, 4.5M, 1.2G (powers of 1024).
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1}{}", UNITS[u])
}

/// Whether a record counts as running for LSB `status` (a pid is set).
pub fn liveness(raw: &[u8; STATUS_LEN]) -> Liveness {
    match Status::decode(raw) {
        Some(st) if st.pid != 0 => Liveness::Running,
        _ => Liveness::Down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runit::status::RunState;

    const NOW: i64 = 1_795_659_380;

    fn rec(age: i64, pid: u32, paused: bool, want: u8, term: bool, state: u8) -> [u8; 20] {
        let st = Status {
            since: Tai64n::from_unix(NOW - age, 5),
            pid,
            paused,
            want,
            term_sent: term,
            state: RunState::from_byte(state),
        };
        let mut raw = st.encode();
        raw[19] = state;
        raw
    }

    fn line(r: [u8; 20], down_file: bool) -> String {
        status_line("x", &r, down_file, Tai64n::from_unix(NOW, 0))
    }

    // Expected lines were produced by Debian's sv 2.1.2 on the same records.
    #[test]
    fn matches_runit_for_each_flag() {
        let cases: [([u8; 20], bool, &str); 13] = [
            (
                rec(5, 0, false, b'u', false, 0),
                false,
                "down: x: 5s, normally up, want up",
            ),
            (
                rec(5, 0, false, b'd', false, 0),
                false,
                "down: x: 5s, normally up",
            ),
            (
                rec(5, 0, true, b'u', false, 0),
                false,
                "down: x: 5s, normally up, want up",
            ),
            (
                rec(5, 123, true, b'd', true, 1),
                false,
                "run: x: (pid 123) 5s, paused, want down, got TERM",
            ),
            (
                rec(5, 123, false, b'u', false, 2),
                false,
                "finish: x: (pid 123) 5s",
            ),
            (
                rec(5, 123, false, b'd', false, 2),
                false,
                "finish: x: (pid 123) 5s, want down",
            ),
            (
                rec(5, 0, false, b'x', false, 7),
                false,
                "x: (pid 0) 5s, normally up",
            ),
            (rec(5, 77, false, b'u', false, 0), false, "down: x: 5s"),
            (
                rec(5, 0, false, b'u', false, 1),
                false,
                "run: x: (pid 0) 5s, normally up, want up",
            ),
            (
                rec(-5, 1, false, b'u', false, 1),
                false,
                "run: x: (pid 1) 0s",
            ),
            (
                rec(5, 0, false, b'u', false, 0),
                true,
                "down: x: 5s, want up",
            ),
            (
                rec(5, 123, false, b'u', false, 1),
                true,
                "run: x: (pid 123) 5s, normally down",
            ),
            (
                rec(5, 123, false, b'd', false, 1),
                true,
                "run: x: (pid 123) 5s, normally down, want down",
            ),
        ];
        for (r, down, want) in cases {
            assert_eq!(line(r, down), want);
        }
    }

    #[test]
    fn readiness_suffix_says_since_when_and_the_status_text() {
        let now = Tai64n::from_unix(NOW, 0);
        let t = Tai64n::from_unix(NOW - 3, 9);
        assert_eq!(readiness_suffix(Some(t), None, now), ", ready 3s");
        assert_eq!(readiness_suffix(None, Some(""), now), ", not ready");
        assert_eq!(
            readiness_suffix(Some(t), Some("accepting connections"), now),
            ", ready 3s, status: accepting connections"
        );
    }

    #[test]
    fn cgroup_suffix_shows_cpu_and_memory() {
        let stat = "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n";
        assert_eq!(cgroup_suffix(stat, None), ", cpu 1.23s");
        assert_eq!(
            cgroup_suffix(stat, Some("13107200\n")),
            ", cpu 1.23s, mem 12.5M"
        );
        assert_eq!(cgroup_suffix("", Some("100")), ", mem 100B");
        assert_eq!(cgroup_suffix("usage_usec 5000\n", None), ", cpu 0.00s");
    }

    #[test]
    fn zero_record_reads_as_epoch() {
        let l = status_line("x", &[0; 20], false, Tai64n::from_unix(NOW, 0));
        let expect = format!("down: x: {}s, normally up", Tai64n::from_unix(NOW, 0).secs);
        assert_eq!(l, expect);
    }

    #[test]
    fn lsb_liveness_follows_pid() {
        assert_eq!(
            liveness(&rec(5, 77, false, b'u', false, 0)),
            Liveness::Running
        );
        assert_eq!(liveness(&rec(5, 0, false, b'u', false, 1)), Liveness::Down);
    }
}
