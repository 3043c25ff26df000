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
