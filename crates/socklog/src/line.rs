//! Turning received syslog messages into log lines: one datagram (unix or
//! inet mode) or one line of a stream (ucspi mode) becomes the bytes
//! socklog writes, `facility.priority: ` names replacing a `<PRI>` header.

use crate::names::{facility_name, parse_pri, priority_name};
use runit::secure::escape_into;
use std::net::Ipv4Addr;

/// Who sent a message, as far as socklog can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The kernel (ucspi on /proc/kmsg), root on the unix socket, or the
    /// network (whose routers log as `kern`).
    Trusted,
    /// A process of another user on the unix socket (its uid as the
    /// kernel vouches for it).
    LocalUser,
}

const KERN: u32 = 0;
const USER: u32 = 1;

/// Which lines a message produces (`-r`, `-R`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Raw {
    /// Only the converted line.
    #[default]
    No,
    /// The raw message as one line, then the converted line (`-r`).
    Also,
    /// Only the raw message (`-R`).
    Only,
}

/// Appends `msg` with its `<PRI>` header turned into names: `user.notice: `
/// replaces `<13>`; a facility without a name gives `unknown.PRIO: ` and
/// keeps the header; no header leaves the message as it is. Control bytes
/// in it are written as `#` and three octal digits (a newline is `#012`,
/// as rsyslog writes it), so one message is one line and no sender can
/// forge a second one or reach a terminal that shows the log.
///
/// `from` says who sent it: a local sender other than root cannot claim
/// `kern`, the kernel's facility, and gets `user` instead (BSD syslogd
/// logs `kern` from its log socket as `user` too).
pub fn convert(out: &mut Vec<u8>, msg: &[u8], from: Sender) {
    match parse_pri(msg) {
        None => escape_into(out, msg),
        Some(p) => {
            let facility = match (p.facility(), from) {
                (KERN, Sender::LocalUser) => USER,
                (f, _) => f,
            };
            let body = match facility_name(facility) {
                Some(f) => {
                    out.extend_from_slice(f.as_bytes());
                    &msg[p.len..]
                }
                None => {
                    out.extend_from_slice(b"unknown");
                    msg
                }
            };
            out.push(b'.');
            out.extend_from_slice(priority_name(p.priority()).as_bytes());
            out.extend_from_slice(b": ");
            escape_into(out, body);
        }
    }
}

/// Appends the line(s) for one received datagram. `capacity` is the size
/// of the receive buffer: a datagram that filled it was cut, and its lines
/// end in `...`. Trailing NULs and then one trailing newline are dropped
/// (what is left is escaped as in [`convert`]); a
/// datagram of nothing but NULs (or nothing) gives no line at all. `from`
/// (inet mode) prefixes the converted line with `a.b.c.d: `.
pub fn datagram(
    out: &mut Vec<u8>,
    msg: &[u8],
    capacity: usize,
    raw: Raw,
    from: Option<Ipv4Addr>,
    sender: Sender,
) {
    let full = msg.len() >= capacity;
    let mut end = msg.len();
    while end > 0 && msg[end - 1] == 0 {
        end -= 1;
    }
    if end == 0 {
        return;
    }
    if msg[end - 1] == b'\n' {
        end -= 1;
    }
    let msg = &msg[..end];
    let cut: &[u8] = if full && end == capacity { b"..." } else { b"" };
    if raw != Raw::No {
        escape_into(out, msg);
        out.extend_from_slice(cut);
        out.push(b'\n');
    }
    if raw != Raw::Only {
        if let Some(ip) = from {
            out.extend_from_slice(ip.to_string().as_bytes());
            out.extend_from_slice(b": ");
        }
        convert(out, msg, sender);
        out.extend_from_slice(cut);
        out.push(b'\n');
    }
}

/// Splits a byte stream into messages at newlines and NULs, as ucspi mode
/// reads its input; empty messages are skipped.
#[derive(Debug, Default)]
pub struct StreamLines {
    partial: Vec<u8>,
}

