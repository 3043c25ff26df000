//! Helpers shared by socklog's integration and differential tests: running
//! a socklog with its output in files, sending it datagrams, and stopping it
//! once everything sent has come out.
#![allow(dead_code)]

use std::fs;
use std::net::UdpSocket;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::{wait_until, Guard, TempDir};

pub const LONG: Duration = Duration::from_secs(30);

/// Our socklog, or Debian's.
pub fn ours() -> PathBuf {
    testkit::bin("socklog")
}
pub fn debians() -> PathBuf {
    testkit::debian("usr/sbin/socklog")
}

/// A running socklog whose stdout and stderr go to files in its own
/// temp dir.
pub struct Logger {
    pub guard: Guard,
    pub dir: TempDir,
}

/// Where a logger listens.
pub enum Place {
    Unix(PathBuf),
    Inet(u16),
}

impl Logger {
    /// Starts `bin args...` (named `socklog` in argv[0]) with `env`, and
    /// waits for its start-up line.
    pub fn start(bin: &Path, dir: TempDir, args: &[&str], env: &[(&str, &str)]) -> Logger {
        let out = fs::File::create(dir.join("out")).unwrap();
        let err = fs::File::create(dir.join("err")).unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg0("socklog")
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let l = Logger {
            guard: Guard::spawn(&mut cmd),
            dir,
        };
        assert!(
            wait_until(LONG, || l.err().ends_with(b"starting.\n")),
            "no start-up line: {:?}",
            String::from_utf8_lossy(&l.err())
        );
        l
    }

    pub fn out(&self) -> Vec<u8> {
        fs::read(self.dir.join("out")).unwrap_or_default()
    }

    /// stderr with the temp dir's path replaced by `DIR`.
    pub fn err(&self) -> Vec<u8> {
        let e = fs::read(self.dir.join("err")).unwrap_or_default();
        let s = String::from_utf8_lossy(&e);
        s.replace(self.dir.path().to_str().unwrap(), "DIR")
            .into_bytes()
    }

    /// Waits until the output holds `marker` as a line.
    pub fn wait_for(&self, marker: &[u8]) {
        let ok = wait_until(LONG, || {
            self.out().windows(marker.len()).any(|w| w == marker)
        });
        assert!(ok, "{:?} never came out", String::from_utf8_lossy(marker));
    }

    /// SIGTERM, then the exit code.
    pub fn stop(mut self) -> (Vec<u8>, Vec<u8>, Option<i32>) {
        self.guard.signal(libc::SIGTERM);
        let st = self.guard.wait_timeout(LONG).expect("socklog did not exit");
        (self.out(), self.err(), st.code())
    }
}

/// Sends datagrams to a unix socket or a loopback UDP port.
pub enum Sender {
    Unix(UnixDatagram, PathBuf),
    Inet(UdpSocket, u16),
}

impl Sender {
    pub fn new(place: &Place) -> Sender {
        match place {
            Place::Unix(p) => Sender::Unix(UnixDatagram::unbound().unwrap(), p.clone()),
            Place::Inet(port) => Sender::Inet(UdpSocket::bind("127.0.0.1:0").unwrap(), *port),
        }
    }

    pub fn send(&self, msg: &[u8]) {
        match self {
            Sender::Unix(s, p) => {
                s.send_to(msg, p).unwrap();
            }
            Sender::Inet(s, port) => {
                s.send_to(msg, ("127.0.0.1", *port)).unwrap();
            }
        }
    }
}

/// Sends `msgs` in small groups, each followed by a sync line that must
/// come out before the next group goes: UDP drops what overflows the
/// receive buffer, and this keeps the test about formatting, not loss.
pub fn send_paced(l: &Logger, place: &Place, msgs: &[Vec<u8>]) {
    let s = Sender::new(place);
    for (i, group) in msgs.chunks(16).enumerate() {
        for m in group {
            s.send(m);
        }
        let sync = format!("--sync {i}--");
        s.send(sync.as_bytes());
        l.wait_for(format!("{sync}\n").as_bytes());
    }
}

/// A free loopback UDP port (bound, then released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Datagrams covering every facility and priority and the odd cases: no
/// header, bad headers, embedded and trailing newlines, NULs, long ones.
/// The corpus without messages that hold control bytes where they stay in
/// the line (after the trailing NULs and one newline socklog drops): ours
/// escapes those (`#012`), Debian's writes them raw. Everything else must
/// come out byte for byte as Debian's.
pub fn plain_corpus() -> Vec<Vec<u8>> {
    corpus()
        .into_iter()
        .filter(|m| {
            let mut end = m.len();
            while end > 0 && m[end - 1] == 0 {
                end -= 1;
            }
            if end > 0 && m[end - 1] == b'\n' {
                end -= 1;
            }
            !m[..end].iter().any(|&b| runit::secure::is_control(b))
        })
        .collect()
}

/// The corpus as ucspi mode sees it (split at newlines and NULs) without
/// messages that hold other control bytes.
pub fn plain_stream_corpus() -> Vec<Vec<u8>> {
    corpus()
        .into_iter()
        .filter(|m| {
            !m.iter()
                .any(|&b| b != b'\n' && b != 0 && runit::secure::is_control(b))
        })
        .collect()
}

pub fn corpus() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = (0..=200u32)
        .map(|pri| format!("<{pri}>message {pri}").into_bytes())
        .collect();
    for m in [
        &b"no pri at all"[..],
        b"<999>bad",
        b"<1023>x",
        b"<1024>x",
        b"<0013>x",
        b"<013>x",
        b"<00>x",
        b"<>x",
        b"<13",
        b"<13x>y",
        b"<+13>x",
        b"<13>",
        b"",
        b"<38>multi\nline\nmessage",
        b"<38>trailing\n",
        b"<38>trailing two\n\n",
        b"\n",
        b"\n\n\n",
        b"<13>cr lf\r\n",
        b"a\0b",
        b"<13>\0x",
        b"x\0",
        b"x\0\0",
        b"\0",
        b"\0\0x",
        b"x\n\0",
        b"x\0\n",
        b"<13>a\n<14>b",
        b"\xff\xfe high bytes",
        b"<13>Nov 26 02:41:00 prog[12]: a usual one",
    ] {
        v.push(m.to_vec());
    }
    for len in [1019usize, 1020, 1021, 1023, 1024, 1025, 2048, 8192] {
        let mut m = b"<13>".to_vec();
        m.resize(len, b'k');
        v.push(m.clone());
        *m.last_mut().unwrap() = b'\n';
        v.push(m.clone());
        *m.last_mut().unwrap() = 0;
        v.push(m);
    }
    v.push(vec![b'z'; 8192]);
    v
}
