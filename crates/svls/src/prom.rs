//! `--prometheus`: node_exporter's textfile-collector format. The first
//! four gauges carry the names, help texts and labels of node_exporter's
//! runit collector (`service`, `supervisor="runit"`), so dashboards built
//! on it keep working; the others add what it lacks. Log services are
//! left out, as that collector leaves them out.

use crate::probe::{End, Service, Supervision};
use runit::status::RunState;
use runit::tai64n::Tai64n;
use std::fmt::Write;

/// Escapes a label value (backslash, double quote, newline).
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Metric {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    value: fn(&Service, Tai64n) -> Option<f64>,
}

fn state(s: &Service, _: Tai64n) -> Option<f64> {
    // Without a runsv the record is stale: the service is not running.
    Some(s.live().map_or(0.0, |l| f64::from(l.status.state.byte())))
}

fn desired(s: &Service, _: Tai64n) -> Option<f64> {
    Some(if s.wants_up() { 1.0 } else { 0.0 })
}

fn normal(s: &Service, _: Tai64n) -> Option<f64> {
    Some(if s.normally_down { 0.0 } else { 1.0 })
}

fn changed(s: &Service, _: Tai64n) -> Option<f64> {
    s.live().map(|l| l.status.since.unix_secs() as f64)
}

fn supervised(s: &Service, _: Tai64n) -> Option<f64> {
    Some(if matches!(s.sup, Supervision::Running(_)) {
        1.0
    } else {
        0.0
    })
}

fn up(s: &Service, now: Tai64n) -> Option<f64> {
    Some(if s.up(now) { 1.0 } else { 0.0 })
}

fn restarts(s: &Service, _: Tai64n) -> Option<f64> {
    s.live()?.history.map(|h| h.restarts() as f64)
}

fn last_exit(s: &Service, _: Tai64n) -> Option<f64> {
    match s.live()?.history?.last? {
        End::Exit(c) => Some(f64::from(c)),
        End::Signal(_) => None,
    }
}

fn last_signal(s: &Service, _: Tai64n) -> Option<f64> {
    match s.live()?.history?.last? {
        End::Signal(n) => Some(f64::from(n)),
        End::Exit(_) => None,
    }
}

fn last_end(s: &Service, _: Tai64n) -> Option<f64> {
    s.live()?.history?.ended.map(|t| t as f64)
}

fn ready(s: &Service, _: Tai64n) -> Option<f64> {
    let r = s.live()?.ready?;
    Some(if r.is_some() && s.running() { 1.0 } else { 0.0 })
}

fn cpu(s: &Service, _: Tai64n) -> Option<f64> {
    let l = s.live()?;
    if l.status.state != RunState::Run {
        return None;
    }
    l.cgroup.as_ref()?.cpu_usec.map(|u| u as f64 / 1e6)
}

fn memory(s: &Service, _: Tai64n) -> Option<f64> {
    s.live()?.cgroup.as_ref()?.memory.map(|m| m as f64)
}

const METRICS: [Metric; 13] = [
    Metric {
        name: "node_service_desired_state",
        help: "Desired state of runit service.",
        kind: "gauge",
        value: desired,
    },
    Metric {
        name: "node_service_normal_state",
        help: "Normal state of runit service.",
        kind: "gauge",
        value: normal,
    },
    Metric {
        name: "node_service_state",
        help: "State of runit service.",
        kind: "gauge",
        value: state,
    },
    Metric {
        name: "node_service_state_last_change_timestamp_seconds",
        help: "Unix timestamp of the last runit service state change.",
        kind: "gauge",
        value: changed,
    },
    Metric {
        name: "node_service_supervised",
        help: "1 if a runsv supervises the service, 0 if none runs there.",
        kind: "gauge",
        value: supervised,
    },
    Metric {
        name: "node_service_up",
        help: "1 if the service runs (past its first second after a restart) and, if it declares readiness, is ready.",
        kind: "gauge",
        value: up,
    },
    Metric {
        name: "node_service_restarts",
        help: "Starts of the service's run after the first, since its runsv started.",
        kind: "gauge",
        value: restarts,
    },
    Metric {
        name: "node_service_last_exit_code",
        help: "Exit code of the service's last run, if it exited.",
        kind: "gauge",
        value: last_exit,
    },
    Metric {
        name: "node_service_last_exit_signal",
        help: "Signal that ended the service's last run, if a signal did.",
        kind: "gauge",
        value: last_signal,
    },
    Metric {
        name: "node_service_last_exit_timestamp_seconds",
        help: "Unix timestamp of the end of the service's last run.",
        kind: "gauge",
        value: last_end,
    },
    Metric {
        name: "node_service_ready",
        help: "1 if the service, which declares readiness, is ready.",
        kind: "gauge",
        value: ready,
    },
    Metric {
        name: "node_service_cpu_seconds_total",
        help: "CPU time used by the service's cgroup (kill-tree).",
        kind: "counter",
        value: cpu,
    },
    Metric {
        name: "node_service_memory_bytes",
        help: "Memory used by the service's cgroup (kill-tree).",
        kind: "gauge",
        value: memory,
    },
];

/// Prometheus' text form of a value: integers without a fraction.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The whole file.
pub fn document(services: &[&Service], now: Tai64n) -> String {
    let mut out = String::new();
    for m in &METRICS {
        let values: Vec<(&Service, f64)> = services
            .iter()
            .filter(|s| !s.is_log)
            .filter_map(|s| (m.value)(s, now).map(|v| (*s, v)))
            .collect();
        if values.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", m.name, m.help);
        let _ = writeln!(out, "# TYPE {} {}", m.name, m.kind);
        for (s, v) in values {
            let _ = writeln!(
                out,
                "{}{{service=\"{}\",supervisor=\"runit\"}} {}",
                m.name,
                label(&s.name),
                number(v)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_labels() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(1_796_616_694.0), "1796616694");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
