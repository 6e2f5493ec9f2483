//! Keeping the process's memory flat when large inventory snapshots come and go.
//!
//! Every cache refresh builds a new snapshot (tens to hundreds of MB for a large scope)
//! and drops the old one. With glibc's default of up to eight arenas per core, freed
//! memory stays spread over many arenas and is rarely given back, so the resident size
//! climbs with each refresh although nothing leaks. Two arenas and a periodic
//! `malloc_trim` return it. Other platforms and allocators are left as they are.

use std::time::Duration;

/// How often free memory is handed back to the operating system.
pub const TRIM_EVERY: Duration = Duration::from_secs(15);

/// Limits glibc to two malloc arenas. Call once, early.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator settings; M_ARENA_MAX takes a count.
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
        tracing::debug!(ok, "malloc arenas limited to 2");
    }
}

/// Returns free heap memory to the operating system (a few milliseconds; run it on a
/// blocking thread).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only releases memory the allocator holds free.
        unsafe { libc::malloc_trim(0) };
    }
}
