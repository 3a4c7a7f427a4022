//! The messages the suite publishes. Each is a JSON object with a `type`; large results stay
//! in the store and messages carry their keys (a claim check), well under SNS's 256 KB.

use crate::ports::Topic;
use imaging_core::PhotoInfo;
use serde::Serialize;

/// A message on one of the suite's topics.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Message {
    /// A photo's renditions and analysis are stored.
    #[serde(rename = "photo.analyzed")]
    PhotoAnalyzed(Box<PhotoAnalyzed>),
    /// A photo was refused for good (bad, hostile or over a limit); nothing was stored for it.
    #[serde(rename = "photo.failed")]
    PhotoFailed(PhotoFailed),
}

impl Message {
    /// The topic the message belongs on.
    pub fn topic(&self) -> Topic {
        match self {
            Message::PhotoAnalyzed(_) => Topic::Events,
            Message::PhotoFailed(_) => Topic::Failures,
        }
    }

    /// The message's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::PhotoAnalyzed(_) => "photo.analyzed",
            Message::PhotoFailed(_) => "photo.failed",
        }
    }

    /// The source key the message is about.
    pub fn key(&self) -> &str {
        match self {
            Message::PhotoAnalyzed(m) => &m.key,
            Message::PhotoFailed(m) => &m.key,
        }
    }
}

/// A stored rendition.
#[derive(Debug, Clone, Serialize)]
pub struct StoredRendition {
    /// Output key.
    pub key: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the JPEG.
    pub bytes: usize,
}

/// `photo.analyzed`: where the results are, and a summary.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoAnalyzed {
    /// Bucket of the upload (empty for a local folder).
    pub bucket: String,
    /// Key of the upload.
    pub key: String,
    /// Key of `analysis/K.json` in the output store.
    pub analysis_key: String,
    /// The renditions, largest first.
    pub renditions: Vec<StoredRendition>,
    /// The analysis itself (small: the full document is at `analysis_key`).
    pub summary: PhotoInfo,
}

/// `photo.failed`: which upload, and the typed reason.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoFailed {
    /// Bucket of the upload (empty for a local folder).
    pub bucket: String,
    /// Key of the upload.
    pub key: String,
    /// Error class: `unsupported`, `decode`, `limits`, `not_found`, `invalid_key`, ...
    pub kind: String,
    /// Human-readable reason.
    pub message: String,
}
