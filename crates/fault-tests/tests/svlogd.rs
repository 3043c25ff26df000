//! svlogd under faults, Debian's beside ours: the disk filling up in the
//! middle of a line and while rotating (a small tmpfs in a private mount
//! namespace), SIGKILL mid-stream under runsv, a failing processor, the
//! log directory removed, a clock stepped back.

use fault_tests::*;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};
use testkit::{script, service, wait_until, Guard, TempDir};

fn both<T: Send>(f: impl Fn(Impl) -> T + Sync) -> (T, T) {
    thread::scope(|s| {
        let theirs = s.spawn(|| f(Impl::Debian));
        let ours = f(Impl::Ours);
        (theirs.join().expect("Debian's"), ours)
    })
}

/// Runs svlogd on `MNT/log` in a private mount namespace where MNT is a
/// tmpfs of `pages` 4 KiB pages, nearly filled (`free` pages left), feeds
/// it `input`, frees the disk once svlogd said it pauses (or after 3 s),
/// and returns the log directory (copied out), svlogd's stderr and exit
/// status.
const IN_TMPFS: &str = r#"
mnt=$1 out=$2 svlogd=$3 pages=$4 free=$5 config=$6
mount -t tmpfs -o size=$((pages * 4))k none "$mnt" || exit 99
mkdir "$mnt/log" && printf '%b' "$config" > "$mnt/log/config" || exit 98
dd if=/dev/zero of="$mnt/fill" bs=4096 count=$((pages - free)) 2>/dev/null
(while [ ! -e "$out/free" ]; do sleep 0.02; done; rm -f "$mnt/fill") </dev/null &
"$svlogd" "$mnt/log" 2>"$out/stderr"
echo $? > "$out/status"
kill $! 2>/dev/null
cp -a "$mnt/log" "$out/log"
"#;

struct DiskFull {
    tally: Tally,
    paused: bool,
    status: String,
}

fn disk_full(imp: Impl, tag: &str, pages: u32, free: u32, config: &str) -> DiskFull {
    const LINES: usize = 5_000;
    const WIDTH: usize = 100;
    let t = TempDir::new(&format!("fault-{tag}-{}", imp.name()));
    let mnt = t.join("mnt");
    let out = t.join("out");
    fs::create_dir_all(&mnt).unwrap();
    fs::create_dir_all(&out).unwrap();
    let mut g = Guard::spawn(
        Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                IN_TMPFS,
                "sh",
            ])
            .arg(&mnt)
            .arg(&out)
            .arg(imp.bin("svlogd"))
            .args([pages.to_string(), free.to_string(), config.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let input = numbered(LINES, WIDTH);
    let mut stdin = g.0.stdin.take().expect("stdin");
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()).is_ok());
    let stderr = out.join("stderr");
    let paused = wait_until(Duration::from_secs(3), || {
        fs::read_to_string(&stderr).is_ok_and(|s| s.contains("pausing"))
    });
    fs::write(out.join("free"), "").unwrap();
    assert!(
        writer.join().expect("writer"),
        "{tag}: {} svlogd stopped reading",
        imp.name()
    );
    g.wait_timeout(WAIT)
        .expect("svlogd exits at the end of its input");
    DiskFull {
        tally: Tally::of(&log_text(&out.join("log")), LINES, WIDTH),
        paused,
        status: fs::read_to_string(out.join("status"))
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn disk_full_case(key: &str, fault: &str, pages: u32, free: u32, config: &str) {
    let (theirs, ours) = both(|imp| disk_full(imp, key, pages, free, config));
    let show = |d: &DiskFull| {
        format!(
            "{}; exit {}: {}",
            if d.paused {
                "paused, resumed"
            } else {
                "no pause"
            },
            d.status,
            d.tally.show()
        )
    };
    record(
        key,
        Row {
            program: "svlogd",
            fault,
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} of 5,000 lines lost", ours.tally.lost),
        },
    );
    assert_eq!(ours.tally, Tally::default(), "{fault}: {}", show(&ours));
    assert!(ours.paused, "{fault}: ours did not say it paused");
}

