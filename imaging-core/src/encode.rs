//! JPEG output: quality 85, 4:2:0, no metadata at all (no EXIF, no GPS, no ICC: it is sRGB).

use crate::error::{ImagingError, Result};
use crate::pixels::RgbImage;

/// Chroma resolution of a JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chroma {
    /// 4:2:0: colour at half resolution both ways (renditions: smaller, invisible on screens).
    Half,
    /// 4:4:4: colour at full resolution (print renders).
    Full,
}

/// Encodes an sRGB image as a baseline JPEG with 4:2:0 chroma subsampling.
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    encode_jpeg_with(image, quality, Chroma::Half)
}

/// Encodes an sRGB image as a baseline JPEG with the given chroma resolution, no metadata.
pub fn encode_jpeg_with(image: &RgbImage, quality: u8, chroma: Chroma) -> Result<Vec<u8>> {
    if !(1..=100).contains(&quality) {
        return Err(ImagingError::Parameter(format!(
            "JPEG quality {quality} is outside 1..=100"
        )));
    }
    let err = |e: turbojpeg::Error| ImagingError::Encode(e.to_string());
    let mut compressor = turbojpeg::Compressor::new().map_err(err)?;
    compressor.set_quality(i32::from(quality)).map_err(err)?;
    compressor
        .set_subsamp(match chroma {
            Chroma::Half => turbojpeg::Subsamp::Sub2x2,
            Chroma::Full => turbojpeg::Subsamp::None,
        })
        .map_err(err)?;
    let width = image.width as usize;
    let view = turbojpeg::Image {
        pixels: image.pixels.as_slice(),
        width,
        pitch: width * 3,
        height: image.height as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    compressor.compress_to_vec(view).map_err(err)
}
