//! The rendition job: decode once, shrink on load, resize in a cascade, orient, encode.

use crate::analysis::colors::{dominant_colors, DominantColor};
use crate::analysis::crop::{best_crop, AspectRatio};
use crate::analysis::faces::{detect_faces, Face, FACE_DETECTION_SIDE};
use crate::analysis::geometry::{Point, Rect};
use crate::analysis::quality::{assess, Quality};
use crate::analysis::roi::{region_of_interest, Roi, ROI_SIDE};
use crate::analysis::signature::{signature, Signature};
use crate::decode::{decode, Decoded};
use crate::digest::sha256_hex;
use crate::encode::encode_jpeg;
use crate::error::{ImagingError, Result};
use crate::format::ImageFormat;
use crate::limits::Limits;
use crate::metadata::Gps;
use crate::orient::apply_orientation;
use crate::pixels::RgbImage;
use crate::resize::{fit_within, Resizer};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

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
    /// Analyse the pixels (faces, quality, subject, crops, colours, signature). Off, the job
    /// makes only the requested renditions and [`PhotoInfo::analysis`] is `None`: what the
    /// benchmarks against rendition-only peers time.
    pub analyze_pixels: bool,
}

impl Default for RenditionOptions {
    fn default() -> Self {
        RenditionOptions {
            sizes: vec![2048, 1024, 256],
            quality: 85,
            limits: Limits::default(),
            shrink_on_load: true,
            analyze_pixels: true,
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
    /// SHA-256 of the original's bytes, 64 lowercase hex digits (as `sha256sum` prints it):
    /// names exactly the file these facts are of, so a layout or render can tell whether the
    /// photo at a key is still that one.
    pub sha256: String,
    /// Capture time, ISO 8601, with offset when the camera recorded one.
    pub taken_at: Option<String>,
    /// Camera maker.
    pub make: Option<String>,
    /// Camera model.
    pub model: Option<String>,
    /// Position, or `null`.
    pub gps: Option<Gps>,
    /// What the pixels say: faces, quality, subject, crops, colours, signature (`None` only
    /// when [`RenditionOptions::analyze_pixels`] is off).
    #[serde(flatten)]
    pub analysis: Option<PixelAnalysis>,
}

/// Long side of the rendition that quality is judged on.
const QUALITY_SIDE: u32 = 1024;
/// Long side of the rendition that colours, the signature and the region of interest are
/// computed from.
const SMALL_SIDE: u32 = 256;
/// Colours in the palette.
const PALETTE_SIZE: usize = 5;

/// The chain of renditions the pixel analysis reads, largest first: each is resized from the one
/// before it (the first from the decoded image). Requested sizes off the chain are resized from
/// the next larger link and never feed another rendition, so the analysis is the same for any
/// requested sizes up to the first link (larger ones decode more pixels, which changes it a little).
const ANALYSIS_CHAIN: [u32; 3] = [FACE_DETECTION_SIDE, QUALITY_SIDE, SMALL_SIDE];
const _: () = assert!(FACE_DETECTION_SIDE > QUALITY_SIDE && ROI_SIDE == SMALL_SIDE);

/// What the pixels of a photo say, in the pixels of its upright original.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PixelAnalysis {
    /// Faces, most confident first (found on the 2048-px rendition).
    pub faces: Vec<Face>,
    /// Sharpness, exposure, noise and overall scores, judged at about 1024 px.
    pub quality: Quality,
    /// The region that holds the subject.
    pub roi: Rect,
    /// Where a crop should centre.
    pub focal_point: Point,
    /// The best crop for each named ratio.
    pub crops: Crops,
    /// Up to 5 dominant colours, heaviest first.
    pub colors: Vec<DominantColor>,
    /// Near-duplicate signature (see [`crate::analysis::signature`]), judged at 256 px.
    pub signature: Signature,
}

/// The best crop per aspect ratio, serialised as a map from `"w:h"` to the rectangle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crops(pub Vec<(AspectRatio, Rect)>);

impl Serialize for Crops {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (ratio, rect) in &self.0 {
            map.serialize_entry(&ratio.to_string(), rect)?;
        }
        map.end()
    }
}

/// The upright renditions that the pixel analysis reads (see [`analyze_pixels`]).
#[derive(Debug, Clone, Default)]
pub struct AnalysisImages {
    /// At [`FACE_DETECTION_SIDE`] (2048 px) long side, or the original size if smaller.
    pub large: RgbImage,
    /// At 1024 px, or the original size if smaller.
    pub medium: RgbImage,
    /// At 256 px, or the original size if smaller.
    pub small: RgbImage,
}

