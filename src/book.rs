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
use photo_suite_functions::requests::{parse_message, RequestError, MAX_REQUEST_BYTES};
use serde_json::Value;
use std::io::Read;
use std::path::Path;

/// Reads a request file and parses it as the Lambda parses a message: one over
/// [`MAX_REQUEST_BYTES`] is refused (`too_large`, with the file's size) without reading the
/// rest of it.
fn read_request(path: &Path) -> anyhow::Result<Result<Value, RequestError>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut bytes = Vec::new();
    (&file)
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > MAX_REQUEST_BYTES {
        // The file's size where it has one (a pipe's is unknown: at least what was read).
        let size = file
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map_or(bytes.len() as u64, |m| m.len());
        return Ok(Err(RequestError::too_large(size, None)));
    }
    // Bytes that are not UTF-8 are no JSON message: refused, as a published one would be.
    Ok(match String::from_utf8(bytes) {
        Ok(text) => parse_message(&text),
        Err(e) => Err(RequestError::malformed(
            format!("request is not UTF-8 JSON: {}", e.utf8_error()),
            None,
        )),
    })
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
    let message = read_request(request)?;
    anyhow::ensure!(store.is_dir(), "{} is not a folder", store.display());
    let store = FolderStore::new(store);
    let topics = MemoryTopics::default();
    let settings = LayoutSettings {
        input_prefix: String::new(),
        plan,
    };
    runtime()?
        .block_on(run_layout(message, &store, &topics, &settings))
        .context("laying out")?;
    Ok(report(&topics))
}

/// `photo-suite render REQUEST --photos DIR --store OUT`.
pub fn render(request: &Path, photos: &Path, store: &Path, limits: Limits) -> anyhow::Result<bool> {
    let message = read_request(request)?;
    anyhow::ensure!(photos.is_dir(), "{} is not a folder", photos.display());
    let input = FolderStore::new(photos);
    let output = FolderStore::new(store);
    let topics = MemoryTopics::default();
    let settings = RenderSettings {
        input_prefix: String::new(),
        limits,
    };
    runtime()?
        .block_on(run_render(message, &input, &output, &topics, &settings))
        .context("rendering")?;
    Ok(report(&topics))
}
