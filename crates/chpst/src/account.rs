//! Resolving `-u`/`-U` arguments and the setuidgid/envuidgid accounts to
//! a uid and a list of gids (the first is the primary gid), and the
//! messages chpst gives when that fails.
//!
//! Forms: `user` (the user's uid and gid from the passwd database),
//! `user:group[:group...]` (gids from the group database instead), and
//! `:uid:gid[:gid...]` (numbers, looked up nowhere; at least one gid, at
//! most 60, an empty number is 0). The personalities take a plain account
//! name only.

use alloc::vec;
use alloc::vec::Vec;
use runit_core::sys::procstate::{self, PwEntry};
use runit_core::Errno;

/// The most gids chpst accepts in one argument.
pub const MAX_GIDS: usize = 60;

/// A resolved account: the uid, then the gids with the primary one first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gids: Vec<u32>,
}

impl Ids {
    pub fn gid(&self) -> u32 {
        self.gids[0]
    }
}

/// Where names are looked up; the system databases in the program, a
/// table in tests.
pub trait Accounts {
    fn user(&self, name: &[u8]) -> Result<Option<PwEntry>, Errno>;
    fn group(&self, name: &[u8]) -> Result<Option<u32>, Errno>;
}

/// The C library's passwd and group databases (NSS included).
pub struct System;

impl Accounts for System {
    fn user(&self, name: &[u8]) -> Result<Option<PwEntry>, Errno> {
        procstate::getpwnam(name)
    }
    fn group(&self, name: &[u8]) -> Result<Option<u32>, Errno> {
        procstate::getgrnam(name)
    }
}

/// Why an account could not be resolved.
#[derive(Debug)]
pub enum Failure {
    /// A `:uid:gid` argument that is not numbers (or has no gid).
    Invalid,
    /// No such user or group.
    Unknown,
    /// The database could not be read.
    Lookup(Errno),
}

/// Resolves a `-u`/`-U` argument (all three forms).
pub fn resolve_ext(spec: &[u8], db: &dyn Accounts) -> Result<Ids, Failure> {
    if let Some(numeric) = spec.strip_prefix(b":") {
        return numeric_ids(numeric).ok_or(Failure::Invalid);
    }
    let mut parts = spec.split(|&c| c == b':');
    let user = parts.next().unwrap_or_default();
    let pw = db
        .user(user)
        .map_err(Failure::Lookup)?
        .ok_or(Failure::Unknown)?;
    if !spec.contains(&b':') {
        return Ok(Ids {
            uid: pw.uid,
            gids: vec![pw.gid],
        });
    }
    let mut gids = Vec::new();
    for g in parts.take(MAX_GIDS) {
        gids.push(
            db.group(g)
                .map_err(Failure::Lookup)?
                .ok_or(Failure::Unknown)?,
        );
    }
    Ok(Ids { uid: pw.uid, gids })
}

/// Resolves a personality's account: a user name as it stands.
pub fn resolve_plain(name: &[u8], db: &dyn Accounts) -> Result<Ids, Failure> {
    let pw = db
        .user(name)
        .map_err(Failure::Lookup)?
        .ok_or(Failure::Unknown)?;
    Ok(Ids {
        uid: pw.uid,
        gids: vec![pw.gid],
    })
}

/// `uid:gid[:gid...]` after the leading colon. Every field must be a
/// number below 4294967295: runit read an empty field as 0 and let large
/// numbers wrap, so `::` or `:1001:` or `:4294967296:1` meant root, and
/// 4294967295 is the "no change" id of setuid(2).
fn numeric_ids(s: &[u8]) -> Option<Ids> {
    let colon = s.iter().position(|&c| c == b':')?;
    let uid = crate::number::strict_id(&s[..colon])?;
    let gids = s[colon + 1..]
        .split(|&c| c == b':')
        .map(crate::number::strict_id)
        .collect::<Option<Vec<u32>>>()?;
    (gids.len() <= MAX_GIDS).then_some(Ids { uid, gids })
}

