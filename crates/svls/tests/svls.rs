//! svls over a real tree: services up, down, crash-looping, finishing,
//! with and without a log, with readiness (ready and not), under a runsv
//! that was killed, and half-made directories. Each case: its table row,
//! its `--json` object (parsed), and the exit status a health check sees.

mod json;

use json::Value;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use testkit::{script, service, wait_until, TempDir};

const LONG: Duration = Duration::from_secs(20);

fn svls() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_svls"))
}

/// Our runsv on one directory, leader of its own process group: dropping
/// it kills the group (runsv and what it started) before runsv is reaped,
/// so the group id cannot belong to anyone else then.
struct Runsv(Option<Child>, PathBuf);

impl Runsv {
    fn start(dir: &Path) -> Runsv {
        let child = Command::new(testkit::bin("runsv"))
            .arg(dir)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("runsv");
        let r = Runsv(Some(child), dir.to_path_buf());
        assert!(wait_until(LONG, || dir.join("supervise/status").exists()));
        r
    }

    /// `x` on the control FIFO: runsv stops the service (and with
    /// `kill-tree` all it started, even what left its process group) and
    /// exits. If it has not within a few seconds, [`Runsv::kill`].
    fn exit(&mut self) {
        let control = self.1.join("supervise/control");
        let sent = runit::sys::open_fifo_write(&control)
            .and_then(|mut f| std::io::Write::write_all(&mut f, b"x"))
            .is_ok();
        if let (true, Some(c)) = (sent, self.0.as_mut()) {
            if wait_until(Duration::from_secs(5), || {
                matches!(c.try_wait(), Ok(Some(_)))
            }) {
                self.0 = None;
            }
        }
        self.kill();
    }

    /// SIGKILL to runsv and its service: what the OOM killer or a
    /// mistaken `kill -9` leaves behind.
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = runit::sys::kill(-(c.id() as i32), libc::SIGKILL);
            let _ = c.wait();
        }
    }
}

impl Drop for Runsv {
    fn drop(&mut self) {
        self.exit();
    }
}

/// svls with `args`, `$SVDIR` set to `svdir`.
fn run(svdir: &Path, args: &[&str]) -> (i32, String) {
    let o = Command::new(svls())
        .args(args)
        .env("SVDIR", svdir)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .output()
        .expect("svls");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "{args:?}");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

/// The table's rows as cells (columns are two or more spaces apart).
fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .collect()
}

fn row(table: &str, name: &str) -> Vec<String> {
    rows(table)
        .into_iter()
        .find(|r| r[0] == name)
        .unwrap_or_else(|| panic!("no row {name} in\n{table}"))
}

fn objects(doc: &str) -> Vec<Value> {
    match json::parse(doc) {
        Ok(Value::Array(v)) => v,
        other => panic!("not a JSON array: {other:?}\n{doc}"),
    }
}

