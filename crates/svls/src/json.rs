//! `--json`: one array, one object per service and per log service, for
//! scripts and monitoring. Absent facts are `null`.

use crate::probe::{End, Supervision};
use crate::Entry;
use runit::status::RunState;
use runit::tai64n::Tai64n;
use std::fmt::Write;

/// A JSON string literal.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out += "\\\"",
            '\\' => out += "\\\\",
            '\n' => out += "\\n",
            '\t' => out += "\\t",
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

fn opt_str(v: Option<&str>) -> String {
    v.map_or_else(|| "null".to_string(), string)
}

/// One object (on one line).
pub fn object(e: &Entry, now: Tai64n) -> String {
    let s = &e.svc;
    let live = s.live();
    let supervision = match &s.sup {
        Supervision::Running(_) => "running",
        Supervision::NoSupervise => "no-supervise",
        Supervision::Dangling => "dangling-supervise",
        Supervision::NotRunning => "runsv-not-running",
        Supervision::Unreadable(_) => "unreadable",
    };
    let error = match &s.sup {
        Supervision::Unreadable(why) => Some(why.as_str()),
        _ => None,
    };
    let st = live.map(|l| l.status);
    let history = live.and_then(|l| l.history);
    let pid = st
        .filter(|s| s.pid != 0 && s.state != RunState::Down)
        .map(|s| s.pid);
    let (exit, signal) = match history.and_then(|h| h.last) {
        Some(End::Exit(c)) => (Some(c), None),
        Some(End::Signal(n)) => (None, Some(n)),
        None => (None, None),
    };
    let ready = live.and_then(|l| l.ready).map(|r| r.is_some());
    let ready_since = live.and_then(|l| l.ready).flatten().map(|t| t.unix_secs());
    let cg = live.and_then(|l| l.cgroup.as_ref());
    let mut o = String::with_capacity(512);
    o += "{";
    let mut field = |k: &str, v: String| {
        if o.len() > 1 {
            o.push(',');
        }
        o += &string(k);
        o.push(':');
        o += &v;
    };
    field("name", string(&s.name));
    field("dir", string(&s.dir.to_string_lossy()));
    field("log_service", s.is_log.to_string());
    field("supervision", string(supervision));
    field("error", opt_str(error));
    field("state", opt_str(st.map(|s| s.state.word())));
    field("want", string(if s.wants_up() { "up" } else { "down" }));
    field("paused", opt(st.map(|s| s.paused)));
    field("got_term", opt(st.map(|s| s.term_sent)));
    field("ready", opt(ready));
    field("ready_since", opt(ready_since));
    field(
        "status_text",
        opt_str(live.and_then(|l| l.notify_text.as_deref())),
    );
    field("enabled", s.enabled.to_string());
    field("normally_down", s.normally_down.to_string());
    field("pid", opt(pid));
    field("since", opt(st.map(|s| s.since.unix_secs())));
    field("seconds", opt(s.seconds(now)));
    field("restarts", opt(history.map(|h| h.restarts())));
    field("last_exit", opt(exit));
    field("last_signal", opt(signal));
    field("last_end", opt(history.and_then(|h| h.ended)));
    field("command", opt_str(s.command.as_deref()));
    field(
        "cgroup",
        opt_str(cg.map(|c| c.path.to_string_lossy()).as_deref()),
    );
    field("cpu_usec", opt(cg.and_then(|c| c.cpu_usec)));
    field("memory_bytes", opt(cg.and_then(|c| c.memory)));
    field("up", s.up(now).to_string());
    field("healthy", (!s.unhealthy(now)).to_string());
    field("failing", s.failing(now).to_string());
    field(
        "log_file",
        opt_str(e.log_file.as_ref().map(|p| p.to_string_lossy()).as_deref()),
    );
    let lines: Vec<String> = e.log_lines.iter().map(|l| string(l)).collect();
    field("log", format!("[{}]", lines.join(",")));
    if let Some(tree) = &e.tree {
        let procs: Vec<String> = tree
            .iter()
            .map(|p| {
                format!(
                    "{{\"pid\":{},\"depth\":{},\"in_tree\":{},\"command\":{}}}",
                    p.pid,
                    p.depth,
                    p.in_tree,
                    opt_str(p.command.as_deref())
                )
            })
            .collect();
        field("processes", format!("[{}]", procs.join(",")));
    }
    o.push('}');
    o
}

/// The whole document.
pub fn document(entries: &[&Entry], now: Tai64n) -> String {
    let mut out = String::from("[");
    for (i, e) in entries.iter().enumerate() {
        out += if i == 0 { "\n" } else { ",\n" };
        out += &object(e, now);
    }
    out += "\n]\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(string("a\"b\\c\nd\u{1b}"), "\"a\\\"b\\\\c\\nd\\u001b\"");
        assert_eq!(string("é"), "\"é\"");
    }
}
