//! Format detection from magic bytes: the bytes alone choose the decoder. A file name's
//! extension is never trusted, only checked against them ([`check_extension`]).

use crate::error::{ImagingError, Result};
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

    /// The formats of this crate a file-name extension (without the dot, any case) names:
    /// `None` when it names no image format; empty when it names one this crate does not read
    /// (`bmp`, `psd`, `jxl`, `jp2`, `svg`, a camera raw format other than TIFF, ...), which no
    /// bytes we read agree with. `heif` names both HEIF codecs, `heics` and `avifs` (image
    /// sequences) theirs, and the camera raw formats that are TIFF files (`dng`, `cr2`, `nef`,
    /// `arw`, ...) TIFF.
    pub fn named_by_extension(extension: &str) -> Option<&'static [ImageFormat]> {
        use ImageFormat::*;
        Some(match extension.to_ascii_lowercase().as_str() {
            "jpg" | "jpeg" | "jpe" | "jfif" | "mpo" => &[Jpeg],
            "png" => &[Png],
            "webp" => &[Webp],
            "gif" => &[Gif],
            "tif" | "tiff" | "dng" | "cr2" | "nef" | "nrw" | "arw" | "srf" | "sr2" | "pef"
            | "srw" | "3fr" | "erf" | "kdc" | "dcr" | "mos" | "iiq" => &[Tiff],
            "avif" | "avifs" => &[Avif],
            "heic" | "hif" | "heics" => &[Heic],
            "heif" => &[Heic, Avif],
            "bmp" | "dib" | "tga" | "psd" | "psb" | "jxl" | "jp2" | "j2k" | "j2c" | "jpf"
            | "jpx" | "jpm" | "jxr" | "wdp" | "hdp" | "ico" | "cur" | "icns" | "svg" | "svgz"
            | "pcx" | "ppm" | "pgm" | "pbm" | "pnm" | "pam" | "exr" | "hdr" | "qoi" | "dds"
            | "xcf" | "cr3" | "crw" | "raf" | "rw2" | "orf" | "x3f" | "mrw" => &[],
            _ => return None,
        })
    }
}

