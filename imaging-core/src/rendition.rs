//! The rendition job: decode once, shrink on load, resize in a cascade, orient, encode.

use crate::analysis::colors::{dominant_colors, DominantColor};
use crate::analysis::quality::{assess, Quality};
use crate::analysis::signature::{signature, Signature};
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
    /// Near-duplicate signature (see [`crate::analysis::signature`]), judged at 256 px.
    pub signature: Signature,
}

/// Long side of the rendition that quality is judged on.
const QUALITY_SIDE: u32 = 1024;
/// Long side of the rendition that colours and the signature are computed from.
const SMALL_SIDE: u32 = 256;
/// Colours in the palette.
const PALETTE_SIZE: usize = 5;

/// The chain of renditions the pixel analysis reads, largest first: each is resized from the one
/// before it (the first from the decoded image). Requested sizes off the chain are resized from
/// the next larger link and never feed another rendition, so the analysis is the same for any
/// requested sizes up to the first link (larger ones decode more pixels, which changes it a little).
const ANALYSIS_CHAIN: [u32; 3] = [2048, QUALITY_SIDE, SMALL_SIDE];

/// The upright renditions that the pixel analysis reads.
#[derive(Default)]
struct AnalysisImages {
    /// At [`QUALITY_SIDE`].
    quality: RgbImage,
    /// At [`SMALL_SIDE`].
    small: RgbImage,
}

impl AnalysisImages {
    /// Keeps a copy of `image`, the cascade's rendition at `side`, if the analysis reads it.
    fn keep(&mut self, side: u32, image: &RgbImage) {
        match side {
            QUALITY_SIDE => self.quality = image.clone(),
            SMALL_SIDE => self.small = image.clone(),
            _ => {}
        }
    }
}

impl PhotoInfo {
    /// The facts of `decoded`, with the pixel analysis of its analysis renditions.
    fn of(decoded: &Decoded, images: &AnalysisImages) -> Self {
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
            quality: assess(&images.quality),
            colors: dominant_colors(&images.small, PALETTE_SIZE),
            signature: signature(&images.small),
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
    let requested = sizes_largest_first(&options.sizes)?;
    let mut cascade = requested.clone();
    cascade.extend(ANALYSIS_CHAIN);
    let cascade = sizes_largest_first(&cascade)?;
    let min_long_side = options.shrink_on_load.then_some(cascade[0]);
    let mut decoded = decode(bytes, &options.limits, min_long_side)?;
    let (upright_w, upright_h) = decoded.upright_size();
    let orientation = decoded.orientation;

    let mut resizer = Resizer::default();
    let mut renditions = Vec::with_capacity(requested.len());
    // Every side of ANALYSIS_CHAIN is in the cascade, so each field is filled below.
    let mut analysis = AnalysisImages::default();
    // The image the next size is resized from: the decoded one (stored orientation) until the
    // first link of the chain is made, then the latest link. Taken out, not copied: the decoded
    // image is the largest buffer of the job.
    let mut source = std::mem::take(&mut decoded.image);
    let mut source_is_upright = false;
    for &max_side in &cascade {
        let (w, h) = fit_within(upright_w, upright_h, max_side);
        let is_link = ANALYSIS_CHAIN.contains(&max_side);
        // An image already at the target size is reused: moved when it is a link (the source
        // is replaced by it anyway), copied otherwise.
        let reuse = |source: &mut RgbImage| {
            if is_link {
                std::mem::take(source)
            } else {
                source.clone()
            }
        };
        let image = if source_is_upright {
            if (source.width, source.height) == (w, h) {
                reuse(&mut source)
            } else {
                resizer.resize(&source, w, h)?
            }
        } else {
            // Resize in stored orientation, then rotate the smaller result.
            let (sw, sh) = if orientation.swaps_dimensions() {
                (h, w)
            } else {
                (w, h)
            };
            let resized = if (source.width, source.height) == (sw, sh) {
                reuse(&mut source)
            } else {
                resizer.resize(&source, sw, sh)?
            };
            apply_orientation(resized, orientation)
        };
        if requested.contains(&max_side) {
            renditions.push(Rendition {
                max_side,
                width: w,
                height: h,
                jpeg: encode_jpeg(&image, options.quality)?,
            });
        }
        if is_link {
            analysis.keep(max_side, &image);
            source = image;
            source_is_upright = true;
        }
    }
    let info = PhotoInfo::of(&decoded, &analysis);
    Ok(RenditionSet {
        info,
        renditions,
        warnings: decoded.warnings,
    })
}

/// Reads a photo's facts and analyses its pixels, from upright renditions made in memory
/// (the same document as the rendition job writes).
pub fn analyze(bytes: &[u8], limits: &Limits) -> Result<(PhotoInfo, Vec<String>)> {
    let options = RenditionOptions {
        sizes: vec![SMALL_SIDE],
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
