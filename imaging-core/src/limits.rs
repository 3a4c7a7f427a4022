//! Limits on input size and dimensions, checked from the header before any pixel is decoded.

/// Bounds an input must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_input_bytes: u64,
    /// Largest accepted width x height.
    pub max_pixels: u64,
    /// Largest accepted width or height.
    pub max_side: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 64 * 1024 * 1024,
            max_pixels: 100_000_000,
            max_side: 30_000,
        }
    }
}

/// A limit that an input exceeded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitExceeded {
    /// The input has more bytes than allowed.
    #[error("input is {actual} bytes, over the limit of {limit}")]
    InputBytes {
        /// Size of the input.
        actual: u64,
        /// The limit.
        limit: u64,
    },
    /// The image declares more pixels than allowed.
    #[error("image is {width}x{height} = {pixels} pixels, over the limit of {limit}")]
    Pixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// width x height.
        pixels: u64,
        /// The limit.
        limit: u64,
    },
    /// A side is longer than allowed.
    #[error("image is {width}x{height}, a side over the limit of {limit}")]
    Side {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit.
        limit: u32,
    },
    /// A decoder found it would have to allocate more than the limits allow.
    #[error("decoding would exceed the memory limit: {0}")]
    Allocation(String),
    /// Over a decoder's own bounds (libheif's: a side over 32,768, too many items).
    #[error("over the decoder's bounds: {0}")]
    Decoder(String),
    /// A progressive JPEG has more scans than a decode is allowed to make: each scan is a pass
    /// over the whole image, so a small file of many tiny scans takes minutes.
    #[error("the JPEG has {scans} scans, over the limit of {limit}")]
    Scans {
        /// Scans counted (at least).
        scans: usize,
        /// The limit.
        limit: usize,
    },
    /// The image declares a zero width or height.
    #[error("image declares an empty size {width}x{height}")]
    Empty {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
}

impl Limits {
    /// Checks the size of the input in bytes.
    pub fn check_bytes(&self, len: u64) -> Result<(), LimitExceeded> {
        if len > self.max_input_bytes {
            return Err(LimitExceeded::InputBytes {
                actual: len,
                limit: self.max_input_bytes,
            });
        }
        Ok(())
    }

    /// Checks declared dimensions.
    pub fn check_dimensions(&self, width: u32, height: u32) -> Result<(), LimitExceeded> {
        if width == 0 || height == 0 {
            return Err(LimitExceeded::Empty { width, height });
        }
        if width > self.max_side || height > self.max_side {
            return Err(LimitExceeded::Side {
                width,
                height,
                limit: self.max_side,
            });
        }
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.max_pixels {
            return Err(LimitExceeded::Pixels {
                width,
                height,
                pixels,
                limit: self.max_pixels,
            });
        }
        Ok(())
    }

    /// Most bytes a decoder may allocate for one image: 8 bytes a pixel (16-bit RGBA) plus slack.
    pub fn max_alloc_bytes(&self) -> u64 {
        self.max_pixels.saturating_mul(8).saturating_add(16 << 20)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_accept_a_24_megapixel_photo() {
        assert_eq!(Limits::default().check_dimensions(6000, 4000), Ok(()));
    }

    #[test]
    fn refuses_bombs_and_empty_sizes() {
        let limits = Limits::default();
        assert!(matches!(
            limits.check_dimensions(65535, 65535),
            Err(LimitExceeded::Side { .. })
        ));
        assert!(matches!(
            limits.check_dimensions(17000, 17000),
            Err(LimitExceeded::Pixels { .. })
        ));
        assert!(matches!(
            limits.check_dimensions(0, 10),
            Err(LimitExceeded::Empty { .. })
        ));
        assert!(limits.check_bytes(65 * 1024 * 1024).is_err());
    }
}
