//! Typed errors: every failure names its class, and the class decides who sees it and how.

use crate::format::ImageFormat;
use crate::limits::LimitExceeded;

/// Why an image could not be turned into renditions or analysis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImagingError {
    /// The bytes are not an image format this crate reads.
    #[error("unsupported format: {format}")]
    Unsupported {
        /// What the bytes look like (`"unknown"` when nothing matched).
        format: String,
    },
    /// The format is known but its data is corrupt or truncated.
    #[error("cannot decode {format}: {message}")]
    Decode {
        /// The format that was being decoded.
        format: ImageFormat,
        /// What the decoder reported.
        message: String,
    },
    /// The data is an image, but not in the format its file name's extension names.
    #[error("the file name says .{extension}, but the data is {found}")]
    Mismatch {
        /// The extension, as written in the file name.
        extension: String,
        /// What the bytes are.
        found: ImageFormat,
    },
    /// A limit was exceeded; checked from the header, before pixels are decoded.
    #[error(transparent)]
    Limits(#[from] LimitExceeded),
    /// The caller asked for something impossible (e.g. a rendition size of 0).
    #[error("invalid parameter: {0}")]
    Parameter(String),
    /// Encoding an output failed.
    #[error("cannot encode JPEG: {0}")]
    Encode(String),
}

impl ImagingError {
    /// A short, stable name of the error class, used in failure records and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ImagingError::Unsupported { .. } => "unsupported",
            ImagingError::Decode { .. } => "decode",
            ImagingError::Mismatch { .. } => "format_mismatch",
            ImagingError::Limits(_) => "limits",
            ImagingError::Parameter(_) => "parameter",
            ImagingError::Encode(_) => "encode",
        }
    }

    pub(crate) fn decode(format: ImageFormat, message: impl std::fmt::Display) -> Self {
        ImagingError::Decode {
            format,
            message: message.to_string(),
        }
    }
}

/// Result with [`ImagingError`].
pub type Result<T> = std::result::Result<T, ImagingError>;
