//! Decoding: every supported format to upright-able 8-bit sRGB, with limits checked from the
//! header first and JPEG's DCT scaling (shrink-on-load) when only a smaller size is needed.

use crate::color::{self, SourceColor};
use crate::error::{ImagingError, Result};
use crate::format::{
    declared_sizes, gif_empty_first_frame, gif_first_frame_apart, sniff, tiff_arrays_past_end,
    tiff_oversized_jpeg_segment, webp_bytes_per_pixel, webp_inconsistent_frame, ImageFormat,
    Sniffed,
};
use crate::jpeg_decode::{self, JpegColorspace};
use crate::jpeg_markers;
use crate::limits::{LimitExceeded, Limits};
use crate::metadata::{ExifFacts, Orientation};
use crate::pixels::{on_white, RgbImage};
use image::ImageDecoder;

/// A decoded image in sRGB, still in its stored orientation.
#[derive(Debug)]
pub struct Decoded {
    /// The container format.
    pub format: ImageFormat,
    /// Full stored width, before any shrink-on-load.
    pub stored_width: u32,
    /// Full stored height, before any shrink-on-load.
    pub stored_height: u32,
    /// The pixels, at full size or shrunk on load (never below what was asked for).
    pub image: RgbImage,
    /// What must be applied to make the pixels upright.
    pub orientation: Orientation,
    /// EXIF facts (default when absent or unreadable).
    pub exif: ExifFacts,
    /// Problems that did not stop decoding, such as broken EXIF or an unreadable ICC profile.
    pub warnings: Vec<String>,
}

impl Decoded {
    /// Upright full-size dimensions.
    pub fn upright_size(&self) -> (u32, u32) {
        if self.orientation.swaps_dimensions() {
            (self.stored_height, self.stored_width)
        } else {
            (self.stored_width, self.stored_height)
        }
    }
}

/// Decodes `bytes`. With `min_long_side`, a JPEG may be decoded smaller, by DCT scaling, as long
/// as its long side stays at or above that many pixels.
pub fn decode(bytes: &[u8], limits: &Limits, min_long_side: Option<u32>) -> Result<Decoded> {
    decode_checked(bytes, limits, min_long_side, &mut |_, _| Ok(()))
}

/// A check of the upright full size, made from the header, before any pixel is decoded.
pub(crate) type SizeCheck<'a> = &'a mut dyn FnMut(u32, u32) -> Result<()>;

/// [`decode`], with `check` called with the upright full size once the header (and the
/// orientation) is read and before any pixel is decoded: its error is the decode's.
pub(crate) fn decode_checked(
    bytes: &[u8],
    limits: &Limits,
    min_long_side: Option<u32>,
    check: SizeCheck,
) -> Result<Decoded> {
    limits.check_bytes(bytes.len() as u64)?;
    let format = match sniff(bytes) {
        Sniffed::Image(format) => format,
        Sniffed::Other(name) => {
            return Err(ImagingError::Unsupported {
                format: name.to_string(),
            })
        }
    };
    // A decoder (or header reader) that panics on a hostile file fails that file as `decode`,
    // rather than the caller's task: a whole batch, or a Lambda invocation retried to its DLQ.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, limits, min_long_side, check),
        ImageFormat::Heic | ImageFormat::Avif => decode_heif(bytes, limits, format, check),
        _ => decode_with_image_crate(bytes, limits, format, check),
    }))
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(ImagingError::decode(
            format,
            format!("the decoder failed on this file: {what}"),
        ))
    })
}

/// Calls `check` with the upright size of a `width` x `height` image stored with `orientation`.
fn check_upright(
    check: SizeCheck,
    width: u32,
    height: u32,
    orientation: Orientation,
) -> Result<()> {
    if orientation.swaps_dimensions() {
        check(height, width)
    } else {
        check(width, height)
    }
}

/// Keeps the EXIF facts and records any warning.
fn keep_warning(
    (facts, warning): (ExifFacts, Option<String>),
    warnings: &mut Vec<String>,
) -> ExifFacts {
    warnings.extend(warning);
    facts
}

fn to_u32(v: usize, format: ImageFormat) -> Result<u32> {
    u32::try_from(v).map_err(|_| ImagingError::decode(format, "dimension out of range"))
}

/// The largest DCT shrink (1, 2, 4 or 8) that keeps the long side at or above `min_long_side`
/// and leaves each side either a whole number of shrunk pixels, in chroma subsampled by two
/// too, or at least [`MIN_SHRUNK_SIDE`] of them. A scaled decode makes each pixel of a partial
/// block at the edge from the encoder's padding as well: one edge pixel of a photo, but all of
/// a strip a few pixels wide (a 2x30000 JPEG of a black and a white column came out all 223 at
/// 1/8).
fn jpeg_shrink(width: usize, height: usize, min_long_side: Option<u32>) -> usize {
    let Some(min) = min_long_side else { return 1 };
    let long = width.max(height);
    let edges_fine = |d: usize| {
        [width, height]
            .into_iter()
            .all(|side| side % (2 * d) == 0 || side.div_ceil(d) >= MIN_SHRUNK_SIDE)
    };
    [8, 4, 2]
        .into_iter()
        .find(|&d| long.div_ceil(d) >= min as usize && edges_fine(d))
        .unwrap_or(1)
}

/// The fewest pixels a side of a JPEG decoded shrunk may have when its edge pixel is made
/// partly from padding (see [`jpeg_shrink`]).
const MIN_SHRUNK_SIDE: usize = 16;