/// Disk full with 3 pages left: the first write that does not fit ends
/// mid-line.
#[test]
fn disk_full_mid_line() {
    disk_full_case(
        "svlogd-enospc-mid-line",
        "ENOSPC mid-line (1 MiB tmpfs, 12 KiB left, 500 KB of lines)",
        256,
        3,
        "s1000000\\nn0\\n",
    );
}

/// Disk full while rotating every 4 KiB.
#[test]
fn disk_full_mid_rotation() {
    disk_full_case(
        "svlogd-enospc-mid-rotation",
        "ENOSPC while rotating every 4 KiB (1 MiB tmpfs, 40 KiB left)",
        256,
        10,
        "s4096\\nn0\\n",
    );
}

/// A writer at about 10,000 lines a second into runsv's log pipe, its
/// svlogd killed with SIGKILL three times: runsv holds the pipe, so what
/// it had accepted waits there for the next svlogd.
fn killed_mid_stream(imp: Impl) -> (Tally, usize) {
    const LINES: usize = 20_000;
    let t = TempDir::new(&format!("fault-svlogd-kill-{}", imp.name()));
    let dir = service(
        &t.join("svc"),
        &format!(
            "n=0\nwhile [ $n -lt {LINES} ]; do seq -f '%07g line' $((n+1)) $((n+200)); n=$((n+200)); sleep 0.02; done\n\
             echo $n > ../written\nexec sleep 1000"
        ),
    );
    fs::create_dir_all(dir.join("log/main")).unwrap();
    script(
        &dir.join("log/run"),
        &format!("#!/bin/sh\nexec {} ./main\n", imp.bin("svlogd").display()),
    );
    let r = Runsv::start(imp, &dir);
    let mut kills = 0;
    let start = Instant::now();
    for at in [300u64, 900, 1500] {
        thread::sleep(Duration::from_millis(at).saturating_sub(start.elapsed()));
        let log = t.join("svc/log");
        if let Some(p) = testkit::Proc::supervised(&log, &r.proc()) {
            if p.kill() {
                kills += 1;
            }
        }
    }
    assert!(
        wait_until(WAIT, || t.join("written").exists()),
        "writer did not finish"
    );
    let current = dir.join("log/main/current");
    wait_until(Duration::from_secs(10), || {
        fs::read_to_string(&current).is_ok_and(|s| s.lines().count() >= LINES)
    });
    thread::sleep(Duration::from_millis(300));
    (
        Tally::of(&log_text(&dir.join("log/main")), LINES, 13),
        kills,
    )
}

#[test]
fn sigkill_mid_stream_under_runsv() {
    let (theirs, ours) = both(killed_mid_stream);
    record(
        "svlogd-sigkill",
        Row {
            program: "svlogd",
            fault: "SIGKILL at 0.3, 0.9, 1.5 s under runsv, writer at ~10,000 lines/s",
            runit: &format!("{} kills: {}", theirs.1, theirs.0.show()),
            ours: &format!("{} kills: {}", ours.1, ours.0.show()),
            figure: &format!(
                "{} lost, {} duplicated of 20,000",
                ours.0.lost, ours.0.duplicated
            ),
        },
    );
    assert!(ours.1 >= 2, "svlogd was not killed");
    assert_eq!(ours.0, Tally::default());
}

/// Feeds `input` to svlogd on `log` (made with `config`) and waits up to
/// `wait` for it to exit; returns the exit code (None: still running,
/// then killed with what it started) and stderr.
fn feed(imp: Impl, log: &Path, input: &str, wait: Duration) -> (Option<i32>, String) {
    let err = log.with_extension("stderr");
    let mut g = Guard::spawn(
        Command::new(imp.bin("svlogd"))
            .arg(log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&err).unwrap()),
    );
    let mut stdin = g.0.stdin.take().unwrap();
    let data = input.to_string();
    let w = thread::spawn(move || {
        let _ = stdin.write_all(data.as_bytes());
    });
    let st = g.wait_timeout(wait);
    if st.is_none() {
        for p in g.proc().descendants() {
            p.kill();
        }
    }
    drop(g);
    let _ = w.join();
    (
        st.and_then(|s| s.code()),
        fs::read_to_string(&err).unwrap_or_default(),
    )
}

