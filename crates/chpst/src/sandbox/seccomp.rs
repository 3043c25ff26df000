//! The seccomp filter, written as classic BPF here rather than through
//! libseccomp: chpst links no library but the C library (each one more
//! to load at every start), and the program it needs is short. It is
//! built from the knobs (`SystemCallFilter=` with systemd's groups,
//! `MemoryDenyWriteExecute=`, `RestrictRealtime=`, `LockPersonality=`,
//! `RestrictNamespaces=`, `RestrictAddressFamilies=`) and installed last
//! before exec.
//!
//! Layout of the program: calls of any ABI but x86_64's (i386 through
//! `int 0x80`, x32) kill the process, since the numbers below are
//! x86_64's; then the argument checks, each guarded by its call's number;
//! then the call list as ranges of numbers; then the default.

use super::syscalls::{CALLS, GROUPS};
use super::{complaint, items, Complaint};
use alloc::vec::Vec;
use runit_core::sys::sandbox::BpfInsn;

/// Call numbers as a bit set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallSet([u64; 8]);

impl CallSet {
    fn add(&mut self, nr: u16) {
        self.0[usize::from(nr / 64)] |= 1 << (nr % 64);
    }
    fn remove(&mut self, nr: u16) {
        self.0[usize::from(nr / 64)] &= !(1 << (nr % 64));
    }
    pub fn contains(&self, nr: u16) -> bool {
        nr < 512 && self.0[usize::from(nr / 64)] & 1 << (nr % 64) != 0
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
    /// The set as ranges `lo..=hi` of consecutive numbers.
    fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for nr in (0..512).filter(|&n| self.contains(n)) {
            match out.last_mut() {
                Some((_, hi)) if *hi + 1 == nr => *hi = nr,
                _ => out.push((nr, nr)),
            }
        }
        out
    }
}

/// The number of a call by its name.
pub fn number(name: &[u8]) -> Option<u16> {
    CALLS.lines().find_map(|l| {
        let (n, nr) = l.split_once(' ')?;
        (n.as_bytes() == name).then(|| nr.parse().ok())?
    })
}

/// The members of a `@group`.
fn members(group: &[u8]) -> Option<core::str::SplitAsciiWhitespace<'static>> {
    GROUPS.lines().find_map(|l| {
        let mut words = l.split_ascii_whitespace();
        (words.next()?.as_bytes() == group).then_some(words)
    })
}

/// Adds (or removes) a call or `@group` (recursively) to `set`.
fn resolve(set: &mut CallSet, item: &[u8], add: bool) -> Result<(), Complaint> {
    let put = |set: &mut CallSet, nr: u16| {
        if add {
            set.add(nr)
        } else {
            set.remove(nr)
        }
    };
    if item.starts_with(b"@") {
        let members =
            members(item).ok_or_else(|| complaint(&[b"unknown system call group: ", item]))?;
        for m in members {
            match m.parse() {
                Ok(nr) => put(set, nr),
                Err(_) => resolve(set, m.as_bytes(), add)?,
            }
        }
        return Ok(());
    }
    let nr = number(item).ok_or_else(|| complaint(&[b"unknown system call: ", item]))?;
    put(set, nr);
    Ok(())
}

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// All `CLONE_NEW*` flags.
const CLONE_NEW_ALL: u32 = super::namespaces::ALL as u32;
/// clone(2) keeps its exit signal in the low byte, where unshare(2) has
/// CLONE_NEWTIME: clone cannot make a time namespace.
const CLONE_NEWTIME: u32 = 0x80;

/// What the filter does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// `SystemCallFilter=`: `(allow_list, calls)`.
    pub calls: Option<(bool, CallSet)>,
    /// The answer to a call the list refuses; kill the process if none.
    pub action: Option<u32>,
    /// Calls other knobs take away (with EPERM), whatever the list says.
    pub denied: CallSet,
    pub native_only: bool,
    pub deny_write_execute: bool,
    pub restrict_realtime: bool,
    pub lock_personality: bool,
    /// `CLONE_NEW*` flags that stay allowed.
    pub namespaces: Option<u64>,
    /// `RestrictAddressFamilies=`: `(allow_list, families as a mask)`.
    pub families: Option<(bool, u64)>,
}

