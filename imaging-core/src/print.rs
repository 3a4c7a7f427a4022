//! Print renders: one placement (a crop of the upright original) at print resolution.
//!
//! Unlike renditions, a print render decodes the original at full size (no shrink-on-load),
//! crops the placement from the stored pixels (so only the crop is turned upright), resamples
//! it with Lanczos3 to the requested output size, turns it by the slot's quarter turns and
//! encodes it with an embedded sRGB profile: JPEG at 4:4:4 chroma (no subsampling for print) or
//! PNG. The same input and options always give the same bytes.

use crate::analysis::geometry::Rect;
use crate::decode::decode_checked;
use crate::encode::{encode_jpeg_with, Chroma};
use crate::error::{ImagingError, Result};
use crate::limits::Limits;
use crate::metadata::Orientation;
use crate::orient::apply_orientation;
use crate::pixels::RgbImage;
use crate::resize::Resizer;
use std::sync::OnceLock;

/// How far the output's aspect ratio may stray from the crop's (relative): beyond this the
/// picture would be visibly stretched, so the request is refused. In percent: exactly this
/// far apart passes.
pub const PRINT_RATIO_TOLERANCE_PERCENT: u8 = 1;

/// The file format of a print render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintFormat {
    /// Baseline JPEG, 4:4:4, at this quality (1..=100).
    Jpeg {
        /// JPEG quality.
        quality: u8,
    },
    /// Lossless 8-bit RGB PNG.
    Png,
}

impl PrintFormat {
    /// The file name extension (`jpg`, `png`).
    pub fn extension(&self) -> &'static str {
        match self {
            PrintFormat::Jpeg { .. } => "jpg",
            PrintFormat::Png => "png",
        }
    }

    /// The MIME type.
    pub fn content_type(&self) -> &'static str {
        match self {
            PrintFormat::Jpeg { .. } => "image/jpeg",
            PrintFormat::Png => "image/png",
        }
    }
}

/// What to render.
#[derive(Debug, Clone, PartialEq)]
pub struct PrintOptions {
    /// The crop, in the upright original's pixels; it must lie inside the photo.
    pub crop: Rect,
    /// Clockwise turn of the output in degrees: 0, 90, 180 or 270.
    pub turn: u16,
    /// Output width in pixels (after the turn).
    pub width: u32,
    /// Output height in pixels (after the turn).
    pub height: u32,
    /// Output format.
    pub format: PrintFormat,
    /// Limits on the input (checked from its header) and on the output size.
    pub limits: Limits,
}

/// A finished print render.
#[derive(Debug, Clone)]
pub struct PrintRender {
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// The encoded file.
    pub bytes: Vec<u8>,
    /// Problems that did not stop decoding (e.g. broken EXIF).
    pub warnings: Vec<String>,
    /// Upright size of the original.
    pub source_width: u32,
    /// Upright height of the original.
    pub source_height: u32,
}

/// Checks what can be checked of `options` without the photo: an output over the limits
/// ([`ImagingError::Limits`]), an empty crop, a turn that is not 0, 90, 180 or 270, an output
/// whose ratio differs from the crop's by more than [`PRINT_RATIO_TOLERANCE_PERCENT`] percent,
/// a JPEG quality outside 1..=100 ([`ImagingError::Parameter`]). A caller that must fetch the photo checks
/// these first; [`render_print`] checks them again.
pub fn check_print_options(options: &PrintOptions) -> Result<()> {
    checked_shape(options).map(|_| ())
}

