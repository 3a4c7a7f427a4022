//! JPEG decoding through TurboJPEG with libjpeg's warnings allowed, and the judgement of what
//! corrupt data left behind.
//!
//! TurboJPEG reports every libjpeg warning ("Corrupt JPEG data: ...") as a failure, although
//! after a warning libjpeg has gone on and produced the whole picture, filling what it could not
//! decode with blank blocks (no coefficients: mid-grey). So a decode that only warned is judged
//! by its result instead:
//!
//! - a file without an end-of-image marker after its scan data is truncated: refused;
//! - a picture whose bottom rows are blank over more than [`MAX_BLANK_ROWS`] of its height (the
//!   entropy-coded data ran out before the image did, as in a fuzzed or cut-and-patched file)
//!   is refused;
//! - anything else (junk bytes between the scans of a progressive file, a damaged stretch that
//!   libjpeg resynchronised past at the next restart marker) is kept, with the warning.
//!
//! Junk bytes between the segments of the header never get here: `decode` refuses such a
//! header before any pixel is decoded.
//!
//! A fatal error always fails, even after warnings.

use std::ffi::{c_int, CStr};
use turbojpeg::raw;

/// The most scans a JPEG may have. Each scan of a progressive JPEG is a pass over the image
/// (a few milliseconds at 100 MP), so a file of many tiny scans could hold a decode for
/// minutes; encoders write about ten (libjpeg's progressive script, mozjpeg's), and 500 is
/// the limit libjpeg-turbo's own fuzzing uses. Counted before decoding (`limits`), and set in
/// TurboJPEG too, for scans the count could miss.
pub(crate) const MAX_SCANS: usize = 500;

/// Largest share of the height that may be left blank by missing data: 1 row in 50.
const MAX_BLANK_ROWS: (usize, usize) = (1, 50);

/// The value of every sample of a block that had no data (all coefficients zero).
const BLANK_SAMPLE: u8 = 128;

/// What TurboJPEG reads from the header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JpegHeader {
    pub width: usize,
    pub height: usize,
    pub colorspace: JpegColorspace,
}

/// The colour space of the stored components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JpegColorspace {
    Gray,
    /// YCbCr or RGB: decoded to RGB.
    Color,
    Cmyk,
    Ycck,
}

impl JpegColorspace {
    /// Channels of the decoded pixels (grey, RGB or CMYK).
    pub fn channels(self) -> usize {
        match self {
            JpegColorspace::Gray => 1,
            JpegColorspace::Color => 3,
            JpegColorspace::Cmyk | JpegColorspace::Ycck => 4,
        }
    }

    fn pixel_format(self) -> c_int {
        match self {
            JpegColorspace::Gray => raw::TJPF_TJPF_GRAY,
            JpegColorspace::Color => raw::TJPF_TJPF_RGB,
            JpegColorspace::Cmyk | JpegColorspace::Ycck => raw::TJPF_TJPF_CMYK,
        }
    }

    /// A decoded pixel of a block that had no data. YCCK is converted to CMYK through RGB, and
    /// the C, M and Y of a mid-grey are inverted.
    fn blank_pixel(self) -> &'static [u8] {
        match self {
            JpegColorspace::Gray => &[BLANK_SAMPLE],
            JpegColorspace::Color => &[BLANK_SAMPLE; 3],
            JpegColorspace::Cmyk => &[BLANK_SAMPLE; 4],
            JpegColorspace::Ycck => &[
                255 - BLANK_SAMPLE,
                255 - BLANK_SAMPLE,
                255 - BLANK_SAMPLE,
                128,
            ],
        }
    }
}

/// Pixels decoded from a JPEG, with the decoder's warning when its data was corrupt.
#[derive(Debug)]
pub(crate) struct Decompressed {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
    /// Set when libjpeg warned and the picture was judged whole enough to keep.
    pub warning: Option<String>,
}

/// A TurboJPEG decompressor instance.
struct Handle(raw::tjhandle);

impl Handle {
    fn new() -> Result<Self, String> {
        // SAFETY: tj3Init has no preconditions; it returns null on failure.
        let ptr = unsafe { raw::tj3Init(raw::TJINIT_TJINIT_DECOMPRESS as c_int) };
        if ptr.is_null() {
            return Err("cannot initialise TurboJPEG".to_string());
        }
        let mut handle = Handle(ptr);
        handle.set(raw::TJPARAM_TJPARAM_SCANLIMIT, MAX_SCANS as c_int)?;
        Ok(handle)
    }

    /// The message of the last failure (the first warning, unless a fatal error followed it).
    fn message(&self) -> String {
        // SAFETY: the handle is valid; the returned string is NUL-terminated and lives in the
        // instance (or a thread-local buffer) until the next call, so it is copied at once.
        unsafe { CStr::from_ptr(raw::tj3GetErrorStr(self.0)) }
            .to_string_lossy()
            .into_owned()
    }

