//! The messages the suite publishes. Each is a JSON object with a `type`; large results stay
//! in the store and messages carry their keys (a claim check), well under SNS's 256 KB: the
//! analysis they summarise keeps camera names short, and text that can echo an event or a
//! request (a refused key, an error's message) is cut at [`MAX_TEXT`] bytes.

use crate::ports::Topic;
use imaging_core::PhotoInfo;
use serde::{Serialize, Serializer};

/// Longest text a failure message carries in one field, in bytes: a longer key, bucket or
/// reason (a hostile event's, or an error quoting a request) is cut at a character boundary
/// and ends in `…`. An S3 key is at most 1,024 bytes, so a real key is never cut.
pub const MAX_TEXT: usize = 4096;

/// Serialises `text` cut to [`MAX_TEXT`] bytes.
fn clipped<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
    if text.len() <= MAX_TEXT {
        return serializer.serialize_str(text);
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    serializer.serialize_str(&format!("{}…", &text[..end]))
}

/// A message on one of the suite's topics.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Message {
    /// A photo's renditions and analysis are stored.
    #[serde(rename = "photo.analyzed")]
    PhotoAnalyzed(Box<PhotoAnalyzed>),
    /// A photo was refused for good (bad, hostile or over a limit); nothing is stored for it (but
    /// outputs the store refused to delete, which the message names).
    #[serde(rename = "photo.failed")]
    PhotoFailed(PhotoFailed),
    /// A book's layout is stored.
    #[serde(rename = "layout.ready")]
    LayoutReady(LayoutReady),
    /// A layout request was refused (malformed, unknown photos); nothing is stored (but a layout
    /// the store refused to delete, which the message names).
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
    /// Which upload at the key these outputs were made from: its S3 `ETag`, unquoted, as S3
    /// event records give it (`eTag`; not S3's `versionId`); for a file, its device, inode,
    /// length and modification time. It tells uploads apart, not which is newer: a consumer
    /// that has an event of another upload at the key knows these outputs are not of that one.
    pub etag: String,
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
    /// Bucket of the upload (empty for a local folder; cut at [`MAX_TEXT`]).
    #[serde(serialize_with = "clipped")]
    pub bucket: String,
    /// Key of the upload (cut at [`MAX_TEXT`]).
    #[serde(serialize_with = "clipped")]
    pub key: String,
    /// Which upload failed, as [`PhotoAnalyzed::etag`]; absent when no object was read nor
    /// described by the store (none at the key, a refused key or bucket).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Error class: `unsupported`, `decode`, `format_mismatch`, `limits`, `not_found`,
    /// `invalid_key`, `wrong_bucket`, ...
    pub kind: String,
    /// Human-readable reason (cut at [`MAX_TEXT`]).
    #[serde(serialize_with = "clipped")]
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
    /// SHA-256 of the original it was rendered from.
    pub sha256: String,
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
    /// Error class: of the request (`malformed_request`, `too_large`, `invalid_key`), of its
    /// photos (`unknown_photo`, `bad_analysis`; render: `not_found`, `input`, `photo_changed`,
    /// and the imaging errors `unsupported`, `decode`, `format_mismatch`, `limits`,
    /// `parameter`, `encode`), or of the store (`output`).
    pub kind: String,
    /// Human-readable reason (cut at [`MAX_TEXT`]).
    #[serde(serialize_with = "clipped")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SNS's limit on a message, in bytes.
    const SNS_LIMIT: usize = 256 * 1024;

    #[test]
    fn failures_that_echo_hostile_text_stay_within_what_sns_takes() {
        // Control characters: six bytes each in JSON.
        let hostile = "\u{1}".repeat(1_000_000);
        let failed = Message::PhotoFailed(PhotoFailed {
            bucket: hostile.clone(),
            key: format!("uploads/{hostile}"),
            etag: None,
            kind: "invalid_key".into(),
            message: format!("{hostile:?}"),
        });
        let body = serde_json::to_string(&failed).expect("serialises");
        assert!(body.len() < SNS_LIMIT / 4, "{} bytes", body.len());
        let value: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let key = value["key"].as_str().expect("key");
        assert!(
            key.starts_with("uploads/\u{1}") && key.ends_with('…'),
            "{key:.20}"
        );
        assert_eq!(key.len(), MAX_TEXT + '…'.len_utf8());

        let failed = Message::LayoutFailed(RequestFailed {
            request_id: None,
            kind: "malformed_request".into(),
            message: "é".repeat(300_000),
        });
        let body = serde_json::to_string(&failed).expect("serialises");
        let value: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        let message = value["message"].as_str().expect("message");
        // 2048 two-byte characters: byte 4096 is a boundary.
        assert_eq!(message, format!("{}…", "é".repeat(MAX_TEXT / 2)));
        // One byte more in front: byte 4096 falls inside a character, cut before it.
        let failed = Message::RenderFailed(RequestFailed {
            request_id: None,
            kind: "malformed_request".into(),
            message: format!("a{}", "é".repeat(300_000)),
        });
        let value = serde_json::to_value(&failed).expect("serialises");
        let expected = format!("a{}…", "é".repeat(MAX_TEXT / 2 - 1));
        assert_eq!(value["message"].as_str(), Some(expected.as_str()));
    }

    #[test]
    fn text_within_the_limit_is_kept_whole() {
        let key = format!("uploads/{}.jpg", "k".repeat(1012));
        let failed = Message::PhotoFailed(PhotoFailed {
            bucket: "b".into(),
            key: key.clone(),
            etag: Some("0123456789abcdef0123456789abcdef".into()),
            kind: "decode".into(),
            message: "m".repeat(MAX_TEXT),
        });
        let value = serde_json::to_value(&failed).expect("serialises");
        assert_eq!(value["key"], key.as_str());
        assert_eq!(value["etag"], "0123456789abcdef0123456789abcdef");
        assert_eq!(value["message"].as_str().map(str::len), Some(MAX_TEXT));
    }
}