impl Filter {
    /// A `syscall-filter` list. As systemd's lines: the first list sets
    /// the kind (an allow-list starts from `@default`), a later list of
    /// the same kind adds, one of the other kind takes away.
    pub fn calls(&mut self, list: &[u8], allow: bool) -> Result<(), Complaint> {
        let (kind, set) = self.calls.get_or_insert_with(|| {
            let mut set = CallSet::default();
            if allow {
                let _ = resolve(&mut set, b"@default", true);
            }
            (allow, set)
        });
        for item in items(list) {
            resolve(set, item, *kind == allow)?;
        }
        Ok(())
    }

    pub fn deny_group(&mut self, group: &[u8]) -> Result<(), Complaint> {
        resolve(&mut self.denied, group, true)
    }

    pub fn deny_call(&mut self, call: &[u8]) -> Result<(), Complaint> {
        resolve(&mut self.denied, call, true)
    }

    /// `syscall-errno`: an errno name or number, or `kill`.
    pub fn set_action(&mut self, v: &[u8]) -> Result<(), Complaint> {
        self.action = match v {
            b"kill" => None,
            _ => Some(RET_ERRNO | errno(v).ok_or_else(|| complaint(&[b"unknown errno: ", v]))?),
        };
        Ok(())
    }

    /// `restrict-address-families`: names like `AF_INET` (or `none`).
    pub fn families(&mut self, list: &[u8], allow: bool) -> Result<(), Complaint> {
        let mut m = 0u64;
        for name in items(list) {
            if name == b"none" {
                continue;
            }
            let f = family(name).ok_or_else(|| complaint(&[b"unknown address family: ", name]))?;
            m |= 1 << f;
        }
        self.families = Some(match self.families {
            None => (allow, m),
            Some((kind, have)) if kind == allow => (kind, have | m),
            Some((kind, have)) => (kind, have & !m),
        });
        Ok(())
    }

    /// Whether there is a filter to install.
    pub fn is_active(&self) -> bool {
        self.calls.is_some()
            || !self.denied.is_empty()
            || self.native_only
            || self.deny_write_execute
            || self.restrict_realtime
            || self.lock_personality
            || self.namespaces.is_some()
            || self.families.is_some()
    }

    /// The BPF program.
    pub fn program(&self) -> Vec<BpfInsn> {
        let mut p = Program(Vec::with_capacity(256));
        let eperm = RET_ERRNO | libc::EPERM as u32;
        p.load(ARCH);
        p.jump(JEQ, AUDIT_ARCH_X86_64, 1, 0);
        p.ret(RET_KILL_PROCESS);
        p.load(NR);
        p.jump(JGE, X32_SYSCALL_BIT, 0, 1);
        p.ret(RET_KILL_PROCESS);
        if self.deny_write_execute {
            let (w, x) = (libc::PROT_WRITE as u32, libc::PROT_EXEC as u32);
            p.check(libc::SYS_mmap, 2, |p| {
                p.0.push(stmt(ALU_AND, w | x));
                p.jump(JEQ, w | x, 0, 1);
                p.ret(eperm);
            });
            for call in [libc::SYS_mprotect, libc::SYS_pkey_mprotect] {
                p.check(call, 2, |p| p.refuse_if_any(x, eperm));
            }
            p.check(libc::SYS_shmat, 2, |p| {
                p.refuse_if_any(libc::SHM_EXEC as u32, eperm)
            });
        }
        if self.restrict_realtime {
            p.check(libc::SYS_sched_setscheduler, 1, |p| {
                p.0.push(stmt(ALU_AND, !(libc::SCHED_RESET_ON_FORK as u32)));
                for ok in [libc::SCHED_OTHER, libc::SCHED_BATCH, libc::SCHED_IDLE] {
                    p.jump(JEQ, ok as u32, 0, 0);
                }
                // Each of the three jumps above lands past the refusal.
                let n = p.0.len();
                for (i, insn) in p.0[n - 3..].iter_mut().enumerate() {
                    insn.jt = (3 - i) as u8;
                }
                p.ret(eperm);
            });
            p.check(libc::SYS_sched_setattr, 0, |p| p.ret(eperm));
        }
        if self.lock_personality {
            p.check(libc::SYS_personality, 0, |p| {
                // PER_LINUX, or the query that changes nothing.
                p.jump(JEQ, 0, 2, 0);
                p.jump(JEQ, 0xffff_ffff, 1, 0);
                p.ret(eperm);
            });
        }
        if let Some(allowed) = self.namespaces {
            let denied = CLONE_NEW_ALL & !(allowed as u32);
            if denied != 0 {
                p.check(libc::SYS_unshare, 0, |p| p.refuse_if_any(denied, eperm));
                p.check(libc::SYS_clone, 0, |p| {
                    p.refuse_if_any(denied & !CLONE_NEWTIME, eperm)
                });
                // clone3 passes its flags in memory a filter cannot read:
                // ENOSYS makes the C library fall back to clone.
                p.check(libc::SYS_clone3, 0, |p| {
                    p.ret(RET_ERRNO | libc::ENOSYS as u32)
                });
                p.check(libc::SYS_setns, 1, |p| {
                    // Type 0 means whatever the descriptor is.
                    p.jump(JEQ, 0, 0, 1);
                    p.ret(eperm);
                    p.refuse_if_any(denied, eperm);
                });
            }
        }
        if let Some((allow, fams)) = self.families {
            let listed: Vec<u32> = (0..64).filter(|&f| fams & 1 << f != 0).collect();
            let refuse = RET_ERRNO | libc::EAFNOSUPPORT as u32;
            p.check(libc::SYS_socket, 0, |p| {
                if allow {
                    let n = listed.len();
                    for (i, &f) in listed.iter().enumerate() {
                        p.jump(JEQ, f, (n - i) as u8, 0);
                    }
                    p.ret(refuse);
                } else {
                    for &f in &listed {
                        p.jump(JEQ, f, 0, 1);
                        p.ret(refuse);
                    }
                }
            });
        }
        for (lo, hi) in self.denied.ranges() {
            p.range(lo, hi, eperm);
        }
        let refuse = self.action.unwrap_or(RET_KILL_PROCESS);
        match &self.calls {
            Some((true, set)) => {
                for (lo, hi) in set.ranges() {
                    p.range(lo, hi, RET_ALLOW);
                }
                p.ret(refuse);
            }
            Some((false, set)) => {
                for (lo, hi) in set.ranges() {
                    p.range(lo, hi, refuse);
                }
                p.ret(RET_ALLOW);
            }
            None => p.ret(RET_ALLOW),
        }
        p.0
    }
}