fn decode_jpeg(
    bytes: &[u8],
    limits: &Limits,
    min_long_side: Option<u32>,
    check: SizeCheck,
) -> Result<Decoded> {
    const F: ImageFormat = ImageFormat::Jpeg;
    let err = |message: String| ImagingError::decode(F, message);
    let mut segments = jpeg_markers::read_segments(bytes);
    // Valid JPEGs the decoder does not read: not damaged, so not `decode`.
    let variant = |what: String| ImagingError::Unsupported {
        format: format!("jpeg variant ({what})"),
    };
    if let Some(bits) = segments.precision.filter(|&bits| bits != 8) {
        return Err(variant(format!("{bits}-bit samples")));
    }
    if let Some((w, h)) = segments.frame_size {
        let after_scan = bytes.get(segments.scan_start.unwrap_or(bytes.len())..);
        let dnl =
            after_scan.is_some_and(|data| memchr::memmem::find(data, &[0xFF, 0xDC]).is_some());
        if h == 0 && dnl {
            return Err(variant(
                "height given by a DNL marker after the scan".into(),
            ));
        }
        limits.check_dimensions(w, h)?;
    }
    if let Some(stray) = segments.stray {
        // libjpeg would skip them with a warning, but a header that is not a sequence of
        // segments cannot be trusted for what it says (size, tables, EXIF, ICC profile).
        return Err(err(format!(
            "malformed header: {} byte(s) outside any segment, the first at offset {}",
            stray.count, stray.offset
        )));
    }
    let header = jpeg_decode::read_header(bytes).map_err(err)?;
    let (stored_width, stored_height) = (to_u32(header.width, F)?, to_u32(header.height, F)?);
    limits.check_dimensions(stored_width, stored_height)?;

    let mut warnings = Vec::new();
    let exif = segments
        .exif
        .take()
        .map(|tiff| keep_warning(ExifFacts::from_tiff(tiff), &mut warnings))
        .unwrap_or_default();

    check_upright(check, stored_width, stored_height, exif.orientation)?;

    let scans = segments.scans(bytes);
    if scans.count > jpeg_decode::MAX_SCANS {
        return Err(LimitExceeded::Scans {
            scans: scans.count,
            limit: jpeg_decode::MAX_SCANS,
        }
        .into());
    }
    let shrink = jpeg_shrink(header.width, header.height, min_long_side);
    let decompressed =
        jpeg_decode::decompress(bytes, &header, shrink, scans.end_of_image).map_err(err)?;
    warnings.extend(decompressed.warning);
    let (width, height) = (
        to_u32(decompressed.width, F)?,
        to_u32(decompressed.height, F)?,
    );
    let pixels = decompressed.pixels;

    warnings.extend(segments.icc_problem.take());
    let icc = segments.icc.as_deref();
    let image = match header.colorspace {
        JpegColorspace::Gray => {
            let (image, warning) = color::gray_to_srgb(width, height, &pixels, icc);
            warnings.extend(warning);
            image
        }
        JpegColorspace::Cmyk | JpegColorspace::Ycck => {
            let (image, warning) = color::cmyk_to_srgb(width, height, &pixels, icc, segments.adobe);
            warnings.extend(warning);
            image
        }
        JpegColorspace::Color => {
            let mut image = RgbImage {
                width,
                height,
                pixels,
            };
            if let Some(icc) = icc {
                if let Err(w) = color::rgb_to_srgb(&mut image, &SourceColor::Icc(icc.to_vec())) {
                    warnings.push(w);
                }
            }
            image
        }
    };
    Ok(Decoded {
        format: F,
        stored_width,
        stored_height,
        image,
        orientation: exif.orientation,
        exif,
        warnings,
    })
}

fn decode_with_image_crate(
    bytes: &[u8],
    limits: &Limits,
    format: ImageFormat,
    check: SizeCheck,
) -> Result<Decoded> {
    #[cfg(test)]
    if tests::PANIC_IN_DECODER.with(std::cell::Cell::get) {
        panic!("a decoder's bug, as a test");
    }
    let crate_format = match format {
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Webp => image::ImageFormat::WebP,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::Tiff => image::ImageFormat::Tiff,
        other => {
            return Err(ImagingError::Unsupported {
                format: other.to_string(),
            })
        }
    };
    let err = |e: image::ImageError| match e {
        image::ImageError::Limits(l) => LimitExceeded::Allocation(l.to_string()).into(),
        // A valid file of a kind the decoder does not read (a palette or a float TIFF, a
        // compression it lacks): not damaged, so not `decode`.
        image::ImageError::Unsupported(u) => ImagingError::Unsupported {
            format: format!("{format} variant ({u})"),
        },
        // The decoders read from memory: an early end of the reads is the end of the file,
        // reached by a cut file or by an offset past it (a TIFF strip or tile).
        image::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImagingError::decode(
                format,
                format!(
                    "the image's data runs past the end of the file ({} bytes): truncated, or \
                     an offset past its end ({io})",
                    bytes.len()
                ),
            )
        }
        other => ImagingError::decode(format, other),
    };
    // PNG requires IHDR first; the png crate's own complaint prints the chunk type as a Rust
    // structure.
    if format == ImageFormat::Png {
        match bytes.get(12..16) {
            Some(b"IHDR") => {}
            Some(first) => {
                return Err(ImagingError::decode(
                    format,
                    format!(
                        "malformed header: the first chunk is \"{}\", not IHDR",
                        first.escape_ascii()
                    ),
                ))
            }
            None => {
                return Err(ImagingError::decode(
                    format,
                    "truncated: the file ends before its IHDR chunk",
                ))
            }
        }
    }
    let mut warnings = Vec::new();
    let stripped = match format {
        ImageFormat::Png => png_without_oversized_icc(bytes),
        _ => None,
    };
    let bytes = match &stripped {
        Some((copy, warning)) => {
            warnings.push(warning.clone());
            copy.as_slice()
        }
        None => bytes,
    };
    for (w, h) in declared_sizes(bytes, format) {
        limits.check_dimensions(w, h)?;
    }
    let inconsistent = match format {
        ImageFormat::Tiff => {
            tiff_arrays_past_end(bytes).or_else(|| tiff_oversized_jpeg_segment(bytes))
        }
        ImageFormat::Webp => webp_inconsistent_frame(bytes),
        ImageFormat::Gif => gif_empty_first_frame(bytes),
        _ => None,
    };
    if let Some(problem) = inconsistent {
        return Err(ImagingError::decode(format, problem));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), crate_format);
    let mut crate_limits = image::Limits::default();
    crate_limits.max_image_width = Some(limits.max_side);
    crate_limits.max_image_height = Some(limits.max_side);
    crate_limits.max_alloc = Some(limits.max_alloc_bytes());
    reader.limits(crate_limits);
    let mut decoder = reader.into_decoder().map_err(err)?;
    let (stored_width, stored_height) = decoder.dimensions();
    limits.check_dimensions(stored_width, stored_height)?;
    let needed = match format {
        ImageFormat::Webp => webp_bytes_per_pixel(bytes)
            .saturating_mul(u64::from(stored_width) * u64::from(stored_height)),
        // A first frame apart from the screen is decoded into a buffer of its own and
        // composed: 5 bytes a frame pixel more (4.9 measured on a 100 MP frame).
        ImageFormat::Gif => image_decode_bytes(decoder.total_bytes(), decoder.color_type())
            .saturating_add(
                gif_first_frame_apart(bytes).map_or(0, |(w, h)| 5 * u64::from(w) * u64::from(h)),
            ),
        _ => image_decode_bytes(decoder.total_bytes(), decoder.color_type()),
    };
    let budget = limits.max_alloc_bytes();
    if needed > budget {
        return Err(LimitExceeded::Allocation(format!(
            "a {stored_width}x{stored_height} {:?} {format} takes about {} MiB to decode, over {} MiB",
            decoder.color_type(),
            needed >> 20,
            budget >> 20
        ))
        .into());
    }

    let raw_exif = decoder.exif_metadata().map_err(err)?;
    let exif = match (raw_exif, format) {
        (Some(tiff), _) => keep_warning(ExifFacts::from_tiff(tiff), &mut warnings),
        // A TIFF file is itself an EXIF structure, and a PNG eXIf chunk may follow the image
        // data, where the decoder has not looked yet.
        (None, ImageFormat::Png | ImageFormat::Webp | ImageFormat::Tiff) => {
            keep_warning(ExifFacts::from_container(bytes), &mut warnings)
        }
        (None, _) => ExifFacts::default(), // GIF has no EXIF
    };
    check_upright(check, stored_width, stored_height, exif.orientation)?;
    let icc = decoder.icc_profile().unwrap_or(None);
    let dynamic = image::DynamicImage::from_decoder(decoder).map_err(err)?;
    let (width, height) = (dynamic.width(), dynamic.height());
    let color = dynamic.color();
    let image = if !color.has_color() {
        // Grey, with its alpha flattened on white: a grey profile applies.
        let gray = if color.has_alpha() {
            let gray_alpha = dynamic.into_luma_alpha8();
            let (pairs, _) = gray_alpha.as_raw().as_chunks::<2>();
            pairs.iter().map(|&[g, a]| on_white(g, a)).collect()
        } else {
            dynamic.into_luma8().into_raw()
        };
        let (image, warning) = color::gray_to_srgb(width, height, &gray, icc.as_deref());
        warnings.extend(warning);
        image
    } else {
        let mut image = if color.has_alpha() {
            // Without a copy when the decoder gave 8-bit RGBA (a 16-bit one is converted).
            RgbImage::from_rgba_on_white(width, height, dynamic.into_rgba8().into_raw())
        } else {
            RgbImage {
                width,
                height,
                pixels: dynamic.into_rgb8().into_raw(),
            }
        };
        if let Some(icc) = icc {
            if let Err(w) = color::rgb_to_srgb(&mut image, &SourceColor::Icc(icc)) {
                warnings.push(w);
            }
        }
        image
    };
    Ok(Decoded {
        format,
        stored_width,
        stored_height,
        image,
        orientation: exif.orientation,
        exif,
        warnings,
    })
}