/// Every regular file of a log directory that holds lines.
fn all_lines(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('@') || n == "current" || n == "previous")
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| String::from_utf8_lossy(&fs::read(dir.join(n)).unwrap_or_default()).into_owned())
        .collect()
}

/// A processor that fails for two seconds (then works): runit keeps the
/// rotated file and runs the processor again until it succeeds.
#[test]
fn failing_processor() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-proc-{}", imp.name()));
        let log = t.join("log");
        fs::create_dir_all(&log).unwrap();
        // The processor runs in the log directory.
        fs::write(
            log.join("config"),
            "s2000\nn0\n![ -e ../works ] && exec cat; exit 1\n",
        )
        .unwrap();
        let input = numbered(300, 50);
        let works = t.join("works");
        let (code, err) = thread::scope(|s| {
            s.spawn(|| {
                thread::sleep(Duration::from_secs(2));
                fs::write(&works, "").unwrap();
            });
            feed(imp, &log, &input, WAIT)
        });
        let tally = Tally::of(&all_lines(&log), 300, 50);
        let failed = err.matches("processor failed").count();
        (code, tally, failed)
    });
    let show = |x: &(Option<i32>, Tally, usize)| {
        format!(
            "{} `processor failed, restart`; {}; exit {:?}",
            if x.2 > 0 { "said" } else { "never said" },
            x.1.show(),
            x.0
        )
    };
    record(
        "svlogd-processor-fails",
        Row {
            program: "svlogd",
            fault: "processor `!` failing for 2 s, rotation every 2 KB",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} of 300 lines lost", ours.1.lost),
        },
    );
    assert_eq!(ours.1, Tally::default(), "{}", show(&ours));
    assert_eq!(ours.0, Some(0));
}

/// The log directory removed (rm -rf) while svlogd writes, then made
/// again: what is written after it is back must be there.
#[test]
fn log_dir_removed_and_recreated() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-rm-{}", imp.name()));
        let log = t.join("log");
        fs::create_dir_all(&log).unwrap();
        let err = t.join("stderr");
        let mut g = Guard::spawn(
            Command::new(imp.bin("svlogd"))
                .arg(&log)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&err).unwrap()),
        );
        let mut stdin = g.0.stdin.take().unwrap();
        let input = numbered(3000, 40);
        let (a, rest) = input.split_at(1000 * 40);
        let (b, c) = rest.split_at(1000 * 40);
        stdin.write_all(a.as_bytes()).unwrap();
        wait_until(WAIT, || {
            fs::read_to_string(log.join("current")).is_ok_and(|s| s.len() == a.len())
        });
        fs::remove_dir_all(&log).unwrap();
        stdin.write_all(b.as_bytes()).unwrap();
        thread::sleep(Duration::from_millis(300));
        fs::create_dir_all(&log).unwrap();
        // The lines after the directory is back; svlogd looks at its
        // directories again on SIGHUP (runit's way to reopen).
        g.signal(libc::SIGHUP);
        thread::sleep(Duration::from_millis(300));
        stdin.write_all(c.as_bytes()).unwrap();
        drop(stdin);
        let st = g.wait_timeout(WAIT);
        let text = all_lines(&log);
        let after: usize = text
            .lines()
            .filter(|l| {
                l.get(..7)
                    .and_then(|d| d.parse::<usize>().ok())
                    .is_some_and(|n| n > 2000)
            })
            .count();
        let said = fs::read_to_string(&err)
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        (st.and_then(|s| s.code()), after, said)
    });
    let show = |x: &(Option<i32>, usize, String)| {
        format!(
            "{} of 1,000 lines after it is back; exit {:?}; `{}`",
            x.1, x.0, x.2
        )
    };
    record(
        "svlogd-dir-removed",
        Row {
            program: "svlogd",
            fault: "log dir removed (rm -rf) mid-stream, made again, HUP",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!("{} of 1,000 lines lost once it is back", 1000 - ours.1),
        },
    );
    assert!(ours.1 >= theirs.1, "{}", show(&ours));
}