/// Checks that an image's bytes are in a format its file name's `extension` names: a PNG
/// uploaded as `.jpg` is either mislabelled or disguised, and is refused as
/// [`ImagingError::Mismatch`]. An extension that names no image format, or bytes that are
/// no image format at all, pass: decoding reports those.
pub fn check_extension(bytes: &[u8], extension: &str) -> Result<()> {
    let (Some(named), Sniffed::Image(found)) =
        (ImageFormat::named_by_extension(extension), sniff(bytes))
    else {
        return Ok(());
    };
    if named.contains(&found) {
        Ok(())
    } else {
        Err(ImagingError::Mismatch {
            extension: extension.to_string(),
            found,
        })
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
    if starts(b"II+\0") || starts(b"MM\0+") {
        return Sniffed::Other("bigtiff");
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

/// Every size the header of a PNG, GIF, WebP or TIFF declares, read without a decoder, so that
/// limits are checked before a decoder is even set up. For a GIF this is the logical screen and
/// the extent of every frame (its offset plus its size): a frame may lie far outside the
/// screen, and a decoder places it on a canvas that large. A truncated or malformed header
/// yields what could be read; the decoder decides whether the file is broken.
pub(crate) fn declared_sizes(bytes: &[u8], format: ImageFormat) -> Vec<(u32, u32)> {
    match format {
        ImageFormat::Png if bytes.len() >= 24 && &bytes[12..16] == b"IHDR" => {
            vec![(be32(&bytes[16..20]), be32(&bytes[20..24]))]
        }
        ImageFormat::Gif => gif_sizes(bytes),
        ImageFormat::Webp => webp_size(bytes).into_iter().collect(),
        ImageFormat::Tiff => tiff_size(bytes).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn le16(b: &[u8]) -> u32 {
    u32::from(u16::from_le_bytes([b[0], b[1]]))
}

fn le24(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], 0])
}

/// The logical screen, then the extent of each frame, walking the blocks without decoding.
fn gif_sizes(bytes: &[u8]) -> Vec<(u32, u32)> {
    let Some((screen, frames)) = gif_frames(bytes) else {
        return Vec::new();
    };
    let placed = frames.iter().filter(|f| f.width > 0 && f.height > 0);
    std::iter::once(screen)
        .chain(placed.map(|f| (f.left + f.width, f.top + f.height)))
        .collect()
}

/// A GIF whose first frame has no pixels, described: the decoder, which decodes that frame,
/// fails on it with an unclear message ("odd-sized buffer").
pub(crate) fn gif_empty_first_frame(bytes: &[u8]) -> Option<String> {
    let (_, frames) = gif_frames(bytes)?;
    let f = frames.first()?;
    (f.width == 0 || f.height == 0)
        .then(|| format!("its first frame is {}x{} pixels", f.width, f.height))
}

/// The size of a GIF's first frame where it is not its logical screen: the decoder then holds
/// that frame in a buffer of its own beside the screen's.
pub(crate) fn gif_first_frame_apart(bytes: &[u8]) -> Option<(u32, u32)> {
    let (screen, frames) = gif_frames(bytes)?;
    let f = frames.first()?;
    let size = (f.width, f.height);
    (f.left != 0 || f.top != 0 || size != screen).then_some(size)
}

/// Where a GIF frame lies on the logical screen.
struct GifFrame {
    left: u32,
    top: u32,
    width: u32,
    height: u32,
}

/// The logical screen and each frame.
fn gif_frames(bytes: &[u8]) -> Option<((u32, u32), Vec<GifFrame>)> {
    let screen = bytes.get(6..13)?;
    let mut frames = Vec::new();
    let colour_table = |flags: u8| {
        if flags & 0x80 != 0 {
            3 << ((flags & 7) + 1)
        } else {
            0
        }
    };
    let mut pos = 13 + colour_table(screen[4]);
    // Data sub-blocks: a length byte, that many bytes, until a zero length.
    let skip_sub_blocks = |mut pos: usize| -> Option<usize> {
        loop {
            let len = usize::from(*bytes.get(pos)?);
            pos += 1 + len;
            if len == 0 {
                return Some(pos);
            }
        }
    };
    loop {
        let next = match bytes.get(pos) {
            // Extension: introducer, label, sub-blocks.
            Some(0x21) => skip_sub_blocks(pos + 2),
            // Image descriptor: left, top, width, height, flags; colour table; LZW code size.
            Some(0x2C) => bytes.get(pos + 1..pos + 10).and_then(|d| {
                let (left, top) = (le16(&d[0..2]), le16(&d[2..4]));
                let (width, height) = (le16(&d[4..6]), le16(&d[6..8]));
                frames.push(GifFrame {
                    left,
                    top,
                    width,
                    height,
                });
                skip_sub_blocks(pos + 10 + colour_table(d[8]) + 1)
            }),
            _ => None, // the trailer, or something the decoder will judge
        };
        match next {
            Some(next) => pos = next,
            None => return Some(((le16(&screen[0..2]), le16(&screen[2..4])), frames)),
        }
    }
}

/// Bytes a canvas pixel of the WebP `bytes` costs at the decode's peak, from its header, as
/// measured on 100 MP files (`photo-suite analyze`, whole process) with a margin: an animation
/// (its first frame decoded apart, then composed on an RGBA canvas) 14 (12.8 measured); a
/// lossy image with alpha (VP8 and its ALPH plane) 12 (10.4); a lossless one 8 (7.0 without
/// alpha, decoded as RGBA then made RGB; 4.0 with); a lossy one without alpha 5 (4.6).
pub(crate) fn webp_bytes_per_pixel(bytes: &[u8]) -> u64 {
    let mut chunks = riff_chunks(bytes, 12);
    // The VP8X flags as the decoder reads them: the byte after the chunk header, whatever
    // size the chunk declares.
    let flags = bytes.get(20).copied().unwrap_or(0);
    match chunks.next() {
        Some((b"VP8X", _)) if flags & 0x02 != 0 => 14,
        // The first image chunk after VP8X (and ICCP, EXIF...); the decoder finds an ALPH
        // wherever it is, so the alpha flag with a lossy bitstream counts as lossy with alpha.
        Some((b"VP8X", _)) => chunks
            .find_map(|(kind, _)| match kind {
                b"ALPH" => Some(12),
                b"VP8 " if flags & 0x10 != 0 => Some(12),
                b"VP8 " => Some(5),
                b"VP8L" => Some(8),
                _ => None,
            })
            .unwrap_or(14),
        Some((b"VP8 ", _)) => 5,
        Some((b"VP8L", _)) => 8,
        _ => 14,
    }
}

/// In an extended WebP (VP8X), the first lossy (VP8) bitstream whose frame header codes
/// another size than its image (the canvas of a still image, the frame of an `ANMF` chunk),
/// described; `None` otherwise. The decoder decodes such a bitstream whole (up to 16383x16383,
/// hundreds of MB) before it finds the sizes inconsistent (a lossless, VP8L, one it checks
/// before decoding), and in an animation frame it wrote the bitstream's pixels into a buffer
/// of the frame's size (a panic). The chunks are walked as the decoder walks them (from where
/// the VP8X chunk's declared size ends; in a frame, the chunk after an `ALPH` is decoded as
/// VP8 whatever its name), and every frame is checked: a file with an inconsistent frame is
/// invalid even where only its first frame is decoded.
pub(crate) fn webp_inconsistent_frame(bytes: &[u8]) -> Option<String> {
    let (b"VP8X", _) = riff_chunks(bytes, 12).next()? else {
        return None;
    };
    let canvas = webp_size(bytes)?;
    riff_chunks(bytes, 12)
        .skip(1)
        .find_map(|(kind, payload)| match kind {
            b"VP8 " => vp8_size_differs(payload, canvas, "canvas"),
            b"ANMF" if payload.len() >= 16 => {
                let frame = (le24(&payload[6..9]) + 1, le24(&payload[9..12]) + 1);
                let mut inner = riff_chunks(payload, 16);
                match inner.next()? {
                    (b"VP8 ", data) => vp8_size_differs(data, frame, "frame"),
                    (b"ALPH", _) => vp8_size_differs(inner.next()?.1, frame, "frame"),
                    _ => None,
                }
            }
            _ => None,
        })
}

/// The chunks of RIFF data from `start`: each one's FourCC and payload (cut at the end of
/// `data`), stepping over each declared size (padded to even) as a decoder does.
fn riff_chunks(data: &[u8], start: usize) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    let mut next = Some(start);
    std::iter::from_fn(move || {
        let at = next?;
        let header = data.get(at..at.checked_add(8)?)?;
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let body = at + 8;
        next = body
            .checked_add(size)
            .and_then(|end| end.checked_add(size & 1));
        let kind = header[..4].try_into().ok()?;
        Some((kind, &data[body..body.saturating_add(size).min(data.len())]))
    })
}

/// Whether the key frame header of the VP8 bitstream `data` codes another size than
/// `expected` (its `image`, for the message). Not a key frame or no start code: the decoder
/// refuses it before decoding, so nothing is said here.
fn vp8_size_differs(data: &[u8], expected: (u32, u32), image: &str) -> Option<String> {
    let header = data.get(..10)?;
    if header[0] & 1 != 0 || header[3..6] != [0x9D, 0x01, 0x2A] {
        return None;
    }
    let coded = (le16(&header[6..8]) & 0x3FFF, le16(&header[8..10]) & 0x3FFF);
    (coded != expected).then(|| {
        format!(
            "its VP8 bitstream codes {}x{} pixels, but its {image} is {}x{}",
            coded.0, coded.1, expected.0, expected.1
        )
    })
}

/// The canvas of an extended WebP (VP8X), or the frame size of a simple lossy (VP8) or
/// lossless (VP8L) one.
fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(12..16)?;
    let payload = bytes.get(20..)?;
    match chunk {
        b"VP8X" => {
            let p = payload.get(..10)?;
            Some((le24(&p[4..7]) + 1, le24(&p[7..10]) + 1))
        }
        b"VP8L" => {
            let p = payload.get(..5)?;
            let bits = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => {
            let p = payload.get(..10)?;
            Some((le16(&p[6..8]) & 0x3FFF, le16(&p[8..10]) & 0x3FFF))
        }
        _ => None,
    }
}

/// The first IFD of a classic TIFF, read without decoding.
struct TiffIfd<'a> {
    bytes: &'a [u8],
    little: bool,
    /// Where the IFD's entries start, and how many there are.
    entries: usize,
    count: usize,
}

