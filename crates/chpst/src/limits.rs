//! Resource limits: which ones chpst and softlimit set, the value each
//! gets, and setting them. A soft limit above the hard limit (or the
//! value `=`/2^64-1) becomes the hard limit; the hard limit is never
//! changed.

use runit_core::sys::procstate::{self as ps, Resource};
use runit_core::Errno;

/// The requested limits; `None` leaves a limit as it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    pub data: Option<i64>,
    pub stack: Option<i64>,
    pub memlock: Option<i64>,
    pub address_space: Option<i64>,
    pub nofile: Option<i64>,
    pub nproc: Option<i64>,
    pub fsize: Option<i64>,
    pub core: Option<i64>,
    pub rss: Option<i64>,
    pub cpu: Option<i64>,
}

/// A parsed value as stored: below -1 means "not set" (runit keeps -2
/// as its "unset" mark, so such huge numbers fall back to it).
pub fn stored(v: i64) -> Option<i64> {
    (v >= -1).then_some(v)
}

impl Limits {
    /// `-m`: data, stack, locked memory and address space at once.
    pub fn set_memory(&mut self, v: i64) {
        let v = stored(v);
        self.data = v;
        self.stack = v;
        self.memlock = v;
        self.address_space = v;
    }

    /// The limits in the order they are applied.
    pub fn in_order(&self) -> [(Resource, Option<i64>); 10] {
        [
            (ps::RLIMIT_DATA, self.data),
            (ps::RLIMIT_STACK, self.stack),
            (ps::RLIMIT_MEMLOCK, self.memlock),
            (ps::RLIMIT_AS, self.address_space),
            (ps::RLIMIT_NOFILE, self.nofile),
            (ps::RLIMIT_NPROC, self.nproc),
            (ps::RLIMIT_FSIZE, self.fsize),
            (ps::RLIMIT_CORE, self.core),
            (ps::RLIMIT_RSS, self.rss),
            (ps::RLIMIT_CPU, self.cpu),
        ]
    }

    /// Sets every requested soft limit. The error is the message text and
    /// the cause.
    pub fn apply(&self) -> Result<(), (&'static [u8], Errno)> {
        for (res, v) in self.in_order() {
            let Some(v) = v else { continue };
            let (_, hard) = ps::getrlimit(res).map_err(|e| (&b"unable to getrlimit()"[..], e))?;
            ps::setrlimit(res, new_soft(v, hard), hard)
                .map_err(|e| (&b"unable to setrlimit()"[..], e))?;
        }
        Ok(())
    }
}

/// The soft limit a stored value gives under `hard`.
pub fn new_soft(v: i64, hard: u64) -> u64 {
    if v < 0 || v as u64 > hard {
        hard
    } else {
        v as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_values() {
        assert_eq!(new_soft(100, 20000), 100);
        assert_eq!(new_soft(30000, 20000), 20000);
        assert_eq!(new_soft(-1, 20000), 20000);
        assert_eq!(new_soft(-1, ps::RLIM_INFINITY), ps::RLIM_INFINITY);
        assert_eq!(new_soft(0, ps::RLIM_INFINITY), 0);
    }

    #[test]
    fn memory_and_override_order() {
        let mut l = Limits::default();
        l.set_memory(100);
        l.data = stored(200);
        assert_eq!(
            (l.data, l.stack, l.memlock, l.address_space),
            (Some(200), Some(100), Some(100), Some(100))
        );
        l.set_memory(5);
        assert_eq!(l.data, Some(5));
        // Values of 2^63 and more (seen as below -1) unset the limit.
        l.core = stored(-2);
        assert_eq!(l.core, None);
        l.core = stored(i64::MIN);
        assert_eq!(l.core, None);
        assert_eq!(l.in_order()[0], (ps::RLIMIT_DATA, Some(5)));
        assert_eq!(l.in_order()[9], (ps::RLIMIT_CPU, None));
    }
}
