//! Runs the 3-rendition job (2048/1024/256, q85, auto-oriented) on one photo, single-threaded,
//! ITERATIONS times, printing `iter <wall_ms> <cpu_ms>` per iteration: the photo-suite side of
//! `compare/compare.py`. The peers only make renditions, so the pixel analysis is off here
//! (`RenditionOptions::analyze_pixels`); its cost is benched on its own in `renditions.rs`.

use anyhow::Context;
use imaging_core::{render_renditions, RenditionOptions};
use photo_suite_benches::process_cpu_time;
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    imaging_core::tune_allocator_for_images();
    let args: Vec<String> = std::env::args().collect();
    let [_, photo, out_dir, iterations] = args.as_slice() else {
        anyhow::bail!("usage: rendition-runner PHOTO OUT_DIR ITERATIONS");
    };
    let iterations: u32 = iterations.parse().context("ITERATIONS must be a number")?;
    let options = RenditionOptions {
        analyze_pixels: false,
        ..RenditionOptions::default()
    };
    std::fs::create_dir_all(out_dir)?;
    for _ in 0..iterations {
        let (wall, cpu) = (Instant::now(), process_cpu_time());
        // Reading the file and writing the renditions are part of the job, as for the peers.
        let bytes = std::fs::read(photo).with_context(|| format!("reading {photo}"))?;
        let set = render_renditions(&bytes, &options)?;
        for r in &set.renditions {
            std::fs::write(format!("{out_dir}/{}.jpg", r.max_side), &r.jpeg)?;
        }
        let wall_ms = wall.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = (process_cpu_time() - cpu).as_secs_f64() * 1e3;
        println!("iter {wall_ms:.2} {cpu_ms:.2}");
    }
    Ok(())
}
