//! What only an init needs: reboot(2) (halt, power off, reboot, and the
//! Ctrl-Alt-Del switch) and sync(2).

use super::cvt;
use std::io;

/// reboot(2) command: restart the machine.
pub const RB_AUTOBOOT: i32 = libc::RB_AUTOBOOT;
/// reboot(2) command: power the machine off.
pub const RB_POWER_OFF: i32 = libc::RB_POWER_OFF;
/// reboot(2) command: halt the machine.
pub const RB_HALT_SYSTEM: i32 = libc::RB_HALT_SYSTEM;
/// reboot(2) command: Ctrl-Alt-Del sends SIGINT to PID 1 instead of
/// rebooting at once.
pub const RB_DISABLE_CAD: i32 = libc::RB_DISABLE_CAD;

/// reboot(2). Returns only when the kernel refused (or, for the CAD
/// switch, did) it; in a PID namespace a successful restart/halt ends the
/// namespace's init instead.
pub fn reboot(cmd: i32) -> io::Result<()> {
    // SAFETY: reboot takes no pointers.
    cvt(unsafe { libc::reboot(cmd) }).map(drop)
}

/// sync(2): flush every file system.
pub fn sync() {
    // SAFETY: sync takes no arguments and cannot fail.
    unsafe { libc::sync() }
}
