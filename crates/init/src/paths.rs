//! The fixed files runit and runit-init agree on, and the small checks
//! made on them: "exists with the execute-by-owner bit", as runit tests.
//!
//! Upstream runit uses `/etc/runit/stopit` and `/etc/runit/reboot`;
//! Debian's package moved them to `/run/runit.stopit` and
//! `/run/runit.reboot` (written by its halt/reboot and boot scripts). Both
//! pairs are honoured: either stopit file arms SIGCONT, either reboot file
//! turns the final halt into a reboot.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub const STAGE1: &str = "/etc/runit/1";
pub const STAGE2: &str = "/etc/runit/2";
pub const STAGE3: &str = "/etc/runit/3";
pub const CTRLALTDEL: &str = "/etc/runit/ctrlaltdel";
pub const NOSYNC: &str = "/etc/runit/nosync";
pub const CONSOLE: &str = "/dev/console";
/// Where runit-init finds runit when it runs as PID 1.
pub const RUNIT: &str = "/sbin/runit";

/// Debian's stopit file (the one runit-init writes).
pub const RUN_STOPIT: &str = "/run/runit.stopit";
/// Debian's reboot file (the one runit-init writes).
pub const RUN_REBOOT: &str = "/run/runit.reboot";
/// Upstream runit's stopit file.
pub const ETC_STOPIT: &str = "/etc/runit/stopit";
/// Upstream runit's reboot file.
pub const ETC_REBOOT: &str = "/etc/runit/reboot";

pub const STOPIT_FILES: [&str; 2] = [RUN_STOPIT, ETC_STOPIT];
pub const REBOOT_FILES: [&str; 2] = [RUN_REBOOT, ETC_REBOOT];

/// Whether `path` exists and has the execute-by-owner bit (the file's
/// content does not matter, and neither does a `noexec` mount).
pub fn owner_exec(path: &str) -> bool {
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o100 != 0)
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
            let _ = fs::set_permissions(p, fs::Permissions::from_mode(0o000));
        }
    }
}

/// Whether a file exists at all (`/etc/runit/nosync`).
pub fn exists(path: &str) -> bool {
    Path::new(path).symlink_metadata().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_bit_is_what_counts() {
        let d = std::env::temp_dir().join(format!("init-paths-{}", std::process::id()));
        let _ = fs::create_dir_all(&d);
        let f = d.join("stopit");
        fs::write(&f, b"").unwrap();
        let s = f.to_str().unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!owner_exec(s));
        fs::set_permissions(&f, fs::Permissions::from_mode(0o100)).unwrap();
        assert!(owner_exec(s));
        assert!(!owner_exec("/nonexistent/stopit"));
        let _ = fs::remove_dir_all(&d);
    }
}