/// A clock stepped back leaves rotated files named later than the next
/// rotation's (`@` + TAI64N): with `n3`, runit keeps the highest names, so
/// each new file is the one deleted. Ours names a new file just after the
/// latest name there is, so retention removes the future files and keeps
/// the newest lines. This case makes the state a step back leaves (files
/// from the future); tests/clock.rs steps a VM's clock for real.
#[test]
fn clock_stepped_back() {
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-clock-{}", imp.name()));
        let log = t.join("log");
        fs::create_dir_all(&log).unwrap();
        fs::write(log.join("config"), "s2000\nn3\n").unwrap();
        for i in 1..=2 {
            fs::write(
                log.join(format!("@4000000090000000{i:08x}.s")),
                "9999999 from the future\n",
            )
            .unwrap();
        }
        let input = numbered(200, 50);
        let (code, _) = feed(imp, &log, &input, WAIT);
        let tally = Tally::of(&all_lines(&log), 200, 50);
        // The lines kept are the newest ones: none gone after one kept.
        let text = log_text(&log);
        let kept: Vec<usize> = text
            .lines()
            .filter_map(|l| l.get(..7)?.parse().ok())
            .filter(|&n| n <= 200)
            .collect();
        let newest_kept = match kept.first() {
            Some(&first)
                if kept.len() == 201 - first && kept.windows(2).all(|w| w[1] == w[0] + 1) =>
            {
                format!("kept {first}–200")
            }
            _ => "newer lines gone before older ones".to_string(),
        };
        (code, tally.lost, newest_kept)
    });
    let show = |x: &(Option<i32>, usize, String)| {
        format!("{} of 200 lines lost (exit {:?}); {}", x.1, x.0, x.2)
    };
    record(
        "svlogd-clock-back",
        Row {
            program: "svlogd",
            fault: "clock stepped back: 2 rotated files named in the future, `n3`, 10 KB of lines (lines kept: 3 files' worth without the step)",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!(
                "{} of 200 lines gone (runit {}): ours names new files after the future ones, retention removes those",
                ours.1, theirs.1
            ),
        },
    );
    assert!(
        ours.1 < theirs.1,
        "ours {}, runit {}",
        show(&ours),
        show(&theirs)
    );
    assert!(ours.2.starts_with("kept"), "{}", show(&ours));
    assert_eq!(ours.0, Some(0));
}

/// The most a run under a low descriptor limit may take: runit's svlogd
/// can pause there for good, and every run is under `timeout -s KILL`.
const HANG: Duration = Duration::from_secs(90);

/// One svlogd on the log directories `dirs` (relative to `t`) with
/// RLIMIT_NOFILE at `limit` and only stdin, stdout and stderr inherited,
/// reading the file `input`, under `timeout -s KILL`. A run that said
/// `pausing:` twice (the second time after its 3 s retry) is paused for
/// good, as nothing changes the limit: it is killed then and counts as
/// hung, whatever the load. Returns the exit code (None: it hung) and
/// its stderr.
fn at_limit(
    imp: Impl,
    t: &Path,
    limit: u64,
    dirs: &[String],
    input: &Path,
) -> (Option<i32>, String) {
    let err = t.join(format!("stderr-{limit}"));
    let mut cmd = Command::new("timeout");
    cmd.args(["-s", "KILL", &HANG.as_secs().to_string()])
        .arg(imp.bin("svlogd"))
        .args(dirs)
        .current_dir(t)
        .stdin(fs::File::open(input).unwrap())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err).unwrap());
    Limit {
        resource: libc::RLIMIT_NOFILE as i32,
        value: limit,
    }
    .apply(&mut cmd);
    only_stdio(&mut cmd);
    let mut g = Guard::spawn(&mut cmd);
    let said = || fs::read_to_string(&err).unwrap_or_default();
    let mut code = None;
    let ended = wait_until(HANG + WAIT, || match g.0.try_wait() {
        Ok(Some(st)) => {
            code = st.code().filter(|&c| c != 128 + libc::SIGKILL);
            true
        }
        _ => said().matches(": pausing: ").count() >= 2,
    });
    assert!(ended, "timeout did not end svlogd");
    for p in g.proc().descendants() {
        p.kill();
    }
    (code, said())
}

