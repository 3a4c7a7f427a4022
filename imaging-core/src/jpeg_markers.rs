//! Reads the metadata segments of a JPEG (EXIF, ICC, Adobe) without decoding it.

/// What the header segments of a JPEG carry.
#[derive(Debug, Default)]
pub(crate) struct JpegSegments {
    /// The TIFF structure of the APP1 `Exif` segment.
    pub exif: Option<Vec<u8>>,
    /// The ICC profile, reassembled from its APP2 chunks in sequence order.
    pub icc: Option<Vec<u8>>,
    /// Why the APP2 chunks present make no profile (see [`icc_profile`]), for a warning.
    pub icc_problem: Option<String>,
    /// An Adobe APP14 segment is present: 4-component data is stored inverted.
    pub adobe: bool,
    /// Width and height declared by the start-of-frame segment.
    pub frame_size: Option<(u32, u32)>,
    /// Bits a sample declared by the start-of-frame segment.
    pub precision: Option<u8>,
    /// Where the first start-of-scan segment begins.
    pub scan_start: Option<usize>,
    /// Bytes before the first scan that belong to no segment (not a marker, not a fill byte),
    /// and the offset of the first of them. libjpeg skips them with a warning; a well-formed
    /// file has none.
    pub stray: Option<StrayBytes>,
}

/// Bytes between header segments that belong to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StrayBytes {
    /// Offset of the first stray byte.
    pub offset: usize,
    /// How many stray bytes the header holds in all.
    pub count: usize,
}

/// What follows the start of the first scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scans {
    /// Start-of-scan markers up to the end-of-image marker (the first scan's included): a
    /// baseline JPEG has one scan per component set, a progressive one about ten.
    pub count: usize,
    /// Whether an end-of-image marker follows: without one the file is truncated.
    pub end_of_image: bool,
}

impl JpegSegments {
    /// Counts the scans and looks for the end of the image, in one pass from the first scan.
    /// Entropy-coded data cannot hold a marker (an `FF` byte there is always followed by `00`,
    /// a fill byte or a restart marker), and starting from the scan skips the thumbnail an
    /// EXIF segment may hold; stopping at the end of the image skips the images an MPO file
    /// stores after it. Only the payload of a segment between scans (a comment, tables) could
    /// hold marker bytes: there the count errs on the side of more, and the end can be found
    /// early (the decoder then finds the data cut).
    pub fn scans(&self, bytes: &[u8]) -> Scans {
        let mut found = Scans {
            count: 0,
            end_of_image: false,
        };
        let Some(scan) = self.scan_start.and_then(|start| bytes.get(start..)) else {
            return found;
        };
        for at in memchr::memchr_iter(0xFF, scan) {
            match scan.get(at + 1) {
                Some(0xDA) => found.count += 1,
                Some(0xD9) => {
                    found.end_of_image = true;
                    break;
                }
                _ => {}
            }
        }
        found
    }
}

const EXIF_ID: &[u8] = b"Exif\0\0";
const ICC_ID: &[u8] = b"ICC_PROFILE\0";

