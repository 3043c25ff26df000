//! Namespaces, entered first (before `-/`): a mount namespace whose
//! mounts no longer propagate back to the host (for the mount knobs), a
//! network namespace with only loopback, up (`PrivateNetwork=`), a UTS
//! namespace (`ProtectHostname=`), and a PID namespace whose init is the
//! service (`private-pid`).
//!
//! A PID namespace takes effect for children only, so chpst forks: the
//! child goes on to become the service, PID 1 of the new namespace; the
//! parent, the process runsv knows, stays behind to pass signals on and
//! to exit as the service exits. The service is killed if that parent
//! dies (SIGKILL from `sv kill`), and with it the whole namespace.

use super::{Complaint, Sandbox};
use runit_core::sys::sandbox as sys;
use runit_core::Errno;

const CLONE_NEWTIME: u64 = 0x80;

/// Every `CLONE_NEW*` flag.
pub const ALL: u64 = (libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWUTS) as u64
    | CLONE_NEWTIME;

/// A list of namespace names as `CLONE_NEW*` flags.
pub fn mask(list: &[u8]) -> Result<u64, Complaint> {
    let mut m = 0;
    for name in super::items(list) {
        // As systemd's `RestrictNamespaces=` spells them.
        m |= match name {
            b"cgroup" => libc::CLONE_NEWCGROUP as u64,
            b"ipc" => libc::CLONE_NEWIPC as u64,
            b"net" => libc::CLONE_NEWNET as u64,
            b"mnt" => libc::CLONE_NEWNS as u64,
            b"pid" => libc::CLONE_NEWPID as u64,
            b"user" => libc::CLONE_NEWUSER as u64,
            b"uts" => libc::CLONE_NEWUTS as u64,
            b"time" => CLONE_NEWTIME,
            _ => return Err(super::complaint(&[b"unknown namespace type: ", name])),
        };
    }
    Ok(m)
}

/// What failed, for `chpst: fatal: ` + `: ` + the error.
pub type Failure = (&'static [u8], Errno);

/// Signals the parent of a PID namespace passes on to the service.
const FORWARDED: [i32; 10] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGCONT,
    libc::SIGWINCH,
    libc::SIGTSTP,
];

const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// Enters the namespaces asked for. With a PID namespace this returns in
/// the child only.
#[inline(never)] // out of the way of chpst's usual path
pub fn enter(sb: &Sandbox) -> Result<(), Failure> {
    let mut flags = 0;
    if sb.needs_mount_namespace() {
        flags |= libc::CLONE_NEWNS;
    }
    if sb.private_network {
        flags |= libc::CLONE_NEWNET;
    }
    if sb.protect_hostname {
        flags |= libc::CLONE_NEWUTS;
    }
    if sb.private_pid {
        flags |= libc::CLONE_NEWPID;
    }
    if flags == 0 {
        return Ok(());
    }
    sys::unshare(flags).map_err(|e| (&b"unable to create namespaces"[..], e))?;
    if flags & libc::CLONE_NEWNS != 0 {
        // Host mounts still appear here; none of ours appear there.
        sys::mount(None, c"/", None, libc::MS_REC | libc::MS_SLAVE, None)
            .map_err(|e| (&b"unable to make mounts private"[..], e))?;
    }
    if sb.private_network {
        sys::loopback_up().map_err(|e| (&b"unable to bring up loopback"[..], e))?;
    }
    if sb.private_pid {
        become_init()?;
    }
    Ok(())
}

/// After `-u`: the kernel forgets the parent-death signal when the
/// credentials change, so the service of a PID namespace asks again to
/// die with chpst.
pub fn after_uid_change(sb: &Sandbox) -> Result<(), Failure> {
    if sb.private_pid {
        sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0)
            .map_err(|e| (&b"unable to set parent-death signal"[..], e))?;
    }
    Ok(())
}

/// Forks; the parent relays signals and the exit, the child returns.
fn become_init() -> Result<(), Failure> {
    let relay = FORWARDED
        .iter()
        .fold(bit(libc::SIGCHLD), |m, &s| m | bit(s));
    let old = sys::set_signal_mask(relay).map_err(|e| (&b"unable to block signals"[..], e))?;
    let child = sys::fork().map_err(|e| (&b"unable to fork"[..], e))?;
    if child == 0 {
        let _ = sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as u64, 0);
        sys::set_signal_mask(old).map_err(|e| (&b"unable to unblock signals"[..], e))?;
        return Ok(());
    }
    loop {
        let sig = sys::wait_signal(relay).unwrap_or(libc::SIGCHLD);
        if sig != libc::SIGCHLD {
            let _ = sys::kill(child, sig);
            continue;
        }
        match sys::reap(child) {
            Ok(Some(status)) => exit_as(status, old),
            Ok(None) => continue,
            Err(_) => runit_core::sys::exit(111),
        }
    }
}

/// Ends this process the way the service ended: its exit code, or the
/// signal that killed it (unblocked and sent to itself).
fn exit_as(status: i32, old_mask: u64) -> ! {
    let (code, sig) = (status >> 8 & 0xff, status & 0x7f);
    if sig == 0 {
        runit_core::sys::exit(code);
    }
    let _ = sys::set_signal_mask(old_mask & !bit(sig));
    let _ = sys::kill(runit_core::sys::sandbox::getpid(), sig);
    runit_core::sys::exit(128 + sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            mask(b"net uts").unwrap(),
            (libc::CLONE_NEWNET | libc::CLONE_NEWUTS) as u64
        );
        assert_eq!(mask(b"").unwrap(), 0);
        assert!(mask(b"time").unwrap() == CLONE_NEWTIME);
        assert!(mask(b"cgroup,ipc,net,mnt,pid,user,uts,time").unwrap() == ALL);
        assert!(mask(b"nets").is_err());
    }
}
