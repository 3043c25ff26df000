//! Giving freed heap memory back to the kernel, for long-lived supervisors
//! after a burst of temporary allocations (e.g. a scan of 10,000 names).

/// malloc_trim(3): returns the heap's free pages to the system.
pub fn trim_heap() {
    // SAFETY: malloc_trim takes no pointers and only walks glibc's own
    // allocator state, which it locks.
    unsafe { libc::malloc_trim(0) };
}
