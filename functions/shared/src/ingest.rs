//! The ingest use-case: one uploaded photo in, renditions + analysis out, announced on a topic.
//! The same code runs in the `ingest` Lambda (S3 + SNS) and in `photo-suite ingest` (folders).

use crate::keys::{analysis_key, check_length, check_safe, output_keys, rendition_key, KeyError};
use crate::messages::{Message, PhotoAnalyzed, PhotoFailed, StoredRendition};
use crate::ports::{ObjectFault, ObjectStore, PublishError, Publisher, Retry, StoreError};
use imaging_core::{check_extension, render_renditions, RenditionOptions, RenditionSet};
use std::time::{Duration, Instant};

/// An upload to process.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The bucket it is in (empty for a local folder).
    pub bucket: String,
    /// Its key in the input store (already URL-decoded).
    pub key: String,
    /// The entity tag of the uploaded object, as its event gave it: only that object is read.
    /// An event that comes after the key was uploaded again (a late or repeated delivery) is
    /// [`Outcome::Superseded`]: the newer upload's own event makes the outputs. `None` reads
    /// whatever is at the key (the CLI, a record without one).
    pub etag: Option<String>,
}

/// What became of an upload. Permanent failures are outcomes, not errors: they are reported on
/// the failure topic, and retrying them would only fail again.
#[derive(Debug)]
pub enum Outcome {
    /// Renditions and analysis stored, `photo.analyzed` published.
    Analyzed {
        /// Bytes read.
        bytes_in: u64,
        /// Problems that did not stop processing (e.g. broken EXIF, ignored).
        warnings: Vec<String>,
        /// Time per stage.
        timings: Timings,
    },
    /// Refused for good; `photo.failed` published and nothing stored.
    Failed {
        /// The error class.
        kind: String,
        /// Why.
        message: String,
    },
    /// Not ours to process: outside the input prefix, or a folder placeholder (a key ending
    /// in `/`, as the S3 console's "Create folder" makes).
    Skipped,
    /// The object at the key is no longer the one the event announced: nothing read, written
    /// or published (the outputs there are the newer upload's, or will be).
    Superseded,
}

/// Milliseconds spent per stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Reading the upload.
    pub download: Duration,
    /// Decoding, resizing, encoding.
    pub process: Duration,
    /// Writing the outputs.
    pub upload: Duration,
}

/// A failure that a retry may fix: the caller (Lambda) must fail so the event is delivered again.
#[derive(Debug, thiserror::Error)]
pub enum TransientError {
    /// Storage failed transiently.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Publishing failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The processing task died (a bug: it is reported, and the event retried).
    #[error("processing task failed: {0}")]
    Task(String),
}

/// Settings of the ingest use-case.
#[derive(Debug, Clone, Default)]
pub struct IngestSettings {
    /// When set, only uploads in this bucket are processed; a record naming another bucket (a
    /// forged or misrouted event) is refused as `wrong_bucket`, and nothing is read from it.
    pub input_bucket: Option<String>,
    /// Only keys under this prefix are processed; it is stripped from output keys.
    pub input_prefix: String,
    /// Rendition sizes, quality and limits.
    pub renditions: RenditionOptions,
}

