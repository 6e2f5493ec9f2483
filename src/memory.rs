//! Keeping the process's memory flat when large inventory snapshots come and go.
//!
//! Every cache refresh builds a new snapshot (tens to hundreds of MB for a large scope)
//! and drops the old one. With glibc's default of up to eight arenas per core, freed
//! memory stays spread over many arenas and is rarely given back, so the resident size
//! climbs with each refresh although nothing leaks. Two arenas and a periodic
//! `malloc_trim` return it. A fixed mmap threshold keeps large blocks (a snapshot's
//! columns, an export's buffers) in their own mappings, returned the moment they are
//! freed: glibc otherwise raises the threshold each time such a block is freed, until large
//! blocks come from the heap and fragment it. Other platforms and allocators are left as
//! they are.

use std::time::Duration;

/// How often free memory is handed back to the operating system. Often: between two trims
/// the memory freed by requests and re-reads stays with the process; with a trim every
/// 15 s a soak's 10-second samples swung up to +78% over its level, every 2 s they kept
/// within about +8% (docs/benchmarks.md). A trim takes a few milliseconds on a blocking
/// thread.
pub const TRIM_EVERY: Duration = Duration::from_secs(2);

/// Blocks this large or larger get a mapping of their own.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 256 * 1024;
/// Free memory at the top of the heap beyond this is given back at once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: i32 = 1024 * 1024;

/// Limits glibc to two malloc arenas and fixes its thresholds. Call once, early.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator settings; M_ARENA_MAX takes a count,
        // the thresholds take bytes.
        let ok = unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        };
        tracing::debug!(ok, "malloc: 2 arenas, fixed mmap and trim thresholds");
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
