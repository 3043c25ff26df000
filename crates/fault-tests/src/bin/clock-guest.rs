//! /init of the throw-away VM of the clock case (tests/clock.rs): runs
//! Debian's svlogd (/runit/svlogd) and ours (/ours/svlogd) side by side on
//! /log/runit and /log/ours, feeds both the same numbered lines, steps the
//! wall clock between the phases of `fault_tests::clock::PHASES`, reports
//! both log directories on the console at the end of each phase, and
//! powers the VM off. It never stops early: whatever fails is said on the
//! console, and the test decides.

use fault_tests::clock::{self, File, MARK, PHASES, WIDTH};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long a logger may take to write what it was fed, in a VM that
/// shares two loaded cores with everything else.
const WAIT: Duration = Duration::from_secs(120);

struct Logger {
    name: &'static str,
    dir: PathBuf,
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

fn say(what: &str) {
    println!("{MARK}{what}");
}

impl Logger {
    fn start(name: &'static str) -> Logger {
        let dir = Path::new("/log").join(name);
        let mut l = Logger {
            name,
            dir: dir.clone(),
            child: None,
            stdin: None,
        };
        if let Err(e) =
            fs::create_dir_all(&dir).and_then(|_| fs::write(dir.join("config"), clock::CONFIG))
        {
            say(&format!("{name}: cannot make {}: {e}", dir.display()));
            return l;
        }
        match Command::new(format!("/{name}/svlogd"))
            .args(clock::OPTIONS)
            .arg(&dir)
            .stdin(Stdio::piped())
            .spawn()
        {
            Ok(mut c) => {
                l.stdin = c.stdin.take();
                l.child = Some(c);
            }
            Err(e) => say(&format!("{name}: cannot start svlogd: {e}")),
        }
        l
    }

    fn feed(&mut self, lines: &str) {
        if let Some(s) = self.stdin.as_mut() {
            if let Err(e) = s.write_all(lines.as_bytes()) {
                say(&format!("{}: writing to svlogd: {e}", self.name));
            }
        }
    }

    /// The log's files: rotated ones in name order, then `current`.
    fn files(&self) -> Vec<File> {
        fault_tests::log_file_names(&self.dir)
            .into_iter()
            .map(|name| {
                let text = fs::read(self.dir.join(&name)).unwrap_or_default();
                File {
                    numbers: clock::numbers(&String::from_utf8_lossy(&text)),
                    name,
                }
            })
            .collect()
    }

    /// Waits until line `last` is in the log (lines are written in order,
    /// so all before it are written or gone).
    fn wait_for(&self, last: usize) {
        let end = Instant::now() + WAIT;
        while !self.files().iter().any(|f| f.numbers.contains(&last)) {
            if Instant::now() > end {
                say(&format!("{}: line {last} not written", self.name));
                return;
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// Ends the input and waits for svlogd to exit.
    fn stop(&mut self) {
        self.stdin.take();
        let Some(mut c) = self.child.take() else {
            return;
        };
        let end = Instant::now() + WAIT;
        loop {
            match c.try_wait() {
                Ok(Some(st)) => {
                    say(&format!("{}: svlogd exit {:?}", self.name, st.code()));
                    return;
                }
                Ok(None) if Instant::now() < end => sleep(Duration::from_millis(20)),
                _ => {
                    say(&format!("{}: svlogd did not exit, killed", self.name));
                    let _ = c.kill();
                    let _ = c.wait();
                    return;
                }
            }
        }
    }

    fn report(&self, phase: &str) {
        for f in self.files() {
            println!("{}", clock::report(phase, self.name, &f));
        }
    }
}

fn main() {
    say("start");
    let all = fault_tests::numbered(PHASES.iter().map(|p| p.lines).sum(), WIDTH);
    let mut loggers = [Logger::start("runit"), Logger::start("ours")];
    let mut done = 0;
    for p in &PHASES {
        if p.step != 0 {
            match fault_tests::step_clock(p.step) {
                Ok(()) => say(&format!("clock stepped by {} s", p.step)),
                Err(e) => say(&format!("cannot step the clock: {e}")),
            }
        }
        let part = &all[done * WIDTH..(done + p.lines) * WIDTH];
        done += p.lines;
        for l in &mut loggers {
            l.feed(part);
        }
        let last = p.name == PHASES[PHASES.len() - 1].name;
        for l in &mut loggers {
            if last {
                l.stop();
            } else {
                l.wait_for(done);
            }
            l.report(p.name);
        }
    }
    say("done");
    let _ = std::io::stdout().flush();
    let e = fault_tests::power_off();
    say(&format!("cannot power off: {e}"));
}
