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

/// The process's resident memory now (`VmRSS`), in bytes; `None` where the system does not
/// tell it.
pub fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The process's peak resident memory so far (`VmHWM`), in bytes; `None` where the system does
/// not tell it.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `kB` field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Returns the heap's free pages to the system (glibc's `malloc_trim`) when the process's
/// resident memory is above `budget` bytes; returns whether it did. For a long-lived process
/// with a memory ceiling (a warm Lambda instance): the tuned allocator keeps freed image
/// buffers for the next photo, and over hundreds of photos of mixed sizes the holes between
/// them add up (measured: 979 MB resident after 1,000 photos in one instance). Trimming only
/// above a budget keeps the reuse for the common case and bounds what a run keeps.
pub fn trim_memory_above(budget: u64) -> bool {
    if resident_bytes().is_none_or(|rss| rss <= budget) {
        return false;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free memory to the system; it is thread-safe.
        unsafe { malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Runs `f` with the calling thread allowed on one processor only (the one it is running on, so
/// that threads doing this at once stay spread), then gives it back the processors it had. For decoders that size their thread pools from the
/// caller's processor affinity: dav1d (AVIF, through libheif, which leaves dav1d's thread
/// count at its default) decodes with frame threading on two or more processors, and that
/// keeps a whole frame of coefficients besides the picture: 4 bytes a sample, about 250 MB for
/// a 20 MP 10-bit 4:4:4 photo whose picture is 125 MB (measured: the corpus's 10-bit AVIF
/// peaks at 277 MB instead of 546 MB, no slower). The suite decodes one photo per core anyway
/// (the CLI's workers, a Lambda's share of a core), so one thread costs it no throughput.
/// Where the affinity cannot be read or set, `f` runs as is.
pub(crate) fn on_one_processor<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_os = "linux")]
    {
        /// `cpu_set_t`: 1,024 bits.
        type CpuSet = [u64; 16];
        unsafe extern "C" {
            fn sched_getaffinity(pid: i32, size: usize, mask: *mut CpuSet) -> i32;
            fn sched_setaffinity(pid: i32, size: usize, mask: *const CpuSet) -> i32;
            fn sched_getcpu() -> i32;
        }
        let size = std::mem::size_of::<CpuSet>();
        let mut old: CpuSet = [0; 16];
        // SAFETY: pid 0 is the calling thread; `old` is a writable set of `size` bytes.
        let read = unsafe { sched_getaffinity(0, size, &mut old) } == 0;
        let allowed = |cpu: usize| cpu < 1024 && old[cpu / 64] >> (cpu % 64) & 1 == 1;
        // SAFETY: sched_getcpu takes nothing and only reads where the thread runs.
        let current = usize::try_from(unsafe { sched_getcpu() }).ok();
        let cpu = current
            .filter(|&cpu| allowed(cpu))
            .or_else(|| (0..1024).find(|&c| allowed(c)));
        /// Gives the thread back its processors when dropped, also when `f` unwinds.
        struct Restore(CpuSet);
        impl Drop for Restore {
            fn drop(&mut self) {
                // SAFETY: pid 0 is the calling thread; the set is the one the kernel gave it.
                // Should this fail, the thread stays on one processor: slower, never wrong.
                unsafe { sched_setaffinity(0, std::mem::size_of::<CpuSet>(), &self.0) };
            }
        }
        if let (true, Some(cpu)) = (read, cpu) {
            let mut one: CpuSet = [0; 16];
            one[cpu / 64] = 1 << (cpu % 64);
            // SAFETY: as above; `one` names a processor the thread may already run on.
            if unsafe { sched_setaffinity(0, size, &one) } == 0 {
                let _restore = Restore(old);
                return f();
            }
        }
    }
    f()
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn trimming_releases_freed_memory_above_the_budget() {
        super::tune_allocator_for_images();
        let rss = || super::resident_bytes().expect("Linux tells");
        let before = rss();
        // 33 blocks of 8 MiB; every other one is freed while its neighbours stay, so the heap
        // keeps 16 holes (128 MiB) it cannot give back by shrinking, in whichever arena.
        let mut blocks: Vec<Option<Vec<u8>>> =
            (0..33u8).map(|i| Some(vec![i | 1; 8 << 20])).collect();
        assert!(blocks
            .iter()
            .flatten()
            .all(|b| b.iter().step_by(4096).all(|&v| v != 0)));
        for hole in blocks.iter_mut().step_by(2).take(16) {
            *hole = None;
        }
        let held = rss();
        assert!(
            held > before + (200 << 20),
            "live blocks and freed holes resident: {before} -> {held}"
        );
        assert!(
            !super::trim_memory_above(u64::MAX),
            "under the budget: no trim"
        );
        assert!(super::trim_memory_above(before + (64 << 20)));
        let after = rss();
        assert!(
            after < held - (96 << 20),
            "holes trimmed: {held} -> {after}"
        );
        assert_eq!(blocks.iter().flatten().count(), 17);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_decode_runs_on_one_processor_and_the_thread_gets_its_processors_back() {
        let processors = || std::thread::available_parallelism().map_or(0, usize::from);
        let before = processors();
        let inside = super::on_one_processor(processors);
        assert_eq!(inside, 1, "one processor inside");
        assert_eq!(processors(), before, "the thread's processors back after");
        let unwound = std::panic::catch_unwind(|| super::on_one_processor(|| panic!("decoder")));
        assert!(unwound.is_err());
        assert_eq!(processors(), before, "and after a panic inside");
    }

    #[test]
    fn glibc_accepts_the_settings() {
        assert_eq!(
            super::tune_allocator_for_images(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }
}
