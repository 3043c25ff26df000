//! Rotation and retention decisions, kept pure so they are unit-tested:
//! how much of the pending output goes into `current` before it must be
//! rotated, what a rotated file is named, and which old files a directory
//! listing says to delete.

use crate::stamp::rotated_name;
use runit::tai64n::Tai64n;

/// How much of `pending` to append to `current` (now `size` bytes) and
/// whether to rotate right after. runit's rule, applied to a whole block
/// at once: never grow past `sizemax`, and rotate after a line that ends
/// within the last `linemax` bytes before `sizemax`.
pub fn chunk(size: u64, sizemax: u64, linemax: usize, pending: &[u8]) -> (usize, bool) {
    if sizemax == 0 {
        return (pending.len(), false);
    }
    let room = sizemax.saturating_sub(size);
    let len = (pending.len() as u64).min(room) as usize;
    if sizemax >= linemax as u64 {
        let threshold = sizemax - linemax as u64;
        // Bytes into `pending` before which no newline can trigger rotation.
        let skip = threshold.saturating_sub(size).saturating_sub(1);
        if skip < len as u64 {
            let from = skip as usize;
            if let Some(i) = crate::line::find_newline(&pending[from..len]) {
                return (from + i + 1, true);
            }
        }
    }
    // A full `current` is rotated before the next write, as runit does,
    // so input that stops exactly at the limit leaves it in place.
    (len, false)
}

/// What a listing of the log directory says about old files.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OldFiles {
    /// Processed rotated files (`.s`): the only ones counted against `n`
    /// and `N`, as Debian's svlogd does.
    pub count: u64,
    /// The oldest `.s` file: the only kind ever pruned (`.u` files still
    /// wait for the processor; runit 2.3 made sure they are never pruned).
    pub oldest: Option<String>,
    /// Output files of interrupted processors (`.t`), to remove.
    pub leftovers: Vec<String>,
    /// The latest-named rotated file of any kind (`.s`, `.u`, `.t`).
    pub newest: Option<[u8; 27]>,
}

/// The stamp of a well-formed rotated name (`@` + 24 lower-case hex
/// digits + `.` + one letter): what orders the files.
fn stamp(name: &[u8]) -> Option<&[u8]> {
    if name.len() != 27 || name[0] != b'@' || name[25] != b'.' {
        return None;
    }
    let hex = &name[1..25];
    hex.iter()
        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        .then_some(hex)
}

/// Whichever of two rotated names sorts later (by stamp).
pub fn later(a: Option<[u8; 27]>, b: Option<[u8; 27]>) -> Option<[u8; 27]> {
    match (a, b) {
        (Some(a), Some(b)) if stamp(&b) > stamp(&a) => Some(b),
        (a, b) => a.or(b),
    }
}

/// The name for a file rotated now (`now`, from the clock), given the
/// latest-named rotated file there is: `now` when it sorts after that one,
/// otherwise that one's stamp plus one nanosecond. After the clock was
/// stepped back, runit names the next file earlier than those written
/// before the step, so retention (which deletes the lowest name) removes
/// the newest lines first; names that only ever increase keep the files in
/// the order they were written, and retention removes the oldest.
pub fn name_after(now: [u8; 27], newest: Option<&[u8; 27]>) -> [u8; 27] {
    let Some(last) = newest.and_then(|n| stamp(n)) else {
        return now;
    };
    if stamp(&now).is_some_and(|s| s > last) {
        return now;
    }
    let hex = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
    };
    let (Some(secs), Some(nanos)) = (hex(&last[..16]), hex(&last[16..])) else {
        return now;
    };
    let next = if nanos >= 999_999_999 {
        secs.checked_add(1).map(|secs| Tai64n { secs, nanos: 0 })
    } else {
        Some(Tai64n {
            secs,
            nanos: nanos as u32 + 1,
        })
    };
    next.map_or(now, |t| rotated_name(t, now[26]))
}

