//! The local ingest job: a folder in, renditions + analysis out, in the output bucket's layout.
//! It runs the same use-case as the `ingest` Lambda, on a folder as the bucket and files as the
//! topics (`events.jsonl`, `failures.jsonl`).

use anyhow::Context;
use imaging_core::{Limits, RenditionOptions};
use indicatif::{ProgressBar, ProgressStyle};
use photo_suite_functions::ingest::{
    ingest_upload, naming_kept, remove_outputs, IngestSettings, Outcome, Upload,
};
use photo_suite_functions::keys::output_keys;
use photo_suite_functions::local::{read_capped, FileTopics, FolderStore, Unlisted};
use photo_suite_functions::messages::{Message, PhotoFailed};
use photo_suite_functions::ports::{Publisher, Topic};
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a run did.
pub struct Summary {
    pub processed: usize,
    pub failed: usize,
    /// Files passed over as not photos (by extension: [`NOT_PHOTOS`]).
    pub skipped: usize,
    pub elapsed: Duration,
}

/// Extensions of the files a folder of photos also holds that are not photos: sidecars (XMP,
/// Google Takeout's JSON, iOS edits), videos, documents. They are counted and passed over, not
/// reported as failed photos; any other file is tried as a photo.
pub const NOT_PHOTOS: &[&str] = &[
    "json", "xmp", "aae", "thm", "txt", "md", "rst", "tsv", "csv", "pdf", "xml", "html", "htm",
    "zip", "db", "ini", "log", "mov", "mp4", "m4v", "avi", "mkv", "3gp", "webm", "mts", "wav",
    "mp3",
];

fn is_not_photo(key: &str) -> bool {
    Path::new(key)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| NOT_PHOTOS.iter().any(|n| n.eq_ignore_ascii_case(e)))
}

/// The photos whose outputs cannot sit in a folder beside another photo's, with why: where
/// one output is a file and another needs a folder of that name (photo `a`'s
/// `analysis/a.json` and photo `a.json/b.jpg`'s `analysis/a.json/b.jpg.json`). In a bucket
/// both are keys; in a folder the one written first would win. Of each pair, the photo later
/// in key order is refused, so a run's outputs do not depend on timing.
fn clashing(keys: &[String], sizes: &[u32]) -> std::collections::BTreeMap<String, String> {
    use std::collections::BTreeMap;
    let outputs: BTreeMap<String, &String> = keys
        .iter()
        .flat_map(|key| output_keys(key, sizes).map(move |output| (output, key)))
        .collect();
    let mut refused = BTreeMap::new();
    for (file, owner) in &outputs {
        let folder = format!("{file}/");
        let under = outputs
            .range(folder.clone()..)
            .take_while(|(p, _)| p.starts_with(&folder));
        for (inner, other) in under {
            if other != owner {
                let (earlier, later) = if owner < other {
                    (owner, other)
                } else {
                    (other, owner)
                };
                let why = format!(
                    "its output {inner} cannot be stored beside {file}, an output of {earlier}"
                );
                refused.entry((*later).clone()).or_insert(why);
            }
        }
    }
    refused
}