impl<'a> TiffIfd<'a> {
    fn first(bytes: &'a [u8]) -> Option<TiffIfd<'a>> {
        let mut ifd = TiffIfd {
            bytes,
            little: bytes.starts_with(b"II"),
            entries: 0,
            count: 0,
        };
        let at = usize::try_from(ifd.u32_at(4)?).ok()?;
        ifd.count = ifd.u16_at(at)? as usize;
        ifd.entries = at.checked_add(2)?;
        Some(ifd)
    }

    fn u16_at(&self, i: usize) -> Option<u32> {
        let b = self.bytes.get(i..i.checked_add(2)?)?;
        let b = [b[0], b[1]];
        Some(u32::from(if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }))
    }

    fn u32_at(&self, i: usize) -> Option<u32> {
        let b = self.bytes.get(i..i.checked_add(4)?)?;
        let b = [b[0], b[1], b[2], b[3]];
        Some(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// The entry of `tag`: its values' count, where they are, and the size of one (0 for a
    /// type not read here). The last such entry, as the decoder keeps the last of a tag
    /// written twice.
    fn entry(&self, tag: u32) -> Option<(usize, usize, usize)> {
        (0..self.count).rev().find_map(|i| {
            let entry = self.entries + 12 * i;
            if self.u16_at(entry)? != tag {
                return None;
            }
            let unit = match self.u16_at(entry + 2)? {
                1 | 2 | 6 | 7 => 1,
                3 | 8 => 2,
                4 | 9 => 4,
                _ => 0,
            };
            let count = self.u32_at(entry + 4)? as usize;
            let at = if count.checked_mul(unit)? <= 4 {
                entry + 8
            } else {
                usize::try_from(self.u32_at(entry + 8)?).ok()?
            };
            Some((count, at, unit))
        })
    }

    /// Value `index` (of 2 or 4 bytes) of an entry found by [`TiffIfd::entry`].
    fn value_at(&self, (count, at, unit): (usize, usize, usize), index: usize) -> Option<u32> {
        if index >= count {
            return None;
        }
        match unit {
            2 => self.u16_at(at.checked_add(2 * index)?),
            4 => self.u32_at(at.checked_add(4 * index)?),
            _ => None,
        }
    }

    /// The first value of `tag` (SHORT or LONG).
    fn value(&self, tag: u32) -> Option<u32> {
        self.value_at(self.entry(tag)?, 0)
    }
}

/// ImageWidth and ImageLength of the first IFD of a classic TIFF.
fn tiff_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let ifd = TiffIfd::first(bytes)?;
    Some((ifd.value(256)?, ifd.value(257)?))
}

/// In a classic TIFF, the first of the strip or tile offsets and byte counts whose values run
/// past the end of the file, described: the decoder would size its tables from their count
/// first (a 122-byte file claiming 200 million strips reads as over the memory limit), yet
/// they cannot be read.
pub(crate) fn tiff_arrays_past_end(bytes: &[u8]) -> Option<String> {
    let ifd = TiffIfd::first(bytes)?;
    [
        (273, "strip offsets"),
        (279, "strip byte counts"),
        (324, "tile offsets"),
        (325, "tile byte counts"),
    ]
    .into_iter()
    .find_map(|(tag, name)| {
        let (count, at, unit) = ifd.entry(tag)?;
        let end = at.checked_add(count.checked_mul(unit)?)?;
        (end > bytes.len()).then(|| {
            format!(
                "its {count} {name} run past the end of the file ({} bytes)",
                bytes.len()
            )
        })
    })
}

/// Markers read, at most, before a JPEG segment's frame header.
const TIFF_JPEG_MARKERS: usize = 64;
/// JPEG strips or tiles a TIFF may have: a 100 MP image of 16x16 tiles has 390,625.
const MAX_TIFF_JPEG_SEGMENTS: u64 = 1 << 20;

/// In a JPEG-compressed TIFF (compression 7), the first strip or tile whose JPEG frame header
/// (or that of the shared `JPEGTables`) codes more than the strip or tile holds (more than
/// 32 px over either side, an MCU's rounding), or that has no frame header where one belongs,
/// described; `None` otherwise. The decoder decodes each strip's JPEG whole, whatever the
/// IFD says: a 4 MB file whose strips all point at one 16384x16384 JPEG took 0.9 s and 800 MB
/// a strip. The strips and tiles checked are those the image has (from its size).
pub(crate) fn tiff_oversized_jpeg_segment(bytes: &[u8]) -> Option<String> {
    let ifd = TiffIfd::first(bytes)?;
    match ifd.value(259) {
        Some(7) => {}
        Some(_) => return None,
        // Written, but not as a number this reads: the decoder may read JPEG in it.
        None if ifd.entry(259).is_some() => {
            return Some("its compression tag is not a SHORT or LONG".into())
        }
        None => return None,
    }
    let (width, height) = (ifd.value(256)?, ifd.value(257)?);
    let planes = if ifd.value(284) == Some(2) {
        ifd.value(277).unwrap_or(1).clamp(1, 16)
    } else {
        1
    };
    let tiled = ifd.value(322).zip(ifd.value(323));
    let (kind, (seg_w, seg_h), offsets, counts, segments) = match tiled {
        Some((tw, th)) if tw > 0 && th > 0 => {
            let n = u64::from(width.div_ceil(tw)) * u64::from(height.div_ceil(th));
            ("tile", (tw, th), 324, 325, n)
        }
        _ => {
            let rows = ifd.value(278).unwrap_or(height).clamp(1, height.max(1));
            (
                "strip",
                (width, rows),
                273,
                279,
                u64::from(height.div_ceil(rows)),
            )
        }
    };
    let fits = |(w, h): (u32, u32)| w <= seg_w.saturating_add(32) && h <= seg_h.saturating_add(32);
    // JPEGTables, which the decoder puts before each segment's markers.
    if let Some((count, at, 1)) = ifd.entry(347) {
        let tables = bytes
            .get(at..at.saturating_add(count).min(bytes.len()))
            .unwrap_or_default();
        if let JpegFrame::Size(size) = jpeg_frame(tables) {
            if !fits(size) {
                return Some(format!(
                    "its JPEG tables declare a {}x{} frame, larger than a {seg_w}x{seg_h} {kind}",
                    size.0, size.1
                ));
            }
        }
    }
    let total = segments.saturating_mul(u64::from(planes));
    if total > MAX_TIFF_JPEG_SEGMENTS {
        return Some(format!(
            "{total} JPEG {kind}s, more than the {MAX_TIFF_JPEG_SEGMENTS} a photo has"
        ));
    }
    let (offsets, counts) = (ifd.entry(offsets)?, ifd.entry(counts));
    if !matches!(offsets.2, 2 | 4) {
        return Some(format!("its {kind} offsets are not SHORTs or LONGs"));
    }
    for i in 0..total as usize {
        let Some(offset) = ifd.value_at(offsets, i) else {
            break;
        };
        let offset = offset as usize;
        let end = counts
            .and_then(|counts| ifd.value_at(counts, i))
            .map_or(bytes.len(), |c| offset.saturating_add(c as usize))
            .min(bytes.len());
        let segment = bytes.get(offset..end).unwrap_or_default();
        match jpeg_frame(segment) {
            JpegFrame::Size(size) if !fits(size) => {
                return Some(format!(
                    "{kind} {i} holds a {}x{} JPEG, larger than the {seg_w}x{seg_h} {kind}",
                    size.0, size.1
                ))
            }
            JpegFrame::Unreadable => {
                return Some(format!(
                    "{kind} {i}'s JPEG has no frame header within its first \
                     {TIFF_JPEG_MARKERS} markers"
                ))
            }
            _ => {}
        }
    }
    None
}

/// What the markers of a JPEG segment (its first two bytes, the SOI, passed over as the TIFF
/// decoder passes them over) say of its frame.
enum JpegFrame {
    /// A frame header of this width and height.
    Size((u32, u32)),
    /// No frame header before the scan, the end of the image or the end of the data.
    None,
    /// Junk or more than [`TIFF_JPEG_MARKERS`] markers before the frame header.
    Unreadable,
}

fn jpeg_frame(segment: &[u8]) -> JpegFrame {
    let mut pos = 2;
    for _ in 0..TIFF_JPEG_MARKERS {
        let Some(&[ff, marker]) = segment.get(pos..pos + 2).map(|m| [m[0], m[1]]).as_ref() else {
            return JpegFrame::None;
        };
        if ff != 0xFF {
            return JpegFrame::Unreadable;
        }
        match marker {
            0xFF => {
                pos += 1; // fill byte
                continue;
            }
            0xDA | 0xD9 => return JpegFrame::None,
            0xD0..=0xD8 | 0x01 => {
                pos += 2;
                continue;
            }
            _ => {}
        }
        let Some(len) = segment.get(pos + 2..pos + 4) else {
            return JpegFrame::None;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return match segment.get(pos + 5..pos + 9) {
                Some(p) => JpegFrame::Size((
                    u32::from(u16::from_be_bytes([p[2], p[3]])),
                    u32::from(u16::from_be_bytes([p[0], p[1]])),
                )),
                None => JpegFrame::None,
            };
        }
        pos += 2 + len;
    }
    JpegFrame::Unreadable
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
    fn an_extension_that_names_another_format_is_a_mismatch() {
        let png = b"\x89PNG\r\n\x1a\nxxxx";
        let e = check_extension(png, "JPG").expect_err("mismatch");
        assert_eq!(e.kind(), "format_mismatch");
        assert_eq!(
            e.to_string(),
            "the file name says .JPG, but the data is png"
        );
        assert!(check_extension(png, "png").is_ok());
        assert!(check_extension(png, "PNG").is_ok());
        // Extensions that name no image format, and data that is no image, are not judged here.
        assert!(check_extension(png, "bin").is_ok());
        assert!(check_extension(png, "").is_ok());
        assert!(check_extension(b"<!DOCTYPE html>", "jpg").is_ok());
        // `heif` names both codecs; `heic` and `avif` one each.
        let mut avif = vec![0, 0, 0, 20];
        avif.extend_from_slice(b"ftypavif\0\0\0\0mif1");
        assert!(check_extension(&avif, "heif").is_ok());
        assert!(check_extension(&avif, "avif").is_ok());
        assert_eq!(
            check_extension(&avif, "heic").map_err(|e| e.kind()),
            Err("format_mismatch")
        );
        assert!(check_extension(&avif, "AVIFS").is_ok());
        assert!(check_extension(&avif, "heics").is_err());
    }

    #[test]
    fn an_extension_of_an_image_format_we_do_not_read_agrees_with_none_of_ours() {
        let jpeg = b"\xFF\xD8\xFF\xE0xxxx";
        for extension in [
            "bmp", "PSD", "jxl", "jp2", "ico", "svg", "tga", "cr3", "raf",
        ] {
            let e = check_extension(jpeg, extension).expect_err(extension);
            assert_eq!(e.kind(), "format_mismatch", "{extension}");
        }
        assert_eq!(
            check_extension(jpeg, "bmp").map_err(|e| e.to_string()),
            Err("the file name says .bmp, but the data is jpeg".into())
        );
        // Such a file in its own format is for decoding to refuse (`unsupported`).
        assert!(check_extension(b"BMxxxxxxxx", "bmp").is_ok());
        assert!(check_extension(b"8BPSxxxxxx", "psd").is_ok());
        // Camera raw files that are TIFF files are TIFF to the check.
        assert!(check_extension(b"II*\0xxxxxx", "DNG").is_ok());
        assert!(check_extension(b"MM\0*xxxxxx", "nef").is_ok());
        assert!(check_extension(jpeg, "dng").is_err());
    }

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
        // BigTIFF (version 43): named, not read.
        assert_eq!(sniff(b"II+\0\x08\0\0\0"), Sniffed::Other("bigtiff"));
        assert_eq!(sniff(b"MM\0+\0\x08\0\0"), Sniffed::Other("bigtiff"));
    }