/// What a run said that tells its outcome: the first `pausing:` line,
/// else the first warning, without the program's name.
fn gist(stderr: &str) -> String {
    let pick = stderr
        .lines()
        .find(|l| l.contains(": pausing: "))
        .or_else(|| stderr.lines().find(|l| l.contains(": warning: ")))
        .unwrap_or("");
    pick.trim_start_matches("svlogd: ").to_string()
}

/// `limit: text` pairs as ranges of equal text: "5: a; 6–7: b".
fn ranges(per_limit: &[(u64, String)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < per_limit.len() {
        let mut j = i;
        while j + 1 < per_limit.len() && per_limit[j + 1].1 == per_limit[i].1 {
            j += 1;
        }
        let (a, b) = (per_limit[i].0, per_limit[j].0);
        let span = if a == b {
            a.to_string()
        } else {
            format!("{a}–{b}")
        };
        parts.push(format!("{span}: {}", per_limit[i].1));
        i = j + 1;
    }
    parts.join("; ")
}

/// One limit's run with a processor: exit, lines, rotated files left
/// unprocessed.
#[derive(Clone)]
struct ProcRun {
    code: Option<i32>,
    tally: Tally,
    unprocessed: usize,
    said: String,
}

impl ProcRun {
    fn processed(&self) -> bool {
        self.code == Some(0) && self.unprocessed == 0
    }

    fn show(&self) -> String {
        match self.code {
            Some(0) => format!(
                "processed, {}{}",
                self.tally.show(),
                if self.unprocessed > 0 {
                    format!(", {} unprocessed", self.unprocessed)
                } else {
                    String::new()
                }
            ),
            None => format!("hung (`{}`)", self.said),
            Some(c) => format!("exit {c} (`{}`)", self.said),
        }
    }
}

/// RLIMIT_NOFILE from 5 to 12 with a processor: runit's svlogd opens
/// the processor's four files in the child, which needs one descriptor
/// more than it holds; ours' child also closes what exec would close
/// before it opens them, if its table is full. 100 lines of 50 bytes,
/// `s2000` (a rotation after each line past 1,000 bytes), each rotated
/// file through `!cat`.
#[test]
fn descriptor_limit_with_processor() {
    const LINES: usize = 100;
    const WIDTH: usize = 50;
    let limits: Vec<u64> = (5..=12).collect();
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-emfile-{}", imp.name()));
        let input = t.join("input");
        fs::write(&input, numbered(LINES, WIDTH)).unwrap();
        thread::scope(|s| {
            let runs: Vec<_> = limits
                .iter()
                .map(|&limit| {
                    let t = &t;
                    let input = &input;
                    s.spawn(move || {
                        let dir = format!("log{limit}");
                        let log = t.join(&dir);
                        fs::create_dir_all(&log).unwrap();
                        fs::write(log.join("config"), "s2000\nn0\n!cat\n").unwrap();
                        let (code, err) =
                            at_limit(imp, t.path(), limit, std::slice::from_ref(&dir), input);
                        let unprocessed = fs::read_dir(&log)
                            .unwrap()
                            .flatten()
                            .filter(|e| e.file_name().to_string_lossy().ends_with(".u"))
                            .count();
                        ProcRun {
                            code,
                            tally: Tally::of(&all_lines(&log), LINES, WIDTH),
                            unprocessed,
                            said: gist(&err).replace(&dir, "log"),
                        }
                    })
                })
                .collect();
            runs.into_iter()
                .map(|r| r.join().expect("run"))
                .collect::<Vec<ProcRun>>()
        })
    });
    let table = |runs: &[ProcRun]| {
        ranges(
            &limits
                .iter()
                .zip(runs)
                .map(|(&l, r)| (l, r.show()))
                .collect::<Vec<_>>(),
        )
    };
    let processed_from = |runs: &[ProcRun]| {
        limits
            .iter()
            .zip(runs)
            .filter(|(_, r)| r.processed())
            .map(|(&l, _)| l)
            .min()
            .map_or("none".to_string(), |l| l.to_string())
    };
    let lost: usize = ours
        .iter()
        .filter(|r| r.code == Some(0))
        .map(|r| r.tally.lost)
        .sum();
    record(
        "svlogd-emfile-processor",
        Row {
            program: "svlogd",
            fault: "RLIMIT_NOFILE 5 to 12 (stdin, stdout, stderr inherited), `s2000`, `n0`, `!cat`, 100 lines of 50 bytes",
            runit: &table(&theirs),
            ours: &table(&ours),
            figure: &format!(
                "all processed from limit {} (runit {}); {lost} lines lost",
                processed_from(&ours),
                processed_from(&theirs)
            ),
        },
    );
    for ((limit, th), o) in limits.iter().zip(&theirs).zip(&ours) {
        if o.code == Some(0) {
            assert_eq!(o.tally, Tally::default(), "limit {limit}: {}", o.show());
        }
        if th.processed() {
            assert!(
                o.processed(),
                "limit {limit}: runit {}, ours {}",
                th.show(),
                o.show()
            );
        }
        // Ours never hangs: it works, or says at once that it cannot.
        assert!(o.code.is_some(), "limit {limit}: ours {}", o.show());
    }
}