/// The checks of [`check_print_options`]; gives the turn as an orientation and the output's
/// size before the turn, in the crop's frame.
fn checked_shape(options: &PrintOptions) -> Result<(Orientation, u32, u32)> {
    let turn = match options.turn {
        0 => Orientation::Normal,
        90 => Orientation::Rotate90,
        180 => Orientation::Rotate180,
        270 => Orientation::Rotate270,
        other => {
            return Err(ImagingError::Parameter(format!(
                "turn {other} is not 0, 90, 180 or 270"
            )))
        }
    };
    options
        .limits
        .check_dimensions(options.width, options.height)?;
    let crop = options.crop;
    if crop.width == 0 || crop.height == 0 {
        return Err(ImagingError::Parameter(format!(
            "empty crop {}x{}",
            crop.width, crop.height
        )));
    }
    // The output before the turn, in the crop's frame.
    let (out_w, out_h) = if turn.swaps_dimensions() {
        (options.height, options.width)
    } else {
        (options.width, options.height)
    };
    let a = u64::from(crop.width) * u64::from(out_h);
    let b = u64::from(crop.height) * u64::from(out_w);
    // Compared in integers: as a quotient in floating point, 2121:2100 (exactly 1%) came out
    // a hair over.
    let (big, small) = (u128::from(a.max(b)), u128::from(a.min(b)));
    if big * 100 > small * (100 + u128::from(PRINT_RATIO_TOLERANCE_PERCENT)) {
        let ratio_error = big as f64 / small as f64 - 1.0;
        return Err(ImagingError::Parameter(format!(
            "output {out_w}x{out_h} (before the turn) does not have the ratio of the crop {}x{} \
             ({:.2}% apart, at most {PRINT_RATIO_TOLERANCE_PERCENT}%)",
            crop.width,
            crop.height,
            ratio_error * 100.0,
        )));
    }
    if let PrintFormat::Jpeg { quality } = options.format {
        if !(1..=100).contains(&quality) {
            return Err(ImagingError::Parameter(format!(
                "JPEG quality {quality} is outside 1..=100"
            )));
        }
    }
    Ok((turn, out_w, out_h))
}

/// Renders `options.crop` of the photo in `bytes` at `options.width` x `options.height`.
///
/// Refused, before any pixel is decoded: what [`check_print_options`] refuses; once the header
/// (and the orientation) is read, still before any pixel is decoded, a crop that leaves the
/// upright photo ([`ImagingError::Parameter`]).
pub fn render_print(bytes: &[u8], options: &PrintOptions) -> Result<PrintRender> {
    let (turn, out_w, out_h) = checked_shape(options)?;
    let crop = options.crop;

    // The crop is checked from the header, before any pixel is decoded.
    let mut crop_fits = |upright_w: u32, upright_h: u32| {
        if crop.right_wide() > u64::from(upright_w) || crop.bottom_wide() > u64::from(upright_h) {
            return Err(ImagingError::Parameter(format!(
                "crop {}x{} at ({}, {}) leaves the {upright_w}x{upright_h} photo",
                crop.width, crop.height, crop.x, crop.y
            )));
        }
        Ok(())
    };
    let decoded = decode_checked(bytes, &options.limits, None, &mut crop_fits)?;
    let (upright_w, upright_h) = decoded.upright_size();
    // Again on what was decoded, should a decoder give other than its header said.
    crop_fits(upright_w, upright_h)?;
    let stored = stored_rect(
        decoded.orientation,
        decoded.image.width,
        decoded.image.height,
        crop,
    );
    let piece = apply_orientation(cut(&decoded.image, stored), decoded.orientation);
    drop(decoded.image);
    let resized = if (piece.width, piece.height) == (out_w, out_h) {
        piece
    } else {
        Resizer::default().resize(&piece, out_w, out_h)?
    };
    let image = apply_orientation(resized, turn);
    let bytes = match options.format {
        PrintFormat::Jpeg { quality } => {
            with_icc_segment(encode_jpeg_with(&image, quality, Chroma::Full)?)
        }
        PrintFormat::Png => encode_png(&image)?,
    };
    Ok(PrintRender {
        width: image.width,
        height: image.height,
        bytes,
        warnings: decoded.warnings,
        source_width: upright_w,
        source_height: upright_h,
    })
}

impl Rect {
    fn right_wide(&self) -> u64 {
        u64::from(self.x) + u64::from(self.width)
    }

    fn bottom_wide(&self) -> u64 {
        u64::from(self.y) + u64::from(self.height)
    }
}

