//! The local ingest job: a folder in, renditions + analysis out, in the output bucket's layout.

use anyhow::Context;
use imaging_core::{render_renditions, ImagingError, Limits, RenditionOptions, RenditionSet};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a run did.
pub struct Summary {
    pub processed: usize,
    pub failed: usize,
    pub elapsed: Duration,
}

/// One line of `failures.jsonl`.
#[derive(Serialize)]
struct Failure {
    key: String,
    kind: &'static str,
    message: String,
}

/// Why one photo failed.
enum PhotoError {
    /// The input could not be read (or is over the byte limit).
    Read(io::Error),
    /// The image was refused or could not be processed.
    Imaging(ImagingError),
    /// Outputs could not be written.
    Write(io::Error),
}

impl PhotoError {
    fn into_failure(self, key: String) -> Failure {
        let (kind, message) = match self {
            PhotoError::Read(e) if e.kind() == io::ErrorKind::FileTooLarge => {
                ("limits", e.to_string())
            }
            PhotoError::Read(e) => ("io", format!("cannot read input: {e}")),
            PhotoError::Imaging(e) => (e.kind(), e.to_string()),
            PhotoError::Write(e) => ("io", format!("cannot write output: {e}")),
        };
        Failure { key, kind, message }
    }
}

/// Reads a file, refusing it from its size before reading when it is over the limit.
pub fn read_limited(path: &Path, limits: &Limits) -> io::Result<Vec<u8>> {
    let file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    limits
        .check_bytes(len)
        .map_err(|e| io::Error::new(io::ErrorKind::FileTooLarge, e))?;
    let mut bytes = Vec::with_capacity(len as usize);
    // Read at most one byte past the limit, in case the file grew since it was measured.
    file.take(limits.max_input_bytes + 1)
        .read_to_end(&mut bytes)?;
    limits
        .check_bytes(bytes.len() as u64)
        .map_err(|e| io::Error::new(io::ErrorKind::FileTooLarge, e))?;
    Ok(bytes)
}

/// Every file under `input_dir` (recursively, sorted, hidden files and `out_dir` skipped), as
/// `(key, path)` where the key is the relative path with `/` separators.
fn list_inputs(input_dir: &Path, out_dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let out_dir = fs::canonicalize(out_dir).ok();
    let mut inputs = Vec::new();
    let walker = walkdir::WalkDir::new(input_dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
            let is_out = out_dir.is_some() && fs::canonicalize(e.path()).ok() == out_dir;
            !hidden && !is_out
        });
    for entry in walker {
        let entry = entry.with_context(|| format!("listing {}", input_dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(input_dir).unwrap_or(entry.path());
        let key = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        inputs.push((key, entry.into_path()));
    }
    Ok(inputs)
}

fn rendition_dir(out_dir: &Path, key: &str) -> PathBuf {
    out_dir.join("renditions").join(key)
}

fn analysis_path(out_dir: &Path, key: &str) -> PathBuf {
    out_dir.join("analysis").join(format!("{key}.json"))
}

/// Writes a file atomically: to a temporary name beside it, then renamed into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// Removes whatever an earlier run left for `key`, so a failed photo has no output.
fn remove_outputs(out_dir: &Path, key: &str) {
    let _ = fs::remove_dir_all(rendition_dir(out_dir, key));
    let _ = fs::remove_file(analysis_path(out_dir, key));
}

fn write_outputs(out_dir: &Path, key: &str, set: &RenditionSet) -> io::Result<()> {
    let dir = rendition_dir(out_dir, key);
    for rendition in &set.renditions {
        write_atomic(
            &dir.join(format!("{}.jpg", rendition.max_side)),
            &rendition.jpeg,
        )?;
    }
    let mut json = serde_json::to_vec_pretty(&set.info).map_err(io::Error::other)?;
    json.push(b'\n');
    write_atomic(&analysis_path(out_dir, key), &json)
}

fn process(
    path: &Path,
    out_dir: &Path,
    key: &str,
    options: &RenditionOptions,
) -> Result<Vec<String>, PhotoError> {
    let bytes = read_limited(path, &options.limits).map_err(PhotoError::Read)?;
    let set = render_renditions(&bytes, options).map_err(PhotoError::Imaging)?;
    write_outputs(out_dir, key, &set).map_err(PhotoError::Write)?;
    Ok(set.warnings)
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} photos {elapsed} ETA {eta} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Processes every photo under `input_dir` into `out_dir`, in parallel. One photo's failure
/// never stops the others; failures are listed, sorted by key, in `failures.jsonl`.
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
    let inputs = list_inputs(input_dir, out_dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let bar = progress_bar(inputs.len());
    let failures = Mutex::new(Vec::new());
    pool.install(|| {
        inputs.par_iter().for_each(|(key, path)| {
            match process(path, out_dir, key, options) {
                Ok(warnings) => {
                    for w in warnings {
                        bar.suspend(|| eprintln!("photo-suite: warning: {key}: {w}"));
                    }
                }
                Err(e) => {
                    remove_outputs(out_dir, key);
                    let failure = e.into_failure(key.clone());
                    bar.suspend(|| {
                        eprintln!(
                            "photo-suite: failed {key}: {}: {}",
                            failure.kind, failure.message
                        )
                    });
                    failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(failure);
                }
            }
            bar.inc(1);
        });
    });
    bar.finish_and_clear();
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort_by(|a, b| a.key.cmp(&b.key));
    let mut lines = Vec::new();
    for f in &failures {
        serde_json::to_writer(&mut lines, f)?;
        lines.push(b'\n');
    }
    write_atomic(&out_dir.join("failures.jsonl"), &lines).context("writing failures.jsonl")?;
    Ok(Summary {
        processed: inputs.len() - failures.len(),
        failed: failures.len(),
        elapsed: started.elapsed(),
    })
}