fn decode_heif(
    bytes: &[u8],
    limits: &Limits,
    format: ImageFormat,
    check: SizeCheck,
) -> Result<Decoded> {
    use libheif_rs::{ColorSpace, HeifContext, RgbChroma};
    let err = |e: libheif_rs::HeifError| {
        // libheif's own bounds (a side over 32,768, too many items): over a limit, not damaged.
        if matches!(
            e.sub_code,
            libheif_rs::HeifErrorSubCode::SecurityLimitExceeded
        ) {
            return LimitExceeded::Decoder(format!("libheif: {e}")).into();
        }
        ImagingError::decode(format, e)
    };
    let context = HeifContext::read_from_bytes(bytes).map_err(err)?;
    let handle = context.primary_image_handle().map_err(err)?;
    // The size after libheif applies the container's rotation and mirroring.
    let (width, height) = (handle.width(), handle.height());
    limits.check_dimensions(width, height)?;
    // What the codec data says, which is what the decoder makes: a container may declare
    // less. A coded item larger than the image is decoded at its size (with the image's
    // alpha and bit depth: an over-estimate for a grid's tiles, which are decoded in turn).
    let coded = if reads_coded_sizes() {
        crate::heif_coded::coded_sizes(bytes)
    } else {
        Ok(None)
    };
    let coded = coded.map_err(|_| {
        ImagingError::decode(
            format,
            "its items' data, extents or units add up to far more than the file holds \
             (overlapping or empty ones): not a real file, and too costly to check",
        )
    })?;
    if let Some(coded) = coded {
        limits.check_dimensions(coded.largest.0, coded.largest.1)?;
        limits.check_dimensions(coded.longest.0, coded.longest.1)?;
    }
    let (most_w, most_h) = coded
        .map(|c| c.largest)
        .filter(|&(w, h)| u64::from(w) * u64::from(h) > u64::from(width) * u64::from(height))
        .unwrap_or((width, height));
    let bits = handle.luma_bits_per_pixel();
    let needed = heif_decode_bytes(most_w, most_h, bits, handle.has_alpha_channel());
    let budget = limits.max_alloc_bytes();
    if needed > budget {
        return Err(LimitExceeded::Allocation(format!(
            "a {most_w}x{most_h} {bits}-bit {format} takes about {} MiB to decode, over {} MiB",
            needed >> 20,
            budget >> 20
        ))
        .into());
    }

    check(width, height)?;

    let mut warnings = Vec::new();
    let exif = {
        let mut ids = [0; 1];
        let found = handle.metadata_block_ids(&mut ids, b"Exif");
        if found == 0 {
            ExifFacts::default()
        } else {
            match handle
                .metadata(ids[0])
                .ok()
                .and_then(|block| heif_exif_tiff(&block))
            {
                Some(tiff) => keep_warning(ExifFacts::from_tiff(tiff), &mut warnings),
                None => {
                    warnings.push("EXIF ignored: malformed HEIF EXIF block".to_string());
                    ExifFacts::default()
                }
            }
        }
    };
    let source = match handle.color_profile_raw() {
        // Only `prof`/`rICC` profiles have raw bytes; nclx has none.
        Some(raw) => SourceColor::Icc(raw.data),
        _ => match handle.color_profile_nclx() {
            Some(nclx) if nclx.color_primaries() as u32 == 12 => SourceColor::DisplayP3,
            _ => SourceColor::Srgb,
        },
    };

    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let decode = || handle.decode(ColorSpace::Rgb(chroma), None);
    // AVIF on one processor: its decoder would otherwise take twice the memory (see
    // `on_one_processor`). Not HEIC: libheif decodes a HEIC's grid tiles in parallel, with no
    // such cost (an iPhone HEIC measured 0.45 s on two processors, 0.73 s on one, same memory).
    let decoded = match format {
        ImageFormat::Avif => crate::alloc::on_one_processor(decode),
        _ => decode(),
    }
    .map_err(err)?;
    let plane = decoded
        .planes()
        .interleaved
        .ok_or_else(|| ImagingError::decode(format, "no interleaved plane"))?;
    // The size checked above is the container's (`ispe`); the coded image can be larger, and
    // the decoder makes what it codes: nothing over the limits goes on.
    limits.check_dimensions(plane.width, plane.height)?;
    let channels = if alpha { 4 } else { 3 };
    let row_bytes = plane.width as usize * channels;
    let mut packed = Vec::with_capacity(row_bytes * plane.height as usize);
    for row in plane.data.chunks(plane.stride).take(plane.height as usize) {
        packed.extend_from_slice(
            row.get(..row_bytes)
                .ok_or_else(|| ImagingError::decode(format, "short row"))?,
        );
    }
    let mut image = if alpha {
        RgbImage::from_rgba_on_white(plane.width, plane.height, packed)
    } else {
        RgbImage {
            width: plane.width,
            height: plane.height,
            pixels: packed,
        }
    };
    if let Err(w) = color::rgb_to_srgb(&mut image, &source) {
        warnings.push(w);
    }
    // libheif has applied the container's transformations; HEIF says EXIF orientation is
    // informational only, so nothing more is to be done.
    let exif = ExifFacts {
        orientation: Orientation::Normal,
        ..exif
    };
    Ok(Decoded {
        format,
        stored_width: image.width,
        stored_height: image.height,
        image,
        orientation: Orientation::Normal,
        exif,
        warnings,
    })
}

