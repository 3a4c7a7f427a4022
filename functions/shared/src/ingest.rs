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
///
/// With the upload's entity tag (S3), only that object is read: an event that comes after its
/// key was uploaded again is [`Outcome::Superseded`]. After writing (or, on a permanent
/// failure, removing) the outputs, the tag at the key is looked at again: if the key was
/// uploaded again meanwhile, these outputs may have overwritten the newer upload's, so the
/// work is done once more for the object now there (at most [`MAX_ROUNDS`] times, then a
/// transient error); if it was deleted, the outputs are removed and `not_found` reported.
/// Whichever event writes last so checks last, and the key ends with the outputs of the
/// object at it.
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

    let mut pin = upload.etag.clone();
    let mut timings = Timings::default();
    for round in 0..MAX_ROUNDS {
        let done = one_round(
            upload,
            relative,
            pin.as_deref(),
            input,
            output,
            settings,
            &mut timings,
        )
        .await?;
        let Some(tag) = pin else {
            return finish(upload, publisher, done, timings).await;
        };
        if round == 0 && matches!(done, Round::Changed) {
            tracing::info!(key = %upload.key, "uploaded again since this event: left to the newer one's");
            return Ok(Outcome::Superseded);
        }
        // What was just written or removed belongs to the object read only if that object is
        // still the one at the key: one uploaded meanwhile may have had its outputs made by its
        // own event, and overwritten by these. The round is then made again for the object there.
        match input.entity_tag(&upload.key).await {
            Ok(current) if current == tag && !matches!(done, Round::Changed) => {
                return finish(upload, publisher, done, timings).await;
            }
            Ok(current) => {
                tracing::info!(key = %upload.key, "uploaded again while processed: once more for the new object");
                pin = Some(current);
            }
            // Deleted meanwhile: no outputs stay for it.
            Err(e) if e.object == ObjectFault::NotFound => {
                if matches!(done, Round::Failed(_)) {
                    return finish(upload, publisher, done, timings).await;
                }
                let failure = fail("not_found", e.to_string());
                return report_failure(output, publisher, settings, relative, failure).await;
            }
            // Refused for good (access denied): what was made cannot be vouched for.
            Err(e) if e.retry == Retry::Permanent => {
                let failure = fail("input", e.to_string());
                return report_failure(output, publisher, settings, relative, failure).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::transient(
        "get",
        &upload.key,
        format!("uploaded again during each of {MAX_ROUNDS} rounds of processing"),
    )
    .into())
}

/// Announces what a round left: the outputs (`photo.analyzed`) or the failure (`photo.failed`).
async fn finish<P: Publisher>(
    upload: &Upload,
    publisher: &P,
    done: Round,
    timings: Timings,
) -> Result<Outcome, TransientError> {
    match done {
        Round::Stored {
            message,
            bytes_in,
            warnings,
        } => {
            publisher.publish(&Message::PhotoAnalyzed(message)).await?;
            Ok(Outcome::Analyzed {
                bytes_in,
                warnings,
                timings,
            })
        }
        Round::Failed(failure) => publish_failure(publisher, failure).await,
        // Only a read pinned to a tag finds the object changed, and those are looked at again.
        Round::Changed => Err(StoreError::transient(
            "get",
            &upload.key,
            "the object changed under an unpinned read",
        )
        .into()),
    }
}

/// Rounds of read, process and write an ingest makes when its upload keeps being replaced while
/// it works, before it fails for a retry.
pub const MAX_ROUNDS: usize = 3;

/// What one round of an ingest left.
enum Round {
    /// The outputs are written, to be announced.
    Stored {
        /// The announcement.
        message: Box<PhotoAnalyzed>,
        /// Bytes read.
        bytes_in: u64,
        /// Problems that did not stop processing.
        warnings: Vec<String>,
    },
    /// A permanent failure: the outputs are removed; to be reported.
    Failed(PhotoFailed),
    /// The object is not the one asked for: nothing read, written or removed.
    Changed,
}

/// Reads the upload (only the object tagged `pin`, when given), makes its outputs and writes
/// them, or on a permanent failure removes any earlier outputs of the key. Adds its times to
/// `timings`.
async fn one_round<I: ObjectStore, O: ObjectStore>(
    upload: &Upload,
    relative: &str,
    pin: Option<&str>,
    input: &I,
    output: &O,
    settings: &IngestSettings,
    timings: &mut Timings,
) -> Result<Round, TransientError> {
    let fail = |kind: &str, message: String| PhotoFailed {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        kind: kind.to_string(),
        message,
    };
    let failed = |failure: PhotoFailed| async {
        remove_outputs(output, relative, &settings.renditions.sizes).await?;
        Ok(Round::Failed(failure))
    };
    let started = Instant::now();
    let limit = settings.renditions.limits.max_input_bytes;
    let bytes = match input.get(&upload.key, pin, limit).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(too_large)) => {
            return failed(fail("limits", too_large.describe("input", limit))).await
        }
        Err(e) if e.object == ObjectFault::Changed => return Ok(Round::Changed),
        Err(e) if e.retry == Retry::Permanent => {
            let kind = match e.object {
                ObjectFault::NotFound => "not_found",
                _ => "input",
            };
            return failed(fail(kind, e.to_string())).await;
        }
        Err(e) => return Err(e.into()),
    };
    let bytes_in = bytes.len() as u64;
    timings.download += started.elapsed();

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
    timings.process += started.elapsed();
    let set = match result {
        Ok(set) => set,
        Err(e) => return failed(fail(e.kind(), e.to_string())).await,
    };
    let warnings = set.warnings.clone();
    for warning in &warnings {
        tracing::warn!(key = %upload.key, "{warning}");
    }

    let started = Instant::now();
    let stored = store_outputs(output, relative, upload, set).await;
    timings.upload += started.elapsed();
    match stored {
        Ok(message) => Ok(Round::Stored {
            message: Box::new(message),
            bytes_in,
            warnings,
        }),
        // Refused by the store for good (access denied, ...): what was written goes, and the
        // caller hears of it, rather than the event being retried into the dead-letter queue.
        Err(e) if e.retry == Retry::Permanent => failed(fail("output", e.to_string())).await,
        Err(e) => Err(e.into()),
    }
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
    publish_failure(publisher, failure).await
}

/// Publishes `photo.failed` (the outputs are already removed).
async fn publish_failure<P: Publisher>(
    publisher: &P,
    failure: PhotoFailed,
) -> Result<Outcome, TransientError> {
    tracing::warn!(key = %failure.key, kind = %failure.kind, "{}", failure.message);
    let (kind, message) = (failure.kind.clone(), failure.message.clone());
    publisher.publish(&Message::PhotoFailed(failure)).await?;
    Ok(Outcome::Failed { kind, message })
}