/// `text` with control characters escaped (`\u{1b}`), so that a file name cannot drive the
/// terminal it is printed on.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Reads a file, refusing it from its size before reading when it is over the limit
/// (`FileTooLarge`), and anything but a regular file (`InvalidInput`: a FIFO would block the read
/// until something writes to it), as the folder store's reads do.
pub fn read_limited(path: &Path, limits: &Limits) -> io::Result<Vec<u8>> {
    read_capped(path, limits.max_input_bytes)?
        .bytes
        .map_err(|too_large| {
            io::Error::new(
                io::ErrorKind::FileTooLarge,
                too_large.describe("input", limits.max_input_bytes),
            )
        })
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos {elapsed} ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Processes every photo under `input_dir` into `out_dir`, `threads` at a time. One photo's
/// failure never stops the others; failures are listed, sorted by key, in `failures.jsonl`,
/// and `report.html` shows the run.
pub fn ingest_folder(
    input_dir: &Path,
    out_dir: &Path,
    options: &RenditionOptions,
    threads: Option<usize>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    anyhow::ensure!(
        input_dir.is_dir(),
        "{} is not a folder",
        input_dir.display()
    );
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    anyhow::ensure!(
        fs::canonicalize(input_dir)? != fs::canonicalize(out_dir)?,
        "--out {} is the input folder: give a folder of its own (inside it is fine)",
        out_dir.display()
    );
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        // Photos are decoded on blocking threads: as many as there are workers, no more.
        .max_blocking_threads(threads)
        .enable_all()
        .build()
        .context("starting the runtime")?;

    let input = Arc::new(FolderStore::new(input_dir));
    let output = Arc::new(FolderStore::new(out_dir));
    let topics = Arc::new(FileTopics::new(
        out_dir.join("events.jsonl"),
        out_dir.join("failures.jsonl"),
    ));
    let settings = Arc::new(IngestSettings {
        input_bucket: None,
        input_prefix: String::new(),
        renditions: options.clone(),
    });
    let listing = input
        .list(Some(out_dir))
        .with_context(|| format!("listing {}", input_dir.display()))?;
    let (skipped, keys): (Vec<String>, Vec<String>) =
        listing.keys.into_iter().partition(|k| is_not_photo(k));
    let mut refused: Vec<(String, &str, String)> = listing
        .unreadable
        .into_iter()
        .map(|(path, why)| {
            let kind = match why {
                Unlisted::NotUtf8 => "invalid_key",
                Unlisted::NotAFile | Unlisted::Unreadable(_) => "input",
            };
            (path, kind, why.to_string())
        })
        .collect();
    let clashes = clashing(&keys, &options.sizes);
    let keys: Vec<String> = keys
        .into_iter()
        .filter(|k| !clashes.contains_key(k))
        .collect();
    refused.extend(
        clashes
            .into_iter()
            .map(|(key, why)| (key, "invalid_key", why)),
    );
    let bar = progress_bar(keys.len());

    runtime.block_on(async {
        // What could not be listed, or could not be stored, is a failure too: nothing under
        // the folder goes unsaid, and, as for any photo that now fails, an earlier run's
        // outputs for it go.
        for (path, kind, message) in refused {
            // A name that cannot be a key had no outputs; a fault here is not worth the run.
            let kept = remove_outputs(&*output, &path, &options.sizes)
                .await
                .unwrap_or_default();
            let message = naming_kept(message, &kept);
            eprintln!(
                "photo-suite: failed {}: {kind}: {}",
                printable(&path),
                printable(&message)
            );
            let failure = PhotoFailed {
                bucket: String::new(),
                key: path,
                etag: None,
                kind: kind.into(),
                message,
            };
            topics.publish(&Message::PhotoFailed(failure)).await?;
        }
        // At most two photos in flight per thread: bounded memory, busy threads.
        let permits = Arc::new(tokio::sync::Semaphore::new(threads * 2));
        let mut tasks = tokio::task::JoinSet::new();
        for key in keys {
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .context("semaphore closed")?;
            let (input, output, topics, settings, bar) = (
                input.clone(),
                output.clone(),
                topics.clone(),
                settings.clone(),
                bar.clone(),
            );
            tasks.spawn(async move {
                let upload = Upload {
                    bucket: String::new(),
                    key,
                };
                let outcome = ingest_upload(&upload, &*input, &*output, &*topics, &settings).await;
                drop(permit);
                match &outcome {
                    Ok(Outcome::Analyzed { warnings, .. }) => {
                        for w in warnings {
                            let name = printable(&upload.key);
                            bar.suspend(|| eprintln!("photo-suite: warning: {name}: {w}"));
                        }
                    }
                    Ok(Outcome::Failed { kind, message }) => {
                        let (name, message) = (printable(&upload.key), printable(message));
                        bar.suspend(|| eprintln!("photo-suite: failed {name}: {kind}: {message}"));
                    }
                    Ok(Outcome::Skipped) => {}
                    Err(e) => {
                        let (name, e) = (printable(&upload.key), printable(&e.to_string()));
                        bar.suspend(|| eprintln!("photo-suite: error: {name}: {e}"))
                    }
                }
                bar.inc(1);
                outcome.with_context(|| format!("processing {}", printable(&upload.key)))
            });
        }
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined.context("a processing task panicked").and_then(|r| r) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    })?;
    bar.finish_and_clear();
    topics
        .flush()
        .context("writing events.jsonl and failures.jsonl")?;
    crate::report::write_report(out_dir).context("writing report.html")?;
    Ok(Summary {
        processed: topics.count(Topic::Events),
        failed: topics.count(Topic::Failures),
        skipped: skipped.len(),
        elapsed: started.elapsed(),
    })
}
