//! Times `detect_faces` on the photo corpus, per photo, on the rendition the detector wants.
//!
//! `cargo run --release -p imaging-core --example face_timing -- [--rounds N] [folder ...]`
//! (default: every folder of good photos, `test_support::GOOD_FOLDERS`, one round: the per-photo
//! target is about any photo); photos are found like the tests find them
//! (`PHOTO_SUITE_PHOTOS`). Single-threaded, after a warm-up that loads the model. A round times
//! five runs and keeps the best elapsed time and the mean CPU time of the thread (Linux:
//! `/proc/thread-self/schedstat`, updated at scheduler ticks, so a few ms either way for one
//! run), which other processes on a loaded machine do not inflate. With several rounds, each
//! photo's line gives the median and the range over the rounds (a shared machine's noise moves
//! single rounds a lot), and a last line names the slowest photo by that median: the figure to
//! hold against a per-photo target.
//!
//! On x86-64, `PHOTO_SUITE_FACES_NO_AVX2=1` times the cascade's baseline code instead of its
//! AVX2 code: what x86-64 processors without AVX2 run, and the same source as the arm64 build.

use imaging_core::analysis::faces::{detect_faces, FACE_DETECTION_SIDE};
use imaging_core::{decode, render_renditions, Limits, RenditionOptions};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut folders = Vec::new();
    let mut rounds = 1usize;
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            rounds = args
                .next()
                .and_then(|n| n.parse().ok())
                .filter(|&n| n > 0)
                .ok_or("--rounds needs a count of 1 or more")?;
        } else {
            folders.push(arg);
        }
    }
    if folders.is_empty() {
        folders.extend(test_support::GOOD_FOLDERS.map(String::from));
    }
    let options = RenditionOptions {
        sizes: vec![FACE_DETECTION_SIDE],
        ..RenditionOptions::default()
    };
    if std::env::var_os("PHOTO_SUITE_FACES_NO_AVX2").is_some() {
        println!("PHOTO_SUITE_FACES_NO_AVX2 is set: the cascade's baseline code (no AVX2)");
    }
    let mut slowest: Option<(String, f64)> = None;
    for folder in folders {
        for path in test_support::photo_paths(&folder) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let set = render_renditions(&std::fs::read(&path)?, &options)?;
            let Some(rendition) = set.renditions.first() else {
                continue;
            };
            let image = decode(&rendition.jpeg, &Limits::default(), None)?.image;
            let faces = detect_faces(&image);
            let (mut best, mut cpu): (Vec<f64>, Vec<f64>) =
                (0..rounds).map(|_| round(&image)).unzip();
            let best = Figures::of(&mut best);
            let cpu = if cpu.iter().all(|c| c.is_finite()) {
                format!(", CPU {}", Figures::of(&mut cpu))
            } else {
                String::new()
            };
            let photo = format!("{folder}/{name}");
            println!(
                "{photo}: {}x{}, {} faces, {best}{cpu}",
                image.width,
                image.height,
                faces.len()
            );
            if slowest.as_ref().is_none_or(|(_, ms)| best.median > *ms) {
                slowest = Some((photo, best.median));
            }
        }
    }
    if let Some((photo, ms)) = slowest.filter(|_| rounds > 1) {
        println!("slowest photo by its median: {photo}, {ms:.1} ms");
    }
    Ok(())
}

/// One round: the best elapsed time of five runs and the mean CPU time of the thread over
/// them (NaN where the system does not tell it), in ms.
fn round(image: &imaging_core::RgbImage) -> (f64, f64) {
    let mut best = Duration::MAX;
    let cpu_start = thread_cpu_time();
    for _ in 0..5 {
        let start = Instant::now();
        std::hint::black_box(detect_faces(std::hint::black_box(image)));
        best = best.min(start.elapsed());
    }
    let cpu = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a).as_secs_f64() * 1000.0 / 5.0,
        _ => f64::NAN,
    };
    (best.as_secs_f64() * 1000.0, cpu)
}

/// The median and range of a round's figures.
struct Figures {
    median: f64,
    low: f64,
    high: f64,
    rounds: usize,
}

impl Figures {
    fn of(values: &mut [f64]) -> Figures {
        values.sort_by(f64::total_cmp);
        Figures {
            median: values[values.len() / 2],
            low: values[0],
            high: values[values.len() - 1],
            rounds: values.len(),
        }
    }
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rounds == 1 {
            write!(f, "{:.1} ms", self.median)
        } else {
            write!(
                f,
                "{:.1} ms median ({:.1}-{:.1} over {} rounds)",
                self.median, self.low, self.high, self.rounds
            )
        }
    }
}

/// Time this thread has spent on a CPU, where the system tells it (Linux).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}