fn object(doc: &str, name: &str) -> Value {
    objects(doc)
        .into_iter()
        .find(|o| o.get("name").and_then(Value::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no object {name} in\n{doc}"))
}

/// The tree every test looks at, with the runsvs that supervise it.
struct Tree {
    t: TempDir,
    _runsv: Vec<Runsv>,
}

impl Tree {
    fn svdir(&self) -> PathBuf {
        self.t.join("service")
    }
    fn dir(&self, name: &str) -> String {
        self.svdir().join(name).to_string_lossy().into_owned()
    }
}

fn build() -> Tree {
    let t = TempDir::new("svls");
    let s = t.join("service");
    // Up, logging through our svlogd.
    service(&s.join("up"), "echo up and running\nexec sleep 1000");
    let svlogd = testkit::bin("svlogd");
    fs::create_dir_all(s.join("up/log/main")).unwrap();
    script(
        &s.join("up/log/run"),
        &format!("#!/bin/sh\nexec {} main\n", svlogd.display()),
    );
    // Down by its down file.
    service(&s.join("down"), "exec sleep 1000");
    fs::write(s.join("down/down"), "").unwrap();
    // Crash-looping, logging with cat to log/main/current.
    service(&s.join("crash"), "echo crashed hard\nexit 3");
    fs::create_dir_all(s.join("crash/log/main")).unwrap();
    script(
        &s.join("crash/log/run"),
        "#!/bin/sh\nexec cat >>main/current\n",
    );
    // Finishing: run ends at once, finish takes its time.
    service(&s.join("finishing"), "exit 2");
    script(&s.join("finishing/finish"), "#!/bin/sh\nexec sleep 1000\n");
    // Readiness: one gets ready, one never does.
    service(&s.join("ready"), "echo >&3\nexec sleep 1000");
    fs::write(s.join("ready/notification-fd"), "3\n").unwrap();
    service(&s.join("unready"), "exec sleep 1000");
    fs::write(s.join("unready/notification-fd"), "3\n").unwrap();
    // Half-made: no supervise/, a dangling supervise link, a runsv killed.
    service(&s.join("nosup"), "exec sleep 1000");
    service(&s.join("dangling"), "exec sleep 1000");
    std::os::unix::fs::symlink(t.join("nowhere/x"), s.join("dangling/supervise")).unwrap();
    service(&s.join("killed"), "exec sleep 1000");
    let runsv: Vec<Runsv> = ["up", "down", "crash", "finishing", "ready", "unready"]
        .iter()
        .map(|n| Runsv::start(&s.join(n)))
        .collect();
    let mut killed = Runsv::start(&s.join("killed"));
    assert!(wait_until(LONG, || fs::read_to_string(
        s.join("killed/supervise/stat")
    )
    .is_ok_and(|t| t == "run\n")));
    killed.kill();
    let tree = Tree { t, _runsv: runsv };
    // Settled: the crash loop has restarted, finish runs, ready is ready,
    // the log line of `up` has reached svlogd's current.
    assert!(wait_until(LONG, || {
        let (_, doc) = run(&tree.svdir(), &["--json"]);
        let o = |n: &str| object(&doc, n);
        o("crash").get("restarts").and_then(Value::as_u64) >= Some(1)
            && o("finishing").get("state").and_then(Value::as_str) == Some("finish")
            && o("ready").get("ready") == Some(&Value::Bool(true))
            && o("up")
                .get("log")
                .is_some_and(|l| l.to_string().contains("up and running"))
            && o("crash")
                .get("log")
                .is_some_and(|l| l.to_string().contains("crashed hard"))
    }));
    tree
}

#[test]
fn each_case_shows_its_row_json_and_exit_status() {
    let tree = build();
    let svdir = tree.svdir();
    let (code, table) = run(&svdir, &[]);
    assert_eq!(code, 1, "{table}");
    assert_eq!(
        rows(&table)[0],
        ["SERVICE", "STATE", "ENABLED", "PID", "TIME", "RESTARTS", "LAST", "COMMAND", "LOG"]
    );

    let up = row(&table, "up");
    assert_eq!(&up[1..3], ["run", "yes"], "{up:?}");
    assert!(up[3].parse::<u32>().is_ok(), "{up:?}");
    assert_eq!(&up[5..8], ["0", "-", "sleep 1000"], "{up:?}");
    assert!(up[8].ends_with("up and running"), "{up:?}");
    let log = row(&table, "up/log");
    assert_eq!(log[1], "run");
    assert!(log[7].ends_with("svlogd main"), "{log:?}");

    let down = row(&table, "down");
    assert_eq!(&down[1..4], ["down", "no", "-"], "{down:?}");

    let crash = row(&table, "crash");
    assert!(
        crash[1] == "down, want up" || crash[1] == "run",
        "{crash:?}"
    );
    assert!(crash[5].parse::<u32>().unwrap() >= 1, "{crash:?}");
    assert_eq!(crash[6], "exit 3", "{crash:?}");
    assert!(crash.last().unwrap().ends_with("crashed hard"), "{crash:?}");

    let fin = row(&table, "finishing");
    assert_eq!(fin[1], "finish", "{fin:?}");
    assert_eq!(fin[6], "exit 2", "{fin:?}");
    assert_eq!(fin[7], "sleep 1000", "{fin:?}");

    assert_eq!(row(&table, "ready")[1], "run, ready");
    assert_eq!(row(&table, "unready")[1], "run, not ready");
    assert_eq!(row(&table, "nosup")[1], "no supervise/");
    assert_eq!(row(&table, "dangling")[1], "supervise dangling");
    assert_eq!(row(&table, "killed")[1], "runsv not running");

    // The same facts for scripts.
    let (code, doc) = run(&svdir, &["--json"]);
    assert_eq!(code, 1);
    let o = object(&doc, "up");
    assert_eq!(o.get("state").unwrap().as_str(), Some("run"));
    assert_eq!(o.get("healthy"), Some(&Value::Bool(true)));
    assert_eq!(o.get("enabled"), Some(&Value::Bool(true)));
    assert_eq!(o.get("command").unwrap().as_str(), Some("sleep 1000"));
    assert!(o
        .get("log_file")
        .unwrap()
        .as_str()
        .unwrap()
        .ends_with("up/log/main/current"));
    let o = object(&doc, "crash");
    assert_eq!(o.get("last_exit").unwrap().as_u64(), Some(3));
    assert_eq!(o.get("last_signal"), Some(&Value::Null));
    assert_eq!(o.get("failing"), Some(&Value::Bool(true)));
    let o = object(&doc, "down");
    assert_eq!(o.get("want").unwrap().as_str(), Some("down"));
    assert_eq!(o.get("healthy"), Some(&Value::Bool(true)));
    assert_eq!(o.get("normally_down"), Some(&Value::Bool(true)));
    let o = object(&doc, "unready");
    assert_eq!(o.get("ready"), Some(&Value::Bool(false)));
    assert_eq!(o.get("healthy"), Some(&Value::Bool(false)));
    for (name, sup) in [
        ("killed", "runsv-not-running"),
        ("nosup", "no-supervise"),
        ("dangling", "dangling-supervise"),
    ] {
        let o = object(&doc, name);
        assert_eq!(o.get("supervision").unwrap().as_str(), Some(sup), "{name}");
        assert_eq!(o.get("healthy"), Some(&Value::Bool(false)), "{name}");
        assert_eq!(o.get("pid"), Some(&Value::Null), "{name}");
    }

    // Exit status per case: 0 only when every wanted service is up.
    for (names, want) in [
        (&["up", "down"][..], 0),
        (&["ready"][..], 0),
        (&["crash"][..], 1),
        (&["finishing"][..], 1),
        (&["unready"][..], 1),
        (&["killed"][..], 1),
        (&["nosup"][..], 1),
        (&["dangling"][..], 1),
        (&["up", "crash"][..], 1),
    ] {
        let dirs: Vec<String> = names.iter().map(|n| tree.dir(n)).collect();
        let args: Vec<&str> = dirs.iter().map(String::as_str).collect();
        let (code, out) = run(&svdir, &args);
        assert_eq!(code, want, "{names:?}\n{out}");
    }
    // A down service without a runsv wants nothing: not a failure.
    fs::write(svdir.join("nosup/down"), "").unwrap();
    assert_eq!(run(&svdir, &[&tree.dir("nosup")]).0, 0);
}

#[test]
fn failing_tree_and_log_lines() {
    let tree = build();
    let svdir = tree.svdir();
    let (code, table) = run(&svdir, &["--failing"]);
    assert_eq!(code, 1);
    let mut names: Vec<String> = rows(&table)
        .into_iter()
        .skip(1)
        .map(|r| r[0].clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "crash",
            "dangling",
            "finishing",
            "killed",
            "nosup",
            "unready"
        ]
    );
    // -t: the process under `up` is the sleep its run became.
    let (_, table) = run(&svdir, &["-t", &tree.dir("up")]);
    let pid = row(&table, "up")[3].clone();
    assert!(
        table
            .lines()
            .any(|l| l.trim() == format!("{pid} sleep 1000")),
        "{table}"
    );
    // -l 2: the crash loop's last two lines, both its one message.
    let (_, table) = run(&svdir, &["-l", "2", &tree.dir("crash")]);
    let logged: Vec<&str> = table.lines().filter(|l| l.starts_with("    | ")).collect();
    assert_eq!(
        logged,
        ["    | crashed hard", "    | crashed hard"],
        "{table}"
    );
}

#[test]
fn columns_fit_and_colour_obeys_no_color() {
    let tree = build();
    let o = Command::new(svls())
        .arg(tree.dir("up"))
        .env("COLUMNS", "60")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.lines().all(|l| l.chars().count() <= 60), "{text}");
    assert!(!text.contains('\x1b'), "no colour into a pipe: {text:?}");
    // On a terminal: colour unless NO_COLOR. script(1) gives svls a tty.
    let on_tty = |no_color: Option<&str>| {
        let mut c = Command::new("script");
        c.args([
            "-qec",
            &format!("{} {}", svls().display(), tree.dir("up")),
            "/dev/null",
        ]);
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert!(
        on_tty(None).contains("\x1b[32mup\x1b[0m"),
        "{:?}",
        on_tty(None)
    );
    assert!(
        !on_tty(Some("1")).contains("\x1b[3"),
        "{:?}",
        on_tty(Some("1"))
    );
}

#[test]
fn unreadable_arguments_are_fatal_and_bad_options_usage() {
    let t = TempDir::new("svls-bad");
    let o = Command::new(svls())
        .arg(t.join("missing"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "svls: fatal: unable to read {}: file does not exist\n",
            t.join("missing").display()
        )
    );
    let o = Command::new(svls()).arg("-x").output().unwrap();
    assert_eq!(o.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&o.stderr).contains("usage: svls"));
}

