//! `imaging-core`: the pure, synchronous heart of photo-suite.
//!
//! Bytes and typed options in, typed results out: no I/O, no async, no knowledge of buckets or
//! keys. The rendition job ([`render_renditions`]) decodes a photo once (JPEG with DCT
//! shrink-on-load), converts it to sRGB, resizes it in a Lanczos3 cascade, applies the EXIF
//! orientation and encodes metadata-free JPEGs. Limits are checked from the header before any
//! pixel is decoded. Print renders ([`render_print`]) cut one placement from the full-size
//! original at print resolution.
#![warn(missing_docs)]

mod alloc;
pub mod analysis;
mod color;
pub mod decode;
mod digest;
mod encode;
mod error;
pub mod format;
mod heif_coded;
mod jpeg_decode;
mod jpeg_markers;
mod limits;
pub mod metadata;
mod orient;
mod pixels;
pub mod print;
mod rendition;
pub mod resize;

pub use alloc::{
    peak_resident_bytes, resident_bytes, trim_memory_above, tune_allocator_for_images,
};
pub use decode::{decode, Decoded};
pub use digest::sha256_hex;
pub use encode::{encode_jpeg, encode_jpeg_with, Chroma};
pub use error::{ImagingError, Result};
pub use format::{check_extension, ImageFormat};
pub use limits::{LimitExceeded, Limits};
pub use metadata::{ExifFacts, Gps, Orientation};
pub use orient::apply_orientation;
pub use pixels::RgbImage;
pub use print::{check_print_options, render_print, PrintFormat, PrintOptions, PrintRender};
pub use rendition::{
    analyze, analyze_pixels, render_renditions, AnalysisImages, Crops, PhotoInfo, PixelAnalysis,
    Rendition, RenditionOptions, RenditionSet,
};
