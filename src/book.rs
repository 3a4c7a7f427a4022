//! `photo-suite layout` and `photo-suite render`: the layout and render use-cases on the local
//! store that `photo-suite ingest` wrote, with the request read from a file. The message the
//! Lambda would publish is printed on stdout (`layout.ready`, `render.done`) or stderr
//! (`layout.failed`, `render.failed`, with exit code 2).

use anyhow::Context;
use imaging_core::Limits;
use photo_suite_functions::layout::{run_layout, LayoutSettings};
use photo_suite_functions::local::{FolderStore, MemoryTopics};
use photo_suite_functions::plan::PlanSettings;
use photo_suite_functions::ports::Topic;
use photo_suite_functions::render::{run_render, RenderSettings};
use photo_suite_functions::requests::{parse_message, MAX_REQUEST_BYTES};
use std::io::Read;
use std::path::Path;

/// Reads a request file (at most [`MAX_REQUEST_BYTES`] plus one byte, so an oversized one is
/// refused by the same check as in the Lambda).
fn read_request(path: &Path) -> anyhow::Result<String> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("reading {} (UTF-8 JSON expected)", path.display()))?;
    Ok(text)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")
}

/// Prints what was published; `true` when it was a success message.
fn report(topics: &MemoryTopics) -> bool {
    let mut ok = true;
    for (topic, line) in topics.messages() {
        match topic {
            Topic::Events => println!("{line}"),
            Topic::Failures => {
                eprintln!("{line}");
                ok = false;
            }
        }
    }
    ok
}

/// `photo-suite layout REQUEST --store OUT`.
pub fn layout(request: &Path, store: &Path, plan: PlanSettings) -> anyhow::Result<bool> {
    let text = read_request(request)?;
    anyhow::ensure!(store.is_dir(), "{} is not a folder", store.display());
    let store = FolderStore::new(store);
    let topics = MemoryTopics::default();
    let settings = LayoutSettings {
        input_prefix: String::new(),
        plan,
    };
    runtime()?
        .block_on(run_layout(parse_message(&text), &store, &topics, &settings))
        .context("laying out")?;
    Ok(report(&topics))
}

/// `photo-suite render REQUEST --photos DIR --store OUT`.
pub fn render(request: &Path, photos: &Path, store: &Path, limits: Limits) -> anyhow::Result<bool> {
    let text = read_request(request)?;
    anyhow::ensure!(photos.is_dir(), "{} is not a folder", photos.display());
    let input = FolderStore::new(photos);
    let output = FolderStore::new(store);
    let topics = MemoryTopics::default();
    let settings = RenderSettings {
        input_prefix: String::new(),
        limits,
    };
    runtime()?
        .block_on(run_render(
            parse_message(&text),
            &input,
            &output,
            &topics,
            &settings,
        ))
        .context("rendering")?;
    Ok(report(&topics))
}