/// Walks the segments up to the start of scan. Bytes between segments are skipped, as libjpeg
/// does, and counted in [`JpegSegments::stray`]; a malformed segment ends the walk: the
/// decoder, not this reader, decides whether the file is broken.
pub(crate) fn read_segments(bytes: &[u8]) -> JpegSegments {
    let mut found = JpegSegments::default();
    let mut icc_chunks: Vec<IccChunk> = Vec::new();
    let mut pos = 2; // after SOI
    while pos + 4 <= bytes.len() {
        if bytes[pos] != 0xFF {
            // Junk before a marker.
            let stray = found.stray.get_or_insert(StrayBytes {
                offset: pos,
                count: 0,
            });
            stray.count += 1;
            pos += 1;
            continue;
        }
        let marker = bytes[pos + 1];
        if marker == 0xFF {
            pos += 1; // fill byte
            continue;
        }
        if marker == 0xDA {
            found.scan_start = Some(pos);
            break;
        }
        if marker == 0xD9 {
            break; // end of image
        }
        let len = usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]));
        if len < 2 || pos + 2 + len > bytes.len() {
            break;
        }
        let payload = &bytes[pos + 4..pos + 2 + len];
        match marker {
            0xE1 if found.exif.is_none() && payload.starts_with(EXIF_ID) => {
                found.exif = Some(payload[EXIF_ID.len()..].to_vec());
            }
            0xE2 if payload.starts_with(ICC_ID) && payload.len() >= ICC_ID.len() + 2 => {
                icc_chunks.push(IccChunk {
                    seq: payload[ICC_ID.len()],
                    total: payload[ICC_ID.len() + 1],
                    data: &payload[ICC_ID.len() + 2..],
                });
            }
            0xEE if payload.starts_with(b"Adobe") => found.adobe = true,
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) && payload.len() >= 5 => {
                let height = u16::from_be_bytes([payload[1], payload[2]]);
                let width = u16::from_be_bytes([payload[3], payload[4]]);
                found.frame_size = Some((u32::from(width), u32::from(height)));
                found.precision = Some(payload[0]);
            }
            _ => {}
        }
        pos += 2 + len;
    }
    if !icc_chunks.is_empty() {
        match icc_profile(icc_chunks) {
            Ok(profile) => found.icc = Some(profile),
            Err(problem) => found.icc_problem = Some(format!("ICC profile ignored: {problem}")),
        }
    }
    found
}

/// One APP2 chunk of an ICC profile: its sequence number (from 1), the chunk count it gives,
/// and its part of the profile.
struct IccChunk<'a> {
    seq: u8,
    total: u8,
    data: &'a [u8],
}

/// The profile that `chunks` make, joined in sequence order, when they are one whole set as
/// the ICC specification (annex B.4) and libjpeg's `jpeg_read_icc_profile` ask: every chunk
/// gives the same count N of at least 1, and each number from 1 to N comes exactly once.
/// Otherwise what is wrong: a profile with a chunk missing, repeated or from another set
/// would be read as a different profile.
fn icc_profile(mut chunks: Vec<IccChunk>) -> Result<Vec<u8>, String> {
    let total = chunks[0].total;
    if let Some(other) = chunks.iter().find(|c| c.total != total) {
        return Err(format!(
            "its APP2 chunks give different counts ({total} and {})",
            other.total
        ));
    }
    let mut seen = [0usize; 256];
    for chunk in &chunks {
        seen[usize::from(chunk.seq)] += 1;
    }
    if let Some(seq) = (1..=usize::from(total)).find(|&n| seen[n] != 1) {
        let problem = match seen[seq] {
            0 => "is missing".to_string(),
            n => format!("comes {n} times"),
        };
        return Err(format!("chunk {seq} of {total} {problem}"));
    }
    if chunks.len() != usize::from(total) {
        // Only numbers outside 1..=total are left.
        return Err(format!("a chunk is numbered outside 1 to {total}"));
    }
    chunks.sort_by_key(|c| c.seq);
    Ok(chunks.iter().flat_map(|c| c.data.iter().copied()).collect())
}

