//! High-quality downscaling (Lanczos3, SIMD) with a reusable resizer.

use crate::error::{ImagingError, Result};
use crate::pixels::RgbImage;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions};

/// The size that fits `(width, height)` within `max_side` on its long side, never upscaled.
pub fn fit_within(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let scale = |v: u32| {
        let scaled = (u64::from(v) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        (scaled as u32).max(1)
    };
    (scale(width), scale(height))
}

/// Resizes with Lanczos3, keeping its scratch buffers between calls.
pub struct Resizer {
    inner: fast_image_resize::Resizer,
}

impl std::fmt::Debug for Resizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resizer")
    }
}

impl Default for Resizer {
    fn default() -> Self {
        Resizer {
            inner: fast_image_resize::Resizer::new(),
        }
    }
}

impl Resizer {
    /// Returns `src` resized to exactly `width` x `height`.
    pub fn resize(&mut self, src: &RgbImage, width: u32, height: u32) -> Result<RgbImage> {
        let err = |e: &dyn std::fmt::Display| ImagingError::Parameter(format!("resize: {e}"));
        let source = ImageRef::new(src.width, src.height, &src.pixels, PixelType::U8x3)
            .map_err(|e| err(&e))?;
        let mut dst = Image::new(width, height, PixelType::U8x3);
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
        self.inner
            .resize(&source, &mut dst, &options)
            .map_err(|e| err(&e))?;
        Ok(RgbImage {
            width,
            height,
            pixels: dst.into_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_the_long_side_and_never_upscales() {
        assert_eq!(fit_within(6000, 4000, 2048), (2048, 1365));
        assert_eq!(fit_within(4000, 6000, 1024), (683, 1024));
        assert_eq!(fit_within(1800, 1200, 2048), (1800, 1200));
        assert_eq!(fit_within(5460, 2, 256), (256, 1));
    }

    #[test]
    fn a_flat_colour_stays_flat() {
        let src = RgbImage::from_raw(40, 20, [10u8, 200, 30].repeat(800)).expect("size");
        let out = Resizer::default().resize(&src, 10, 5).expect("resize");
        assert_eq!((out.width, out.height), (10, 5));
        assert!(out.pixels.chunks_exact(3).all(|p| p == [10, 200, 30]));
    }
}
