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

    /// Flattens RGBA on a white background.
    pub(crate) fn from_rgba_on_white(width: u32, height: u32, rgba: &[u8]) -> Self {
        let pixels = rgba
            .chunks_exact(4)
            .flat_map(|p| {
                let a = u32::from(p[3]);
                let blend = |c: u8| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
                [blend(p[0]), blend(p[1]), blend(p[2])]
            })
            .collect();
        RgbImage {
            width,
            height,
            pixels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transparent_pixels_become_white_and_opaque_ones_keep_their_colour() {
        let img = RgbImage::from_rgba_on_white(2, 1, &[10, 20, 30, 0, 10, 20, 30, 255]);
        assert_eq!(img.pixels, vec![255, 255, 255, 10, 20, 30]);
    }

    #[test]
    fn from_raw_checks_the_length() {
        assert!(RgbImage::from_raw(2, 2, vec![0; 12]).is_some());
        assert!(RgbImage::from_raw(2, 2, vec![0; 11]).is_none());
    }
}