impl StreamLines {
    /// Feeds `data`; appends one line per complete message, each after
    /// `prefix` (the `$VAR: ` values).
    pub fn feed(&mut self, out: &mut Vec<u8>, data: &[u8], prefix: &[u8]) {
        let mut rest = data;
        while let Some(i) = rest.iter().position(|&b| b == b'\n' || b == 0) {
            if self.partial.is_empty() {
                emit(out, &rest[..i], prefix);
            } else {
                self.partial.extend_from_slice(&rest[..i]);
                let msg = std::mem::take(&mut self.partial);
                emit(out, &msg, prefix);
            }
            rest = &rest[i + 1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// End of input: a last message without a newline still counts.
    pub fn finish(&mut self, out: &mut Vec<u8>, prefix: &[u8]) {
        let msg = std::mem::take(&mut self.partial);
        emit(out, &msg, prefix);
    }
}

fn emit(out: &mut Vec<u8>, msg: &[u8], prefix: &[u8]) {
    if msg.is_empty() {
        return;
    }
    out.extend_from_slice(prefix);
    convert(out, msg, Sender::Trusted);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dg(msg: &[u8], raw: Raw, from: Option<Ipv4Addr>) -> Vec<u8> {
        let mut out = Vec::new();
        datagram(&mut out, msg, 1024, raw, from, Sender::Trusted);
        out
    }

    fn conv(msg: &[u8]) -> Vec<u8> {
        dg(msg, Raw::No, None)
    }

    #[test]
    fn names_replace_header() {
        assert_eq!(conv(b"<13>hello"), b"user.notice: hello\n");
        assert_eq!(conv(b"<191>x"), b"local7.debug: x\n");
        assert_eq!(conv(b"<8>x"), b"user.emerg: x\n");
        assert_eq!(conv(b"<7>x"), b"kern.debug: x\n");
        assert_eq!(conv(b"<192>x"), b"mark.emerg: x\n");
        assert_eq!(conv(b"<13>"), b"user.notice: \n");
    }

    #[test]
    fn unknown_facility_keeps_header() {
        assert_eq!(conv(b"<999>bad"), b"unknown.debug: <999>bad\n");
        assert_eq!(conv(b"<96>x"), b"unknown.emerg: <96>x\n");
        assert_eq!(conv(b"<200>x"), b"unknown.emerg: <200>x\n");
    }

    #[test]
    fn no_header_passes_through() {
        assert_eq!(conv(b"no pri"), b"no pri\n");
        assert_eq!(conv(b"<0>x"), b"<0>x\n");
        assert_eq!(conv(b"a\0b"), b"a#000b\n");
    }

    #[test]
    fn trailing_nuls_then_one_newline_dropped() {
        assert_eq!(conv(b""), b"");
        assert_eq!(conv(b"\0\0"), b"");
        assert_eq!(conv(b"\n"), b"\n");
        assert_eq!(conv(b"x\n\0"), b"x\n");
    }

    #[test]
    fn only_trusted_senders_log_as_kern() {
        let mut out = Vec::new();
        datagram(
            &mut out,
            b"<1>Oops",
            1024,
            Raw::Also,
            None,
            Sender::LocalUser,
        );
        assert_eq!(out, b"<1>Oops\nuser.alert: Oops\n");
        assert_eq!(conv(b"<0>x"), b"<0>x\n");
        assert_eq!(conv(b"<6>x"), b"kern.info: x\n");
        let mut out = Vec::new();
        datagram(&mut out, b"<38>x", 1024, Raw::No, None, Sender::LocalUser);
        assert_eq!(out, b"auth.info: x\n");
    }

    #[test]
    fn one_message_is_one_line() {
        assert_eq!(conv(b"\n\n"), b"#012\n");
        assert_eq!(conv(b"x\0\n"), b"x#000\n");
        assert_eq!(conv(b"<13>x\n\n"), b"user.notice: x#012\n");
        assert_eq!(conv(b"<38>multi\nline\n"), b"auth.info: multi#012line\n");
        assert_eq!(
            conv(b"<13>ok\n<0>kern.emerg: forged"),
            b"user.notice: ok#012<0>kern.emerg: forged\n"
        );
        assert_eq!(
            conv(b"<13>\x1b[2Jbell\x07\tx\r"),
            b"user.notice: #033[2Jbell#007\tx#015\n"
        );
        assert_eq!(
            dg(b"<13>a\nb", Raw::Also, None),
            b"<13>a#012b\nuser.notice: a#012b\n"
        );
    }

    #[test]
    fn full_buffer_is_marked_cut() {
        let long = vec![b'x'; 1024];
        let mut want = long.clone();
        want.extend_from_slice(b"...\n");
        assert_eq!(conv(&long), want);
        let mut nl = vec![b'x'; 1023];
        nl.push(b'\n');
        assert_eq!(conv(&nl), [&nl[..1023], b"\n"].concat());
        let mut nul = vec![b'x'; 1023];
        nul.push(0);
        assert_eq!(conv(&nul), [&nul[..1023], b"\n"].concat());
    }

    #[test]
    fn raw_modes_and_sender() {
        let ip = Some(Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(dg(b"<13>hi", Raw::Also, None), b"<13>hi\nuser.notice: hi\n");
        assert_eq!(dg(b"<13>hi", Raw::Only, ip), b"<13>hi\n");
        assert_eq!(dg(b"<13>hi", Raw::No, ip), b"127.0.0.1: user.notice: hi\n");
        assert_eq!(dg(b"nopri\n", Raw::Also, ip), b"nopri\n127.0.0.1: nopri\n");
    }

    #[test]
    fn stream_splits_at_newline_and_nul() {
        let mut s = StreamLines::default();
        let mut out = Vec::new();
        s.feed(&mut out, b"<13>hi\n\n\0a\0b\n<9", b"h: ");
        s.feed(&mut out, b"6>x\nlast", b"h: ");
        s.finish(&mut out, b"h: ");
        assert_eq!(
            out,
            b"h: user.notice: hi\nh: a\nh: b\nh: unknown.emerg: <96>x\nh: last\n"
        );
    }
}