    /// Whether libjpeg warned during the last call. It stays set when a fatal error followed
    /// the warning, so it does not prove the call completed.
    fn warned(&self) -> bool {
        // SAFETY: the handle is valid.
        let code = unsafe { raw::tj3GetErrorCode(self.0) };
        code == raw::TJERR_TJERR_WARNING as c_int
    }

    fn get(&self, param: raw::TJPARAM) -> c_int {
        // SAFETY: the handle is valid; unknown parameters return -1.
        unsafe { raw::tj3Get(self.0, param as c_int) }
    }

    fn set(&mut self, param: raw::TJPARAM, value: c_int) -> Result<(), String> {
        // SAFETY: the handle is valid.
        if unsafe { raw::tj3Set(self.0, param as c_int, value) } != 0 {
            return Err(self.message());
        }
        Ok(())
    }

    /// Decompresses into `pixels` (`width * height * channels` bytes of the scaled size);
    /// returns TurboJPEG's status (0 on success).
    fn decompress(
        &mut self,
        bytes: &[u8],
        shrink: usize,
        colorspace: JpegColorspace,
        width: usize,
        pixels: &mut [u8],
    ) -> Result<c_int, String> {
        let denom = c_int::try_from(shrink).map_err(|_| "bad scaling factor".to_string())?;
        let pitch = c_int::try_from(width * colorspace.channels())
            .map_err(|_| "row too wide".to_string())?;
        // SAFETY: the handle is valid.
        let status =
            unsafe { raw::tj3SetScalingFactor(self.0, raw::tjscalingfactor { num: 1, denom }) };
        if status != 0 {
            return Err(self.message());
        }
        // SAFETY: `bytes` is readable for its length; `pixels` holds `pitch` bytes for each of
        // the scaled height's rows (the caller sizes it from the same header and scale), which
        // is all TurboJPEG writes.
        Ok(unsafe {
            raw::tj3Decompress8(
                self.0,
                bytes.as_ptr(),
                bytes.len() as raw::size_t,
                pixels.as_mut_ptr(),
                pitch,
                colorspace.pixel_format(),
            )
        })
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle came from tj3Init and is destroyed once.
        unsafe { raw::tj3Destroy(self.0) }
    }
}

/// Reads the header. Warnings (such as junk bytes between segments) are left to the decode.
pub(crate) fn read_header(bytes: &[u8]) -> Result<JpegHeader, String> {
    let handle = Handle::new()?;
    // SAFETY: the handle is valid and `bytes` readable for its length.
    let status =
        unsafe { raw::tj3DecompressHeader(handle.0, bytes.as_ptr(), bytes.len() as raw::size_t) };
    // After a fatal error the header fields keep their initial -1, even when TurboJPEG calls
    // it a warning because one came first.
    let width = handle.get(raw::TJPARAM_TJPARAM_JPEGWIDTH);
    let height = handle.get(raw::TJPARAM_TJPARAM_JPEGHEIGHT);
    let colorspace = match handle.get(raw::TJPARAM_TJPARAM_COLORSPACE) as raw::TJCS {
        raw::TJCS_TJCS_GRAY => Some(JpegColorspace::Gray),
        raw::TJCS_TJCS_CMYK => Some(JpegColorspace::Cmyk),
        raw::TJCS_TJCS_YCCK => Some(JpegColorspace::Ycck),
        raw::TJCS_TJCS_RGB | raw::TJCS_TJCS_YCbCr => Some(JpegColorspace::Color),
        _ => None,
    };
    match (usize::try_from(width), usize::try_from(height), colorspace) {
        (Ok(width), Ok(height), Some(colorspace)) if status == 0 || handle.warned() => {
            Ok(JpegHeader {
                width,
                height,
                colorspace,
            })
        }
        _ if status != 0 => Err(handle.message()),
        _ => Err("no frame header before the end of the data".to_string()),
    }
}

