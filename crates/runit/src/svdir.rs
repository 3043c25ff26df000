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

/// Whether `p` names an executable regular file (following symlinks).
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
