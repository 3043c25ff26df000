//! The environment chpst hands to the program: the one it was given,
//! changed by an ordered list of edits from `-e` and `-U`. Each edit
//! removes the first variable of that name (its slot is filled by the
//! last variable, as runit does it) and, when it sets a value, appends
//! `NAME=value` at the end, so `env` output matches runit's order.
//! Entries are the C library's own strings where unchanged (no copies).

use alloc::ffi::CString;
use alloc::vec::Vec;
use core::ffi::CStr;

/// Ordered edits, each a C string: `NAME=value` sets, `NAME` alone
/// unsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edits(Vec<CString>);

impl Edits {
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        let mut e = Vec::with_capacity(name.len() + value.len() + 2);
        e.extend_from_slice(name);
        e.push(b'=');
        e.extend_from_slice(value);
        self.0.push(c_string_from(e));
    }

    pub fn unset(&mut self, name: &[u8]) {
        self.0.push(c_string(name));
    }

    /// Applies the edits to `env` (entries `NAME=value`, in order). A
    /// name holding `=` (an envdir file `A=B`) edits variable `A`.
    pub fn apply<'a>(&'a self, env: &mut Vec<&'a CStr>) {
        env.reserve(self.0.len());
        for edit in &self.0 {
            let text = edit.to_bytes();
            let split = text.iter().position(|&c| c == b'=').unwrap_or(text.len());
            let name = &text[..split];
            if let Some(j) = env.iter().position(|v| {
                let v = v.to_bytes();
                v.get(split) == Some(&b'=') && v.starts_with(name)
            }) {
                env.swap_remove(j);
            }
            if split < text.len() {
                env.push(edit);
            }
        }
    }
}

/// A C string of `b`, cut at a NUL (argv, environ and envdir values,
/// whose NULs became newlines, hold none).
pub fn c_string(b: &[u8]) -> CString {
    let end = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    CString::new(&b[..end]).unwrap_or_default()
}

/// [`c_string`] of a vector, reusing its memory (it has room for the NUL).
fn c_string_from(mut b: Vec<u8>) -> CString {
    if let Some(end) = b.iter().position(|&x| x == 0) {
        b.truncate(end);
    }
    CString::new(b).unwrap_or_default()
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

    /// `start` with the edits applied, as strings.
    fn applied(e: &Edits, start: &[&str]) -> Vec<String> {
        let owned: Vec<CString> = start.iter().map(|s| CString::new(*s).unwrap()).collect();
        let mut env: Vec<&CStr> = owned.iter().map(|c| c.as_c_str()).collect();
        e.apply(&mut env);
        env.iter().map(|c| c.to_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn order_matches_runit() {
        let mut e = Edits::default();
        e.unset(b"HOME");
        e.set(b"A", b"new");
        e.set(b"C", b"3");
        // HOME's slot gets the last entry (_), then A's slot gets B.
        assert_eq!(
            applied(&e, &["A=1", "HOME=/root", "B=2", "_=/bin/x"]),
            ["B=2", "_=/bin/x", "A=new", "C=3"]
        );
    }

    #[test]
    fn unset_missing_and_names_with_equals() {
        let mut e = Edits::default();
        e.unset(b"NOPE");
        e.set(b"X=Y", b"q");
        e.unset(b"Z=W");
        assert_eq!(
            applied(&e, &["X=old", "Z=1", "ZZ=2"]),
            ["ZZ=2", "X=Y=q", "Z=W"]
        );
    }

    #[test]
    fn prefix_is_not_a_match() {
        let mut e = Edits::default();
        e.unset(b"PATH");
        assert_eq!(applied(&e, &["PATHX=1", "PATH=/bin"]), ["PATHX=1"]);
        let two = [c"PATHX=1", c"PATH=/bin"];
        assert_eq!(get(&two, b"PATH"), Some(&b"/bin"[..]));
        assert_eq!(get(&two[..1], b"PATH"), None);
    }
}