/// Decodes at 1/`shrink` scale (1, 2, 4 or 8), allowing libjpeg's warnings and judging what
/// they left (see the module documentation).
pub(crate) fn decompress(
    bytes: &[u8],
    header: &JpegHeader,
    shrink: usize,
    has_end_of_image: bool,
) -> Result<Decompressed, String> {
    let (width, height) = (
        header.width.div_ceil(shrink),
        header.height.div_ceil(shrink),
    );
    let channels = header.colorspace.channels();
    let mut pixels = vec![0u8; width * height * channels];
    let mut handle = Handle::new()?;
    if handle.decompress(bytes, shrink, header.colorspace, width, &mut pixels)? == 0 {
        return Ok(Decompressed {
            width,
            height,
            pixels,
            warning: None,
        });
    }
    let message = handle.message();
    if !handle.warned() || !completed_with_warnings(bytes, header, &message)? {
        return Err(message);
    }
    if !has_end_of_image {
        return Err(format!("truncated (no end-of-image marker): {message}"));
    }
    let blank = blank_bottom_rows(&pixels, width * channels, header.colorspace.blank_pixel());
    let (most, per) = MAX_BLANK_ROWS;
    if blank * per > height * most {
        return Err(format!(
            "{message}: the data ends early, {blank} of {height} rows have none"
        ));
    }
    let mut warning = format!("corrupt JPEG data, decoded anyway: {message}");
    if blank > 0 {
        warning.push_str(&format!(
            " ({blank} of {height} rows at the bottom have no data)"
        ));
    }
    Ok(Decompressed {
        width,
        height,
        pixels,
        warning: Some(warning),
    })
}

/// Whether a decode that warned went on to the end. TurboJPEG keeps only the first warning's
/// message, and a fatal error after it replaces it: a pass that stops at the first warning (at
/// 1/8 scale, it is only after the message) tells which one `message` is.
fn completed_with_warnings(
    bytes: &[u8],
    header: &JpegHeader,
    message: &str,
) -> Result<bool, String> {
    let shrink = 8;
    let width = header.width.div_ceil(shrink);
    let mut scratch =
        vec![0u8; width * header.height.div_ceil(shrink) * header.colorspace.channels()];
    let mut strict = Handle::new()?;
    strict.set(raw::TJPARAM_TJPARAM_STOPONWARNING, 1)?;
    let status = strict.decompress(bytes, shrink, header.colorspace, width, &mut scratch)?;
    Ok(status != 0 && strict.warned() && strict.message() == message)
}

/// Rows at the bottom in which every pixel is `blank`: what libjpeg fills in when the
/// entropy-coded data runs out before the image does.
fn blank_bottom_rows(pixels: &[u8], row_bytes: usize, blank: &[u8]) -> usize {
    if row_bytes == 0 {
        return 0;
    }
    pixels
        .chunks_exact(row_bytes)
        .rev()
        .take_while(|row| row.chunks_exact(blank.len()).all(|p| p == blank))
        .count()
}

