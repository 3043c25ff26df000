//! The environment chpst hands to the program: the one it was given,
//! changed by an ordered list of edits from `-e` and `-U`. Each edit
//! removes the first variable of that name (its slot is filled by the
//! last variable, as runit does it) and, when it sets a value, appends
//! `NAME=value` at the end, so `env` output matches runit's order.

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

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies the edits to `env` (entries `NAME=value`, in order). A
    /// name holding `=` (an envdir file `A=B`) edits variable `A`.
    pub fn apply(&self, mut env: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        for edit in &self.0 {
            let split = edit.iter().position(|&c| c == b'=').unwrap_or(edit.len());
            let name = &edit[..split];
            if let Some(j) = env
                .iter()
                .position(|v| v.starts_with(name) && v.get(split) == Some(&b'='))
            {
                env.swap_remove(j);
            }
            if split < edit.len() {
                env.push(edit.clone());
            }
        }
        env
    }
}

/// The value of `name` in `env`, first match.
pub fn get<'a>(env: &'a [Vec<u8>], name: &[u8]) -> Option<&'a [u8]> {
    env.iter().find_map(|v| {
        (v.starts_with(name) && v.get(name.len()) == Some(&b'=')).then(|| &v[name.len() + 1..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
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
        assert_eq!(
            get(&env(&["PATHX=1", "PATH=/bin"]), b"PATH"),
            Some(&b"/bin"[..])
        );
        assert_eq!(get(&env(&["PATHX=1"]), b"PATH"), None);
    }
}