const LD_W_ABS: u16 = 0x20;
const JEQ: u16 = 0x15;
const JGT: u16 = 0x25;
const JGE: u16 = 0x35;
const JSET: u16 = 0x45;
const ALU_AND: u16 = 0x54;
const RET: u16 = 0x06;
/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const fn arg(i: u32) -> u32 {
    16 + 8 * i
}

const fn stmt(code: u16, k: u32) -> BpfInsn {
    BpfInsn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

struct Program(Vec<BpfInsn>);

impl Program {
    fn load(&mut self, off: u32) {
        self.0.push(stmt(LD_W_ABS, off));
    }
    fn jump(&mut self, code: u16, k: u32, jt: u8, jf: u8) {
        self.0.push(BpfInsn { code, jt, jf, k });
    }
    fn ret(&mut self, k: u32) {
        self.0.push(stmt(RET, k));
    }
    /// Refuses when any of `bits` is set in the loaded word.
    fn refuse_if_any(&mut self, bits: u32, answer: u32) {
        self.jump(JSET, bits, 0, 1);
        self.ret(answer);
    }
    /// `lo..=hi` (the call number loaded) answers `answer`.
    fn range(&mut self, lo: u16, hi: u16, answer: u32) {
        if lo == hi {
            self.jump(JEQ, lo.into(), 0, 1);
        } else {
            self.jump(JGE, lo.into(), 0, 2);
            self.jump(JGT, hi.into(), 1, 0);
        }
        self.ret(answer);
    }
    /// For call `nr`: loads the low 32 bits of argument `a` and runs
    /// `body` (which returns or falls through); other calls skip it. The
    /// call number is loaded again after.
    fn check(&mut self, nr: i64, a: u32, body: impl FnOnce(&mut Program)) {
        let guard = self.0.len();
        self.jump(JEQ, nr as u32, 0, 0);
        self.load(arg(a));
        body(self);
        // The longest body, an allow-list of every address family, is
        // well inside a jump's 255.
        self.0[guard].jf = (self.0.len() - guard - 1) as u8;
        self.load(NR);
    }
}

/// Installs the filter (no_new_privs or CAP_SYS_ADMIN is needed).
#[inline(never)] // out of the way of chpst's usual path
pub fn install(f: &Filter) -> Result<(), runit_core::Errno> {
    // The tables are x86_64's: elsewhere, fail closed.
    if cfg!(not(target_arch = "x86_64")) {
        return Err(runit_core::Errno(libc::ENOSYS));
    }
    runit_core::sys::sandbox::seccomp_filter(&f.program())
}

/// Address family names (without `AF_`), each at its number.
const FAMILIES: &str = "UNSPEC UNIX INET AX25 IPX APPLETALK NETROM BRIDGE ATMPVC X25 INET6 \
ROSE DECnet NETBEUI SECURITY KEY NETLINK PACKET ASH ECONET ATMSVC RDS SNA IRDA PPPOX WANPIPE \
LLC IB MPLS CAN TIPC BLUETOOTH IUCV RXRPC ISDN PHONET IEEE802154 CAIF ALG NFC VSOCK KCM \
QIPCRTR SMC XDP MCTP";

/// The number of an address family name (`AF_INET`; `AF_LOCAL` is `AF_UNIX`).
fn family(name: &[u8]) -> Option<u32> {
    let bare = match name.strip_prefix(b"AF_")? {
        b"LOCAL" => &b"UNIX"[..],
        b"UNSPEC" => return None,
        n => n,
    };
    let i = FAMILIES.split(' ').position(|f| f.as_bytes() == bare)?;
    u32::try_from(i).ok()
}

/// Errno names a unit may give to `SystemCallErrorNumber=`, or a number.
fn errno(v: &[u8]) -> Option<u32> {
    let e = match v {
        b"EPERM" => libc::EPERM,
        b"ENOENT" => libc::ENOENT,
        b"EIO" => libc::EIO,
        b"EACCES" => libc::EACCES,
        b"EFAULT" => libc::EFAULT,
        b"EINVAL" => libc::EINVAL,
        b"ENOSYS" => libc::ENOSYS,
        b"EOPNOTSUPP" | b"ENOTSUP" => libc::EOPNOTSUPP,
        b"EAFNOSUPPORT" => libc::EAFNOSUPPORT,
        _ => {
            let n = crate::number::ulong(v)?;
            return (!v.is_empty() && v.len() <= 4 && (1..4096).contains(&n)).then_some(n as u32);
        }
    };
    Some(e as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `prog` over one call, as the kernel would: the answer.
    fn verdict(prog: &[BpfInsn], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let word = |off: u32| match off {
            0 => nr,
            4 => arch,
            o if o >= 16 => {
                let a = args[((o - 16) / 8) as usize];
                if (o - 16) % 8 == 0 {
                    a as u32
                } else {
                    (a >> 32) as u32
                }
            }
            _ => 0,
        };
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => acc = word(i.k),
                ALU_AND => acc &= i.k,
                RET => return i.k,
                JEQ | JGT | JGE | JSET => {
                    let t = match i.code {
                        JEQ => acc == i.k,
                        JGT => acc > i.k,
                        JGE => acc >= i.k,
                        _ => acc & i.k != 0,
                    };
                    pc += usize::from(if t { i.jt } else { i.jf });
                }
                c => panic!("unknown code {c:#x}"),
            }
        }
    }

    fn call(f: &Filter, name: &str, args: [u64; 6]) -> u32 {
        let nr = number(name.as_bytes()).unwrap();
        verdict(&f.program(), AUDIT_ARCH_X86_64, nr.into(), args)
    }

    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;

    #[test]
    fn groups_resolve_like_systemds() {
        let mut s = CallSet::default();
        resolve(&mut s, b"@system-service", true).unwrap();
        for c in [
            "read", "execve", "mmap", "socket", "clone", "setuid", "ioctl",
        ] {
            assert!(s.contains(number(c.as_bytes()).unwrap()), "{c}");
        }
        for c in [
            "mount",
            "reboot",
            "init_module",
            "swapon",
            "ptrace",
            "kexec_load",
        ] {
            assert!(!s.contains(number(c.as_bytes()).unwrap()), "{c}");
        }
        assert_eq!(
            resolve(&mut s, b"@nope", true).unwrap_err(),
            b"unknown system call group: @nope"
        );
        assert_eq!(
            resolve(&mut s, b"frobnicate", true).unwrap_err(),
            b"unknown system call: frobnicate"
        );
    }

    #[test]
    fn allow_list_with_removals() {
        let mut f = Filter::default();
        f.calls(b"@system-service", true).unwrap();
        f.calls(b"@resources", false).unwrap();
        f.set_action(b"EPERM").unwrap();
        assert_eq!(call(&f, "read", [0; 6]), RET_ALLOW);
        assert_eq!(call(&f, "exit_group", [0; 6]), RET_ALLOW);
        assert_eq!(call(&f, "mount", [0; 6]), EPERM);
        assert_eq!(call(&f, "setrlimit", [0; 6]), EPERM);
        let p = f.program();
        assert_eq!(
            verdict(&p, 0x4000_0003, 3, [0; 6]),
            RET_KILL_PROCESS,
            "i386"
        );
        assert_eq!(
            verdict(&p, AUDIT_ARCH_X86_64, 0x4000_0000, [0; 6]),
            RET_KILL_PROCESS,
            "x32"
        );
    }

    #[test]
    fn programs_stay_short() {
        let mut f = Filter::default();
        f.calls(b"@system-service", true).unwrap();
        let n = f.program().len();
        assert!((50..150).contains(&n), "{n} instructions");
        f.calls(b"@privileged @resources", false).unwrap();
        f.deny_write_execute = true;
        f.families(b"AF_UNIX AF_INET AF_INET6", true).unwrap();
        assert!(f.program().len() < 250);
    }

    #[test]
    fn deny_list_kills_by_default() {
        let mut f = Filter::default();
        f.calls(b"@mount @reboot", false).unwrap();
        assert_eq!(call(&f, "mount", [0; 6]), RET_KILL_PROCESS);
        assert_eq!(call(&f, "umount2", [0; 6]), RET_KILL_PROCESS);
        assert_eq!(call(&f, "reboot", [0; 6]), RET_KILL_PROCESS);
        assert_eq!(call(&f, "read", [0; 6]), RET_ALLOW);
        f.calls(b"umount2", true).unwrap();
        assert_eq!(call(&f, "umount2", [0; 6]), RET_ALLOW);
    }

    #[test]
    fn argument_checks() {
        let f = Filter {
            deny_write_execute: true,
            restrict_realtime: true,
            lock_personality: true,
            namespaces: Some(libc::CLONE_NEWUTS as u64),
            ..Filter::default()
        };
        let (rw, rx, rwx) = (3, 5, 7);
        assert_eq!(call(&f, "mmap", [0, 4096, rw, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "mmap", [0, 4096, rx, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "mmap", [0, 4096, rwx, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "mprotect", [0, 4096, 1, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "mprotect", [0, 4096, rx, 0, 0, 0]), EPERM);
        assert_eq!(
            call(&f, "sched_setscheduler", [0, 0, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            call(&f, "sched_setscheduler", [0, 5 | 0x4000_0000, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(call(&f, "sched_setscheduler", [0, 1, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "sched_setscheduler", [0, 2, 0, 0, 0, 0]), EPERM);
        assert_eq!(
            call(&f, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(call(&f, "personality", [0x0040_0000, 0, 0, 0, 0, 0]), EPERM);
        let (net, uts) = (libc::CLONE_NEWNET as u64, libc::CLONE_NEWUTS as u64);
        assert_eq!(call(&f, "unshare", [uts, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "unshare", [net | uts, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "clone", [0x11 | 0x100, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "clone", [net | 0x11, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "setns", [3, 0, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "setns", [3, uts, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "setns", [3, net, 0, 0, 0, 0]), EPERM);
        assert_eq!(call(&f, "clone3", [0; 6]), RET_ERRNO | libc::ENOSYS as u32);
        assert_eq!(call(&f, "read", [0; 6]), RET_ALLOW);
    }

    #[test]
    fn address_families() {
        let mut f = Filter::default();
        f.families(b"AF_UNIX AF_INET", true).unwrap();
        let no = RET_ERRNO | libc::EAFNOSUPPORT as u32;
        assert_eq!(call(&f, "socket", [1, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "socket", [2, 0, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&f, "socket", [10, 0, 0, 0, 0, 0]), no);
        assert_eq!(call(&f, "socket", [16, 0, 0, 0, 0, 0]), no);
        let mut f = Filter::default();
        f.families(b"AF_PACKET", false).unwrap();
        assert_eq!(call(&f, "socket", [17, 0, 0, 0, 0, 0]), no);
        assert_eq!(call(&f, "socket", [2, 0, 0, 0, 0, 0]), RET_ALLOW);
        let mut f = Filter::default();
        f.families(b"none", true).unwrap();
        assert_eq!(call(&f, "socket", [1, 0, 0, 0, 0, 0]), no);
        assert!(Filter::default().families(b"AF_MARS", true).is_err());
    }

    #[test]
    fn errno_names() {
        let mut f = Filter::default();
        f.set_action(b"EACCES").unwrap();
        assert_eq!(f.action, Some(RET_ERRNO | 13));
        f.set_action(b"38").unwrap();
        assert_eq!(f.action, Some(RET_ERRNO | 38));
        f.set_action(b"kill").unwrap();
        assert_eq!(f.action, None);
        assert!(f.set_action(b"EWHAT").is_err());
    }
}
