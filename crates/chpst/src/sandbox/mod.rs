//! chpst's sandbox: the hardening of a systemd unit (`NoNewPrivileges=`,
//! `ProtectSystem=`, `SystemCallFilter=`, ...) as `-S knob[=value]`
//! options. [`Sandbox::parse`] reads the knobs into what to do; then
//! `run::execute` applies it in one fixed order, one family at a time:
//! [`namespaces`] (before the chroot), [`mounts`] (after it),
//! [`caps`] around the uid change (with no_new_privs), and the
//! [`seccomp`] filter last before exec. Every failure is fatal: a service
//! never runs less isolated than asked.

pub mod caps;
pub mod mounts;
pub mod namespaces;
pub mod seccomp;
pub mod syscalls;

use alloc::vec::Vec;
use mounts::{Rule, Treatment};

/// What the knobs ask for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sandbox<'a> {
    pub private_network: bool,
    pub protect_hostname: bool,
    pub private_pid: bool,
    /// Mount changes in the order given; applied shallowest path first.
    pub mounts: Vec<Rule<'a>>,
    /// Capabilities to keep in the bounding set (a mask).
    pub bounding: Option<u64>,
    /// Ambient capabilities to raise after the uid change.
    pub ambient: Option<u64>,
    pub no_new_privs: bool,
    pub umask: Option<u32>,
    pub filter: seccomp::Filter,
}

/// A knob's argument is wrong: the reason, for `chpst: fatal: `.
pub type Complaint = Vec<u8>;

fn complaint(parts: &[&[u8]]) -> Complaint {
    parts.concat()
}

/// `yes`, `no` and their systemd synonyms; a knob without `=` is yes.
fn boolean(v: Option<&[u8]>) -> Option<bool> {
    match v {
        None | Some(b"yes" | b"true" | b"on" | b"1") => Some(true),
        Some(b"no" | b"false" | b"off" | b"0") => Some(false),
        _ => None,
    }
}

/// The items of a list: separated by spaces or commas.
pub fn items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b' ' || c == b',' || c == b'\t')
        .filter(|s| !s.is_empty())
}

/// A list that may start with `~` (everything but these): `(negated, rest)`.
fn negated(v: &[u8]) -> (bool, &[u8]) {
    match v.strip_prefix(b"~") {
        Some(rest) => (true, rest),
        None => (false, v),
    }
}

