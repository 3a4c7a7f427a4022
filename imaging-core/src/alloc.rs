//! Allocator tuning for a process that decodes large photos one after another.
//!
//! A 24 MP progressive JPEG needs ~72 MB of DCT coefficients plus ~18 MB of pixels for a few
//! hundred milliseconds. glibc serves such blocks with fresh `mmap`s and unmaps them on free,
//! so every photo pays ~150k page faults (kernel zeroing) again: measured here, ~40% of the
//! wall time of the rendition job. Keeping them in the heap lets the next photo reuse the
//! pages; peak RSS is unchanged (see BENCHMARKS.md).
//!
//! All threads share one arena: with glibc's default of an arena per thread (up to 8 a core),
//! each arena kept the freed buffers of the photos its threads had decoded, and a long run's
//! memory grew to several photos' worth (measured: 968 MB over 25 large photos one at a time,
//! 634 MB with one arena; 1.1 GB against 800 MB with two workers). Image work makes few, large
//! allocations, so threads hardly contend for the one arena.

/// Largest block still served from the heap rather than by `mmap` (512 MiB).
const MMAP_THRESHOLD: i32 = 512 << 20;
/// Free memory kept at the top of the heap instead of being returned to the kernel (1 GiB).
const TRIM_THRESHOLD: i32 = 1 << 30;

/// Tunes glibc's `malloc` so large, short-lived image buffers are reused between photos, in
/// one arena shared by all threads.
/// Call once at start-up, before threads are spawned. Returns whether the settings were
/// accepted; it is a no-op on other C libraries.
pub fn tune_allocator_for_images() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        const M_ARENA_MAX: i32 = -8;
        unsafe extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: mallopt only changes allocator parameters; all values are in range.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
                && mallopt(M_ARENA_MAX, 1) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_accepts_the_settings() {
        assert_eq!(
            super::tune_allocator_for_images(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }
}