/// Twelve log directories on one svlogd, more than the descriptor limit
/// holds (limits 14 to 18), a few rotations each, through `!cat`.
#[test]
fn descriptor_limit_many_directories() {
    const LINES: usize = 100;
    const WIDTH: usize = 50;
    const DIRS: usize = 12;
    let limits: Vec<u64> = (14..=18).collect();
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-emfile-dirs-{}", imp.name()));
        let input = t.join("input");
        fs::write(&input, numbered(LINES, WIDTH)).unwrap();
        thread::scope(|s| {
            let runs: Vec<_> = limits
                .iter()
                .map(|&limit| {
                    let t = &t;
                    let input = &input;
                    s.spawn(move || {
                        let dirs: Vec<String> =
                            (1..=DIRS).map(|i| format!("l{limit}-{i}")).collect();
                        for d in &dirs {
                            fs::create_dir_all(t.join(d)).unwrap();
                            fs::write(t.join(d).join("config"), "s3000\nn0\n!cat\n").unwrap();
                        }
                        let (code, err) = at_limit(imp, t.path(), limit, &dirs, input);
                        let tallies: Vec<Tally> = dirs
                            .iter()
                            .map(|d| Tally::of(&all_lines(&t.join(d)), LINES, WIDTH))
                            .collect();
                        let given_up = err.matches("unable to open log directory").count()
                            + err.matches("unable to lock directory").count();
                        (code, tallies, given_up, gist(&err))
                    })
                })
                .collect();
            runs.into_iter()
                .map(|r| r.join().expect("run"))
                .collect::<Vec<_>>()
        })
    });
    type DirsRun = (Option<i32>, Vec<Tally>, usize, String);
    let complete = |r: &DirsRun| r.1.iter().filter(|t| **t == Tally::default()).count();
    let show = |r: &DirsRun| {
        let how = match r.0 {
            Some(0) => "exit 0".to_string(),
            None => format!("hung (`{}`)", r.3),
            Some(c) => format!("exit {c}"),
        };
        format!(
            "{} of {DIRS} complete, {} given up; {how}",
            complete(r),
            r.2
        )
    };
    let table = |runs: &[DirsRun]| {
        ranges(
            &limits
                .iter()
                .zip(runs)
                .map(|(&l, r)| (l, show(r)))
                .collect::<Vec<_>>(),
        )
    };
    let logged = |runs: &[DirsRun]| runs.iter().map(complete).sum::<usize>();
    // In a directory ours kept, a line is either there or the directory
    // was given up at start (it then has none).
    let partial: usize = ours
        .iter()
        .flat_map(|r| &r.1)
        .filter(|t| t.lost != 0 && t.lost != LINES)
        .count();
    record(
        "svlogd-emfile-dirs",
        Row {
            program: "svlogd",
            fault: "12 log directories, RLIMIT_NOFILE 14 to 18, `s3000`, `n0`, `!cat`, 100 lines of 50 bytes",
            runit: &table(&theirs),
            ours: &table(&ours),
            figure: &format!(
                "{} directories complete over the 5 limits (runit {}); {partial} with lines lost",
                logged(&ours),
                logged(&theirs)
            ),
        },
    );
    for ((limit, th), o) in limits.iter().zip(&theirs).zip(&ours) {
        assert_eq!(o.0, Some(0), "limit {limit}: ours {}", show(o));
        assert!(
            complete(o) >= complete(th),
            "limit {limit}: runit {}, ours {}",
            show(th),
            show(o)
        );
        assert_eq!(complete(o) + o.2, DIRS, "limit {limit}: ours {}", show(o));
    }
    assert_eq!(partial, 0);
}

