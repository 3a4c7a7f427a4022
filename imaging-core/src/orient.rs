//! Auto-orientation: applies an EXIF orientation to pixels.

use crate::metadata::Orientation;
use crate::pixels::RgbImage;

/// Returns the upright image for pixels stored with orientation `o`.
pub fn apply_orientation(image: RgbImage, o: Orientation) -> RgbImage {
    if o == Orientation::Normal {
        return image;
    }
    let (w, h) = (image.width as usize, image.height as usize);
    let (dst_w, dst_h) = if o.swaps_dimensions() { (h, w) } else { (w, h) };
    let src = &image.pixels;
    let mut out = vec![0u8; src.len()];
    for (dy, row) in out.chunks_exact_mut(dst_w * 3).enumerate() {
        for (dx, px) in row.chunks_exact_mut(3).enumerate() {
            // The source pixel that lands at (dx, dy).
            let (sx, sy) = match o {
                Orientation::Normal => (dx, dy),
                Orientation::FlipHorizontal => (w - 1 - dx, dy),
                Orientation::Rotate180 => (w - 1 - dx, h - 1 - dy),
                Orientation::FlipVertical => (dx, h - 1 - dy),
                Orientation::Transpose => (dy, dx),
                Orientation::Rotate90 => (dy, h - 1 - dx),
                Orientation::Transverse => (w - 1 - dy, h - 1 - dx),
                Orientation::Rotate270 => (w - 1 - dy, dx),
            };
            let i = (sy * w + sx) * 3;
            px.copy_from_slice(&src[i..i + 3]);
        }
    }
    RgbImage {
        width: dst_w as u32,
        height: dst_h as u32,
        pixels: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3x2 image whose pixels are numbered 0..6 in their red channel.
    fn numbered() -> RgbImage {
        let pixels = (0u8..6).flat_map(|i| [i, 0, 0]).collect();
        RgbImage::from_raw(3, 2, pixels).expect("size")
    }

    fn reds(img: &RgbImage) -> Vec<u8> {
        img.pixels.iter().step_by(3).copied().collect()
    }

    #[test]
    fn each_orientation_moves_pixels_as_exif_defines() {
        // Stored:  0 1 2
        //          3 4 5
        let cases: [(u32, (u32, u32), [u8; 6]); 8] = [
            (1, (3, 2), [0, 1, 2, 3, 4, 5]),
            (2, (3, 2), [2, 1, 0, 5, 4, 3]),
            (3, (3, 2), [5, 4, 3, 2, 1, 0]),
            (4, (3, 2), [3, 4, 5, 0, 1, 2]),
            (5, (2, 3), [0, 3, 1, 4, 2, 5]),
            (6, (2, 3), [3, 0, 4, 1, 5, 2]),
            (7, (2, 3), [5, 2, 4, 1, 3, 0]),
            (8, (2, 3), [2, 5, 1, 4, 0, 3]),
        ];
        for (value, size, expected) in cases {
            let out = apply_orientation(numbered(), Orientation::from_exif(value));
            assert_eq!((out.width, out.height), size, "orientation {value}");
            assert_eq!(reds(&out), expected, "orientation {value}");
        }
    }
}
