//! inotify(7), so waiting on a file change costs no polling: runit-core's,
//! shared with runsvdir, and the event mask of libc it does not name.

pub use libc::IN_CLOSE_WRITE;
pub use runit_core::sys::{
    Inotify, InotifyEvent, IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_MOVED_FROM,
    IN_MOVED_TO, IN_MOVE_SELF, IN_ONLYDIR, IN_Q_OVERFLOW,
};