/// A processor that hangs (it waits for a file that is not there) while
/// lines keep coming and `current` keeps filling: how many lines reach
/// the log while it hangs (runit's svlogd waits for the processor at the
/// next rotation and reads nothing meanwhile; ours goes on until `n`
/// rotated files wait for it), then, once it goes on, whether every line
/// is there, every file processed, and svlogd ends.
#[test]
fn hanging_processor() {
    const LINES: usize = 200;
    const WIDTH: usize = 50;
    let (theirs, ours) = both(|imp| {
        let t = TempDir::new(&format!("fault-svlogd-hang-{}", imp.name()));
        let log = t.join("log");
        fs::create_dir_all(&log).unwrap();
        // The processor runs in the log directory.
        fs::write(
            log.join("config"),
            "s2000\n!while [ ! -e ../go ]; do sleep 0.05; done; exec cat\n",
        )
        .unwrap();
        let mut g = Guard::spawn(
            Command::new(imp.bin("svlogd"))
                .arg(&log)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(fs::File::create(t.join("stderr")).unwrap()),
        );
        let mut stdin = g.0.stdin.take().unwrap();
        stdin.write_all(numbered(LINES, WIDTH).as_bytes()).unwrap();
        // What the log holds once it stops growing (unchanged for 1 s).
        let logged = || Tally::of(&all_lines(&log), LINES, WIDTH);
        let mut last = (usize::MAX, Instant::now());
        wait_until(WAIT, || {
            let n = LINES - logged().lost;
            if n != last.0 {
                last = (n, Instant::now());
            }
            n == LINES || last.1.elapsed() >= Duration::from_secs(1)
        });
        let while_hung = LINES - logged().lost;
        let processor_waiting = g.proc().children().iter().any(|c| c.alive());
        fs::write(t.join("go"), "").unwrap();
        drop(stdin);
        let st = g.wait_timeout(WAIT);
        if st.is_none() {
            for p in g.proc().descendants() {
                p.kill();
            }
        }
        let unprocessed = fs::read_dir(&log)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".u"))
            .count();
        (
            while_hung,
            processor_waiting,
            st.and_then(|s| s.code()),
            logged(),
            unprocessed,
        )
    });
    type Hung = (usize, bool, Option<i32>, Tally, usize);
    let show = |x: &Hung| {
        format!(
            "{} of {LINES} lines logged while it hung{}; once it goes on: {}, {} unprocessed, exit {:?}",
            x.0,
            if x.1 { "" } else { " (no processor running)" },
            x.3.show(),
            x.4,
            x.2
        )
    };
    record(
        "svlogd-processor-hangs",
        Row {
            program: "svlogd",
            fault: "processor `!` hangs while lines keep coming (200 lines, `s2000`, `n` 10 as by default), then goes on",
            runit: &show(&theirs),
            ours: &show(&ours),
            figure: &format!(
                "{} of {LINES} logged while it hung (runit {}); {} lost",
                ours.0, theirs.0, ours.3.lost
            ),
        },
    );
    assert_eq!(ours.3, Tally::default(), "{}", show(&ours));
    assert_eq!(ours.2, Some(0), "{}", show(&ours));
    assert_eq!(ours.4, 0, "{}", show(&ours));
    assert!(
        ours.0 >= theirs.0,
        "runit {}; ours {}",
        show(&theirs),
        show(&ours)
    );
}
