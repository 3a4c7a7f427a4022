//! Benchmarks of photo-suite: criterion benches (`cargo bench -p photo-suite-benches`) and the
//! `rendition-runner` used by the side-by-side comparison with peers (`compare/compare.py`).

/// CPU time this process has used so far (user + system).
pub fn process_cpu_time() -> std::time::Duration {
    let mut usage = std::mem::MaybeUninit::<libc_rusage::Rusage>::zeroed();
    // SAFETY: getrusage writes a complete `struct rusage` into the pointer it is given.
    let usage = unsafe {
        libc_rusage::getrusage(libc_rusage::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let micros = |t: libc_rusage::Timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    std::time::Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// The few parts of `<sys/resource.h>` the runner needs, declared here to spare a dependency.
mod libc_rusage {
    #[repr(C)]
    #[derive(Clone, Copy)]
    pub struct Timeval {
        pub tv_sec: i64,
        pub tv_usec: i64,
    }

    #[repr(C)]
    pub struct Rusage {
        pub ru_utime: Timeval,
        pub ru_stime: Timeval,
        _rest: [i64; 14],
    }

    pub const RUSAGE_SELF: i32 = 0;

    unsafe extern "C" {
        pub fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
}