    #[test]
    fn reads_the_extent_of_every_gif_frame() {
        let mut gif = b"GIF89a\x20\x00\x20\x00\x80\x00\x00".to_vec();
        gif.extend([0u8; 6]); // global colour table, 2 entries
        gif.extend(b"\x21\xF9\x04\x00\x00\x00\x00\x00"); // graphic control extension
        gif.extend(b"\x2C\x00\x00\x00\x00\x20\x00\x20\x00\x00\x02\x02\x44\x01\x00");
        // A second frame placed at (65535, 65280).
        gif.extend(b"\x2C\xFF\xFF\x00\xFF\x10\x00\x10\x00\x00\x02\x02\x44\x01\x00\x3B");
        assert_eq!(
            declared_sizes(&gif, ImageFormat::Gif),
            [(32, 32), (32, 32), (65535 + 16, 65280 + 16)]
        );
        // Cut inside the second descriptor: what was read is kept.
        assert_eq!(declared_sizes(&gif[..44], ImageFormat::Gif).len(), 2);
        assert_eq!(gif_empty_first_frame(&gif), None);
        // A first frame of no pixels is named; it places nothing on the screen.
        let mut empty = gif[..27].to_vec();
        empty.extend(b"\x2C\xFF\xFF\x00\xFF\x00\x00\x10\x00\x00\x02\x02\x44\x01\x00");
        empty.extend(&gif[27..]);
        assert_eq!(
            gif_empty_first_frame(&empty).as_deref(),
            Some("its first frame is 0x16 pixels")
        );
        assert_eq!(
            declared_sizes(&empty, ImageFormat::Gif),
            declared_sizes(&gif, ImageFormat::Gif)
        );
    }

