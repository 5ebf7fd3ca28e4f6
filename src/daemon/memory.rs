//! Handing memory the allocator keeps back to the system.

/// Returns the heap pages start-up freed (config parsing, migrations, building the HTTP
/// router) to the system: glibc keeps freed memory for reuse, so without this an idle daemon
/// stays as large as its start-up was.
pub fn release_freed() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only releases free memory; it touches no allocation in use.
    unsafe {
        libc::malloc_trim(0);
    }
}
