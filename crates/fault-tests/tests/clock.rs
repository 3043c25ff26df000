//! svlogd under a real clock step, Debian's beside ours. The wall clock
//! is the whole machine's (a time namespace moves only the monotonic and
//! boot clocks), so the step is made in a throw-away VM: QEMU boots
//! Debian's kernel (.debian/kernel, `scripts/fetch-debian`) with an
//! initramfs holding both svlogd and `clock-guest` as /init, which feeds
//! both the same numbered lines, steps the VM's clock back a day and then
//! forward two, and reports the log directories on the serial console
//! (`fault_tests::clock`). The machine's own clock is never touched.

use fault_tests::clock::{self, File, PHASES};
use fault_tests::{record, Row};
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::{Guard, TempDir};

/// How long the VM may take, boot to power-off: some 10-30 s without
/// KVM, far more on a loaded machine.
const VM_WAIT: Duration = Duration::from_secs(400);

/// An initramfs (the kernel's "newc" cpio format), built in memory.
#[derive(Default)]
struct Cpio {
    data: Vec<u8>,
    ino: u32,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), body: &[u8]) {
        self.ino += 1;
        let fields = [
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            body.len() as u32,
            0,
            0,
            rdev.0,
            rdev.1,
            name.len() as u32 + 1,
            0,
        ];
        self.data.extend_from_slice(b"070701");
        for f in fields {
            self.data.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(body);
        self.pad();
    }

    fn pad(&mut self) {
        let len = self.data.len().next_multiple_of(4);
        self.data.resize(len, 0);
    }

    fn dir(&mut self, name: &str) {
        self.entry(name, 0o040755, (0, 0), &[]);
    }

    /// `from`'s contents (links followed) as the executable `name`, with
    /// the directories above it.
    fn file(&mut self, name: &str, from: &Path, dirs: &mut BTreeSet<String>) {
        let mut up = String::new();
        for part in name
            .split('/')
            .rev()
            .skip(1)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            up = if up.is_empty() {
                part.to_string()
            } else {
                format!("{up}/{part}")
            };
            if dirs.insert(up.clone()) {
                self.dir(&up);
            }
        }
        let body = fs::read(from).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
        self.entry(name, 0o100755, (0, 0), &body);
    }

    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, (0, 0), &[]);
        self.data
    }
}