/// `jpeg` with `junk` inserted just before the first `marker` segment, and where that segment
/// began (where the junk now starts). For tests that damage a header.
#[cfg(test)]
pub(crate) fn with_junk_before(jpeg: &[u8], marker: u8, junk: &[u8]) -> (Vec<u8>, usize) {
    let at = jpeg
        .windows(2)
        .position(|w| w == [0xFF, marker])
        .unwrap_or_else(|| panic!("no FF {marker:02X} marker"));
    let mut damaged = jpeg[..at].to_vec();
    damaged.extend_from_slice(junk);
    damaged.extend_from_slice(&jpeg[at..]);
    (damaged, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() + 2) as u16;
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn reassembles_icc_chunks_in_sequence_order() {
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0\x02\x02world"));
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x02hello "));
        jpeg.extend(segment(0xE1, b"Exif\0\0II*\0"));
        jpeg.extend(segment(0xEE, b"Adobe\0\0\0\0\0\x02"));
        jpeg.extend(segment(0xC2, &[8, 0x0F, 0xA0, 0x17, 0x70, 3]));
        jpeg.extend([0xFF, 0xDA, 0, 2]);
        let found = read_segments(&jpeg);
        assert_eq!(found.icc.as_deref(), Some(&b"hello world"[..]));
        assert_eq!(found.exif.as_deref(), Some(&b"II*\0"[..]));
        assert!(found.adobe);
        assert_eq!(found.frame_size, Some((6000, 4000)));
        assert_eq!(found.stray, None);
    }

    #[test]
    fn icc_chunks_that_are_not_one_whole_set_make_no_profile() {
        let problem = |chunks: &[(u8, u8)]| {
            let mut jpeg = vec![0xFF, 0xD8];
            for &(seq, total) in chunks {
                let mut payload = b"ICC_PROFILE\0".to_vec();
                payload.extend([seq, total, b'x']);
                jpeg.extend(segment(0xE2, &payload));
            }
            jpeg.extend([0xFF, 0xDA, 0, 2]);
            let found = read_segments(&jpeg);
            assert_eq!(found.icc.is_some(), found.icc_problem.is_none());
            found.icc_problem
        };
        assert_eq!(problem(&[(2, 3), (3, 3), (1, 3)]), None);
        // A chunk of no data is one of the set, as libjpeg counts it.
        let mut jpeg = vec![0xFF, 0xD8];
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0\x01\x02ab"));
        jpeg.extend(segment(0xE2, b"ICC_PROFILE\0\x02\x02"));
        jpeg.extend([0xFF, 0xDA, 0, 2]);
        assert_eq!(read_segments(&jpeg).icc.as_deref(), Some(&b"ab"[..]));
        let said = |s: &str| Some(format!("ICC profile ignored: {s}"));
        assert_eq!(problem(&[(1, 3), (3, 3)]), said("chunk 2 of 3 is missing"));
        assert_eq!(
            problem(&[(1, 2), (2, 2), (1, 2)]),
            said("chunk 1 of 2 comes 2 times")
        );
        assert_eq!(
            problem(&[(1, 2), (2, 3), (3, 3)]),
            said("its APP2 chunks give different counts (2 and 3)")
        );
        assert_eq!(
            problem(&[(1, 1), (0, 1)]),
            said("a chunk is numbered outside 1 to 1")
        );
        assert_eq!(
            problem(&[(0, 0)]),
            said("a chunk is numbered outside 1 to 0")
        );
    }

    #[test]
    fn skips_junk_between_segments_and_finds_the_end_of_image_after_the_scan() {
        let mut jpeg = vec![0xFF, 0xD8];
        // An EXIF thumbnail ends with its own end-of-image marker: it must not count.
        jpeg.extend(segment(0xE1, b"Exif\0\0\xFF\xD8\xFF\xD9"));
        jpeg.extend_from_slice(b"junk");
        jpeg.extend(segment(0xC0, &[8, 0, 16, 0, 32, 1]));
        jpeg.extend([0xFF, 0xDA, 0, 2, 0x12, 0xFF, 0x00, 0x34]);
        let found = read_segments(&jpeg);
        assert_eq!(found.frame_size, Some((32, 16)));
        let exif_end = 2 + 4 + 10;
        assert_eq!(
            found.stray,
            Some(StrayBytes {
                offset: exif_end,
                count: 4
            })
        );
        assert!(!found.scans(&jpeg).end_of_image, "cut after the scan data");
        jpeg.extend([0xFF, 0xD9]);
        assert!(read_segments(&jpeg).scans(&jpeg).end_of_image);
    }

    #[test]
    fn stops_at_a_truncated_segment() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00, b'E'];
        let found = read_segments(&jpeg);
        assert!(found.exif.is_none() && found.icc.is_none());
    }
}
