//! `svls --prometheus` through node_exporter (Debian's
//! prometheus-node-exporter, on loopback): over a tree under our runsvdir,
//! its runit collector and its textfile collector reading our file give
//! the same gauges, and our extra ones come through.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testkit::{script, service, wait_until, TempDir};

const NODE_EXPORTER: &str = "/usr/bin/prometheus-node-exporter";
const LONG: Duration = Duration::from_secs(30);
/// The runit collector's gauges, by name.
const RUNIT_GAUGES: [&str; 4] = [
    "node_service_state",
    "node_service_desired_state",
    "node_service_normal_state",
    "node_service_state_last_change_timestamp_seconds",
];

/// A child we started, killed and reaped when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Our runsvdir; on drop it gets SIGHUP (every runsv then stops its
/// service and exits) and is reaped.
struct Runsvdir(Child);

impl Drop for Runsvdir {
    fn drop(&mut self) {
        let _ = runit::sys::kill(self.0.id() as i32, libc::SIGHUP);
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a loopback port")
        .port()
}

fn node_exporter(port: u16, collector: &[String]) -> Kid {
    Kid(Command::new(NODE_EXPORTER)
        .arg("--collector.disable-defaults")
        .args(collector)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("node_exporter"))
}

/// GET /metrics; `None` until it answers.
fn scrape(port: u16) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    let (head, body) = body.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_string())
}

/// `metric{labels} value` lines of the node_service_ family, keyed by
/// name and service.
fn gauges(text: &str) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("node_service_")) {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Some((name, labels)) = series.split_once('{') else {
            continue;
        };
        let service = labels
            .split(',')
            .find_map(|l| l.strip_prefix("service=\""))
            .map(|v| v.trim_end_matches('}').trim_end_matches('"').to_string())
            .unwrap_or_default();
        assert!(labels.contains("supervisor=\"runit\""), "labels of {line}");
        out.insert((name.to_string(), service), value.parse().expect(line));
    }
    out
}

/// Writes the textfile the way docs/svls.md says: to a temporary name
/// node_exporter ignores, then renamed.
fn write_prom(svdir: &Path, textdir: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_svls"))
        .arg("--prometheus")
        .arg(svdir)
        .output()
        .expect("svls");
    assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
    let tmp = textdir.join("svls.prom.tmp");
    fs::write(&tmp, &o.stdout).unwrap();
    fs::rename(&tmp, textdir.join("svls.prom")).unwrap();
}

#[test]
fn node_exporter_reads_the_same_gauges_from_its_collector_and_our_file() {
    assert!(
        Path::new(NODE_EXPORTER).exists(),
        "{NODE_EXPORTER} missing: apt-get install prometheus-node-exporter"
    );
    let t = TempDir::new("svls-node-exporter");
    let svdir = t.join("service");
    let textdir = t.join("textfile");
    fs::create_dir_all(&textdir).unwrap();
    service(&svdir.join("up"), "exec sleep 1000");
    service(&svdir.join("down"), "exec sleep 1000");
    fs::write(svdir.join("down/down"), "").unwrap();
    service(&svdir.join("crash"), "exit 1");
    service(&svdir.join("ready"), "echo >&3\nexec sleep 1000");
    fs::write(svdir.join("ready/notification-fd"), "3\n").unwrap();
    script(
        &svdir.join("up/log/run"),
        "#!/bin/sh\nexec cat >/dev/null\n",
    );

    let bindir: PathBuf = testkit::bin("runsv").parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bindir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _tree = Runsvdir(
        Command::new(testkit::bin("runsvdir"))
            .arg(&svdir)
            .env("PATH", path)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runsvdir"),
    );
    // Settled: the crash loop has ended a run at least once.
    assert!(wait_until(LONG, || {
        let o = Command::new(env!("CARGO_BIN_EXE_svls"))
            .arg("--prometheus")
            .arg(&svdir)
            .output()
            .unwrap();
        let g = gauges(&String::from_utf8_lossy(&o.stdout));
        let get = |m: &str, s: &str| g.get(&(m.to_string(), s.to_string())).copied();
        get("node_service_restarts", "crash") >= Some(1.0)
            && get("node_service_ready", "ready") == Some(1.0)
            && get("node_service_state", "up") == Some(1.0)
    }));

    let runit_port = free_port();
    let _runit = node_exporter(
        runit_port,
        &[
            "--collector.runit".into(),
            format!("--collector.runit.servicedir={}", svdir.display()),
        ],
    );
    let text_port = free_port();
    let _text = node_exporter(
        text_port,
        &[
            "--collector.textfile".into(),
            format!("--collector.textfile.directory={}", textdir.display()),
        ],
    );
    assert!(wait_until(LONG, || scrape(runit_port).is_some()
        && scrape(text_port).is_some()));

    // The crash loop changes its record every second: compare a file and
    // a scrape taken together, and retry until one pair is from the same
    // moment.
    let mut last = String::new();
    let same = wait_until(LONG, || {
        write_prom(&svdir, &textdir);
        let theirs = gauges(&scrape(runit_port).unwrap_or_default());
        let text = scrape(text_port).unwrap_or_default();
        assert!(
            text.contains("node_textfile_scrape_error 0"),
            "textfile collector refused our file:\n{text}"
        );
        let ours = gauges(&text);
        let mut diffs = Vec::new();
        for svc in ["up", "down", "crash", "ready"] {
            for m in RUNIT_GAUGES {
                // node_exporter's collector reports 1 for a service with a
                // `down` file too (docs/svls.md); ours says 0.
                if m == "node_service_normal_state" && svc == "down" {
                    continue;
                }
                let k = (m.to_string(), svc.to_string());
                if theirs.get(&k) != ours.get(&k) || !ours.contains_key(&k) {
                    diffs.push(format!(
                        "{m}{{{svc}}}: {:?} vs ours {:?}",
                        theirs.get(&k),
                        ours.get(&k)
                    ));
                }
            }
        }
        last = diffs.join("\n");
        diffs.is_empty()
    });
    assert!(same, "{last}");

    // What the runit collector lacks, through the textfile collector.
    let ours = gauges(&scrape(text_port).unwrap());
    let get = |m: &str, s: &str| ours.get(&(m.to_string(), s.to_string())).copied();
    assert_eq!(get("node_service_normal_state", "down"), Some(0.0));
    assert!(get("node_service_restarts", "crash") >= Some(1.0));
    assert_eq!(get("node_service_last_exit_code", "crash"), Some(1.0));
    assert_eq!(get("node_service_ready", "ready"), Some(1.0));
    assert_eq!(get("node_service_up", "up"), Some(1.0));
    assert_eq!(get("node_service_up", "crash"), Some(0.0));
    assert_eq!(get("node_service_restarts", "up"), Some(0.0));
}
