//! The line engine: splits input into lines, applies `-r`/`-R`, the
//! patterns, prefix and timestamp, and appends the results to per-log
//! output buffers, the standard-error buffer and UDP packets. No I/O here.
//!
//! A line longer than `-l len` is judged by its first `len` bytes; the rest
//! follows unchanged to the same logs (standard error and UDP get the first
//! `len` bytes and `...`). Blocks of plain lines (no stamp, no filtering)
//! are copied in one piece.

use crate::config::{Action, Config};
use crate::options::{Options, Stamp};
use crate::pattern;
use crate::stamp::Stamper;

/// Position of the first `\n`, eight bytes at a time.
pub fn find_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut i = 0;
    while i + 8 <= s.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        let x = u64::from_le_bytes(w) ^ NL;
        let z = x.wrapping_sub(LO) & !x & HI;
        if z != 0 {
            return Some(i + (z.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    s[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// One log directory as the engine sees it.
#[derive(Debug, Default)]
pub struct Target {
    pub prefix: Vec<u8>,
    pub patterns: Vec<(Action, Vec<u8>)>,
    /// False for `U` (UDP only).
    pub to_log: bool,
    pub udp: bool,
    /// Bytes waiting to be appended to `current`.
    pub out: Vec<u8>,
}

impl Target {
    pub fn new(cfg: &Config) -> Target {
        Target {
            prefix: cfg.prefix.clone(),
            patterns: cfg.patterns.clone(),
            to_log: !cfg.udp_only,
            udp: cfg.udp.is_some(),
            out: Vec::new(),
        }
    }

    fn plain(&self) -> bool {
        self.to_log && !self.udp && self.prefix.is_empty() && self.patterns.is_empty()
    }
}

pub struct Engine {
    stamper: Stamper,
    replace: Option<[u8; 256]>,
    linemax: usize,
    pub targets: Vec<Target>,
    /// Lines selected for standard error (`e`).
    pub stderr: Vec<u8>,
    /// UDP packets: (target index, bytes).
    pub packets: Vec<(usize, Vec<u8>)>,
    /// Inside a long line: which targets receive its rest.
    cont: Option<Vec<bool>>,
    scratch: Vec<u8>,
}

impl Engine {
    pub fn new(opts: &Options) -> Engine {
        let replace = opts.replace.map(|r| {
            let mut map = [0u8; 256];
            for (i, m) in map.iter_mut().enumerate() {
                let c = i as u8;
                *m = if !(32..=126).contains(&c) || opts.replace_set.contains(&c) {
                    r
                } else {
                    c
                };
            }
            map
        });
        Engine {
            stamper: Stamper::new(opts.stamp),
            replace,
            linemax: opts.linemax,
            targets: Vec::new(),
            stderr: Vec::new(),
            packets: Vec::new(),
            cont: None,
            scratch: Vec::new(),
        }
    }

    fn plain(&self) -> bool {
        self.stamper.kind() == Stamp::None
            && self.replace.is_none()
            && self.targets.iter().all(Target::plain)
    }

    /// With no stamp, replacement or filtering anywhere, and not inside a
    /// long line: how much of `data` (whole lines) can go to every log
    /// unchanged, straight from the input buffer.
    pub fn verbatim_prefix(&self, data: &[u8]) -> usize {
        if self.cont.is_some() || !self.plain() {
            return 0;
        }
        data.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    }

    /// Consumes complete lines (and long-line pieces) from `data`; returns
    /// how many bytes were used. The rest is an incomplete line to feed
    /// again with more data. At `eof` everything is used, and a last line
    /// without newline gets one (runit drops it; we lose no line).
    pub fn feed(&mut self, data: &[u8], eof: bool, now: &mut dyn FnMut() -> (i64, u32)) -> usize {
        let mut pos = 0;
        let plain = self.plain();
        while pos < data.len() {
            let avail = &data[pos..];
            if let Some(cont) = &self.cont {
                let (n, done) = match find_newline(avail) {
                    Some(i) => (i + 1, true),
                    None => (avail.len(), false),
                };
                for (t, &on) in self.targets.iter_mut().zip(cont) {
                    if on {
                        t.out.extend_from_slice(&avail[..n]);
                    }
                }
                if done {
                    self.cont = None;
                }
                pos += n;
                continue;
            }
            if plain {
                if let Some(last) = avail.iter().rposition(|&b| b == b'\n') {
                    for t in &mut self.targets {
                        t.out.extend_from_slice(&avail[..=last]);
                    }
                    pos += last + 1;
                    continue;
                }
            }
            // As runit: a line is long when its first `linemax` bytes hold
            // no newline, even if the newline comes right after them.
            let look = avail.len().min(self.linemax);
            let (n, line, complete) = match find_newline(&avail[..look]) {
                Some(i) => (i + 1, &avail[..i], true),
                None if avail.len() >= self.linemax => {
                    (self.linemax, &avail[..self.linemax], false)
                }
                None if eof => (avail.len(), avail, true),
                None => break,
            };
            self.line(line, complete, now);
            pos += n;
        }
        if eof {
            self.finish();
        }
        pos
    }

    /// Ends a long line cut off by end of input.
    fn finish(&mut self) {
        if let Some(cont) = self.cont.take() {
            for (t, on) in self.targets.iter_mut().zip(cont) {
                if on {
                    t.out.push(b'\n');
                }
            }
        }
    }

    /// One line, or the first `linemax` bytes of a longer one.
    fn line(&mut self, raw: &[u8], complete: bool, now: &mut dyn FnMut() -> (i64, u32)) {
        let msg: &[u8] = match &self.replace {
            Some(map) => {
                self.scratch.clear();
                self.scratch.extend(raw.iter().map(|&c| map[c as usize]));
                &self.scratch
            }
            None => raw,
        };
        let stamp: &[u8] = if self.stamper.kind() == Stamp::None {
            &[]
        } else {
            let (s, ns) = now();
            self.stamper.format(s, ns)
        };
        let mut cont = if complete {
            None
        } else {
            Some(Vec::with_capacity(self.targets.len()))
        };
        for (idx, t) in self.targets.iter_mut().enumerate() {
            let mut selected = true;
            let mut alert = false;
            for (action, pat) in &t.patterns {
                if pattern::matches(pat, msg) {
                    match action {
                        Action::Select => selected = true,
                        Action::Deselect => selected = false,
                        Action::Alert => alert = true,
                        Action::Unalert => alert = false,
                    }
                }
            }
            let to_log = selected && t.to_log;
            if to_log {
                t.out.extend_from_slice(stamp);
                t.out.extend_from_slice(&t.prefix);
                t.out.extend_from_slice(msg);
                if complete {
                    t.out.push(b'\n');
                }
            }
            if let Some(c) = &mut cont {
                c.push(to_log);
            }
            let tail: &[u8] = if complete { b"\n" } else { b"...\n" };
            if alert {
                self.stderr.extend_from_slice(stamp);
                self.stderr.extend_from_slice(&t.prefix);
                self.stderr.extend_from_slice(msg);
                self.stderr.extend_from_slice(tail);
            }
            if selected && t.udp {
                let mut p = Vec::with_capacity(stamp.len() + t.prefix.len() + msg.len() + 4);
                p.extend_from_slice(stamp);
                p.extend_from_slice(&t.prefix);
                p.extend_from_slice(msg);
                p.extend_from_slice(tail);
                self.packets.push((idx, p));
            }
        }
        self.cont = cont;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    fn opts(args: &[&str]) -> Options {
        let v: Vec<std::ffi::OsString> = std::iter::once("svlogd")
            .chain(args.iter().copied())
            .chain(std::iter::once("dir"))
            .map(Into::into)
            .collect();
        crate::options::parse(&v).expect("options")
    }

    fn engine(args: &[&str], configs: &[&[u8]]) -> Engine {
        let mut e = Engine::new(&opts(args));
        for c in configs {
            e.targets.push(Target::new(&config::parse(c).0));
        }
        e
    }

    fn clock() -> impl FnMut() -> (i64, u32) {
        || (951_827_696, 123_456_789)
    }

    #[test]
    fn newline_search() {
        let mut s = vec![b'a'; 40];
        assert_eq!(find_newline(&s), None);
        for at in [0, 5, 7, 8, 15, 16, 39] {
            s[at] = b'\n';
            assert_eq!(find_newline(&s), Some(at));
            s[at] = b'a';
        }
        s[30] = b'\n';
        s[33] = b'\n';
        assert_eq!(find_newline(&s), Some(30));
    }

    #[test]
    fn partial_lines_wait_for_more_input() {
        let mut e = engine(&[], &[b""]);
        let used = e.feed(b"one\ntwo\nthr", false, &mut clock());
        assert_eq!(used, 8);
        assert_eq!(e.targets[0].out, b"one\ntwo\n");
        assert_eq!(e.feed(b"thr", true, &mut clock()), 3);
        assert_eq!(e.targets[0].out, b"one\ntwo\nthr\n");
    }

    #[test]
    fn stamps_prefix_and_replacement() {
        let mut e = engine(&["-tt", "-r", "#", "-R", "y"], &[b"pP: \n"]);
        e.feed(b"x\ty\x01z\n", false, &mut clock());
        assert_eq!(e.targets[0].out, b"2000-02-29_12:34:56.12345 P: x###z\n");
    }

    #[test]
    fn long_lines_are_judged_by_their_head() {
        let mut e = engine(&["-l", "5", "-r", "#"], &[b"e*\n"]);
        e.feed(b"\x01bcdefg\x01h\nok\nabcde\n", false, &mut clock());
        assert_eq!(e.targets[0].out, b"#bcdefg\x01h\nok\nabcde\n");
        assert_eq!(e.stderr, b"#bcde...\nok\nabcde...\n");
        // Split across reads, the rest still follows the head's fate.
        let mut e = engine(&["-l", "3"], &[b"-abc\n"]);
        e.feed(b"abcdef", false, &mut clock());
        e.feed(b"gh\nxyzw\n", false, &mut clock());
        assert_eq!(e.targets[0].out, b"xyzw\n");
    }

    #[test]
    fn patterns_per_log_and_alerts() {
        let mut e = engine(&[], &[b"-*debug*\n+*debug: keep*\ne*err*\nEx*\n", b""]);
        e.feed(
            b"hello\ndebug: drop\ndebug: keep this\nan err\nx err\n",
            false,
            &mut clock(),
        );
        assert_eq!(
            e.targets[0].out,
            b"hello\ndebug: keep this\nan err\nx err\n"
        );
        assert_eq!(
            e.targets[1].out,
            b"hello\ndebug: drop\ndebug: keep this\nan err\nx err\n"
        );
        assert_eq!(e.stderr, b"an err\n");
    }

    #[test]
    fn udp_packets_and_udp_only() {
        let mut e = engine(&["-l", "4"], &[b"U127.0.0.1:9\npP \n"]);
        e.feed(b"hi\nlonger\n", false, &mut clock());
        assert!(e.targets[0].out.is_empty());
        let p: Vec<&[u8]> = e.packets.iter().map(|(_, p)| p.as_slice()).collect();
        assert_eq!(p, vec![&b"P hi\n"[..], &b"P long...\n"[..]]);
    }

    #[test]
    fn plain_blocks_hold_back_the_partial_line() {
        let mut e = engine(&[], &[b"", b""]);
        assert_eq!(e.verbatim_prefix(b"a\nb\nc"), 4);
        assert_eq!(engine(&["-t"], &[b""]).verbatim_prefix(b"a\n"), 0);
        assert_eq!(engine(&[], &[b"pX\n"]).verbatim_prefix(b"a\n"), 0);
        assert_eq!(e.feed(b"a\nb\nc", false, &mut clock()), 4);
        assert_eq!(e.targets[1].out, b"a\nb\n");
    }
}
