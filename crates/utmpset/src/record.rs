//! The utmp/wtmp record of glibc on Linux (`struct utmp`, 384 bytes,
//! native byte order) and the two changes utmpset makes: marking a
//! line's login record dead, and the logout record it appends to wtmp.

/// Size of one record.
pub const SIZE: usize = 384;
/// `ut_type` value of a dead process (a logged-out line).
pub const DEAD_PROCESS: i16 = 8;

const TYPE: usize = 0;
const LINE: usize = 8;
const LINE_LEN: usize = 32;
const USER: usize = 44;
/// user (32 bytes) and host (256 bytes) are cleared together.
const HOST_END: usize = 332;
const TV_SEC: usize = 340;

pub type Record = [u8; SIZE];

/// Whether `rec` is the record of `line`: a user is recorded, and the
/// line field, read as a C string, equals `line`. (A full 32-byte line
/// field has no terminating NUL; like runit we read on into the next
/// fields then.)
pub fn is_login_of(rec: &Record, line: &[u8]) -> bool {
    if rec[USER] == 0 {
        return false;
    }
    let field = &rec[LINE..];
    let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    &field[..end] == line
}

/// Marks `rec` logged out at `now`: dead process, no user, no host, the
/// logout time in seconds. pid, id, line and the rest stay.
pub fn logout(rec: &mut Record, now: i64) {
    rec[TYPE..TYPE + 2].copy_from_slice(&DEAD_PROCESS.to_ne_bytes());
    rec[USER..HOST_END].fill(0);
    set_time(rec, now);
}

/// The record appended to wtmp: dead process, the line, the time, all
/// else zero. A line too long for the field is cut to 30 bytes, as
/// runit's utmpset does.
pub fn wtmp_logout(line: &[u8], now: i64) -> Record {
    let mut rec = [0u8; SIZE];
    rec[TYPE..TYPE + 2].copy_from_slice(&DEAD_PROCESS.to_ne_bytes());
    let n = if line.len() > LINE_LEN {
        30
    } else {
        line.len()
    };
    rec[LINE..LINE + n].copy_from_slice(&line[..n]);
    set_time(&mut rec, now);
    rec
}

fn set_time(rec: &mut Record, now: i64) {
    // The field is 32 bits wide on every Linux ABI glibc uses for utmp.
    rec[TV_SEC..TV_SEC + 4].copy_from_slice(&(now as i32).to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(typ: i16, line: &[u8], id: &[u8], user: &[u8], host: &[u8]) -> Record {
        let mut r = [0u8; SIZE];
        r[0..2].copy_from_slice(&typ.to_ne_bytes());
        r[4..8].copy_from_slice(&77i32.to_ne_bytes());
        r[LINE..LINE + line.len()].copy_from_slice(line);
        r[40..40 + id.len()].copy_from_slice(id);
        r[USER..USER + user.len()].copy_from_slice(user);
        r[76..76 + host.len()].copy_from_slice(host);
        r[336..340].copy_from_slice(&5i32.to_ne_bytes());
        r[TV_SEC..TV_SEC + 4].copy_from_slice(&100i32.to_ne_bytes());
        r[344..348].copy_from_slice(&123i32.to_ne_bytes());
        r[364..366].copy_from_slice(b"zz");
        r
    }

    #[test]
    fn matching() {
        let r = rec(7, b"tty5", b"5", b"alice", b"host");
        assert!(is_login_of(&r, b"tty5"));
        assert!(!is_login_of(&r, b"tty"));
        assert!(!is_login_of(&r, b"tty55"));
        // Any type counts, but only with a user recorded.
        assert!(is_login_of(&rec(6, b"tty4", b"4", b"LOGIN", b""), b"tty4"));
        assert!(is_login_of(&rec(8, b"tty6", b"6", b"x", b""), b"tty6"));
        assert!(!is_login_of(&rec(8, b"tty6", b"6", b"", b""), b"tty6"));
        // A full line field runs on into id and user.
        let full = rec(7, &[b'L'; 32], b"IIII", b"u", b"");
        assert!(!is_login_of(&full, &[b'L'; 32]));
        let mut long = vec![b'L'; 32];
        long.extend_from_slice(b"IIIIu");
        assert!(is_login_of(&full, &long));
    }

    #[test]
    fn logout_keeps_the_rest() {
        let mut r = rec(7, b"tty5", b"5", &[b'U'; 32], &[b'H'; 256]);
        let before = r;
        logout(&mut r, 1_800_000_000);
        assert_eq!(i16::from_ne_bytes([r[0], r[1]]), DEAD_PROCESS);
        assert!(r[USER..HOST_END].iter().all(|&b| b == 0));
        assert_eq!(&r[TV_SEC..TV_SEC + 4], &1_800_000_000i32.to_ne_bytes());
        assert_eq!(&r[2..USER], &before[2..USER]);
        assert_eq!(&r[HOST_END..TV_SEC], &before[HOST_END..TV_SEC]);
        assert_eq!(&r[TV_SEC + 4..], &before[TV_SEC + 4..]);
    }

    #[test]
    fn wtmp_record() {
        let r = wtmp_logout(b"ttyS0", 42);
        let mut want = [0u8; SIZE];
        want[0] = 8;
        want[LINE..LINE + 5].copy_from_slice(b"ttyS0");
        want[TV_SEC] = 42;
        assert_eq!(r, want);
        assert_eq!(
            &wtmp_logout(&[b'x'; 32], 0)[LINE..LINE + 33],
            &[[b'x'; 32].as_slice(), &[0]].concat()[..]
        );
        let cut = wtmp_logout(&[b'x'; 40], 0);
        assert_eq!(
            &cut[LINE..LINE + 31],
            &[[b'x'; 30].as_slice(), &[0]].concat()[..]
        );
    }
}
