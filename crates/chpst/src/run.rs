//! Carrying out a [`Plan`] in runit's order: new session, envdir, chroot,
//! working directory, nice, `$UID`/`$GID`, credentials, lock, closing
//! descriptors, limits, exec. Any failure ends chpst with exit 111 before
//! the program runs, so the program never starts in a half-changed state;
//! credentials are dropped groups first, then gid, then uid, and read
//! back before going on.
//!
//! The sandbox (`-S`) fits around those steps in a fixed order:
//! namespaces before the chroot, mounts after it, the bounding set before
//! the uid change and ambient capabilities and no_new_privs after it, the
//! umask and the seccomp filter last before exec.

use crate::account::{self, Accounts, Ids};
use crate::cli::{Account, Lock, Plan};
use crate::environment::{self, Edits};
use crate::sandbox::{caps, mounts, namespaces, seccomp, Sandbox};
use crate::{envdir, pathexec};
use alloc::vec::Vec;
use runit_core::decimal;
use runit_core::sys::{self, procstate as ps};
use runit_core::Errno;

/// Writes `chpst: KIND` + parts + newline to stderr in one write.
fn say(kind: &[u8], parts: &[&[u8]]) {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(b"chpst: ");
    m.extend_from_slice(kind);
    for p in parts {
        m.extend_from_slice(p);
    }
    m.push(b'\n');
    sys::write_all(2, &m);
}

/// `chpst: fatal: ...`, exit 111.
fn fatal(parts: &[&[u8]]) -> ! {
    say(b"fatal: ", parts);
    sys::exit(111)
}

fn errstr(e: Errno) -> &'static [u8] {
    e.text().as_bytes()
}

/// chdir(2) to a path from the command line.
fn chdir(dir: &[u8]) -> Result<(), Errno> {
    sys::chdir(&sys::c_string(dir)?)
}

/// Runs the plan; returns only if it could not (the exit code).
pub fn execute(plan: &Plan, db: &dyn Accounts) -> i32 {
    let sandbox = (!plan.sandbox.is_empty())
        .then(|| Sandbox::parse(&plan.sandbox).unwrap_or_else(|m| fatal(&[&m])));
    let sandbox = sandbox.as_ref();
    if plan.setsid {
        // Already a group leader: runit goes on regardless.
        let _ = ps::setsid();
    }
    let mut edits = Edits::default();
    if let Some(dir) = plan.env_dir {
        let mut warn = |m: &[u8]| say(b"warning: ", &[m]);
        if let Err(m) = envdir::read(
            dir,
            plan.env_dir_skips_dirs,
            plan.verbose,
            &mut edits,
            &mut warn,
        ) {
            fatal(&[&m]);
        }
    }
    // Accounts are looked up in the real root, before -/ (and before a
    // sandbox's namespaces): the new root's /etc/passwd may be anyone's
    // and could map a name to uid 0. A failed lookup is still reported
    // where runit reports it.
    let env_ids = plan.env_user.as_ref().map(|a| (a, resolve(a, db)));
    let set_ids = plan.set_user.as_ref().map(|a| (a, resolve(a, db)));
    if let Some(sb) = sandbox {
        namespaces::enter(sb).unwrap_or_else(|(m, e)| fatal(&[m, b": ", errstr(e)]));
    }
    if let Some(root) = plan.root {
        if let Err(e) = chdir(root) {
            fatal(&[b"unable to change directory: ", root, b": ", errstr(e)]);
        }
        if let Err(e) = ps::chroot(b".") {
            fatal(&[b"unable to change root directory: ", errstr(e)]);
        }
    }
    if let Some(sb) = sandbox {
        if let Err(f) = mounts::apply(sb) {
            fatal(&[b"unable to ", f.what, b": ", f.path, b": ", errstr(f.errno)]);
        }
    }
    if let Some(dir) = plan.chdir {
        if let Err(e) = chdir(dir) {
            fatal(&[b"unable to change directory: ", dir, b": ", errstr(e)]);
        }
    }
    if plan.nice != 0 {
        if let Err(e) = ps::nice(crate::number::nice_increment(plan.nice)) {
            fatal(&[b"unable to set nice level: ", errstr(e)]);
        }
    }
    if let Some((a, ids)) = env_ids {
        let ids = resolved(a, ids);
        let mut digits = [0u8; decimal::MAX_LEN];
        edits.set(
            b"GID",
            decimal::unsigned(ids.gid().into(), &mut digits).as_bytes(),
        );
        edits.set(
            b"UID",
            decimal::unsigned(ids.uid.into(), &mut digits).as_bytes(),
        );
    }
    if let Some(sb) = sandbox {
        caps::before_uid_change(sb, plan.set_user.is_some())
            .unwrap_or_else(|(m, e)| fatal(&[m, b": ", errstr(e)]));
    }
    if let Some((a, ids)) = set_ids {
        drop_privileges(&resolved(a, ids));
    }
    if let Some(sb) = sandbox {
        namespaces::after_uid_change(sb).unwrap_or_else(|(m, e)| fatal(&[m, b": ", errstr(e)]));
        caps::after_uid_change(sb).unwrap_or_else(|(m, e)| fatal(&[m, b": ", errstr(e)]));
    }
    if let Some(lock) = &plan.lock {
        take_lock(lock);
    }
    for (fd, name) in [(0, &b"stdin"[..]), (1, b"stdout"), (2, b"stderr")] {
        if plan.close[fd as usize] {
            if let Err(e) = sys::close(fd) {
                fatal(&[b"unable to close ", name, b": ", errstr(e)]);
            }
        }
    }
    if let Err((m, e)) = plan.limits.apply() {
        fatal(&[m, b": ", errstr(e)]);
    }
    if let Some(sb) = sandbox {
        if let Some(mask) = sb.umask {
            runit_core::sys::sandbox::umask(mask);
        }
        if sb.filter.is_active() {
            if let Err(e) = seccomp::install(&sb.filter) {
                fatal(&[b"unable to install seccomp filter: ", errstr(e)]);
            }
        }
    }
    exec(plan, &edits)
}

