//! The in-memory picture every step works on: 8-bit sRGB, 3 bytes a pixel, no padding.

/// An 8-bit RGB image, row-major, tightly packed. The default is the empty 0x0 image.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

impl std::fmt::Debug for RgbImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RgbImage({}x{})", self.width, self.height)
    }
}

impl RgbImage {
    /// Wraps packed RGB bytes; `None` when the length does not match the size.
    pub fn from_raw(width: u32, height: u32, pixels: Vec<u8>) -> Option<Self> {
        (pixels.len() as u64 == u64::from(width) * u64::from(height) * 3).then_some(RgbImage {
            width,
            height,
            pixels,
        })
    }

    /// An image of `width` x `height` whose pixel at (`x`, `y`) is `pixel(x, y)`, called in
    /// row-major order.
    pub fn from_fn(width: u32, height: u32, mut pixel: impl FnMut(u32, u32) -> [u8; 3]) -> Self {
        let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
        for y in 0..height {
            for x in 0..width {
                pixels.extend(pixel(x, y));
            }
        }
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    /// Expands 1-byte grey pixels to RGB.
    pub(crate) fn from_gray(width: u32, height: u32, gray: &[u8]) -> Self {
        let pixels = gray.iter().flat_map(|&g| [g, g, g]).collect();
        RgbImage {
            width,
            height,
            pixels,
        }
    }

    /// Flattens RGBA on a white background, in the RGBA buffer itself (a 100-MP photo would
    /// otherwise hold its RGBA and its RGB copy at once: 700 MB).
    pub(crate) fn from_rgba_on_white(width: u32, height: u32, mut rgba: Vec<u8>) -> Self {
        let count = rgba.len() / 4;
        for i in 0..count {
            // Pixel i is written to 3i..3i+3, below 4(i+1) where the next one is read from.
            let p = &rgba[4 * i..4 * i + 4];
            let rgb = [p[0], p[1], p[2]].map(|c| on_white(c, p[3]));
            rgba[3 * i..3 * i + 3].copy_from_slice(&rgb);
        }
        rgba.truncate(3 * count);
        rgba.shrink_to_fit();
        RgbImage {
            width,
            height,
            pixels: rgba,
        }
    }
}

/// A sample of coverage `alpha` (0..255) over white, rounded.
pub(crate) fn on_white(sample: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    ((u32::from(sample) * a + 255 * (255 - a) + 127) / 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_pixels_become_white_and_opaque_ones_keep_their_colour() {
        let img = RgbImage::from_rgba_on_white(2, 1, vec![10, 20, 30, 0, 10, 20, 30, 255]);
        assert_eq!(img.pixels, vec![255, 255, 255, 10, 20, 30]);
        let rgba = vec![200, 100, 0, 128, 1, 2, 3, 255, 9, 9, 9, 0];
        let img = RgbImage::from_rgba_on_white(3, 1, rgba);
        assert_eq!(img.pixels, vec![227, 177, 127, 1, 2, 3, 255, 255, 255]);
    }

    #[test]
    fn from_raw_checks_the_length() {
        assert!(RgbImage::from_raw(2, 2, vec![0; 12]).is_some());
        assert!(RgbImage::from_raw(2, 2, vec![0; 11]).is_none());
    }
}
