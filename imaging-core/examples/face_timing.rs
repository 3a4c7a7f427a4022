//! Times `detect_faces` on the photo corpus, per photo, on the rendition the detector wants.
//!
//! `cargo run --release -p imaging-core --example face_timing [folder ...]` (default: faces);
//! photos are found like the tests find them (`PHOTO_SUITE_PHOTOS`). Single-threaded; each
//! time is the best of five runs, after a warm-up that loads the model. Besides that elapsed
//! time it prints the mean CPU time of the thread over the five runs (Linux:
//! `/proc/thread-self/schedstat`, updated at scheduler ticks, so a few ms either way for one
//! run), which other processes on a loaded machine do not inflate.

use imaging_core::analysis::faces::{detect_faces, FACE_DETECTION_SIDE};
use imaging_core::{decode, render_renditions, Limits, RenditionOptions};

#[path = "../tests/common/mod.rs"]
mod common;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut folders: Vec<String> = std::env::args().skip(1).collect();
    if folders.is_empty() {
        folders.push("faces".into());
    }
    let options = RenditionOptions {
        sizes: vec![FACE_DETECTION_SIDE],
        ..RenditionOptions::default()
    };
    for folder in folders {
        for path in common::photo_paths(&folder) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let set = render_renditions(&std::fs::read(&path)?, &options)?;
            let Some(rendition) = set.renditions.first() else {
                continue;
            };
            let image = decode(&rendition.jpeg, &Limits::default(), None)?.image;
            let faces = detect_faces(&image);
            let mut best = Duration::MAX;
            let cpu_start = thread_cpu_time();
            for _ in 0..5 {
                let start = Instant::now();
                std::hint::black_box(detect_faces(std::hint::black_box(&image)));
                best = best.min(start.elapsed());
            }
            let cpu = match (cpu_start, thread_cpu_time()) {
                (Some(a), Some(b)) => {
                    format!(
                        ", CPU {:.1} ms",
                        b.saturating_sub(a).as_secs_f64() * 1000.0 / 5.0
                    )
                }
                _ => String::new(),
            };
            println!(
                "{folder}/{name}: {}x{}, {} faces, {:.1} ms{cpu}",
                image.width,
                image.height,
                faces.len(),
                best.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}

/// Time this thread has spent on a CPU, where the system tells it (Linux).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}