fn resolve(a: &Account, db: &dyn Accounts) -> Result<Ids, account::Failure> {
    if a.ext {
        account::resolve_ext(a.spec, db)
    } else {
        account::resolve_plain(a.spec, db)
    }
}

/// The ids, or runit's fatal message for the failed lookup.
fn resolved(a: &Account, r: Result<Ids, account::Failure>) -> Ids {
    r.unwrap_or_else(|f| fatal(&[&account::failure_message(a.spec, a.ext, &f)]))
}

/// Groups, then gid, then uid; then checks that all of it took.
fn drop_privileges(ids: &Ids) {
    if let Err(e) = ps::setgroups(&ids.gids) {
        fatal(&[b"unable to setgroups: ", errstr(e)]);
    }
    if let Err(e) = ps::setgid(ids.gid()) {
        fatal(&[b"unable to setgid: ", errstr(e)]);
    }
    if let Err(e) = ps::setuid(ids.uid) {
        fatal(&[b"unable to setuid: ", errstr(e)]);
    }
    let denied = errstr(Errno(libc::EPERM));
    let mut room = [0u32; 2 * account::MAX_GIDS];
    match ps::getgroups(&mut room) {
        Ok(have) if same_groups(have, &ids.gids) => {}
        Ok(_) => fatal(&[b"unable to setgroups: ", denied]),
        Err(e) => fatal(&[b"unable to setgroups: ", errstr(e)]),
    }
    let (uids, gids) = ps::getres_ids();
    if gids != [ids.gid(); 3] {
        fatal(&[b"unable to setgid: ", denied]);
    }
    if uids != [ids.uid; 3] {
        fatal(&[b"unable to setuid: ", denied]);
    }
}

/// Whether the kernel's supplementary groups are the ones set, in any
/// order (it keeps them sorted), each as often.
fn same_groups(have: &[u32], set: &[u32]) -> bool {
    let count = |list: &[u32], g: u32| list.iter().filter(|&&x| x == g).count();
    have.len() == set.len() && set.iter().all(|&g| count(have, g) == count(set, g))
}

/// Opens (creating, mode 0600) and locks the file; the descriptor stays
/// open across exec so the program holds the lock.
fn take_lock(lock: &Lock) {
    let fail = |what: &[u8], e: Errno| -> ! {
        if lock.quiet {
            sys::exit(0);
        }
        fatal(&[what, b": ", lock.path, b": ", errstr(e)])
    };
    let flags = libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_NONBLOCK;
    let fd = sys::c_string(lock.path)
        .and_then(|p| sys::open(&p, flags, 0o600))
        .unwrap_or_else(|e| fail(b"unable to open lock", e))
        .into_raw();
    let locked = if lock.wait {
        sys::lock_exclusive_wait(fd)
    } else {
        sys::lock_exclusive_nowait(fd)
    };
    if let Err(e) = locked {
        fail(b"unable to lock", e);
    }
}

fn exec(plan: &Plan, edits: &Edits) -> i32 {
    let mut env = ps::environ();
    let path = environment::get(&env, b"PATH");
    edits.apply(&mut env);
    let mut argv = plan.prog.to_vec();
    if let Some(a0) = plan.argv0 {
        argv[0] = a0;
    }
    let e = pathexec::run(plan.prog[0], &argv, &env, path);
    if plan.quiet_exec_failure {
        return 0;
    }
    fatal(&[b"unable to run: ", argv[0], b": ", errstr(e)])
}

#[cfg(test)]
mod tests {
    use super::same_groups;

    #[test]
    fn groups_compare_as_multisets() {
        assert!(same_groups(&[1, 2, 3], &[3, 1, 2]));
        assert!(same_groups(&[2, 2, 5], &[2, 5, 2]));
        assert!(same_groups(&[], &[]));
        assert!(!same_groups(&[2, 5, 5], &[2, 2, 5]));
        assert!(!same_groups(&[1, 2], &[1, 2, 3]));
        assert!(!same_groups(&[0], &[65534]));
    }
}
