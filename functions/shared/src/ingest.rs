//! The ingest use-case: one uploaded photo in, renditions + analysis out, announced on a topic.
//! The same code runs in the `ingest` Lambda (S3 + SNS) and in `photo-suite ingest` (folders).

use crate::events::BadRecord;
use crate::keys::{
    analysis_key, check_length, check_safe, decode_event_key_lossy, output_keys, rendition_key,
    KeyError,
};
use crate::messages::{Message, PhotoAnalyzed, PhotoFailed, StoredRendition};
use crate::ports::{Fetched, ObjectStore, PublishError, Publisher, Retry, StoreError};
use imaging_core::{check_extension, render_renditions, RenditionOptions, RenditionSet};
use std::time::{Duration, Instant};

/// An upload to process.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The bucket it is in (empty for a local folder).
    pub bucket: String,
    /// Its key in the input store (already URL-decoded).
    pub key: String,
}

/// What became of an upload. Permanent failures are outcomes, not errors: they are reported on
/// the failure topic, and retrying them would only fail again.
#[derive(Debug)]
pub enum Outcome {
    /// Renditions and analysis stored, `photo.analyzed` published.
    Analyzed {
        /// Bytes read (of the object at the key in the last round).
        bytes_in: u64,
        /// Problems that did not stop processing (e.g. broken EXIF, ignored).
        warnings: Vec<String>,
        /// Time per stage.
        timings: Timings,
    },
    /// Refused for good; `photo.failed` published and nothing stored (but what the store
    /// refused to delete, which the message names).
    Failed {
        /// The error class.
        kind: String,
        /// Why.
        message: String,
    },
    /// Not ours to process: outside the input prefix, or a folder placeholder (a key ending
    /// in `/`, as the S3 console's "Create folder" makes).
    Skipped,
}

/// Time spent per stage (summed over the rounds of an upload that changed while processed).
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
/// What is read is the object at the key now, whichever upload the event announced (a late or
/// repeated event makes the outputs of the latest). After writing the outputs (or, on a
/// permanent failure, removing them), the version at the key is asked for again: if it is no
/// longer the one read (uploaded again, or deleted, while the photo was processed), these
/// outputs may have overwritten those another event made for the newer object, so the work is
/// done again for what is there now (at most [`MAX_ROUNDS`] rounds, then a transient error,
/// whose retry starts afresh). So every event either ends after a check that its outputs are
/// those of the object at the key, or fails and is retried, and the key ends with the outputs
/// of the object at it, within the limits the README gives (an event left in the dead-letter
/// queue, a deletion after the last check, a check that S3 refuses for good).
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
    if let Some(refused) = refuse_other_bucket(upload, publisher, settings).await? {
        return Ok(refused);
    }
    let Some(relative) = upload.key.strip_prefix(&settings.input_prefix) else {
        return Ok(Outcome::Skipped);
    };
    if upload.key.ends_with('/') {
        return Ok(Outcome::Skipped);
    }
    if let Err(e) = check_safe(relative) {
        // Nothing may be written for such a key; there is nothing of ours to clean either.
        return publish_failure(publisher, failure(upload, "invalid_key", e.to_string())).await;
    }
    if let Err(e) = check_output_keys(relative, settings) {
        // Its outputs at other sizes (an earlier run's) may be stored: they go, as for any
        // failure.
        let kept = remove_outputs(output, relative, &settings.renditions.sizes).await?;
        let message = naming_kept(e.to_string(), &kept);
        return publish_failure(publisher, failure(upload, "invalid_key", message)).await;
    }

    let mut timings = Timings::default();
    for _ in 0..MAX_ROUNDS {
        let (done, read) =
            one_round(upload, relative, input, output, settings, &mut timings).await?;
        if unchanged(input, &upload.key, read).await? {
            return finish(publisher, done, timings).await;
        }
    }
    Err(changed_in_every_round(&upload.key))
}

/// Whether the version of `key` in `input` is still `read`, the version a round read (for an
/// object it could not read, the version the store gave of what is there; `None` for none):
/// the check after each round of a use-case that reads an original and writes what it makes
/// of it, or refuses it. When it fails, the round's outputs may have overwritten those another
/// event made for a newer object, and the caller does the work again for what is there now (at
/// most [`MAX_ROUNDS`] rounds, then [`changed_in_every_round`]). A check the store refuses for
/// good keeps the round's outcome.
pub(crate) async fn unchanged<I: ObjectStore>(
    input: &I,
    key: &str,
    read: Option<String>,
) -> Result<bool, TransientError> {
    let now = match input.version(key).await {
        Ok(now) => now,
        // Refused for good (access denied): nothing to tell; the round's outcome stands.
        Err(e) if e.retry == Retry::Permanent => {
            tracing::error!(key, "cannot check the version processed: {e}");
            return Ok(true);
        }
        Err(e) => return Err(e.into()),
    };
    if now != read {
        tracing::info!(
            key,
            "changed while processed: once more for what is there now"
        );
    }
    Ok(now == read)
}