/// The rectangle of the stored (`w` x `h`) pixels that becomes `upright` once orientation `o`
/// is applied. `upright` must lie inside the upright image.
fn stored_rect(o: Orientation, w: u32, h: u32, upright: Rect) -> Rect {
    let (x0, x1) = (upright.x, upright.x + upright.width);
    let (y0, y1) = (upright.y, upright.y + upright.height);
    // (stored x range, stored y range), from where each upright pixel is read (see
    // `apply_orientation`).
    let ((sx0, sx1), (sy0, sy1)) = match o {
        Orientation::Normal => ((x0, x1), (y0, y1)),
        Orientation::FlipHorizontal => ((w - x1, w - x0), (y0, y1)),
        Orientation::Rotate180 => ((w - x1, w - x0), (h - y1, h - y0)),
        Orientation::FlipVertical => ((x0, x1), (h - y1, h - y0)),
        Orientation::Transpose => ((y0, y1), (x0, x1)),
        Orientation::Rotate90 => ((y0, y1), (h - x1, h - x0)),
        Orientation::Transverse => ((w - y1, w - y0), (h - x1, h - x0)),
        Orientation::Rotate270 => ((w - y1, w - y0), (x0, x1)),
    };
    Rect {
        x: sx0,
        y: sy0,
        width: sx1 - sx0,
        height: sy1 - sy0,
    }
}

/// Copies `r` (inside the image) out of `image`.
fn cut(image: &RgbImage, r: Rect) -> RgbImage {
    let stride = image.width as usize * 3;
    let (x, w) = (r.x as usize * 3, r.width as usize * 3);
    let mut pixels = Vec::with_capacity(w * r.height as usize);
    for row in image
        .pixels
        .chunks_exact(stride)
        .skip(r.y as usize)
        .take(r.height as usize)
    {
        pixels.extend_from_slice(&row[x..x + w]);
    }
    RgbImage {
        width: r.width,
        height: r.height,
        pixels,
    }
}

/// The sRGB profile embedded in print renders, with a fixed creation date so the same render
/// always has the same bytes. `None` if lcms2 cannot write it (then no profile is embedded,
/// which readers take as sRGB anyway).
fn srgb_profile() -> Option<&'static [u8]> {
    static PROFILE: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    PROFILE
        .get_or_init(|| {
            let mut icc = lcms2::Profile::new_srgb().icc().ok()?;
            // Header bytes 24..36: creation date and time as six big-endian u16s.
            let date: [u16; 6] = [2026, 1, 1, 0, 0, 0];
            let header = icc.get_mut(24..36)?;
            for (slot, value) in header.chunks_exact_mut(2).zip(date) {
                slot.copy_from_slice(&value.to_be_bytes());
            }
            Some(icc)
        })
        .as_deref()
}

