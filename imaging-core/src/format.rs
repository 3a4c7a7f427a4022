//! Format detection from magic bytes: file names and extensions are never trusted.

use serde::Serialize;
use std::fmt;

/// An image container format that this crate can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (baseline, progressive; greyscale, YCbCr, CMYK). MPO files decode as their first image.
    Jpeg,
    /// PNG, 8 or 16 bits, with or without alpha.
    Png,
    /// WebP, lossy or lossless.
    Webp,
    /// GIF; the first frame is used.
    Gif,
    /// TIFF, 8 or 16 bits.
    Tiff,
    /// AVIF (AV1 in HEIF).
    Avif,
    /// HEIC/HEIF (HEVC in HEIF), the usual phone format.
    Heic,
}

impl ImageFormat {
    /// Lower-case name, as written in analysis JSON.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
            ImageFormat::Tiff => "tiff",
            ImageFormat::Avif => "avif",
            ImageFormat::Heic => "heic",
        }
    }
}

impl fmt::Display for ImageFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// A format we decode.
    Image(ImageFormat),
    /// Something recognisable that we do not decode (e.g. `"html"`, `"bmp"`), or `"unknown"`.
    Other(&'static str),
}

/// Detects the format from the magic bytes at the start of `bytes`.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    use ImageFormat::*;
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Image(Jpeg);
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image(Png);
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Image(Gif);
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Sniffed::Image(Webp);
    }
    if starts(b"II*\0") || starts(b"MM\0*") {
        return Sniffed::Image(Tiff);
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return sniff_heif_brands(bytes);
    }
    if starts(b"BM") {
        return Sniffed::Other("bmp");
    }
    if starts(b"8BPS") {
        return Sniffed::Other("psd");
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    if head.contains("<html") || head.contains("<!doctype") {
        return Sniffed::Other("html");
    }
    if bytes.is_empty() {
        return Sniffed::Other("empty");
    }
    Sniffed::Other("unknown")
}

/// The dimensions a PNG or GIF header declares, read without a decoder, so that limits are
/// checked before a decoder is even set up.
pub(crate) fn declared_size(bytes: &[u8], format: ImageFormat) -> Option<(u32, u32)> {
    match format {
        ImageFormat::Png if bytes.len() >= 24 && &bytes[12..16] == b"IHDR" => {
            let be =
                |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
            Some((be(16), be(20)))
        }
        ImageFormat::Gif if bytes.len() >= 10 => {
            let le = |i: usize| u32::from(u16::from_le_bytes([bytes[i], bytes[i + 1]]));
            Some((le(6), le(8)))
        }
        _ => None,
    }
}

/// Reads the major and compatible brands of an ISO-BMFF `ftyp` box.
fn sniff_heif_brands(bytes: &[u8]) -> Sniffed {
    let box_len = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = box_len.clamp(12, bytes.len().min(256));
    let major = &bytes[8..12];
    let compatible = bytes[16.min(end)..end].chunks_exact(4);
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible).collect();
    let has = |b: &[u8]| brands.contains(&b);
    if has(b"avif") || has(b"avis") {
        Sniffed::Image(ImageFormat::Avif)
    } else if has(b"heic") || has(b"heix") || has(b"heim") || has(b"heis") || has(b"mif1") {
        Sniffed::Image(ImageFormat::Heic)
    } else {
        Sniffed::Other("isobmff")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_bytes_not_names() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0rest"),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\nxxxx"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Sniffed::Image(ImageFormat::Webp)
        );
        assert_eq!(sniff(b"<!DOCTYPE html><html>"), Sniffed::Other("html"));
        assert_eq!(sniff(b""), Sniffed::Other("empty"));
    }

    #[test]
    fn tells_avif_from_heic_by_brand() {
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(avif), Sniffed::Image(ImageFormat::Avif));
        assert_eq!(sniff(heic), Sniffed::Image(ImageFormat::Heic));
    }
}
