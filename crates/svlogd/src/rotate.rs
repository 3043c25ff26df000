//! Rotation and retention decisions, kept pure so they are unit-tested:
//! how much of the pending output goes into `current` before it must be
//! rotated, and which old files a directory listing says to delete.

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
    }
}