/// Inserts an APP2 `ICC_PROFILE` segment with the sRGB profile right after the JPEG's SOI.
fn with_icc_segment(jpeg: Vec<u8>) -> Vec<u8> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let Some(icc) = srgb_profile() else {
        return jpeg;
    };
    // One segment holds up to 65533 bytes after its length; the sRGB profile is about 3 KB.
    let length = 2 + TAG.len() + 2 + icc.len();
    let Ok(length) = u16::try_from(length) else {
        return jpeg;
    };
    if jpeg.get(..2) != Some(&[0xFF, 0xD8]) {
        return jpeg;
    }
    let mut out = Vec::with_capacity(jpeg.len() + usize::from(length) + 2);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE2]);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(TAG);
    out.extend_from_slice(&[1, 1]); // chunk 1 of 1
    out.extend_from_slice(icc);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn encode_png(image: &RgbImage) -> Result<Vec<u8>> {
    use image::ImageEncoder;
    let mut out = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
    if let Some(icc) = srgb_profile() {
        // PNG takes a profile; failing to attach it still leaves a valid sRGB file.
        let _ = encoder.set_icc_profile(icc.to_vec());
    }
    encoder
        .write_image(
            &image.pixels,
            image.width,
            image.height,
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| ImagingError::Encode(format!("PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| [x as u8, y as u8, (x * 7 + y * 3) as u8])
    }

    #[test]
    fn cropping_the_stored_pixels_then_orienting_equals_orienting_then_cropping() {
        let stored = gradient(7, 5);
        for value in 1..=8 {
            let o = Orientation::from_exif(value);
            let upright = apply_orientation(stored.clone(), o);
            for crop in [
                Rect {
                    x: 1,
                    y: 2,
                    width: 2,
                    height: 3,
                },
                Rect {
                    x: 0,
                    y: 0,
                    width: upright.width,
                    height: upright.height,
                },
            ] {
                let expected = cut(&upright, crop);
                let got = apply_orientation(
                    cut(&stored, stored_rect(o, stored.width, stored.height, crop)),
                    o,
                );
                assert_eq!(got, expected, "orientation {value}, {crop:?}");
            }
        }
    }

    #[test]
    fn bad_options_are_refused_before_decoding() {
        let base = PrintOptions {
            crop: Rect {
                x: 0,
                y: 0,
                width: 400,
                height: 300,
            },
            turn: 0,
            width: 800,
            height: 600,
            format: PrintFormat::Png,
            limits: Limits::default(),
        };
        // Not an image at all: each refusal below must come before the bytes are looked at.
        let junk = b"not an image";
        let refused = |o: PrintOptions| render_print(junk, &o).expect_err("refused");
        assert!(matches!(
            refused(PrintOptions {
                turn: 45,
                ..base.clone()
            }),
            ImagingError::Parameter(_)
        ));
        assert!(matches!(
            refused(PrintOptions {
                width: 800,
                height: 700,
                ..base.clone()
            }),
            ImagingError::Parameter(_)
        ));
        assert!(matches!(
            refused(PrintOptions {
                width: 40_000,
                height: 30_000,
                ..base.clone()
            }),
            ImagingError::Limits(_)
        ));
        // Exactly 1% off the crop's ratio passes (2121:2100 against 1:1), a hair more does
        // not: the options are checked, then the junk is found not to be an image.
        let square = |width: u32| PrintOptions {
            crop: Rect {
                x: 0,
                y: 0,
                width: 3036,
                height: 3036,
            },
            width,
            height: 2100,
            ..base.clone()
        };
        assert!(check_print_options(&square(2121)).is_ok());
        assert!(matches!(
            refused(square(2121)),
            ImagingError::Unsupported { .. }
        ));
        assert!(matches!(
            check_print_options(&square(2122)),
            Err(ImagingError::Parameter(_))
        ));
        // A quarter turn swaps the output's sides: 600x800 turned is the crop's 4:3.
        let turned = refused(PrintOptions {
            turn: 90,
            width: 600,
            height: 800,
            ..base.clone()
        });
        assert!(
            matches!(turned, ImagingError::Unsupported { .. }),
            "{turned}"
        );
    }

    #[test]
    fn a_crop_that_leaves_the_photo_is_refused_from_the_header() {
        let options = |crop: Rect| PrintOptions {
            crop,
            turn: 0,
            width: crop.width / 4,
            height: crop.height / 4,
            format: PrintFormat::Png,
            limits: Limits::default(),
        };
        let at = |y, width, height| Rect {
            x: 0,
            y,
            width,
            height,
        };
        // Cut in half, neither file's pixels can be decoded: only a refusal from the header
        // answers before the decode fails.
        // Stored 1800x1200 with EXIF orientation 6: upright 1200x1800.
        let jpeg =
            std::fs::read(test_support::photos_dir().join("exif-orientation/Portrait_6.jpg"))
                .expect("photo");
        let png = encode_png(&gradient(64, 48)).expect("encodes");
        for (bytes, (w, h)) in [(jpeg, (1200, 1800)), (png, (64, 48))] {
            let half = &bytes[..bytes.len() / 2];
            let inside = render_print(half, &options(at(0, w, h))).expect_err("truncated");
            assert_eq!(inside.kind(), "decode", "{inside}");
            let outside = render_print(half, &options(at(4, w, h))).expect_err("refused");
            assert!(
                matches!(&outside, ImagingError::Parameter(m) if m.ends_with(&format!("leaves the {w}x{h} photo"))),
                "{outside}"
            );
        }
    }

    #[test]
    fn the_embedded_profile_is_fixed_and_the_segment_follows_soi() {
        let icc = srgb_profile().expect("lcms2 writes sRGB");
        assert_eq!(&icc[36..40], b"acsp");
        assert_eq!(&icc[24..26], &2026u16.to_be_bytes());
        let jpeg = with_icc_segment(vec![0xFF, 0xD8, 0xFF, 0xD9]);
        assert_eq!(&jpeg[..4], &[0xFF, 0xD8, 0xFF, 0xE2]);
        assert_eq!(&jpeg[6..18], b"ICC_PROFILE\0");
        assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9]);
    }
}
