//! A service directory's layout: which names runsv and sv use, and where.
//!
//! ```text
//! service/run  finish  down  check  control/X  log/
//! service/supervise/{control,ok,lock,status,stat,pid}
//! ```
//! `supervise` may be a symlink into a writable place (read-only root);
//! runsv then creates the directory it points to.

use std::path::{Path, PathBuf};

pub const SUPERVISE: &str = "supervise";
pub const CONTROL_FIFO: &str = "supervise/control";
pub const OK_FIFO: &str = "supervise/ok";
pub const LOCK: &str = "supervise/lock";
pub const STATUS: &str = "supervise/status";
pub const STAT: &str = "supervise/stat";
pub const PID: &str = "supervise/pid";
pub const RUN: &str = "run";
pub const FINISH: &str = "finish";
pub const DOWN: &str = "down";
pub const CHECK: &str = "check";
pub const LOG: &str = "log";
pub const CUSTOM_CONTROL: &str = "control";
/// Beyond runit (docs/runsv.md): readiness, kill-tree and their records.
pub const NOTIFICATION_FD: &str = "notification-fd";
pub const NOTIFY_SOCKET: &str = "notify-socket";
pub const KILL_TREE: &str = "kill-tree";
pub const READY: &str = "supervise/ready";
pub const NOTIFY_TEXT: &str = "supervise/notify";
pub const CGROUP: &str = "supervise/cgroup";
pub const HISTORY: &str = "supervise/history";

/// Paths of one service directory (or of its `log/`).
#[derive(Clone, Debug)]
pub struct ServiceDir {
    pub root: PathBuf,
}

impl ServiceDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServiceDir { root: root.into() }
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
    pub fn supervise(&self) -> PathBuf {
        self.path(SUPERVISE)
    }
    pub fn control(&self) -> PathBuf {
        self.path(CONTROL_FIFO)
    }
    pub fn ok(&self) -> PathBuf {
        self.path(OK_FIFO)
    }
    pub fn status(&self) -> PathBuf {
        self.path(STATUS)
    }
    pub fn log(&self) -> ServiceDir {
        ServiceDir::new(self.path(LOG))
    }
    /// The `down` file marks a service that is not started automatically.
    pub fn normally_down(&self) -> bool {
        self.path(DOWN).exists()
    }
    pub fn has_log(&self) -> bool {
        self.path(LOG).is_dir()
    }
    /// `control/<c>` for a custom control script.
    pub fn custom_control(&self, c: u8) -> PathBuf {
        self.root
            .join(CUSTOM_CONTROL)
            .join(std::str::from_utf8(&[c]).unwrap_or("?"))
    }
}

/// Whether a service directory declares readiness: a `notification-fd`
/// runsv can use (a decimal descriptor from 3 to 1023) or a
/// `notify-socket`.
pub fn declares_readiness(dir: &Path) -> bool {
    let fd = crate::secure::read_bounded_string(&dir.join(NOTIFICATION_FD), 4096)
        .ok()
        .and_then(|t| {
            let t = t.trim();
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u32>().ok())
                .flatten()
        });
    fd.is_some_and(|n| (3..=1023).contains(&n)) || dir.join(NOTIFY_SOCKET).exists()
}

/// Whether `p` names an executable regular file (following symlinks).
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