impl AnalysisImages {
    /// Keeps a copy of `image`, the cascade's rendition at `side`, if the analysis reads it.
    fn keep(&mut self, side: u32, image: &RgbImage) {
        match side {
            FACE_DETECTION_SIDE => self.large = image.clone(),
            QUALITY_SIDE => self.medium = image.clone(),
            SMALL_SIDE => self.small = image.clone(),
            _ => {}
        }
    }
}

/// Analyses the pixels of a photo whose upright original is `width` x `height`, from its
/// analysis renditions: faces on the large one, quality on the medium one, region of interest,
/// colours and signature on the small one, crops at the original size. Every position in the
/// result is in the original's pixels.
pub fn analyze_pixels(images: &AnalysisImages, width: u32, height: u32) -> PixelAnalysis {
    let original = (width, height);
    let large = (images.large.width, images.large.height);
    let small = (images.small.width, images.small.height);
    let faces: Vec<Face> = detect_faces(&images.large)
        .into_iter()
        .map(|face| {
            let rect = face.rect().rescale(large, original);
            Face {
                x: rect.x,
                y: rect.y,
                width: rect.width,
                height: rect.height,
                confidence: face.confidence,
            }
        })
        .collect();
    let face_rects: Vec<Rect> = faces.iter().map(Face::rect).collect();
    let small_faces: Vec<Rect> = face_rects
        .iter()
        .map(|r| r.rescale(original, small))
        .collect();
    let found = region_of_interest(&images.small, &small_faces);
    let roi = Roi {
        rect: found.rect.rescale(small, original),
        focal_point: found.focal_point.rescale(small, original),
    };
    let crops = AspectRatio::named()
        .into_iter()
        .map(|ratio| (ratio, best_crop(width, height, ratio, &face_rects, &roi)))
        .collect();
    PixelAnalysis {
        faces,
        quality: assess(&images.medium),
        roi: roi.rect,
        focal_point: roi.focal_point,
        crops: Crops(crops),
        colors: dominant_colors(&images.small, PALETTE_SIZE),
        signature: signature(&images.small),
    }
}

impl PhotoInfo {
    /// The facts of `decoded` (decoded from `bytes`), with the pixel analysis of its analysis
    /// renditions.
    fn of(bytes: &[u8], decoded: &Decoded, images: Option<&AnalysisImages>) -> Self {
        let (width, height) = decoded.upright_size();
        PhotoInfo {
            width,
            height,
            orientation: decoded.orientation.exif_value(),
            format: decoded.format,
            sha256: sha256_hex(bytes),
            taken_at: decoded.exif.taken_at.clone(),
            make: decoded.exif.make.clone(),
            model: decoded.exif.model.clone(),
            gps: decoded.exif.gps,
            analysis: images.map(|images| analyze_pixels(images, width, height)),
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
    // Without pixel analysis, the requested sizes are the chain.
    let chain: &[u32] = if options.analyze_pixels {
        &ANALYSIS_CHAIN
    } else {
        &requested
    };
    let mut cascade = requested.clone();
    cascade.extend(chain);
    let cascade = sizes_largest_first(&cascade)?;
    let min_long_side = options.shrink_on_load.then_some(cascade[0]);
    let mut decoded = decode(bytes, &options.limits, min_long_side)?;
    let (upright_w, upright_h) = decoded.upright_size();
    let orientation = decoded.orientation;

    let mut resizer = Resizer::default();
    let mut renditions = Vec::with_capacity(requested.len());
    // With pixel analysis, every side of ANALYSIS_CHAIN is in the cascade, so each field is
    // filled below.
    let mut analysis = AnalysisImages::default();
    // The image the next size is resized from: the decoded one (stored orientation) until the
    // first link of the chain is made, then the latest link. Taken out, not copied: the decoded
    // image is the largest buffer of the job.
    let mut source = std::mem::take(&mut decoded.image);
    let mut source_is_upright = false;
    for &max_side in &cascade {
        let (w, h) = fit_within(upright_w, upright_h, max_side);
        let is_link = chain.contains(&max_side);
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
            if options.analyze_pixels {
                analysis.keep(max_side, &image);
            }
            source = image;
            source_is_upright = true;
        }
    }
    let info = PhotoInfo::of(bytes, &decoded, options.analyze_pixels.then_some(&analysis));
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