/// Whether HEIF/AVIF coded sizes are read before decoding: always, but in the test of the
/// check on the decoded image (for a file the reader cannot follow).
fn reads_coded_sizes() -> bool {
    #[cfg(test)]
    return !tests::SKIP_CODED_SIZES.with(std::cell::Cell::get);
    #[cfg(not(test))]
    true
}

/// The largest ICC profile a PNG may inflate to (a JPEG's APP2 chunks hold at most 255 x
/// 65,519 bytes, about as much; real profiles are kilobytes to a few megabytes).
const MAX_ICC_BYTES: usize = 16 << 20;

/// For a PNG whose `iCCP` profile inflates past [`MAX_ICC_BYTES`], a copy without that chunk
/// and the warning to give: the png decoder would inflate it up to the whole allocation limit
/// (a 1 MB file to 770 MB, twice that at the peak), for a profile Little CMS then refuses.
/// `None` for any other PNG (a profile within the bound, or one that does not inflate, is the
/// decoder's to read or to pass over).
fn png_without_oversized_icc(bytes: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut pos = 8; // after the signature
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = usize::try_from(u32::from_be_bytes(header[..4].try_into().ok()?)).ok()?;
        let end = pos.checked_add(12)?.checked_add(len)?; // length, type, data, CRC
        match &header[4..8] {
            b"IDAT" => return None, // the profile must come before the image data
            b"iCCP" => {
                let data = bytes.get(pos + 8..pos + 8 + len)?;
                // A name of 1-79 bytes, its NUL, the compression method, then zlib data.
                let compressed = data.get(data.iter().position(|&b| b == 0)? + 2..)?;
                return match fdeflate::decompress_to_vec_bounded(compressed, MAX_ICC_BYTES) {
                    Err(fdeflate::BoundedDecompressionError::OutputTooLarge { .. }) => {
                        let mut copy = bytes[..pos].to_vec();
                        copy.extend_from_slice(bytes.get(end..)?);
                        let warning = format!(
                            "ICC profile ignored: it inflates to over {} MiB",
                            MAX_ICC_BYTES >> 20
                        );
                        Some((copy, warning))
                    }
                    _ => None,
                };
            }
            _ => pos = end,
        }
    }
    None
}

/// Bytes a decode through the `image` crate holds at its peak, from the header: the decoded
/// pixels (`decoded` bytes, of colour type `color`) and the 8-bit image made from them where
/// that is a new buffer (16-bit or float samples, grey with alpha), or the RGB expansion of
/// 8-bit grey. 8-bit RGB and RGBA become the result in place.
fn image_decode_bytes(decoded: u64, color: image::ColorType) -> u64 {
    use image::ColorType;
    let pixels = decoded / u64::from(color.bytes_per_pixel().max(1));
    let made_per_pixel = match color {
        ColorType::Rgb8 | ColorType::Rgba8 => 0,
        ColorType::L8 => 3,
        ColorType::L16 => 1 + 3,
        ColorType::Rgb16 | ColorType::Rgb32F => 3,
        _ => 4, // into 8-bit RGBA, flattened in place
    };
    decoded.saturating_add(pixels.saturating_mul(made_per_pixel))
}

/// Bytes a HEIF/AVIF decode holds at its peak, estimated from the size, the bit depth and
/// whether there is alpha: the decoder's planes and libheif's copy of them (taken as 4:4:4,
/// the largest), then the 8-bit RGB result and our copy of it. 18 bytes a pixel for 10-bit,
/// 12 for 8-bit: a third over what `photo-suite analyze` peaks at on the corpus's 10-bit 4:4:4
/// AVIF (13.4 a pixel, renditions and analysis included), more over 4:2:0 photos (7-10).
fn heif_decode_bytes(width: u32, height: u32, luma_bits: u8, alpha: bool) -> u64 {
    let channels = if alpha { 4 } else { 3 };
    let sample_bytes = if luma_bits > 8 { 2 } else { 1 };
    u64::from(width) * u64::from(height) * channels * (2 * sample_bytes + 2)
}

