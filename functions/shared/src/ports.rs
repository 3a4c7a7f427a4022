//! The ports: what a use-case needs from storage and messaging, and how those can fail.

use crate::messages::Message;
use std::future::Future;

/// Whether retrying can help: the line between "Lambda, retry this" and "report and move on".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// A passing fault (network, throttling, 5xx): the same call may succeed later.
    Transient,
    /// Retrying cannot help (no such object, invalid key, access denied).
    Permanent,
}

/// A storage failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} {key}: {message}")]
pub struct StoreError {
    /// What was being done (`get`, `put`, ...).
    pub operation: &'static str,
    /// The object key.
    pub key: String,
    /// What the store said.
    pub message: String,
    /// Whether retrying may help.
    pub retry: Retry,
    /// The object does not exist.
    pub not_found: bool,
}

impl StoreError {
    /// A failure retrying may fix.
    pub fn transient(operation: &'static str, key: &str, message: impl ToString) -> Self {
        Self::new(operation, key, message, Retry::Transient, false)
    }

    /// A failure retrying cannot fix.
    pub fn permanent(operation: &'static str, key: &str, message: impl ToString) -> Self {
        Self::new(operation, key, message, Retry::Permanent, false)
    }

    /// The object does not exist.
    pub fn not_found(operation: &'static str, key: &str) -> Self {
        Self::new(operation, key, "no such object", Retry::Permanent, true)
    }

    fn new(
        operation: &'static str,
        key: &str,
        message: impl ToString,
        retry: Retry,
        not_found: bool,
    ) -> Self {
        StoreError {
            operation,
            key: key.to_string(),
            message: message.to_string(),
            retry,
            not_found,
        }
    }
}

/// A messaging failure (always worth a retry: the topic exists or configuration is wrong).
#[derive(Debug, Clone, thiserror::Error)]
#[error("publishing {message_type}: {message}")]
pub struct PublishError {
    /// The message's `type`.
    pub message_type: &'static str,
    /// What the publisher said.
    pub message: String,
}

/// An object over the size a reader accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// The object's size, where the store gave it before its body was read; `None` where the
    /// limit was found passed by counting the bytes read.
    pub size: Option<u64>,
}

impl TooLarge {
    /// What went wrong, for a failure report: `what` (`input`, `analysis`) is over `limit`.
    pub fn describe(&self, what: &str, limit: u64) -> String {
        match self.size {
            Some(size) => format!("{what} is {size} bytes, over the limit of {limit}"),
            None => format!("{what} is over the limit of {limit} bytes"),
        }
    }
}

/// An object as read.
#[derive(Debug)]
pub struct Fetched {
    /// Its bytes, or [`TooLarge`].
    pub bytes: Result<Vec<u8>, TooLarge>,
    /// The version read: S3's entity tag (ETag); for a file, its identity, length and
    /// modification time. An object written again at the key has another version (on S3,
    /// unless it has the same bytes, which make the same outputs).
    pub version: String,
}

/// Objects by key: an S3 bucket, or a local folder.
pub trait ObjectStore: Send + Sync {
    /// The object's bytes, or [`TooLarge`] as soon as it is known to hold more than
    /// `max_bytes`: from the size the store gives with the object itself (so an object
    /// replaced by a larger one since it was announced is measured as it is read), and by
    /// counting what is read, which stops within a read of the limit (one byte past it for
    /// a file, one chunk of the transfer for S3).
    fn get(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Fetched, StoreError>> + Send;
    /// The version of the object now at `key` (as [`Fetched::version`]), without reading it;
    /// `None` when there is none (or, in a folder, what is there is not a file).
    fn version(&self, key: &str)
        -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Writes an object whole: readers see the old object or the new one, never a part.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Deletes an object; deleting a missing object is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The topics the suite publishes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Results: `photo.analyzed`, ...
    Events,
    /// Permanent failures: `photo.failed`, ...
    Failures,
}

/// Messages out: SNS topics, or local files.
pub trait Publisher: Send + Sync {
    /// Publishes one message on its topic.
    fn publish(&self, message: &Message) -> impl Future<Output = Result<(), PublishError>> + Send;
}