impl<'a> Sandbox<'a> {
    /// Reads the `-S` arguments in order.
    #[inline(never)] // out of the way of chpst's usual path
    pub fn parse(knobs: &[&'a [u8]]) -> Result<Sandbox<'a>, Complaint> {
        let mut s = Sandbox::default();
        for k in knobs {
            s.knob(k)?;
        }
        Ok(s)
    }

    fn knob(&mut self, knob: &'a [u8]) -> Result<(), Complaint> {
        let (name, value) = match knob.iter().position(|&c| c == b'=') {
            Some(i) => (&knob[..i], Some(&knob[i + 1..])),
            None => (knob, None),
        };
        let bad = || complaint(&[b"bad sandbox option: ", knob]);
        let flag = || boolean(value).ok_or_else(bad);
        let val = || value.ok_or_else(bad);
        match name {
            b"no-new-privs" => self.no_new_privs |= flag()?,
            b"caps" => {
                let (not, list) = negated(val()?);
                let m = caps::mask(list)?;
                let m = if not { !m & caps::ALL } else { m };
                self.bounding = Some(self.bounding.unwrap_or(caps::ALL) & m);
            }
            b"ambient-caps" => {
                self.ambient = Some(self.ambient.unwrap_or(0) | caps::mask(val()?)?);
            }
            b"umask" => {
                let v = val()?;
                let m =
                    (!v.is_empty() && v.len() <= 4 && v.iter().all(|c| (b'0'..=b'7').contains(c)))
                        .then(|| v.iter().fold(0, |m, &c| m * 8 + u32::from(c - b'0')))
                        .ok_or_else(bad)?;
                self.umask = Some(m);
            }
            b"private-network" => self.private_network |= flag()?,
            b"protect-hostname" => {
                if flag()? {
                    // As systemd: a UTS namespace, and no changing it.
                    self.protect_hostname = true;
                    self.filter.deny_call(b"sethostname")?;
                    self.filter.deny_call(b"setdomainname")?;
                }
            }
            b"private-pid" => {
                if flag()? {
                    self.private_pid = true;
                    self.mount(b"/proc", Treatment::Proc, false);
                }
            }
            b"private-tmp" => {
                if flag()? {
                    self.mount(b"/tmp", Treatment::Tmpfs { mode: b"1777" }, false);
                    // A root without /var/tmp (a small -/ jail) shares none.
                    self.mount(b"/var/tmp", Treatment::Tmpfs { mode: b"1777" }, true);
                }
            }
            b"protect-system" => {
                // (Lists as strings: tables of pointers are relocated at
                // every start of chpst.)
                let paths = match value {
                    None | Some(b"yes" | b"true" | b"on" | b"1") => "/usr /boot /efi",
                    Some(b"full") => "/usr /boot /efi /etc",
                    Some(b"strict") => {
                        self.mount(b"/", Treatment::ReadOnlySystem, false);
                        ""
                    }
                    Some(b"no" | b"false" | b"off" | b"0") => "",
                    _ => return Err(bad()),
                };
                for p in paths.split(' ').filter(|p| !p.is_empty()) {
                    self.mount(p.as_bytes(), Treatment::ReadOnly, p != "/usr");
                }
            }
            b"protect-home" => {
                let t = match value {
                    None | Some(b"yes" | b"true" | b"on" | b"1") => Treatment::Inaccessible,
                    Some(b"read-only") => Treatment::ReadOnly,
                    Some(b"tmpfs") => Treatment::EmptyReadOnly,
                    Some(b"no" | b"false" | b"off" | b"0") => return Ok(()),
                    _ => return Err(bad()),
                };
                for p in "/home /root /run/user".split(' ') {
                    self.mount(p.as_bytes(), t.clone(), true);
                }
            }
            b"read-write" | b"read-only" | b"inaccessible" => {
                let t = match name {
                    b"read-write" => Treatment::ReadWrite,
                    b"read-only" => Treatment::ReadOnly,
                    _ => Treatment::Inaccessible,
                };
                for p in items(val()?) {
                    // systemd's `-PATH`: pass over it if it does not exist.
                    let (optional, p) = match p.strip_prefix(b"-") {
                        Some(p) => (true, p),
                        None => (false, p),
                    };
                    if !p.starts_with(b"/") {
                        return Err(complaint(&[b"path not absolute: ", p]));
                    }
                    self.mount(p, t.clone(), optional);
                }
            }
            b"private-devices" => {
                if flag()? {
                    self.mount(b"/dev", Treatment::Devices, false);
                    self.drop_caps(&[caps::CAP_MKNOD, caps::CAP_SYS_RAWIO]);
                    self.filter.deny_group(b"@raw-io")?;
                }
            }
            b"protect-kernel-tunables" => {
                if flag()? {
                    for p in mounts::KERNEL_TUNABLES.split(' ') {
                        self.mount(p.as_bytes(), Treatment::ReadOnly, true);
                    }
                    for p in mounts::KERNEL_SECRETS.split(' ') {
                        self.mount(p.as_bytes(), Treatment::Inaccessible, true);
                    }
                }
            }
            b"protect-kernel-modules" => {
                if flag()? {
                    self.mount(b"/usr/lib/modules", Treatment::Inaccessible, true);
                    self.mount(b"/lib/modules", Treatment::Inaccessible, true);
                    self.drop_caps(&[caps::CAP_SYS_MODULE]);
                    self.filter.deny_group(b"@module")?;
                }
            }
            b"protect-kernel-logs" => {
                if flag()? {
                    self.mount(b"/proc/kmsg", Treatment::Inaccessible, true);
                    self.mount(b"/dev/kmsg", Treatment::Inaccessible, true);
                    self.drop_caps(&[caps::CAP_SYSLOG]);
                    self.filter.deny_call(b"syslog")?;
                }
            }
            b"protect-control-groups" => {
                if flag()? {
                    self.mount(b"/sys/fs/cgroup", Treatment::ReadOnly, true);
                }
            }
            b"syscall-filter" => {
                let (not, list) = negated(val()?);
                self.filter.calls(list, !not)?;
            }
            b"syscall-errno" => self.filter.set_action(val()?)?,
            b"syscall-architectures" => match value {
                Some(b"native") => self.filter.native_only = true,
                _ => return Err(bad()),
            },
            b"memory-deny-write-execute" => self.filter.deny_write_execute |= flag()?,
            b"restrict-realtime" => self.filter.restrict_realtime |= flag()?,
            b"lock-personality" => self.filter.lock_personality |= flag()?,
            b"restrict-namespaces" => {
                let allowed = match value {
                    None | Some(b"yes" | b"true" | b"on" | b"1") => 0,
                    Some(b"no" | b"false" | b"off" | b"0") => return Ok(()),
                    Some(v) => {
                        let (not, list) = negated(v);
                        let m = namespaces::mask(list)?;
                        if not {
                            namespaces::ALL & !m
                        } else {
                            m
                        }
                    }
                };
                self.filter.namespaces = Some(allowed);
            }
            b"restrict-address-families" => {
                let (not, list) = negated(val()?);
                self.filter.families(list, !not)?;
            }
            _ => return Err(complaint(&[b"unknown sandbox option: ", knob])),
        }
        Ok(())
    }

    fn mount(&mut self, path: &'a [u8], treatment: Treatment, optional: bool) {
        self.mounts.push(Rule {
            path,
            treatment,
            optional,
        });
    }

    fn drop_caps(&mut self, caps: &[u32]) {
        let m = caps.iter().fold(0u64, |m, &c| m | 1 << c);
        self.bounding = Some(self.bounding.unwrap_or(caps::ALL) & !m);
    }

    /// Whether a mount namespace is needed.
    pub fn needs_mount_namespace(&self) -> bool {
        !self.mounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(knobs: &[&'static str]) -> Result<Sandbox<'static>, String> {
        let k: Vec<&[u8]> = knobs.iter().map(|s| s.as_bytes()).collect();
        Sandbox::parse(&k).map_err(|m| String::from_utf8(m).unwrap())
    }

    #[test]
    fn flags_and_booleans() {
        let s = parse(&["no-new-privs", "private-network=yes", "protect-hostname=no"]).unwrap();
        assert!(s.no_new_privs && s.private_network && !s.protect_hostname);
        assert_eq!(
            parse(&["no-new-privs=maybe"]).unwrap_err(),
            "bad sandbox option: no-new-privs=maybe"
        );
        assert_eq!(
            parse(&["no-such"]).unwrap_err(),
            "unknown sandbox option: no-such"
        );
        assert_eq!(parse(&["umask=027"]).unwrap().umask, Some(0o27));
        assert!(parse(&["umask=8"]).is_err());
    }

    #[test]
    fn capabilities() {
        let s = parse(&["caps=CAP_NET_BIND_SERVICE,cap_chown"]).unwrap();
        assert_eq!(s.bounding, Some(1 << 10 | 1 << 0));
        let s = parse(&["caps=~CAP_SYS_ADMIN"]).unwrap();
        assert_eq!(s.bounding, Some(caps::ALL & !(1 << 21)));
        assert_eq!(parse(&["caps="]).unwrap().bounding, Some(0));
        assert_eq!(
            parse(&["caps=CAP_FLY"]).unwrap_err(),
            "unknown capability: CAP_FLY"
        );
        let s = parse(&["ambient-caps=CAP_NET_BIND_SERVICE"]).unwrap();
        assert_eq!(s.ambient, Some(1 << 10));
        let s = parse(&["private-devices"]).unwrap();
        assert_eq!(
            s.bounding,
            Some(caps::ALL & !(1 << caps::CAP_MKNOD | 1 << caps::CAP_SYS_RAWIO))
        );
    }

    #[test]
    fn mount_rules() {
        let s = parse(&[
            "protect-system=strict",
            "read-write=/var/lib/x -/nope",
            "private-tmp",
        ])
        .unwrap();
        let paths: Vec<(&[u8], bool)> = s.mounts.iter().map(|r| (r.path, r.optional)).collect();
        assert_eq!(
            paths,
            [
                (&b"/"[..], false),
                (b"/var/lib/x", false),
                (b"/nope", true),
                (b"/tmp", false),
                (b"/var/tmp", true)
            ]
        );
        assert_eq!(
            parse(&["read-only=etc"]).unwrap_err(),
            "path not absolute: etc"
        );
        assert!(parse(&["protect-home=maybe"]).is_err());
        assert!(parse(&["protect-system=no"]).unwrap().mounts.is_empty());
    }
}
