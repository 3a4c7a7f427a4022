//! The rendition job: decode once, shrink on load, resize in a cascade, orient, encode.

use crate::analysis::colors::{dominant_colors, DominantColor};
use crate::analysis::quality::{assess, Quality};
use crate::decode::{decode, Decoded};
use crate::encode::encode_jpeg;
use crate::error::{ImagingError, Result};
use crate::format::ImageFormat;
use crate::limits::Limits;
use crate::metadata::Gps;
use crate::orient::apply_orientation;
use crate::pixels::RgbImage;
use crate::resize::{fit_within, Resizer};
use serde::Serialize;

/// What the rendition job makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenditionOptions {
    /// Longest side of each rendition, in pixels. Images are never upscaled.
    pub sizes: Vec<u32>,
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// Input limits.
    pub limits: Limits,
    /// Let JPEG decoding shrink by DCT scaling when the largest rendition is smaller.
    pub shrink_on_load: bool,
}

impl Default for RenditionOptions {
    fn default() -> Self {
        RenditionOptions {
            sizes: vec![2048, 1024, 256],
            quality: 85,
            limits: Limits::default(),
            shrink_on_load: true,
        }
    }
}

/// Facts about a photo, in its upright orientation: the `analysis/<key>.json` document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoInfo {
    /// Upright width of the original.
    pub width: u32,
    /// Upright height of the original.
    pub height: u32,
    /// The EXIF orientation that was applied (1..=8).
    pub orientation: u8,
    /// Container format.
    pub format: ImageFormat,
    /// Capture time, ISO 8601, with offset when the camera recorded one.
    pub taken_at: Option<String>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Position, or `null`.
    pub gps: Option<Gps>,
    /// Sharpness, exposure, noise and overall scores, judged at about 1024 px.
    pub quality: Quality,
    /// Up to 5 dominant colours, heaviest first.
    pub colors: Vec<DominantColor>,
}

/// Long side of the rendition that quality is judged on.
const QUALITY_SIDE: u32 = 1024;
/// Colours in the palette.
const PALETTE_SIZE: usize = 5;

impl PhotoInfo {
    /// The facts of `decoded`, with the pixel analysis of `for_quality` (an upright rendition
    /// of about 1024 px) and `for_colors` (the smallest upright rendition).
    fn of(decoded: &Decoded, for_quality: &RgbImage, for_colors: &RgbImage) -> Self {
        let (width, height) = decoded.upright_size();
        PhotoInfo {
            width,
            height,
            orientation: decoded.orientation.exif_value(),
            format: decoded.format,
            taken_at: decoded.exif.taken_at.clone(),
            make: decoded.exif.make.clone(),
            model: decoded.exif.model.clone(),
            gps: decoded.exif.gps,
            quality: assess(for_quality),
            colors: dominant_colors(for_colors, PALETTE_SIZE),
        }
    }
}

/// One encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendition {
    /// The requested longest side (the file is named after it).
    pub max_side: u32,
    /// Actual width.
    pub width: u32,
    /// Actual height.
    pub height: u32,
    /// The JPEG bytes.
    pub jpeg: Vec<u8>,
}

/// Everything the rendition job produced for one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct RenditionSet {
    /// Facts about the photo.
    pub info: PhotoInfo,
    /// Renditions, largest first.
    pub renditions: Vec<Rendition>,
    /// Problems that did not stop the job (e.g. broken EXIF, ignored).
    pub warnings: Vec<String>,
}

fn sizes_largest_first(sizes: &[u32]) -> Result<Vec<u32>> {
    if sizes.is_empty() || sizes.contains(&0) {
        return Err(ImagingError::Parameter(format!(
            "rendition sizes must be non-empty and positive, got {sizes:?}"
        )));
    }
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    Ok(sorted)
}

/// Makes the renditions of one photo: decoded once, each smaller size resized from the one
/// above it, all upright, sRGB and without metadata.
pub fn render_renditions(bytes: &[u8], options: &RenditionOptions) -> Result<RenditionSet> {
    let sizes = sizes_largest_first(&options.sizes)?;
    let min_long_side = options.shrink_on_load.then_some(sizes[0]);
    let mut decoded = decode(bytes, &options.limits, min_long_side)?;
    let (upright_w, upright_h) = decoded.upright_size();
    let orientation = decoded.orientation;

    let mut resizer = Resizer::default();
    let mut renditions = Vec::with_capacity(sizes.len());
    // Taken out, not copied: the decoded image is the largest buffer of the job.
    let mut current = std::mem::take(&mut decoded.image);
    let mut oriented = false;
    // The first rendition at or below QUALITY_SIDE is kept for the quality scores.
    let mut for_quality: Option<RgbImage> = None;
    for &max_side in &sizes {
        let (w, h) = fit_within(upright_w, upright_h, max_side);
        if !oriented {
            // Resize in stored orientation, then rotate the smaller result.
            let (sw, sh) = if orientation.swaps_dimensions() {
                (h, w)
            } else {
                (w, h)
            };
            if (current.width, current.height) != (sw, sh) {
                current = resizer.resize(&current, sw, sh)?;
            }
            current = apply_orientation(current, orientation);
            oriented = true;
        } else if (current.width, current.height) != (w, h) {
            current = resizer.resize(&current, w, h)?;
        }
        if for_quality.is_none() && max_side <= QUALITY_SIDE {
            for_quality = Some(current.clone());
        }
        renditions.push(Rendition {
            max_side,
            width: w,
            height: h,
            jpeg: encode_jpeg(&current, options.quality)?,
        });
    }
    let info = PhotoInfo::of(&decoded, for_quality.as_ref().unwrap_or(&current), &current);
    Ok(RenditionSet {
        info,
        renditions,
        warnings: decoded.warnings,
    })
}

/// Reads a photo's facts and analyses its pixels, from an upright rendition of
/// 1024 px made in memory (the same document as the rendition job writes).
pub fn analyze(bytes: &[u8], limits: &Limits) -> Result<(PhotoInfo, Vec<String>)> {
    let options = RenditionOptions {
        sizes: vec![QUALITY_SIDE, 256],
        limits: *limits,
        ..RenditionOptions::default()
    };
    let set = render_renditions(bytes, &options)?;
    Ok((set.info, set.warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_sorted_largest_first_and_validated() {
        assert_eq!(
            sizes_largest_first(&[256, 2048, 1024, 256]).ok(),
            Some(vec![2048, 1024, 256])
        );
        assert!(sizes_largest_first(&[]).is_err());
        assert!(sizes_largest_first(&[0, 10]).is_err());
    }
}