    #[test]
    fn reads_webp_and_tiff_sizes() {
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0A\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0xFF, 0xFF, 0xFF, 0x0F, 0x27, 0x00]); // 16777216 x 10000
        assert_eq!(
            declared_sizes(&vp8x, ImageFormat::Webp),
            [(16_777_216, 10_000)]
        );
        let mut tiff = b"II*\0\x08\0\0\0\x02\0".to_vec();
        tiff.extend(b"\x00\x01\x04\x00\x01\0\0\0\x40\x9C\0\0"); // width 40000 (LONG)
        tiff.extend(b"\x01\x01\x03\x00\x01\0\0\0\x10\x00\0\0"); // height 16 (SHORT)
        assert_eq!(declared_sizes(&tiff, ImageFormat::Tiff), [(40_000, 16)]);
        assert_eq!(tiff_arrays_past_end(&tiff), None);
        // 200 million strip offsets (LONG) from byte 8 of a 46-byte file.
        tiff[8] = 3;
        tiff.extend(b"\x11\x01\x04\x00\x00\xC2\xEB\x0B\x08\x00\0\0");
        assert_eq!(
            tiff_arrays_past_end(&tiff).as_deref(),
            Some("its 200000000 strip offsets run past the end of the file (46 bytes)")
        );
    }

    #[test]
    fn a_webp_pixel_costs_what_its_first_image_chunk_decodes_to() {
        let vp8x = |flags: u8, chunks: &[&[u8; 4]]| {
            let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0A\0\0\0".to_vec();
            webp.extend([flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            for kind in chunks {
                webp.extend(*kind);
                webp.extend([3, 0, 0, 0, 1, 2, 3, 0]); // 3 bytes and the padding
            }
            webp
        };
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x12, &[b"ANIM"])), 14);
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x30, &[b"ICCP", b"ALPH"])), 12);
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x10, &[b"VP8L"])), 8);
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x00, &[b"EXIF", b"VP8 "])), 5);
        // The alpha flag with the ALPH chunk after the bitstream: lossy with alpha.
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x10, &[b"VP8 ", b"ALPH"])), 12);
        // The animation flag read where the decoder reads it, whatever size VP8X declares.
        let mut short = vp8x(0x02, &[b"VP8 "]);
        short[16..20].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(webp_bytes_per_pixel(&short), 14);
        assert_eq!(webp_bytes_per_pixel(b"RIFF\0\0\0\0WEBPVP8 \0\0\0\0"), 5);
        assert_eq!(webp_bytes_per_pixel(b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0"), 8);
        // No image chunk found: the most it could cost.
        assert_eq!(webp_bytes_per_pixel(&vp8x(0x00, &[b"EXIF"])), 14);
    }

    #[test]
    fn a_vp8_bitstream_must_code_the_size_of_its_canvas_or_frame() {
        let chunk = |kind: &[u8; 4], payload: &[u8]| {
            let mut c = kind.to_vec();
            c.extend((payload.len() as u32).to_le_bytes());
            c.extend(payload);
            if payload.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        // A key frame header (tag, start code, 14-bit width and height) and a few bytes.
        let vp8 = |w: u16, h: u16, key: bool| {
            let mut v = vec![u8::from(!key), 0, 0, 0x9D, 0x01, 0x2A];
            v.extend(w.to_le_bytes());
            v.extend(h.to_le_bytes());
            v.extend([0; 7]);
            chunk(b"VP8 ", &v)
        };
        // A 64x16 canvas (sizes less one, 24 bits each), then `chunks`.
        let vp8x = |flags: u8, chunks: &[Vec<u8>]| {
            let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
            webp.extend(chunk(b"VP8X", &[flags, 0, 0, 0, 63, 0, 0, 15, 0, 0]));
            chunks.iter().for_each(|c| webp.extend(c));
            webp
        };
        // An ANMF frame of 16x16 at (0, 0) holding `chunks`.
        let anmf = |chunks: &[Vec<u8>]| {
            let mut payload = vec![0, 0, 0, 0, 0, 0, 15, 0, 0, 15, 0, 0, 100, 0, 0, 0];
            chunks.iter().for_each(|c| payload.extend(c));
            chunk(b"ANMF", &payload)
        };
        let alph = chunk(b"ALPH", &[0, 1, 2]);
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0, &[vp8(64, 16, true)])),
            None
        );
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0x10, &[alph.clone(), vp8(16383, 16383, true)]))
                .as_deref(),
            Some("its VP8 bitstream codes 16383x16383 pixels, but its canvas is 64x16")
        );
        // Not a key frame: the decoder refuses it without decoding.
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0, &[vp8(9999, 16, false)])),
            None
        );
        // Every frame of an animation, past an ALPH chunk in the frame.
        let good = anmf(&[alph.clone(), vp8(16, 16, true)]);
        let bad = anmf(&[alph, vp8(4000, 16, true)]);
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0x12, std::slice::from_ref(&good))),
            None
        );
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0x12, &[good.clone(), good, bad])).as_deref(),
            Some("its VP8 bitstream codes 4000x16 pixels, but its frame is 16x16")
        );
        // A VP8X chunk declaring more than its 10 bytes, holding what reads as the header of
        // a chunk running past the file: the decoder goes on after the declared size.
        let mut long_vp8x = b"RIFF\0\0\0\0WEBP".to_vec();
        let mut header = vec![0, 0, 0, 0, 63, 0, 0, 15, 0, 0];
        header.extend(b"JUNK\xF0\xFF\xFF\x7F");
        long_vp8x.extend(chunk(b"VP8X", &header));
        long_vp8x.extend(vp8(4000, 4000, true));
        assert_eq!(
            webp_inconsistent_frame(&long_vp8x).as_deref(),
            Some("its VP8 bitstream codes 4000x4000 pixels, but its canvas is 64x16")
        );
        // In a frame, the chunk after ALPH is decoded as VP8 whatever its name.
        let mut renamed = vp8(4000, 16, true);
        renamed[..4].copy_from_slice(b"ZZZZ");
        let frame = anmf(&[chunk(b"ALPH", &[0, 1, 2]), renamed]);
        assert_eq!(
            webp_inconsistent_frame(&vp8x(0x12, &[frame])).as_deref(),
            Some("its VP8 bitstream codes 4000x16 pixels, but its frame is 16x16")
        );
        // A simple (not extended) WebP codes its size in the bitstream itself.
        let mut simple = b"RIFF\0\0\0\0WEBP".to_vec();
        simple.extend(vp8(16383, 16383, true));
        assert_eq!(webp_inconsistent_frame(&simple), None);
    }

    #[test]
    fn tells_avif_from_heic_by_brand() {
        let avif = b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf";
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert_eq!(sniff(avif), Sniffed::Image(ImageFormat::Avif));
        assert_eq!(sniff(heic), Sniffed::Image(ImageFormat::Heic));
    }
}