/// The fatal message (after `chpst: fatal: `) for a failed resolution.
/// `ext` tells a `-u`/`-U` argument from a personality's account.
pub fn failure_message(spec: &[u8], ext: bool, f: &Failure) -> Vec<u8> {
    let mut m = Vec::new();
    match (f, ext) {
        (Failure::Invalid, _) => {
            m.extend_from_slice(b"invalid uid/gids: ");
            m.extend_from_slice(spec.strip_prefix(b":").unwrap_or(spec));
        }
        (Failure::Lookup(e), true) => {
            m.extend_from_slice(b"unable to get password/group file entry: ");
            m.extend_from_slice(e.text().as_bytes());
        }
        (Failure::Lookup(e), false) => {
            m.extend_from_slice(b"unable to get password file entry: ");
            m.extend_from_slice(e.text().as_bytes());
        }
        (Failure::Unknown, true) => {
            m.extend_from_slice(b"unknown user/group: ");
            m.extend_from_slice(spec);
        }
        (Failure::Unknown, false) => {
            m.extend_from_slice(b"unknown account: ");
            m.extend_from_slice(spec);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Table;
    impl Accounts for Table {
        fn user(&self, name: &[u8]) -> Result<Option<PwEntry>, Errno> {
            Ok(match name {
                b"nobody" => Some(PwEntry {
                    uid: 65534,
                    gid: 65534,
                }),
                b"root" => Some(PwEntry { uid: 0, gid: 0 }),
                b"broken" => return Err(Errno(libc::EIO)),
                _ => None,
            })
        }
        fn group(&self, name: &[u8]) -> Result<Option<u32>, Errno> {
            Ok(match name {
                b"root" => Some(0),
                b"daemon" => Some(1),
                b"bin" => Some(2),
                _ => None,
            })
        }
    }

    fn ext(s: &str) -> Result<Ids, String> {
        resolve_ext(s.as_bytes(), &Table)
            .map_err(|f| String::from_utf8(failure_message(s.as_bytes(), true, &f)).unwrap())
    }

    fn ids(uid: u32, gids: &[u32]) -> Result<Ids, String> {
        Ok(Ids {
            uid,
            gids: gids.to_vec(),
        })
    }

    #[test]
    fn named_forms() {
        assert_eq!(ext("nobody"), ids(65534, &[65534]));
        assert_eq!(ext("nobody:root"), ids(65534, &[0]));
        assert_eq!(ext("nobody:daemon:bin"), ids(65534, &[1, 2]));
        assert_eq!(ext("nosuch"), Err("unknown user/group: nosuch".into()));
        assert_eq!(
            ext("nobody:nosuch"),
            Err("unknown user/group: nobody:nosuch".into())
        );
        assert_eq!(ext("nobody:"), Err("unknown user/group: nobody:".into()));
        assert_eq!(ext(""), Err("unknown user/group: ".into()));
        assert_eq!(
            ext("broken"),
            Err("unable to get password/group file entry: input/output error".into())
        );
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(ext(":1:2"), ids(1, &[2]));
        assert_eq!(ext(":1:2:3"), ids(1, &[2, 3]));
        assert_eq!(ext(":001:002"), ids(1, &[2]));
        assert_eq!(ext(":0:0"), ids(0, &[0]));
        assert_eq!(ext(":4294967294:1"), ids(4294967294, &[1]));
        // Never root (or "no change") by default.
        for bad in [
            ":1:",
            ":1:2:",
            ":1::2",
            "::",
            "::1",
            ":4294967296:4294967296",
            ":4294967295:1",
            ":1:4294967295",
            ":18446744073709551616:1",
        ] {
            assert_eq!(ext(bad), Err(format!("invalid uid/gids: {}", &bad[1..])));
        }
        assert_eq!(ext(":65534"), Err("invalid uid/gids: 65534".into()));
        assert_eq!(ext(":"), Err("invalid uid/gids: ".into()));
        assert_eq!(ext(":abc"), Err("invalid uid/gids: abc".into()));
        assert_eq!(ext(":-1:2"), Err("invalid uid/gids: -1:2".into()));
        assert_eq!(ext(":1: 2"), Err("invalid uid/gids: 1: 2".into()));
        let sixty: Vec<String> = (1..=60).map(|n| n.to_string()).collect();
        assert_eq!(
            ext(&format!(":1:{}", sixty.join(":"))).unwrap().gids.len(),
            60
        );
        let many = format!(":1:{}:61", sixty.join(":"));
        assert!(ext(&many)
            .unwrap_err()
            .starts_with("invalid uid/gids: 1:1:2:"));
    }

    #[test]
    fn plain_accounts() {
        let plain = |s: &str| {
            resolve_plain(s.as_bytes(), &Table)
                .map_err(|f| String::from_utf8(failure_message(s.as_bytes(), false, &f)).unwrap())
        };
        assert_eq!(plain("nobody"), ids(65534, &[65534]));
        assert_eq!(
            plain("nobody:root"),
            Err("unknown account: nobody:root".into())
        );
        assert_eq!(plain(":1:2"), Err("unknown account: :1:2".into()));
        assert_eq!(
            plain("broken"),
            Err("unable to get password file entry: input/output error".into())
        );
    }
}
