//! The environment chpst hands to the program: the one it was given,
//! changed by an ordered list of edits from `-e` and `-U`. Each edit
//! removes the first variable of that name (its slot is filled by the
//! last variable, as runit does it) and, when it sets a value, appends
//! `NAME=value` at the end, so `env` output matches runit's order.
//! Entries are the C library's own strings where unchanged (no copies).

use alloc::borrow::Cow;
use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

/// Ordered edits: `NAME=value` sets, `NAME` alone unsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edits(Vec<Vec<u8>>);

impl Edits {
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        let mut e = Vec::with_capacity(name.len() + 1 + value.len());
        e.extend_from_slice(name);
        e.push(b'=');
        e.extend_from_slice(value);
        self.0.push(e);
    }

    pub fn unset(&mut self, name: &[u8]) {
        self.0.push(name.to_vec());
    }

    /// Applies the edits to `env` (entries `NAME=value`, in order). A
    /// name holding `=` (an envdir file `A=B`) edits variable `A`.
    pub fn apply<'a>(&self, mut env: Vec<Cow<'a, CStr>>) -> Vec<Cow<'a, CStr>> {
        for edit in &self.0 {
            let split = edit.iter().position(|&c| c == b'=').unwrap_or(edit.len());
            let name = &edit[..split];
            if let Some(j) = env.iter().position(|v| {
                let v = v.to_bytes();
                v.starts_with(name) && v.get(split) == Some(&b'=')
            }) {
                env.swap_remove(j);
            }
            if split < edit.len() {
                env.push(Cow::Owned(c_string(edit)));
            }
        }
        env
    }
}

/// A C string of `b`, cut at a NUL (argv, environ and envdir values,
/// whose NULs became newlines, hold none).
pub fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    CString::new(&b[..end]).unwrap_or_default()
}

/// The value of `name` in `env`, first match.
pub fn get<'a>(env: &[&'a CStr], name: &[u8]) -> Option<&'a [u8]> {
    env.iter().find_map(|v| {
        let v = v.to_bytes();
        (v.starts_with(name) && v.get(name.len()) == Some(&b'=')).then(|| &v[name.len() + 1..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: &[&str]) -> Vec<Cow<'static, CStr>> {
        v.iter()
            .map(|s| Cow::Owned(c_string(s.as_bytes())))
            .collect()
    }

    fn refs<'a>(v: &'a [Cow<'static, CStr>]) -> Vec<&'a CStr> {
        v.iter().map(|c| c.as_ref()).collect()
    }

    #[test]
    fn order_matches_runit() {
        let start = env(&["A=1", "HOME=/root", "B=2", "_=/bin/x"]);
        let mut e = Edits::default();
        e.unset(b"HOME");
        e.set(b"A", b"new");
        e.set(b"C", b"3");
        // HOME's slot gets the last entry (_), then A's slot gets B.
        assert_eq!(e.apply(start), env(&["B=2", "_=/bin/x", "A=new", "C=3"]));
    }

    #[test]
    fn unset_missing_and_names_with_equals() {
        let mut e = Edits::default();
        e.unset(b"NOPE");
        e.set(b"X=Y", b"q");
        e.unset(b"Z=W");
        assert_eq!(
            e.apply(env(&["X=old", "Z=1", "ZZ=2"])),
            env(&["ZZ=2", "X=Y=q", "Z=W"])
        );
    }

    #[test]
    fn prefix_is_not_a_match() {
        let mut e = Edits::default();
        e.unset(b"PATH");
        assert_eq!(e.apply(env(&["PATHX=1", "PATH=/bin"])), env(&["PATHX=1"]));
        let two = env(&["PATHX=1", "PATH=/bin"]);
        assert_eq!(get(&refs(&two), b"PATH"), Some(&b"/bin"[..]));
        assert_eq!(get(&refs(&two[..1]), b"PATH"), None);
    }
}