/// With `kill-tree` on cgroup v2: `-t` shows the cgroup and a process
/// that left `run`'s tree (a double fork with setsid), and the CPU time
/// of the cgroup reaches `--json` and `--prometheus`.
#[test]
fn kill_tree_cgroup_in_the_tree_and_the_metrics() {
    let t = TempDir::new("svls-kt");
    let svdir = t.join("service");
    let dir = service(
        &svdir.join("kt"),
        "setsid sh -c 'sleep 99931 & exit 0'\nexec sleep 1000",
    );
    fs::write(dir.join("kill-tree"), "").unwrap();
    let mut r = Runsv::start(&dir);
    let escaped = || {
        fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| {
                fs::read(e.path().join("cmdline")).is_ok_and(|c| c == b"sleep\x0099931\x00")
            })
            .count()
    };
    assert!(wait_until(LONG, || escaped() == 1));
    let (code, doc) = run(&svdir, &["-t", "--json", &dir.to_string_lossy()]);
    assert_eq!(code, 0, "{doc}");
    let o = object(&doc, "kt");
    assert!(o.get("cgroup").unwrap().as_str().is_some(), "{doc}");
    assert!(o.get("cpu_usec").unwrap().as_u64().is_some(), "{doc}");
    let Some(Value::Array(procs)) = o.get("processes") else {
        panic!("{doc}")
    };
    let outside: Vec<&Value> = procs
        .iter()
        .filter(|p| p.get("in_tree") == Some(&Value::Bool(false)))
        .collect();
    assert_eq!(outside.len(), 1, "{doc}");
    assert_eq!(
        outside[0].get("command").unwrap().as_str(),
        Some("sleep 99931")
    );
    let (_, table) = run(&svdir, &["-t", &dir.to_string_lossy()]);
    assert!(table.contains("    cgroup /"), "{table}");
    assert!(
        table.contains("(outside run's tree) ") && table.contains(" sleep 99931"),
        "{table}"
    );
    let (_, prom) = run(&svdir, &["--prometheus", &dir.to_string_lossy()]);
    assert!(
        prom.contains("node_service_cpu_seconds_total{service=\"kt\",supervisor=\"runit\"} "),
        "{prom}"
    );
    // runsv's own exit kills the whole cgroup, the escaped sleep too.
    r.exit();
    assert!(wait_until(LONG, || escaped() == 0));
}
