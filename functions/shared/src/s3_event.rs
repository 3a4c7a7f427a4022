//! Uploads named by an S3 event notification.

use crate::ingest::Upload;
use crate::keys::{decode_event_key, KeyError};
use aws_lambda_events::event::s3::S3Event;

/// A record that names no usable upload.
#[derive(Debug, Clone)]
pub struct BadRecord {
    /// The bucket, as far as known.
    pub bucket: String,
    /// The key as the event wrote it.
    pub raw_key: String,
    /// Why it cannot be used.
    pub error: KeyError,
}

/// The uploads of every `ObjectCreated:*` record, keys decoded (`+` is a space, `%XX`
/// escapes, UTF-8). Other event types (deletions, tests) are left out.
pub fn uploads(event: &S3Event) -> Vec<Result<Upload, BadRecord>> {
    event
        .records
        .iter()
        .filter(|r| {
            r.event_name
                .as_deref()
                .is_some_and(|n| n.starts_with("ObjectCreated"))
        })
        .map(|r| {
            let bucket = r.s3.bucket.name.clone().unwrap_or_default();
            let raw_key = r.s3.object.key.clone().unwrap_or_default();
            match decode_event_key(&raw_key) {
                Ok(key) => Ok(Upload { bucket, key }),
                Err(error) => Err(BadRecord {
                    bucket,
                    raw_key,
                    error,
                }),
            }
        })
        .collect()
}
