//! The fixed files runit and runit-init agree on, and the small checks
//! made on them: "exists with the execute-by-owner bit", as runit tests.
//!
//! Upstream runit uses `/etc/runit/stopit` and `/etc/runit/reboot`;
//! Debian's package moved them to `/run/runit.stopit` and
//! `/run/runit.reboot` (written by its halt/reboot and boot scripts). Both
//! pairs are honoured: either stopit file arms SIGCONT, either reboot file
//! turns the final halt into a reboot.

use core::ffi::CStr;
use runit_core::sys::init as sys;

pub const STAGE1: &CStr = c"/etc/runit/1";
pub const STAGE2: &CStr = c"/etc/runit/2";
pub const STAGE3: &CStr = c"/etc/runit/3";
pub const CTRLALTDEL: &CStr = c"/etc/runit/ctrlaltdel";
pub const NOSYNC: &CStr = c"/etc/runit/nosync";
pub const CONSOLE: &CStr = c"/dev/console";
/// Where runit-init finds runit when it runs as PID 1.
pub const RUNIT: &CStr = c"/sbin/runit";

/// Debian's stopit file (the one runit-init writes).
pub const RUN_STOPIT: &CStr = c"/run/runit.stopit";
/// Debian's reboot file (the one runit-init writes).
pub const RUN_REBOOT: &CStr = c"/run/runit.reboot";
/// Upstream runit's stopit file.
pub const ETC_STOPIT: &CStr = c"/etc/runit/stopit";
/// Upstream runit's reboot file.
pub const ETC_REBOOT: &CStr = c"/etc/runit/reboot";

pub const STOPIT_FILES: [&CStr; 2] = [RUN_STOPIT, ETC_STOPIT];
pub const REBOOT_FILES: [&CStr; 2] = [RUN_REBOOT, ETC_REBOOT];

/// A path as text for a message.
pub fn text(path: &CStr) -> &str {
    path.to_str().unwrap_or("?")
}

/// Whether `path` exists and has the execute-by-owner bit (the file's
/// content does not matter, and neither does a `noexec` mount).
pub fn owner_exec(path: &CStr) -> bool {
    sys::mode(path).is_ok_and(|m| m & 0o100 != 0)
}

/// Whether either stopit file is armed.
pub fn stopit_armed() -> bool {
    STOPIT_FILES.iter().any(|p| owner_exec(p))
}

/// Whether either reboot file asks for a reboot.
pub fn reboot_armed() -> bool {
    REBOOT_FILES.iter().any(|p| owner_exec(p))
}

/// Disarms the stopit files that are armed (chmod 0), as runit does once
/// it has accepted the request.
pub fn disarm_stopit() {
    for p in STOPIT_FILES {
        if owner_exec(p) {
            let _ = sys::chmod(p, 0o000);
        }
    }
}

/// Whether a file exists at all (`/etc/runit/nosync`).
pub fn exists(path: &CStr) -> bool {
    sys::exists(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn exec_bit_is_what_counts() {
        let d = std::env::temp_dir().join(format!("init-paths-{}", std::process::id()));
        let _ = fs::create_dir_all(&d);
        let f = d.join("stopit");
        fs::write(&f, b"").unwrap();
        let s = std::ffi::CString::new(f.to_str().unwrap()).unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!owner_exec(&s));
        fs::set_permissions(&f, fs::Permissions::from_mode(0o100)).unwrap();
        assert!(owner_exec(&s));
        assert!(!owner_exec(c"/nonexistent/stopit"));
        assert!(exists(&s));
        let _ = fs::remove_dir_all(&d);
    }
}