/// A progressive 64x64 colour JPEG (libjpeg's script: ten scans) with its last scan written
/// `repeats` more times before the end of the image. For tests of the scan limit.
#[cfg(test)]
pub(crate) fn progressive_jpeg(repeats: usize) -> Vec<u8> {
    let pixels: Vec<u8> = (0..64 * 64 * 3).map(|i| (i % 251) as u8).collect();
    let image = turbojpeg::Image {
        pixels: pixels.as_slice(),
        width: 64,
        pitch: 64 * 3,
        height: 64,
        format: turbojpeg::PixelFormat::RGB,
    };
    let mut compressor = turbojpeg::Compressor::new().expect("compressor");
    compressor.set_progressive(true).expect("progressive");
    let jpeg = compressor.compress_to_vec(image).expect("encode");
    let eoi = jpeg.len() - 2;
    let last = jpeg
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .expect("a scan");
    let mut out = jpeg[..eoi].to_vec();
    for _ in 0..repeats {
        out.extend_from_slice(&jpeg[last..eoi]);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x64 baseline JPEG of a smooth gradient (nowhere mid-grey).
    fn gradient_jpeg(colorspace: JpegColorspace) -> Vec<u8> {
        let (width, height) = (64usize, 64usize);
        let format = match colorspace {
            JpegColorspace::Gray => turbojpeg::PixelFormat::GRAY,
            JpegColorspace::Color => turbojpeg::PixelFormat::RGB,
            JpegColorspace::Cmyk | JpegColorspace::Ycck => turbojpeg::PixelFormat::CMYK,
        };
        let channels = format.size();
        let pixels: Vec<u8> = (0..width * height * channels)
            .map(|i| {
                let (x, y) = ((i / channels) % width, (i / channels) / width);
                (x * 2 + y + 10 * (i % channels)) as u8
            })
            .collect();
        let image = turbojpeg::Image {
            pixels: pixels.as_slice(),
            width,
            pitch: width * channels,
            height,
            format,
        };
        let mut compressor = turbojpeg::Compressor::new().expect("compressor");
        let stored = match colorspace {
            JpegColorspace::Gray => {
                compressor
                    .set_subsamp(turbojpeg::Subsamp::Gray)
                    .expect("subsamp");
                turbojpeg::Colorspace::Gray
            }
            JpegColorspace::Color => turbojpeg::Colorspace::YCbCr,
            JpegColorspace::Cmyk => turbojpeg::Colorspace::CMYK,
            JpegColorspace::Ycck => turbojpeg::Colorspace::YCCK,
        };
        compressor.set_colorspace(stored).expect("colorspace");
        compressor.compress_to_vec(image).expect("encode")
    }

    fn decode_all(bytes: &[u8]) -> Result<Decompressed, String> {
        let header = read_header(bytes)?;
        let eoi = crate::jpeg_markers::read_segments(bytes)
            .scans(bytes)
            .end_of_image;
        decompress(bytes, &header, 1, eoi)
    }

    /// Where the entropy-coded data of a baseline JPEG starts (after the SOS segment).
    fn scan_data_start(jpeg: &[u8]) -> usize {
        let sos = jpeg
            .windows(2)
            .position(|w| w == [0xFF, 0xDA])
            .expect("SOS");
        sos + 2 + usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]))
    }

    #[test]
    fn turbojpeg_stops_at_the_scan_limit_itself() {
        // The limit `decode` checks first, here past it in the decoder (for scans a count of
        // the markers could miss): ten scans and 491 repeats are 501.
        let scans = |jpeg: &[u8]| crate::jpeg_markers::read_segments(jpeg).scans(jpeg).count;
        assert_eq!(scans(&progressive_jpeg(0)), 10);
        let at_limit = progressive_jpeg(MAX_SCANS - 10);
        assert_eq!(scans(&at_limit), MAX_SCANS);
        assert!(decode_all(&at_limit).is_ok());
        let over = progressive_jpeg(MAX_SCANS - 9);
        let e = decode_all(&over).expect_err("over the scan limit");
        assert!(e.contains("scans"), "{e}");
    }

    #[test]
    fn a_clean_jpeg_decodes_without_warning() {
        let decoded = decode_all(&gradient_jpeg(JpegColorspace::Color)).expect("decodes");
        assert_eq!((decoded.width, decoded.height), (64, 64));
        assert!(decoded.warning.is_none());
    }

    /// (`decode` refuses junk in a header before calling this; here it is the simplest way to
    /// make libjpeg warn and go on.)
    #[test]
    fn junk_between_segments_only_warns_the_decompressor() {
        let jpeg = gradient_jpeg(JpegColorspace::Color);
        let (damaged, _) = crate::jpeg_markers::with_junk_before(&jpeg, 0xDB, b"junk!");
        let decoded = decode_all(&damaged).expect("kept");
        let warning = decoded.warning.expect("warned");
        assert!(warning.contains("extraneous bytes"), "{warning}");
    }

    #[test]
    fn a_truncated_jpeg_is_refused() {
        let jpeg = gradient_jpeg(JpegColorspace::Color);
        let cut = &jpeg[..jpeg.len() - 40];
        let e = decode_all(cut).expect_err("refused");
        assert!(e.contains("truncated"), "{e}");
    }

    #[test]
    fn scan_data_that_ends_early_is_refused_even_with_its_end_marker() {
        for colorspace in [
            JpegColorspace::Color,
            JpegColorspace::Gray,
            JpegColorspace::Cmyk,
            JpegColorspace::Ycck,
        ] {
            let jpeg = gradient_jpeg(colorspace);
            assert_eq!(read_header(&jpeg).expect("header").colorspace, colorspace);
            let start = scan_data_start(&jpeg);
            // A third of the scan data, then the end-of-image marker.
            let mut patched = jpeg[..start + (jpeg.len() - start) / 3].to_vec();
            patched.extend_from_slice(&[0xFF, 0xD9]);
            let e = decode_all(&patched).expect_err("refused");
            assert!(e.contains("rows have none"), "{colorspace:?}: {e}");
        }
    }

    #[test]
    fn a_fatal_error_after_a_warning_still_fails() {
        // Junk before a Huffman table whose code counts overflow: a warning, then a fatal error.
        let jpeg = gradient_jpeg(JpegColorspace::Color);
        let (mut damaged, dht) = crate::jpeg_markers::with_junk_before(&jpeg, 0xC4, &[0x00]);
        // Counts of code lengths 1..16 follow the table class byte: make them all 255.
        for b in &mut damaged[dht + 1 + 5..dht + 1 + 5 + 16] {
            *b = 255;
        }
        assert!(decode_all(&damaged).is_err());
    }

    #[test]
    fn blank_rows_are_counted_from_the_bottom() {
        let row = |v: u8| vec![v; 6];
        let pixels = [row(10), row(128), row(128), row(128)].concat();
        assert_eq!(blank_bottom_rows(&pixels, 6, &[128, 128, 128]), 3);
        assert_eq!(blank_bottom_rows(&pixels, 6, &[127, 127, 127]), 0);
    }
}