/// Classifies `@<24 hex>.<s|u|t>` names; `busy` is the `.t` a running
/// processor is writing, which is not a leftover.
pub fn scan<'a>(names: impl IntoIterator<Item = &'a str>, busy: Option<&str>) -> OldFiles {
    let mut o = OldFiles::default();
    for n in names {
        let b = n.as_bytes();
        if b.len() != 27 || b[0] != b'@' || b[25] != b'.' {
            continue;
        }
        if stamp(b).is_some() {
            o.newest = later(o.newest, b.try_into().ok());
        }
        match b[26] {
            b's' => {
                o.count += 1;
                let older = match o.oldest.as_deref() {
                    Some(old) => n < old,
                    None => true,
                };
                if older {
                    o.oldest = Some(n.to_string());
                }
            }
            b't' if Some(n) != busy => o.leftovers.push(n.to_string()),
            _ => {}
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limit_writes_everything() {
        assert_eq!(chunk(5, 0, 1000, b"abc\ndef\n"), (8, false));
    }

    #[test]
    fn cut_at_size_like_debian() {
        // s100 with the default line length: files are cut at exactly 100.
        let data = [b'x'; 150];
        assert_eq!(chunk(0, 100, 1000, &data), (100, false));
        assert_eq!(chunk(60, 100, 1000, &data), (40, false));
        assert_eq!(chunk(100, 100, 1000, &data), (0, false));
        assert_eq!(chunk(0, 100, 1000, b"short\n"), (6, false));
    }

    #[test]
    fn rotate_after_a_line_in_the_last_linemax_bytes() {
        // sizemax 100, linemax 10: a newline ending at or after byte 90.
        let mut data = vec![b'a'; 85];
        data.push(b'\n'); // ends at 86: too early
        data.extend_from_slice(b"bbbbbb\n"); // ends at 93
        data.extend_from_slice(b"cc\n");
        assert_eq!(chunk(0, 100, 10, &data), (93, true));
        assert_eq!(chunk(89, 100, 10, b"z\nmore\n"), (2, true));
        assert_eq!(chunk(88, 100, 10, b"z\nmore\n"), (2, true));
        assert_eq!(chunk(87, 100, 10, b"z\nmore\n"), (7, true));
        assert_eq!(chunk(0, 100, 10, b"z\n"), (2, false));
    }

    #[test]
    fn scanning_old_files() {
        let names = [
            "@400000000000000000000003.s",
            "@400000000000000000000001.u",
            "@400000000000000000000002.s",
            "@400000000000000000000004.t",
            "@400000000000000000000005.t",
            "current",
            "@short.s",
        ];
        let o = scan(names, Some("@400000000000000000000005.t"));
        assert_eq!(o.count, 2);
        assert_eq!(o.oldest.as_deref(), Some("@400000000000000000000002.s"));
        assert_eq!(o.leftovers, vec!["@400000000000000000000004.t"]);
        assert_eq!(o.newest, Some(*b"@400000000000000000000005.t"));
        let o = scan(["@40000000000000000000000g.s", "current"], None);
        assert_eq!(o.newest, None);
    }

    #[test]
    fn names_only_increase() {
        let n = |s: &str| -> [u8; 27] { s.as_bytes().try_into().unwrap() };
        let now = n("@400000006b168b361e7aaa6c.s");
        // No file yet, or an earlier one: the clock's time.
        assert_eq!(name_after(now, None), now);
        assert_eq!(name_after(now, Some(b"@400000006b168b3600000000.s")), now);
        // After a step back: just after the latest name, this suffix.
        assert_eq!(
            &name_after(now, Some(b"@400000006b17dcb623a9dc24.u")),
            b"@400000006b17dcb623a9dc25.s"
        );
        // The same stamp is not after it either.
        assert_eq!(
            &name_after(now, Some(b"@400000006b168b361e7aaa6c.s")),
            b"@400000006b168b361e7aaa6d.s"
        );
        // The nanoseconds carry into the seconds.
        assert_eq!(
            &name_after(now, Some(b"@400000006b17dcb63b9ac9ff.s")),
            b"@400000006b17dcb700000000.s"
        );
        let (two, one) = (
            n("@400000000000000000000002.s"),
            n("@400000000000000000000001.u"),
        );
        assert_eq!(later(Some(two), Some(one)), Some(two));
        assert_eq!(later(Some(one), Some(two)), Some(two));
        assert_eq!(later(None, Some(one)), Some(one));
        // A name that is not a stamp orders nothing.
        assert_eq!(name_after(now, Some(b"@zzzz00006b17dcb63b9ac9ff.s")), now);
    }
}