/// The transient error of a use-case whose original at `key` changed in each of its
/// [`MAX_ROUNDS`] rounds: the retry starts afresh.
pub(crate) fn changed_in_every_round(key: &str) -> TransientError {
    StoreError::transient(
        "version",
        key,
        format!("changed while processed, in each of {MAX_ROUNDS} rounds"),
    )
    .into()
}

/// An original as a round read it.
pub(crate) enum Original {
    /// Its bytes, and the version read.
    Read(Vec<u8>, String),
    /// It cannot be used: over the byte limit (`limits`, with the version read), refused by the
    /// store for good (`input`, with the version the store gives of what is there), or missing
    /// (`not_found`, no version).
    Refused {
        /// `limits`, `input` or `not_found`.
        kind: &'static str,
        /// Why.
        message: String,
        /// The version at the key (`None`: none, or the store will not say).
        version: Option<String>,
    },
}

/// Reads the original at `key` (at most `limit` bytes) for a round (see [`unchanged`]); a
/// passing fault is returned, for a retry.
pub(crate) async fn read_original<I: ObjectStore>(
    input: &I,
    key: &str,
    limit: u64,
) -> Result<Original, TransientError> {
    match input.get(key, limit).await {
        Ok(Fetched {
            bytes: Ok(bytes),
            version,
        }) => Ok(Original::Read(bytes, version)),
        Ok(Fetched {
            bytes: Err(too_large),
            version,
        }) => Ok(Original::Refused {
            kind: "limits",
            message: too_large.describe("input", limit),
            version: Some(version),
        }),
        Err(e) if e.retry == Retry::Permanent => {
            let (kind, version) = if e.not_found {
                // None was there: one uploaded since fails the check, and is processed.
                ("not_found", None)
            } else {
                // One S3 will not give (access denied, archived) but may tell of: what the
                // check will find.
                let version = match input.version(key).await {
                    Ok(version) => version,
                    Err(e) if e.retry == Retry::Permanent => None,
                    Err(e) => return Err(e.into()),
                };
                ("input", version)
            };
            Ok(Original::Refused {
                kind,
                message: e.to_string(),
                version,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Refuses, as `wrong_bucket` (published), an upload in another bucket than the one this
/// function reads, when that is set; `None` for an upload in the right bucket.
async fn refuse_other_bucket<P: Publisher>(
    upload: &Upload,
    publisher: &P,
    settings: &IngestSettings,
) -> Result<Option<Outcome>, TransientError> {
    let Some(expected) = settings
        .input_bucket
        .as_ref()
        .filter(|b| **b != upload.bucket)
    else {
        return Ok(None);
    };
    let message = format!(
        "the event names bucket {:?}; this function reads only {expected:?}",
        upload.bucket
    );
    let refused = failure(upload, "wrong_bucket", message);
    Ok(Some(publish_failure(publisher, refused).await?))
}

/// Handles a record whose key could not be decoded ([`BadRecord`]) as one whose key could:
/// `wrong_bucket` when it names another bucket than the one this function reads; skipped when
/// its key (decoded as far as it goes) is outside the input prefix; else `invalid_key`, with
/// the key as the event wrote it. Nothing is read.
pub async fn refuse_bad_record<P: Publisher>(
    bad: &BadRecord,
    publisher: &P,
    settings: &IngestSettings,
) -> Result<Outcome, TransientError> {
    let upload = Upload {
        bucket: bad.bucket.clone(),
        key: bad.raw_key.clone(),
    };
    if let Some(refused) = refuse_other_bucket(&upload, publisher, settings).await? {
        return Ok(refused);
    }
    if !decode_event_key_lossy(&bad.raw_key).starts_with(&settings.input_prefix) {
        return Ok(Outcome::Skipped);
    }
    publish_failure(
        publisher,
        failure(&upload, "invalid_key", bad.error.to_string()),
    )
    .await
}

/// Announces what a round left: the outputs (`photo.analyzed`) or the failure (`photo.failed`).
async fn finish<P: Publisher>(
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
    }
}

/// Rounds of read, process and write an ingest or a render makes when its original keeps being
/// replaced while it works, before it fails for a retry.
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
}

/// Reads the upload, makes its outputs and writes them, or on a permanent failure removes any
/// earlier outputs of the key; returns that and the version read, or for an object that could
/// not be read, the version the store gives of it (`None`: no object, or the store will not
/// say). Adds its times to `timings`.
async fn one_round<I: ObjectStore, O: ObjectStore>(
    upload: &Upload,
    relative: &str,
    input: &I,
    output: &O,
    settings: &IngestSettings,
    timings: &mut Timings,
) -> Result<(Round, Option<String>), TransientError> {
    let fail = |kind: &str, message: String| failure(upload, kind, message);
    let failed = |failure: PhotoFailed, version: Option<String>| async {
        let kept = remove_outputs(output, relative, &settings.renditions.sizes).await?;
        let failure = PhotoFailed {
            etag: version.clone(),
            message: naming_kept(failure.message, &kept),
            ..failure
        };
        Ok((Round::Failed(failure), version))
    };
    let started = Instant::now();
    let limit = settings.renditions.limits.max_input_bytes;
    let (bytes, version) = match read_original(input, &upload.key, limit).await? {
        Original::Read(bytes, version) => (bytes, version),
        Original::Refused {
            kind,
            message,
            version,
        } => return failed(fail(kind, message), version).await,
    };
    let bytes_in = bytes.len() as u64;
    timings.download += started.elapsed();

    let started = Instant::now();
    let options = settings.renditions.clone();
    let result = process_named(relative, bytes, move |b| render_renditions(b, &options)).await?;
    timings.process += started.elapsed();
    let set = match result {
        Ok(set) => set,
        Err(e) => return failed(fail(e.kind(), e.to_string()), Some(version)).await,
    };
    let warnings = set.warnings.clone();
    for warning in &warnings {
        tracing::warn!(key = %upload.key, "{warning}");
    }

    let started = Instant::now();
    let stored = store_outputs(output, relative, upload, &version, set).await;
    timings.upload += started.elapsed();
    match stored {
        Ok(message) => {
            let message = Box::new(message);
            let stored = Round::Stored {
                message,
                bytes_in,
                warnings,
            };
            Ok((stored, Some(version)))
        }
        // Refused by the store for good (access denied, ...): what was written goes, and the
        // caller hears of it, rather than the event being retried into the dead-letter queue.
        Err(e) if e.retry == Retry::Permanent => {
            failed(fail("output", e.to_string()), Some(version)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs `process` on `bytes` on a blocking thread, once they are checked against the extension
/// of `name`: bytes that are not in the format the name says are refused
/// (`format_mismatch`, see [`check_extension`]).
pub(crate) async fn process_named<T, F>(
    name: &str,
    bytes: Vec<u8>,
    process: F,
) -> Result<imaging_core::Result<T>, TransientError>
where
    T: Send + 'static,
    F: FnOnce(&[u8]) -> imaging_core::Result<T> + Send + 'static,
{
    let extension = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_string();
    tokio::task::spawn_blocking(move || {
        check_extension(&bytes, &extension)?;
        process(&bytes)
    })
    .await
    .map_err(|e| TransientError::Task(e.to_string()))
}

/// A `photo.failed` for `upload`.
fn failure(upload: &Upload, kind: &str, message: String) -> PhotoFailed {
    PhotoFailed {
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        etag: None,
        kind: kind.to_string(),
        message,
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
    etag: &str,
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
        etag: etag.to_string(),
        analysis_key: analysis,
        renditions,
        summary: set.info,
    })
}

/// Removes every output of photo `relative` (renditions of `sizes`, analysis) that an earlier
/// delivery or run may have stored: no output is left for a failed photo. A delete the store
/// refuses for good is logged (with the store's reason) and skipped, and its key returned for
/// the failure to name (see [`naming_kept`]); a passing fault is returned, for a retry.
pub async fn remove_outputs<O: ObjectStore>(
    output: &O,
    relative: &str,
    sizes: &[u32],
) -> Result<Vec<String>, StoreError> {
    let mut kept = Vec::new();
    // A key over S3's length was never stored (and S3 would refuse its delete).
    for key in output_keys(relative, sizes).filter(|key| check_length(key).is_ok()) {
        kept.extend(remove_output(output, &key, "an output of a failed photo").await?);
    }
    Ok(kept)
}

/// Deletes `key` (`what` it is, for the log): a delete the store refuses for good is logged
/// with its reason and skipped, and `key` returned; a passing fault is returned, for a retry.
pub(crate) async fn remove_output<O: ObjectStore>(
    output: &O,
    key: &str,
    what: &str,
) -> Result<Option<String>, StoreError> {
    match output.delete(key).await {
        Ok(()) => Ok(None),
        Err(e) if e.retry == Retry::Permanent => {
            tracing::error!(key, "cannot remove {what}: {e}");
            Ok(Some(key.to_string()))
        }
        Err(e) => Err(e),
    }
}

/// A failure's `message`, naming the keys of outputs the store refused to delete (`kept`, as
/// [`remove_outputs`] returns them; the reasons are in the log), which may remain: a failure
/// does not claim that nothing is stored when that could not be made so. Unchanged when every
/// delete went through.
pub fn naming_kept(message: String, kept: &[String]) -> String {
    if kept.is_empty() {
        message
    } else {
        format!(
            "{message} (the store refused to delete, so these may remain: {})",
            kept.join(", ")
        )
    }
}

/// Logs and publishes `photo.failed` (the outputs are already removed, there were none, or the
/// message names those the store refused to delete).
async fn publish_failure<P: Publisher>(
    publisher: &P,
    failure: PhotoFailed,
) -> Result<Outcome, TransientError> {
    tracing::warn!(key = %failure.key, kind = %failure.kind, "{}", failure.message);
    let (kind, message) = (failure.kind.clone(), failure.message.clone());
    publisher.publish(&Message::PhotoFailed(failure)).await?;
    Ok(Outcome::Failed { kind, message })
}
