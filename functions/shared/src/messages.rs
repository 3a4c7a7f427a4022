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
    /// A book's layout is stored.
    #[serde(rename = "layout.ready")]
    LayoutReady(LayoutReady),
    /// A layout request was refused (malformed, unknown photos); nothing was stored.
    #[serde(rename = "layout.failed")]
    LayoutFailed(RequestFailed),
    /// A print render is stored.
    #[serde(rename = "render.done")]
    RenderDone(RenderDone),
    /// A render request was refused (malformed, crop outside the photo, over the limits).
    #[serde(rename = "render.failed")]
    RenderFailed(RequestFailed),
}

impl Message {
    /// The topic the message belongs on.
    pub fn topic(&self) -> Topic {
        match self {
            Message::PhotoAnalyzed(_) | Message::LayoutReady(_) | Message::RenderDone(_) => {
                Topic::Events
            }
            Message::PhotoFailed(_) | Message::LayoutFailed(_) | Message::RenderFailed(_) => {
                Topic::Failures
            }
        }
    }

    /// The message's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::PhotoAnalyzed(_) => "photo.analyzed",
            Message::PhotoFailed(_) => "photo.failed",
            Message::LayoutReady(_) => "layout.ready",
            Message::LayoutFailed(_) => "layout.failed",
            Message::RenderDone(_) => "render.done",
            Message::RenderFailed(_) => "render.failed",
        }
    }

    /// What the message is about: the photo's key, or the request's id.
    pub fn key(&self) -> &str {
        match self {
            Message::PhotoAnalyzed(m) => &m.key,
            Message::PhotoFailed(m) => &m.key,
            Message::LayoutReady(m) => &m.request_id,
            Message::RenderDone(m) => &m.request_id,
            Message::LayoutFailed(m) | Message::RenderFailed(m) => {
                m.request_id.as_deref().unwrap_or("")
            }
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
    /// Error class: `unsupported`, `decode`, `format_mismatch`, `limits`, `not_found`,
    /// `invalid_key`, `wrong_bucket`, ...
    pub kind: String,
    /// Human-readable reason.
    pub message: String,
}

/// `layout.ready`: where the layout is (a claim check), and a summary.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutReady {
    /// The request's id.
    pub request_id: String,
    /// The book.
    pub book_id: String,
    /// Key of `layouts/<book_id>/<request_id>.json` in the output store.
    pub layout_key: String,
    /// Photos in the request.
    pub photos: usize,
    /// Photos selected.
    pub selected: usize,
    /// Slots in the book.
    pub slots: usize,
    /// Slots filled.
    pub filled: usize,
    /// Filled slots that print `low`.
    pub low_dpi_slots: usize,
    /// Near-duplicate groups found.
    pub duplicate_groups: usize,
    /// Events found.
    pub events: usize,
}

/// `render.done`: where the print file is.
#[derive(Debug, Clone, Serialize)]
pub struct RenderDone {
    /// The request's id.
    pub request_id: String,
    /// The photo's key.
    pub photo: String,
    /// Key of the file under `renders/` in the output store.
    pub render_key: String,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// `jpeg` or `png`.
    pub format: &'static str,
    /// Size of the file.
    pub bytes: usize,
}

/// `layout.failed` or `render.failed`: which request, and the typed reason.
#[derive(Debug, Clone, Serialize)]
pub struct RequestFailed {
    /// The request's id (`null` when it could not be read).
    pub request_id: Option<String>,
    /// Error class: `malformed_request`, `too_large`, `invalid_key`, `unknown_photo`,
    /// `not_found`, `decode`, `limits`, `parameter`, ...
    pub kind: String,
    /// Human-readable reason.
    pub message: String,
}