/// HEIF EXIF blocks start with a 4-byte offset to the TIFF header.
fn heif_exif_tiff(block: &[u8]) -> Option<Vec<u8>> {
    let offset = u32::from_be_bytes(block.get(..4)?.try_into().ok()?) as usize;
    block.get(4 + offset..).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_of_more_scans_than_the_limit_is_refused_before_decoding() {
        let jpeg = crate::jpeg_decode::progressive_jpeg(crate::jpeg_decode::MAX_SCANS);
        let e = decode(&jpeg, &Limits::default(), None).expect_err("refused");
        assert!(
            matches!(
                e,
                ImagingError::Limits(LimitExceeded::Scans {
                    scans: 510,
                    limit: 500
                })
            ),
            "{e}"
        );
        // An MPO's second image, after the first one's end, is not counted.
        let one = crate::jpeg_decode::progressive_jpeg(0);
        let mut two = one.clone();
        two.extend_from_slice(&jpeg);
        assert!(decode(&two, &Limits::default(), None).is_ok());
    }

    #[test]
    fn a_png_whose_icc_profile_inflates_past_the_bound_is_read_without_it() {
        let plain = png(8, 8, image::ExtendedColorType::Rgb8);
        // A profile of zeros, one byte over the bound once inflated.
        let mut iccp = b"bomb\0\0".to_vec();
        iccp.extend(fdeflate::compress_to_vec(&vec![0u8; MAX_ICC_BYTES + 1]));
        // IHDR ends at byte 33 (signature 8, IHDR chunk 25): the profile goes after it.
        let mut bomb = plain[..33].to_vec();
        bomb.extend(png_chunk(b"iCCP", &iccp));
        bomb.extend_from_slice(&plain[33..]);
        let decoded = decode(&bomb, &Limits::default(), None).expect("decodes");
        assert_eq!((decoded.image.width, decoded.image.height), (8, 8));
        assert!(
            decoded
                .warnings
                .iter()
                .any(|w| w.contains("ICC profile ignored")),
            "{:?}",
            decoded.warnings
        );
        assert!(png_without_oversized_icc(&plain).is_none());
    }

    /// A little-endian TIFF header and one IFD of `entries` (tag, type, count, value), to be
    /// followed by the data the entries point at (from byte `14 + 12 * entries`).
    fn tiff_header(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        tiff.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            tiff.extend(tag.to_le_bytes());
            tiff.extend(kind.to_le_bytes());
            tiff.extend(count.to_le_bytes());
            tiff.extend(value.to_le_bytes());
        }
        tiff.extend(0u32.to_le_bytes());
        tiff
    }

    #[test]
    fn a_jpeg_tiff_strip_coding_more_than_it_holds_is_refused_before_decoding() {
        // A 64x16 RGB TIFF of one JPEG-compressed strip (compression 7), its IFD led by
        // `first` (the decoder keeps the last entry of a tag written twice).
        let tiff_of = |first: Option<(u16, u16, u32, u32)>, jpeg: &[u8]| {
            let mut entries: Vec<(u16, u16, u32, u32)> = first.into_iter().collect();
            let data = 8 + 2 + 12 * (entries.len() as u32 + 9) + 4;
            entries.extend([
                (256, 3, 1, 64),                // ImageWidth
                (257, 3, 1, 16),                // ImageLength
                (258, 3, 3, data),              // BitsPerSample: 8, 8, 8
                (259, 3, 1, 7),                 // Compression: JPEG
                (262, 3, 1, 2),                 // PhotometricInterpretation: RGB
                (273, 4, 1, data + 6),          // StripOffsets
                (277, 3, 1, 3),                 // SamplesPerPixel
                (278, 3, 1, 16),                // RowsPerStrip
                (279, 4, 1, jpeg.len() as u32), // StripByteCounts
            ]);
            let mut tiff = tiff_header(&entries);
            assert_eq!(tiff.len(), data as usize);
            tiff.extend([8, 0, 8, 0, 8, 0]);
            tiff.extend(jpeg);
            tiff
        };
        let jpeg_of = |w, h| {
            let image = RgbImage::from_fn(w, h, |x, y| [(x % 256) as u8, (y % 256) as u8, 90]);
            crate::encode::encode_jpeg(&image, 90).expect("encoded")
        };
        let fits = decode(&tiff_of(None, &jpeg_of(64, 16)), &Limits::default(), None);
        let fits = fits.expect("read");
        assert_eq!((fits.image.width, fits.image.height), (64, 16));
        // The same strip holding a 2000x2000 JPEG: the decoder would decode all of it; so
        // too behind an earlier Compression entry saying "none".
        for first in [None, Some((259, 3, 1, 1))] {
            let big = tiff_of(first, &jpeg_of(2000, 2000));
            let e = decode(&big, &Limits::default(), None).expect_err("refused");
            assert!(matches!(e, ImagingError::Decode { .. }), "{e}");
            assert!(
                e.to_string().contains("strip 0 holds a 2000x2000 JPEG"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_webp_whose_vp8_bitstream_codes_more_than_its_canvas_is_refused_before_decoding() {
        let path = test_support::photos_dir().join("formats/webp_lossy_exif_icc_denali.webp");
        let webp = std::fs::read(path).expect("the corpus's extended lossy WebP");
        let read = decode(&webp, &Limits::default(), None).expect("decodes");
        let (w, h) = (read.image.width, read.image.height);
        // Its VP8 chunk, after VP8X and ICCP (chunk sizes padded to even).
        let mut pos = 12;
        while &webp[pos..pos + 4] != b"VP8 " {
            let size = u32::from_le_bytes(webp[pos + 4..pos + 8].try_into().expect("4 bytes"));
            pos += 8 + (size as usize).next_multiple_of(2);
        }
        // Its frame header made to code 16383x16383: image-webp would decode that much
        // (hundreds of MB) before comparing it with the canvas.
        let mut big = webp;
        big[pos + 14..pos + 18].copy_from_slice(&[0xFF, 0x3F, 0xFF, 0x3F]);
        let e = decode(&big, &Limits::default(), None).expect_err("refused");
        assert!(matches!(e, ImagingError::Decode { .. }), "{e}");
        let expected = format!("codes 16383x16383 pixels, but its canvas is {w}x{h}");
        assert!(e.to_string().contains(&expected), "{e}");
    }

    #[test]
    fn a_narrow_jpeg_is_not_shrunk_into_its_padding() {
        // Two black and two white columns, 20000 rows: decoded for a 2048-px rendition, grey.
        let strip = RgbImage::from_fn(4, 20000, |x, _| [if x < 2 { 0 } else { 255 }; 3]);
        let jpeg = crate::encode::encode_jpeg(&strip, 95).expect("encoded");
        let read = decode(&jpeg, &Limits::default(), Some(2048)).expect("decodes");
        assert!(
            read.image.height < 20000,
            "shrunk on load: {}",
            read.image.height
        );
        let pixels = &read.image.pixels;
        let mean = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / pixels.len() as f64;
        assert!((mean - 127.5).abs() < 8.0, "mean {mean}");
    }

    #[test]
    fn a_jpeg_whose_icc_chunks_are_not_a_whole_set_is_read_without_a_profile_and_says_so() {
        let image = RgbImage::from_fn(16, 16, |x, y| [x as u8 * 16, y as u8 * 16, 90]);
        let mut jpeg = crate::encode::encode_jpeg(&image, 90).expect("encoded");
        // Chunks 1 and 3 of 3, after the SOI.
        for seq in [3u8, 1] {
            let mut app2 = vec![0xFF, 0xE2, 0, 17];
            app2.extend(b"ICC_PROFILE\0");
            app2.extend([seq, 3, 0]);
            jpeg.splice(2..2, app2);
        }
        let read = decode(&jpeg, &Limits::default(), None).expect("decodes");
        assert_eq!(
            read.warnings,
            ["ICC profile ignored: chunk 2 of 3 is missing"]
        );
        assert_eq!((read.image.width, read.image.height), (16, 16));
    }

    #[test]
    fn a_jpeg_of_a_kind_the_decoder_lacks_is_unsupported_not_corrupt() {
        let image = RgbImage::from_fn(16, 16, |x, y| [x as u8 * 16, y as u8 * 16, 90]);
        let jpeg = crate::encode::encode_jpeg(&image, 90).expect("encoded");
        let sof = jpeg
            .windows(2)
            .position(|m| m == [0xFF, 0xC0])
            .expect("SOF0");
        // 12-bit samples (SOF: marker, length, precision, height, width).
        let mut twelve = jpeg.clone();
        twelve[sof + 4] = 12;
        let e = decode(&twelve, &Limits::default(), None).expect_err("not read");
        assert!(matches!(e, ImagingError::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("12-bit samples"), "{e}");
        // A height of 0, given by a DNL marker after the first scan: a variant; without the
        // marker, a damaged header (an empty size).
        let mut zero = jpeg;
        zero[sof + 5..sof + 7].copy_from_slice(&[0, 0]);
        let e = decode(&zero, &Limits::default(), None).expect_err("not read");
        assert_eq!(e.kind(), "limits", "{e}");
        let eoi = zero.len() - 2;
        zero.splice(eoi..eoi, [0xFF, 0xDC, 0, 4, 0, 16]);
        let e = decode(&zero, &Limits::default(), None).expect_err("not read");
        assert!(matches!(e, ImagingError::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("DNL"), "{e}");
    }

    #[test]
    fn a_valid_tiff_of_a_kind_not_read_is_unsupported_not_corrupt() {
        // A 1x1 palette TIFF (photometric interpretation 3), little-endian: the header, one
        // IFD of nine entries, the pixel, the colour map.
        let entries: [(u16, u16, u32, u32); 9] = [
            (256, 3, 1, 1),     // ImageWidth
            (257, 3, 1, 1),     // ImageLength
            (258, 3, 1, 8),     // BitsPerSample
            (259, 3, 1, 1),     // Compression: none
            (262, 3, 1, 3),     // PhotometricInterpretation: palette
            (273, 4, 1, 122),   // StripOffsets
            (278, 3, 1, 1),     // RowsPerStrip
            (279, 4, 1, 1),     // StripByteCounts
            (320, 3, 768, 124), // ColorMap
        ];
        let mut tiff = tiff_header(&entries);
        assert_eq!(tiff.len(), 122);
        tiff.extend([0, 0]); // the pixel, and a byte to align the map
        tiff.extend(vec![0u8; 768 * 2]);
        let e = decode(&tiff, &Limits::default(), None).expect_err("not read");
        assert!(matches!(e, ImagingError::Unsupported { .. }), "{e}");
        assert!(e.to_string().contains("RGBPalette"), "{e}");
    }

    #[test]
    fn a_heif_over_libheif_s_own_bounds_is_over_the_limits() {
        let avif = crate::heif_coded::corpus_avif_declaring(60_000, 60_000);
        let e = decode(&avif, &Limits::default(), None).expect_err("refused");
        assert!(
            matches!(e, ImagingError::Limits(LimitExceeded::Decoder(_))),
            "{e}"
        );
    }

    thread_local! {
        pub(super) static SKIP_CODED_SIZES: std::cell::Cell<bool> =
            const { std::cell::Cell::new(false) };
        pub(super) static PANIC_IN_DECODER: std::cell::Cell<bool> =
            const { std::cell::Cell::new(false) };
    }

    #[test]
    fn a_decoder_that_panics_fails_the_file_as_decode() {
        let plain = png(8, 8, image::ExtendedColorType::Rgb8);
        PANIC_IN_DECODER.with(|p| p.set(true));
        let e = decode(&plain, &Limits::default(), None).expect_err("failed");
        PANIC_IN_DECODER.with(|p| p.set(false));
        assert!(matches!(e, ImagingError::Decode { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("the decoder failed on this file: a decoder's bug, as a test"),
            "{e}"
        );
        assert!(decode(&plain, &Limits::default(), None).is_ok());
    }

    #[test]
    fn a_heif_coding_more_pixels_than_its_container_says_is_held_to_the_limits() {
        // The container says 100x100; the AV1 data still codes 1617x1080.
        let avif = crate::heif_coded::corpus_avif_declaring(100, 100);
        let limits = Limits {
            max_pixels: 1_000_000,
            ..Limits::default()
        };
        // Before decoding, from the AV1 sequence header; and, for a file that reader could not
        // follow, on the decoded image.
        for skip in [false, true] {
            SKIP_CODED_SIZES.with(|s| s.set(skip));
            let e = decode(&avif, &limits, None).expect_err("over the limit");
            assert!(
                matches!(
                    e,
                    ImagingError::Limits(LimitExceeded::Pixels { width: 1617, .. })
                ),
                "{e}"
            );
        }
        SKIP_CODED_SIZES.with(|s| s.set(false));
    }

    /// A PNG of `width` x `height` black pixels of colour type `color`.
    fn png(width: u32, height: u32, color: image::ExtendedColorType) -> Vec<u8> {
        use image::ImageEncoder;
        let bytes_per_pixel = usize::from(color.bits_per_pixel() / 8);
        let pixels = vec![0u8; width as usize * height as usize * bytes_per_pixel];
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(&pixels, width, height, color)
            .expect("encodes");
        out
    }

    #[test]
    fn grey_and_rgb_pixels_take_the_profiles_that_fit_them() {
        use image::ImageEncoder;
        // A linear grey profile (gamma 1): a grey of 128 is sRGB 188 through it.
        let white = lcms2::CIExyY {
            x: 0.3127,
            y: 0.3290,
            Y: 1.0,
        };
        let linear = lcms2::Profile::new_gray(&white, &lcms2::ToneCurve::new(1.0))
            .and_then(|p| p.icc())
            .expect("a grey profile");
        let png_2x1 = |pixels: &[u8], color| {
            let mut out = Vec::new();
            let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
            encoder
                .set_icc_profile(linear.clone())
                .expect("PNG takes one");
            encoder.write_image(pixels, 2, 1, color).expect("encodes");
            out
        };
        // Grey 128 opaque; black at half coverage, 127 on white: both about 188.
        let grey_alpha = png_2x1(&[128, 255, 0, 128], image::ExtendedColorType::La8);
        let read = decode(&grey_alpha, &Limits::default(), None).expect("decodes");
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        let pixels = &read.image.pixels;
        assert!(
            pixels.iter().all(|&p| (186..=190).contains(&p)),
            "{pixels:?}"
        );
        // The same profile on RGB pixels that are all grey (as libheif decodes a monochrome
        // HEIF) applies; on coloured ones it cannot: left as they are, with a warning.
        let rgb_grey = png_2x1(&[128, 128, 128, 0, 0, 0], image::ExtendedColorType::Rgb8);
        let read = decode(&rgb_grey, &Limits::default(), None).expect("decodes");
        assert!(read.warnings.is_empty(), "{:?}", read.warnings);
        assert!(
            (186..=190).contains(&read.image.pixels[0]),
            "{:?}",
            read.image.pixels
        );
        assert_eq!(read.image.pixels[3..], [0, 0, 0]);
        let colour = png_2x1(&[200, 100, 50, 0, 0, 0], image::ExtendedColorType::Rgb8);
        let read = decode(&colour, &Limits::default(), None).expect("decodes");
        assert_eq!(read.image.pixels, [200, 100, 50, 0, 0, 0]);
        assert_eq!(
            read.warnings,
            ["ICC profile of an RGB image is not an RGB profile"]
        );
        // A grey image tagged with an RGB profile: its pixels as equal R, G and B in it
        // (sRGB: unchanged; a linear RGB space with sRGB's primaries: 128 becomes about 188).
        let grey_tagged = |profile: Vec<u8>| {
            let mut tagged = Vec::new();
            let mut encoder = image::codecs::png::PngEncoder::new(&mut tagged);
            encoder.set_icc_profile(profile).expect("PNG takes one");
            encoder
                .write_image(&[128, 0], 2, 1, image::ExtendedColorType::L8)
                .expect("encodes");
            let read = decode(&tagged, &Limits::default(), None).expect("decodes");
            assert!(read.warnings.is_empty(), "{:?}", read.warnings);
            read.image.pixels
        };
        let srgb = lcms2::Profile::new_srgb();
        assert_eq!(
            grey_tagged(srgb.icc().expect("sRGB")),
            [128, 128, 128, 0, 0, 0]
        );
        let primaries = lcms2::CIExyYTRIPLE {
            Red: lcms2::CIExyY {
                x: 0.64,
                y: 0.33,
                Y: 1.0,
            },
            Green: lcms2::CIExyY {
                x: 0.30,
                y: 0.60,
                Y: 1.0,
            },
            Blue: lcms2::CIExyY {
                x: 0.15,
                y: 0.06,
                Y: 1.0,
            },
        };
        let gamma1 = lcms2::ToneCurve::new(1.0);
        let linear_rgb = lcms2::Profile::new_rgb(&white, &primaries, &[&gamma1, &gamma1, &gamma1])
            .and_then(|p| p.icc())
            .expect("a linear RGB profile");
        let pixels = grey_tagged(linear_rgb);
        assert!(
            pixels[..3].iter().all(|&p| (185..=191).contains(&p)),
            "{pixels:?}"
        );
        assert_eq!(pixels[3..], [0, 0, 0]);
    }

    /// 16-bit RGBA takes 8 bytes a pixel to decode and 4 more for its 8-bit copy: over the
    /// allocation bound of a limit it fits in (8 a pixel of the limit and 16 MiB), it is
    /// refused from its header; the same size in 8-bit RGBA (4 a pixel) is decoded.
    #[test]
    fn a_png_whose_decode_would_take_too_much_memory_is_refused_from_its_header() {
        let limits = Limits {
            max_pixels: 5_000_000,
            ..Limits::default()
        };
        let deep = png(2500, 2000, image::ExtendedColorType::Rgba16);
        let e = decode(&deep, &limits, None).expect_err("refused");
        assert_eq!(e.kind(), "limits", "{e}");
        assert!(
            e.to_string()
                .contains("a 2500x2000 Rgba16 png takes about 57 MiB to decode, over 54 MiB"),
            "{e}"
        );
        let shallow = png(2500, 2000, image::ExtendedColorType::Rgba8);
        let decoded = decode(&shallow, &limits, None).expect("decodes");
        assert_eq!(decoded.image.pixels.len(), 2500 * 2000 * 3);
        assert!(
            decoded.image.pixels.iter().all(|&v| v == 255),
            "black, transparent: white"
        );
    }

    #[test]
    fn heif_decode_memory_grows_with_the_bit_depth_and_alpha() {
        // 8192x5464: a 45 MP camera HEIF.
        assert_eq!(heif_decode_bytes(8192, 5464, 8, false), 8192 * 5464 * 12);
        assert_eq!(heif_decode_bytes(8192, 5464, 10, false), 8192 * 5464 * 18);
        assert_eq!(heif_decode_bytes(8192, 5464, 10, true), 8192 * 5464 * 24);
        // Within the default limits at 10 bits, not with alpha.
        let budget = Limits::default().max_alloc_bytes();
        assert!(heif_decode_bytes(8192, 5464, 10, false) <= budget);
        assert!(heif_decode_bytes(8192, 5464, 10, true) > budget);
    }

    #[test]
    fn shrink_keeps_the_long_side_at_or_above_the_minimum() {
        assert_eq!(jpeg_shrink(6000, 4000, Some(2048)), 2);
        assert_eq!(jpeg_shrink(6000, 4000, Some(700)), 8);
        assert_eq!(jpeg_shrink(1800, 1200, Some(2048)), 1);
        assert_eq!(jpeg_shrink(6000, 4000, Some(1024)), 4);
        assert_eq!(jpeg_shrink(200, 30000, Some(2048)), 8);
        assert_eq!(jpeg_shrink(6000, 4000, None), 1);
        // A side that is not a whole number of shrunk pixels (chroma included) keeps 16 of
        // them (see `a_narrow_jpeg_is_not_shrunk_into_its_padding`): 10 px has 5 at 1/2, one
        // partly padding; 4 px is whole at 1/2; 2 and 5 px are neither.
        assert_eq!(jpeg_shrink(4096, 10, Some(2048)), 1);
        assert_eq!(jpeg_shrink(4096, 16, Some(2048)), 2);
        assert_eq!(jpeg_shrink(4, 30000, Some(2048)), 2);
        assert_eq!(jpeg_shrink(2, 30000, Some(2048)), 1);
        assert_eq!(jpeg_shrink(30000, 5, Some(2048)), 1);
    }

    #[test]
    fn html_is_unsupported_and_named() {
        let e = decode(b"<!DOCTYPE html><html></html>", &Limits::default(), None)
            .expect_err("must fail");
        assert_eq!(e.kind(), "unsupported");
        assert!(e.to_string().contains("html"), "{e}");
    }

    #[test]
    fn junk_between_jpeg_header_segments_is_refused_before_decoding() {
        let pixels = (0..32 * 24 * 3).map(|i| (i % 251) as u8).collect();
        let image = RgbImage::from_raw(32, 24, pixels).expect("size");
        let jpeg = crate::encode::encode_jpeg(&image, 90).expect("encodes");
        assert!(decode(&jpeg, &Limits::default(), None).is_ok());
        let (damaged, dqt) = jpeg_markers::with_junk_before(&jpeg, 0xDB, b"junk!");
        let e = decode(&damaged, &Limits::default(), None).expect_err("refused");
        assert_eq!(e.kind(), "decode");
        assert!(
            e.to_string().contains(&format!(
                "5 byte(s) outside any segment, the first at offset {dqt}"
            )),
            "{e}"
        );
    }

    /// A PNG chunk: length, type, data, CRC-32 of type and data.
    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in kind.iter().chain(data) {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(kind);
        chunk.extend_from_slice(data);
        chunk.extend_from_slice(&(!crc).to_be_bytes());
        chunk
    }

    #[test]
    fn a_65536_square_png_is_refused_from_its_header() {
        // A valid header (1-bit palette, 65536x65536: 4.3 Gpx, 512 MiB even at 1 bit a pixel)
        // and a tiny compressed stream: nothing that large may ever be allocated.
        let mut ihdr = 65536u32.to_be_bytes().to_vec();
        ihdr.extend(65536u32.to_be_bytes());
        ihdr.extend([1, 3, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"IHDR", &ihdr));
        png.extend(png_chunk(b"PLTE", &[0, 0, 0, 255, 255, 255]));
        png.extend(png_chunk(
            b"IDAT",
            &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
        ));
        png.extend(png_chunk(b"IEND", &[]));
        let e = decode(&png, &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "limits", "{e}");
        assert!(e.to_string().contains("65536x65536"), "{e}");
    }

    #[test]
    fn a_png_that_does_not_start_with_ihdr_is_refused_in_words() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"t\xa8Ex", b"x"));
        let e = decode(&png, &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "decode", "{e}");
        assert!(
            e.to_string()
                .ends_with(r#"malformed header: the first chunk is "t\xa8Ex", not IHDR"#),
            "{e}"
        );
        let e = decode(&png[..14], &Limits::default(), None).expect_err("must fail");
        assert!(e.to_string().contains("ends before its IHDR"), "{e}");
    }

    #[test]
    fn what_a_webp_or_gif_decode_holds_beyond_its_canvas_is_counted_from_the_header() {
        // A 94-byte animated WebP: a 10000x10000 canvas (100 MP, within the pixel limit)
        // whose first frame is a whole-canvas lossless frame: 1.18 GB at its peak, measured.
        let webp: Vec<u8> = [
            &b"RIFFV\0\0\0WEBPVP8X\x0a\0\0\0\x12\0\0\0\x0f\x27\0\x0f\x27\0"[..],
            b"ANIM\x06\0\0\0\xff\xff\xff\xff\0\0ANMF\x2a\0\0\0\0\0\0\0\0\0\x0f\x27\0",
            b"\x0f\x27\0\x64\0\0\0VP8L\x11\0\0\0\x2f\x0f\xe7\xc3\x09\x07\x50\xe4\x2a",
            b"\xd4\xa3\xff\x81\x88\xe8\x7f\0\0",
        ]
        .concat();
        assert_eq!(webp.len(), 94);
        let e = decode(&webp, &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "limits", "{e}");
        assert!(
            e.to_string()
                .contains("10000x10000 Rgba8 webp takes about 1335 MiB"),
            "{e}"
        );
        // A 10000x10000 GIF screen whose first frame, 9999x10000 at (1, 0), is decoded apart
        // (0.89 GB at its peak, measured); the same frame at (0, 0) is the screen (0.40 GB).
        let gif = |left: u8, width: u16| {
            let mut gif = b"GIF89a\x10\x27\x10\x27\x00\x00\x00\x2C".to_vec();
            gif.extend([left, 0, 0, 0]);
            gif.extend(width.to_le_bytes());
            gif.extend(b"\x10\x27\x00\x02\x02\x44\x01\x00\x3B");
            gif
        };
        let e = decode(&gif(1, 9999), &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "limits", "{e}");
        assert!(e.to_string().contains("takes about 858 MiB"), "{e}");
        let e = decode(&gif(0, 10000), &Limits::default(), None).expect_err("no pixels");
        assert_eq!(e.kind(), "decode", "{e}");
    }

    #[test]
    fn gif_frames_beyond_the_limits_are_refused_from_their_descriptors() {
        // A 32x32 screen whose single frame is 65535x1321 at (0, 65280): the frame, not the
        // screen, is what a decoder would allocate.
        let mut gif = b"GIF89a\x20\x00\x20\x00\x00\x00\x00".to_vec();
        gif.extend(b"\x2C\x00\x00\x00\xFF\xFF\xFF\x29\x05\x00\x02\x02\x44\x01\x00\x3B");
        let e = decode(&gif, &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "limits", "{e}");
        assert!(e.to_string().contains("65535x66601"), "{e}");
    }

    #[test]
    fn a_huge_webp_canvas_is_refused_from_its_header() {
        let mut webp = b"RIFF\x16\0\0\0WEBPVP8X\x0A\0\0\0\0\0\0\0".to_vec();
        webp.extend([0x2F, 0x75, 0x00, 0x2F, 0x75, 0x00]); // 30000 x 30000
        let e = decode(&webp, &Limits::default(), None).expect_err("must fail");
        assert_eq!(e.kind(), "limits", "{e}");
    }

    #[test]
    fn oversized_input_is_refused_before_anything_else() {
        let limits = Limits {
            max_input_bytes: 4,
            ..Limits::default()
        };
        let e = decode(b"\xFF\xD8\xFF\xE0\0\0", &limits, None).expect_err("must fail");
        assert_eq!(e.kind(), "limits");
    }
}