/// The shared libraries `exe` loads (and the loader), as `ldd` lists them.
fn libraries(exe: &Path) -> Vec<PathBuf> {
    let out = testkit::run(Command::new("ldd").arg(exe));
    testkit::stdout(&out)
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once(" => ") {
                Some((_, rest)) => rest.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// The initramfs: /init, /runit/svlogd (Debian's), /ours/svlogd, the
/// libraries they load at the host's paths (Debian's svlogd is built for
/// the same bookworm), and /dev/console for the kernel to give /init.
fn initramfs() -> Vec<u8> {
    let exes = [
        ("init", PathBuf::from(env!("CARGO_BIN_EXE_clock-guest"))),
        ("runit/svlogd", testkit::debian("usr/bin/svlogd")),
        ("ours/svlogd", testkit::bin("svlogd")),
    ];
    let mut c = Cpio::default();
    let mut dirs = BTreeSet::new();
    for d in ["dev", "log"] {
        c.dir(d);
        dirs.insert(d.to_string());
    }
    c.entry("dev/console", 0o020600, (5, 1), &[]);
    let mut libs = BTreeSet::new();
    for (name, from) in &exes {
        c.file(name, from, &mut dirs);
        libs.extend(libraries(from));
    }
    for lib in libs {
        let name = lib.to_string_lossy().trim_start_matches('/').to_string();
        c.file(&name, &lib, &mut dirs);
    }
    c.finish()
}

/// Boots the VM and returns its console.
fn boot() -> String {
    let kernel = testkit::workspace_root().join(".debian/kernel/vmlinuz");
    assert!(
        kernel.exists(),
        "{} missing: run scripts/fetch-debian first",
        kernel.display()
    );
    assert!(
        Command::new("qemu-system-x86_64")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        "qemu-system-x86_64 missing: apt-get install qemu-system-x86"
    );
    let t = TempDir::new("fault-clock-vm");
    let initrd = t.join("initrd.cpio");
    fs::write(&initrd, initramfs()).unwrap();
    let console = t.join("console");
    let stderr = t.join("qemu.stderr");
    let mut g = Guard::spawn(
        Command::new("qemu-system-x86_64")
            .args(["-accel", "tcg", "-m", "256", "-smp", "1"])
            .args(["-nodefaults", "-no-user-config", "-display", "none"])
            .args(["-no-reboot", "-monitor", "none"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-kernel")
            .arg(&kernel)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", "console=ttyS0 quiet panic=-1"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&stderr).unwrap()),
    );
    let started = Instant::now();
    let st = g.wait_timeout(VM_WAIT);
    let text = fs::read_to_string(&console).unwrap_or_default();
    println!(
        "VM ran {:.1} s; console:\n{text}",
        started.elapsed().as_secs_f64()
    );
    assert!(
        st.is_some(),
        "the VM did not power off within {VM_WAIT:?}; qemu said: {}",
        fs::read_to_string(&stderr).unwrap_or_default()
    );
    text
}

/// What one logger's directory holds at the end of a phase.
struct Outcome {
    /// Lines kept, each number once.
    kept: BTreeSet<usize>,
    duplicated: usize,
    torn: usize,
    /// Lines gone that are newer than a line kept: retention removed
    /// newer lines before older ones.
    out_of_order: usize,
    /// The files, read in name order, hold the lines in the order written.
    in_order: bool,
    /// Lines fed so far.
    written: usize,
}

impl Outcome {
    fn of(files: &[File], written: usize) -> Outcome {
        let all: Vec<usize> = files.iter().flat_map(|f| f.numbers.clone()).collect();
        let kept: BTreeSet<usize> = all.iter().copied().filter(|&n| n > 0).collect();
        let oldest = kept.first().copied().unwrap_or(written + 1);
        Outcome {
            duplicated: all.iter().filter(|&&n| n > 0).count() - kept.len(),
            torn: all.iter().filter(|&&n| n == 0).count(),
            out_of_order: (oldest..=written).filter(|n| !kept.contains(n)).count(),
            in_order: all.windows(2).all(|w| w[0] < w[1]),
            written,
            kept,
        }
    }

    fn missing(&self) -> Vec<usize> {
        (1..=self.written)
            .filter(|n| !self.kept.contains(n))
            .collect()
    }

    fn show(&self) -> String {
        let kept: Vec<usize> = self.kept.iter().copied().collect();
        let mut s = format!(
            "kept {}; retention removed {}",
            ranges(&kept),
            ranges(&self.missing())
        );
        if self.out_of_order > 0 {
            s += &format!(": {} lines newer than lines kept", self.out_of_order);
        }
        s += &format!("; {} duplicated", self.duplicated);
        if self.torn > 0 {
            s += &format!(", {} torn", self.torn);
        }
        s
    }
}

/// `1-140, 201-288`, as a reader wants it.
fn ranges(n: &[usize]) -> String {
    let r = clock::runs(n);
    if r == "-" {
        "none".into()
    } else {
        r.replace(' ', ", ").replace('-', "–")
    }
}

#[test]
fn clock_stepped_in_a_vm() {
    let console = boot();
    assert!(
        console.contains(&format!("{}done", clock::MARK)),
        "the guest did not finish"
    );
    for p in &PHASES[1..] {
        assert!(
            console.contains(&format!("{}clock stepped by {} s", clock::MARK, p.step)),
            "the guest's clock was not stepped by {} s",
            p.step
        );
    }
    let mut written = 0;
    for p in &PHASES {
        written += p.lines;
        if p.step == 0 {
            continue;
        }
        let theirs = Outcome::of(&clock::reported(&console, p.name, "runit"), written);
        let ours = Outcome::of(&clock::reported(&console, p.name, "ours"), written);
        let (key, fault) = if p.step < 0 {
            (
                "svlogd-clock-vm-back",
                format!(
                    "clock stepped back a day mid-stream, for real (a VM's clock): `s2000`, `n4`, `-tt`, {} lines before the step, {} after",
                    PHASES[0].lines, p.lines
                ),
            )
        } else {
            (
                "svlogd-clock-vm-forward",
                format!(
                    "then stepped forward two days (a day ahead of the start), {} lines more",
                    p.lines
                ),
            )
        };
        record(
            key,
            Row {
                program: "svlogd",
                fault: &fault,
                runit: &theirs.show(),
                ours: &ours.show(),
                figure: &format!(
                    "{} of {written} lines removed before older ones (runit {})",
                    ours.out_of_order, theirs.out_of_order
                ),
            },
        );
        assert_eq!(ours.out_of_order, 0, "{}: ours {}", p.name, ours.show());
        assert_eq!((ours.duplicated, ours.torn), (0, 0), "{}", ours.show());
        assert!(ours.in_order, "{}: ours' files out of order", p.name);
        assert!(
            ours.kept.contains(&written),
            "{}: ours lost the newest line",
            p.name
        );
    }
}