/// Processes one upload: reads it (after checking its size), checks its bytes against its
/// key's extension (`format_mismatch`), makes the renditions on a blocking thread, writes them
/// and then the analysis (the analysis last, so its presence means the set is complete), and
/// publishes `photo.analyzed`. The same input always gives the same keys and bytes, so
/// repeated events are harmless.
pub async fn ingest_upload<I, O, P>(
    upload: &Upload,
    input: &I,
    output: &O,
    publisher: &P,
    settings: &IngestSettings,
) -> Result<Outcome, TransientError>
where
    I: ObjectStore,
    O: ObjectStore,
    P: Publisher,
{
    let fail = |kind: &str, message: String| PhotoFailed {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        kind: kind.to_string(),
        message,
    };
    if let Some(expected) = settings
        .input_bucket
        .as_ref()
        .filter(|b| **b != upload.bucket)
    {
        let message = format!(
            "the event names bucket {:?}; this function reads only {expected:?}",
            upload.bucket
        );
        publisher
            .publish(&Message::PhotoFailed(fail("wrong_bucket", message.clone())))
            .await?;
        return Ok(Outcome::Failed {
            kind: "wrong_bucket".into(),
            message,
        });
    }
    let Some(relative) = upload.key.strip_prefix(&settings.input_prefix) else {
        return Ok(Outcome::Skipped);
    };
    if upload.key.ends_with('/') {
        return Ok(Outcome::Skipped);
    }
    if let Err(e) = check_safe(relative).and_then(|()| check_output_keys(relative, settings)) {
        // Nothing may be written for such a key; there is nothing of ours to clean either.
        publisher
            .publish(&Message::PhotoFailed(fail("invalid_key", e.to_string())))
            .await?;
        return Ok(Outcome::Failed {
            kind: "invalid_key".into(),
            message: e.to_string(),
        });
    }

    let started = Instant::now();
    let limit = settings.renditions.limits.max_input_bytes;
    let bytes = match input.get(&upload.key, upload.etag.as_deref(), limit).await {
        Ok(Ok(bytes)) => bytes,
        Err(e) if e.object == ObjectFault::Changed => {
            tracing::info!(key = %upload.key, "uploaded again since this event: left to the newer one's");
            return Ok(Outcome::Superseded);
        }
        Ok(Err(too_large)) => {
            let message = too_large.describe("input", limit);
            return report_failure(
                output,
                publisher,
                settings,
                relative,
                fail("limits", message),
            )
            .await;
        }
        Err(e) if e.retry == Retry::Permanent => {
            let kind = match e.object {
                ObjectFault::NotFound => "not_found",
                _ => "input",
            };
            return report_failure(
                output,
                publisher,
                settings,
                relative,
                fail(kind, e.to_string()),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    };
    let bytes_in = bytes.len() as u64;
    let download = started.elapsed();

    let started = Instant::now();
    let options = settings.renditions.clone();
    let extension = std::path::Path::new(relative)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_string();
    let result = tokio::task::spawn_blocking(move || {
        check_extension(&bytes, &extension)?;
        render_renditions(&bytes, &options)
    })
    .await
    .map_err(|e| TransientError::Task(e.to_string()))?;
    let set = match result {
        Ok(set) => set,
        Err(e) => {
            return report_failure(
                output,
                publisher,
                settings,
                relative,
                fail(e.kind(), e.to_string()),
            )
            .await
        }
    };
    let warnings = set.warnings.clone();
    for warning in &warnings {
        tracing::warn!(key = %upload.key, "{warning}");
    }
    let process = started.elapsed();

    let started = Instant::now();
    let message = match store_outputs(output, relative, upload, set).await {
        Ok(message) => message,
        // Refused by the store for good (access denied, ...): what was written goes, and the
        // caller hears of it, rather than the event being retried into the dead-letter queue.
        Err(e) if e.retry == Retry::Permanent => {
            let failure = fail("output", e.to_string());
            return report_failure(output, publisher, settings, relative, failure).await;
        }
        Err(e) => return Err(e.into()),
    };
    let upload_time = started.elapsed();
    publisher
        .publish(&Message::PhotoAnalyzed(Box::new(message)))
        .await?;
    Ok(Outcome::Analyzed {
        bytes_in,
        warnings,
        timings: Timings {
            download,
            process,
            upload: upload_time,
        },
    })
}

/// Checks that every output key of photo `relative` fits in an S3 key.
fn check_output_keys(relative: &str, settings: &IngestSettings) -> Result<(), KeyError> {
    output_keys(relative, &settings.renditions.sizes).try_for_each(|key| check_length(&key))
}

async fn store_outputs<O: ObjectStore>(
    output: &O,
    relative: &str,
    upload: &Upload,
    set: RenditionSet,
) -> Result<PhotoAnalyzed, StoreError> {
    let mut renditions = Vec::with_capacity(set.renditions.len());
    for r in set.renditions {
        let key = rendition_key(relative, r.max_side);
        let bytes = r.jpeg.len();
        output.put(&key, r.jpeg, "image/jpeg").await?;
        renditions.push(StoredRendition {
            key,
            width: r.width,
            height: r.height,
            bytes,
        });
    }
    let mut json = serde_json::to_vec_pretty(&set.info)
        .map_err(|e| StoreError::permanent("put", relative, e))?;
    json.push(b'\n');
    let analysis = analysis_key(relative);
    output.put(&analysis, json, "application/json").await?;
    Ok(PhotoAnalyzed {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        analysis_key: analysis,
        renditions,
        summary: set.info,
    })
}

/// Removes every output of photo `relative` (renditions of `sizes`, analysis) that an earlier
/// delivery or run may have stored: no output is left for a failed photo. A delete the store
/// refuses for good is logged and skipped; a passing fault is returned, for a retry.
pub async fn remove_outputs<O: ObjectStore>(
    output: &O,
    relative: &str,
    sizes: &[u32],
) -> Result<(), StoreError> {
    for key in output_keys(relative, sizes) {
        match output.delete(&key).await {
            Ok(()) => {}
            Err(e) if e.retry == Retry::Permanent => {
                tracing::error!(key = %key, "cannot remove an output of a failed photo: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reports a permanent failure: removes what an earlier delivery may have stored for the key
/// ([`remove_outputs`]), then publishes `photo.failed`.
async fn report_failure<O: ObjectStore, P: Publisher>(
    output: &O,
    publisher: &P,
    settings: &IngestSettings,
    relative: &str,
    failure: PhotoFailed,
) -> Result<Outcome, TransientError> {
    remove_outputs(output, relative, &settings.renditions.sizes).await?;
    tracing::warn!(key = %failure.key, kind = %failure.kind, "{}", failure.message);
    let (kind, message) = (failure.kind.clone(), failure.message.clone());
    publisher.publish(&Message::PhotoFailed(failure)).await?;
    Ok(Outcome::Failed { kind, message })
}
