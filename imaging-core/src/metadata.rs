//! EXIF facts a photo book needs: orientation, capture time, camera, GPS.

use exif::{Exif, In, Tag, Value};
use serde::Serialize;

/// EXIF orientation: how the stored pixels must be transformed to be upright.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(into = "u8")]
pub enum Orientation {
    /// 1: stored upright.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: rotated 180°.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the top-left to bottom-right diagonal.
    Transpose,
    /// 6: must be rotated 90° clockwise.
    Rotate90,
    /// 7: mirrored along the top-right to bottom-left diagonal.
    Transverse,
    /// 8: must be rotated 270° clockwise.
    Rotate270,
}

impl Orientation {
    /// From the EXIF value; anything outside 1..=8 (such as 0) means upright.
    pub fn from_exif(value: u32) -> Self {
        match value {
            2 => Orientation::FlipHorizontal,
            3 => Orientation::Rotate180,
            4 => Orientation::FlipVertical,
            5 => Orientation::Transpose,
            6 => Orientation::Rotate90,
            7 => Orientation::Transverse,
            8 => Orientation::Rotate270,
            _ => Orientation::Normal,
        }
    }

    /// The EXIF value, 1..=8.
    pub fn exif_value(self) -> u8 {
        self as u8 + 1
    }

    /// Whether width and height trade places when the image is made upright.
    pub fn swaps_dimensions(self) -> bool {
        matches!(
            self,
            Orientation::Transpose
                | Orientation::Rotate90
                | Orientation::Transverse
                | Orientation::Rotate270
        )
    }
}

impl From<Orientation> for u8 {
    fn from(o: Orientation) -> u8 {
        o.exif_value()
    }
}

/// A GPS position in decimal degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Gps {
    /// Latitude, north positive.
    pub lat: f64,
    /// Longitude, east positive.
    pub lon: f64,
}

/// What the EXIF block says, each fact absent when missing or malformed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifFacts {
    /// Orientation of the stored pixels.
    pub orientation: Orientation,
    /// When the photo was taken, as ISO 8601 (`2019-03-21T11:04:22`): `DateTimeOriginal` with
    /// `OffsetTimeOriginal` appended when present and valid (`+02:00`), else (absent or not a
    /// valid date) `DateTime` with `OffsetTime`.
    pub taken_at: Option<String>,
    /// Camera maker (at most [`MAX_EXIF_TEXT`] characters, no control characters).
    pub make: Option<String>,
    /// Camera model (as `make`).
    pub model: Option<String>,
    /// Position; a 0/0 fix or a missing coordinate is no GPS.
    pub gps: Option<Gps>,
}

impl ExifFacts {
    /// Parses a raw EXIF (TIFF-structured) block. Broken EXIF never fails a photo: what can be
    /// read is kept, and the second value says what was wrong.
    pub fn from_tiff(tiff: Vec<u8>) -> (Self, Option<String>) {
        Self::read(lenient_reader().read_raw(tiff))
    }

    /// Parses the EXIF of a container (PNG, WebP, TIFF), like [`ExifFacts::from_tiff`].
    pub fn from_container(bytes: &[u8]) -> (Self, Option<String>) {
        Self::read(lenient_reader().read_from_container(&mut std::io::Cursor::new(bytes)))
    }

    fn read(result: Result<Exif, exif::Error>) -> (Self, Option<String>) {
        let mut problems = Vec::new();
        match result.or_else(|e| e.distill_partial_result(|errors| problems = errors)) {
            Ok(exif) => {
                let mut list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                let (facts, gps_problem) = Self::from_exif(&exif);
                list.extend(gps_problem);
                let warning = (!list.is_empty())
                    .then(|| format!("EXIF partly unreadable, the rest kept: {}", list.join("; ")));
                (facts, warning)
            }
            Err(exif::Error::NotFound(_)) => (Self::default(), None),
            Err(e) => (Self::default(), Some(format!("EXIF ignored: {e}"))),
        }
    }

    /// The facts, and what was wrong with the GPS position if it was dropped.
    fn from_exif(exif: &Exif) -> (Self, Option<String>) {
        let orientation = exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .map(Orientation::from_exif)
            .unwrap_or_default();
        let (gps, gps_problem) = match gps(exif) {
            Ok(gps) => (gps, None),
            Err(problem) => (None, Some(problem)),
        };
        let facts = ExifFacts {
            orientation,
            taken_at: taken_at(exif),
            make: ascii(exif, Tag::Make),
            model: ascii(exif, Tag::Model),
            gps,
        };
        (facts, gps_problem)
    }
}

fn lenient_reader() -> exif::Reader {
    let mut reader = exif::Reader::new();
    reader.continue_on_error(true);
    reader
}

/// Longest camera make or model kept, in characters (real ones are under 40). A file may
/// store megabytes there; the analysis and the `photo.analyzed` message carry these fields,
/// and SNS takes at most 256 KB a message.
pub const MAX_EXIF_TEXT: usize = 128;

fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let bytes = parts.first()?;
    // EXIF says ASCII; what is not UTF-8 is read as Latin-1 (one character a byte) rather
    // than as replacement characters.
    match std::str::from_utf8(bytes) {
        Ok(text) => clean_text(text),
        Err(_) => clean_text(&bytes.iter().map(|&b| char::from(b)).collect::<String>()),
    }
}

/// `text` without control characters, invisible format characters (bidirectional overrides,
/// zero-width spaces, byte order marks, line and paragraph separators), spaces at either end,
/// or anything past [`MAX_EXIF_TEXT`] characters; `None` when nothing is left.
fn clean_text(text: &str) -> Option<String> {
    let text: String = text
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_format(c))
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_EXIF_TEXT)
        .collect();
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_string())
}

/// Unicode's format characters (general category Cf) and the line and paragraph separators:
/// invisible, and some reorder or break the text they are shown in.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// When the photo was taken: `DateTimeOriginal` with its `OffsetTimeOriginal`, else (absent or
/// not a valid date) `DateTime` with its `OffsetTime`.
fn taken_at(exif: &Exif) -> Option<String> {
    [
        (Tag::DateTimeOriginal, Tag::OffsetTimeOriginal),
        (Tag::DateTime, Tag::OffsetTime),
    ]
    .into_iter()
    .find_map(|(time, offset)| {
        let mut text = date_time(exif, time)?;
        if let Some(offset) = offset_text(exif, offset) {
            text.push_str(offset);
        }
        Some(text)
    })
}

/// An EXIF offset tag's `±HH:MM`, when it holds a valid one as written (padding after it
/// aside): not after cleaning, which would make one of `+0\u{1}2:00`.
fn offset_text(exif: &Exif, tag: Tag) -> Option<&str> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let raw = parts.first()?;
    let end = raw
        .iter()
        .rposition(|&c| c != b' ' && c != 0)
        .map_or(0, |i| i + 1);
    std::str::from_utf8(&raw[..end])
        .ok()
        .filter(|o| is_offset(o))
}

/// An EXIF date-time tag as `YYYY-MM-DDTHH:MM:SS`, when it holds a valid one.
fn date_time(exif: &Exif, tag: Tag) -> Option<String> {
    let field = exif.get_field(tag, In::PRIMARY)?;
    let Value::Ascii(parts) = &field.value else {
        return None;
    };
    let raw = parts.first()?;
    // `YYYY:MM:DD HH:MM:SS`, perhaps with what some software appends (fractions of a second,
    // an offset) and padding: other text after it makes it not that time.
    if !raw.get(19..).is_none_or(is_time_suffix) {
        return None;
    }
    let dt = exif::DateTime::from_ascii(raw).ok()?;
    // A date that exists on the calendar (no 31 April, 29 February only in leap years, no
    // year 0) and no leap second, which most readers of ISO 8601 times refuse.
    let leap = dt.year % 4 == 0 && (dt.year % 100 != 0 || dt.year % 400 == 0);
    let days = match dt.month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let valid = dt.year >= 1
        && (1..=12).contains(&dt.month)
        && (1..=days).contains(&dt.day)
        && dt.hour < 24
        && dt.minute < 60
        && dt.second < 60;
    valid.then(|| {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second
        )
    })
}

/// What may follow the seconds of an EXIF date-time and be passed over: `.` and digits
/// (fractions of a second), then `Z` or a `±HH:MM` offset, then spaces or NULs, each optional.
fn is_time_suffix(rest: &[u8]) -> bool {
    let mut rest = rest;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        rest = &fraction[digits..];
    }
    if let Some(after) = rest.strip_prefix(b"Z") {
        rest = after;
    } else if rest.first().is_some_and(|&c| c == b'+' || c == b'-') {
        if !rest
            .get(..6)
            .is_some_and(|o| std::str::from_utf8(o).is_ok_and(is_offset))
        {
            return false;
        }
        rest = &rest[6..];
    }
    rest.iter().all(|&c| c == b' ' || c == 0)
}

/// `±HH:MM` within the offsets there are: from -12:00 to +14:00, minutes under 60.
fn is_offset(text: &str) -> bool {
    let b = text.as_bytes();
    let number = |d: &[u8]| d.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0'));
    if !(b.len() == 6
        && b[1..3].iter().all(u8::is_ascii_digit)
        && b[3] == b':'
        && b[4..6].iter().all(u8::is_ascii_digit)
        && number(&b[4..6]) < 60)
    {
        return false;
    }
    let minutes = number(&b[1..3]) * 60 + number(&b[4..6]);
    match b[0] {
        b'+' => minutes <= 14 * 60,
        b'-' => minutes <= 12 * 60,
        _ => false,
    }
}

/// The position, `None` without one (no coordinate, empty rationals, or 0/0, which cameras
/// write for "no fix"); an error, to be warned of, for a position that cannot be (off the
/// globe, a negative degree, minute or second, a reference other than N/S or E/W).
fn gps(exif: &Exif) -> Result<Option<Gps>, String> {
    let (Some(lat), Some(lon)) = (
        degrees(exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, [b'N', b'S'])?,
        degrees(exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, [b'E', b'W'])?,
    ) else {
        return Ok(None);
    };
    if lat.abs() > 90.0 || lon.abs() > 180.0 {
        return Err(format!(
            "GPS position {lat}, {lon} is off the globe; dropped"
        ));
    }
    let null_island = lat == 0.0 && lon == 0.0;
    Ok((!null_island).then_some(Gps { lat, lon }))
}

/// A coordinate in signed degrees from its degrees, minutes and seconds and its reference
/// (`refs`: the positive one, then the negative one; absent, taken as positive).
fn degrees(exif: &Exif, tag: Tag, ref_tag: Tag, refs: [u8; 2]) -> Result<Option<f64>, String> {
    let Some(field) = exif.get_field(tag, In::PRIMARY) else {
        return Ok(None);
    };
    // Cameras write RATIONAL as the standard says, and some (Nokia) SRATIONAL.
    let parts: Vec<(f64, f64)> = match &field.value {
        Value::Rational(v) => v
            .iter()
            .map(|r| (f64::from(r.num), f64::from(r.denom)))
            .collect(),
        Value::SRational(v) => v
            .iter()
            .map(|r| (f64::from(r.num), f64::from(r.denom)))
            .collect(),
        _ => return Ok(None),
    };
    if parts.is_empty() || parts.iter().any(|&(_, denom)| denom == 0.0) {
        return Ok(None); // 0/0 rationals: an "empty" fix
    }
    let name = if refs[0] == b'N' {
        "latitude"
    } else {
        "longitude"
    };
    if parts.iter().take(3).any(|&(num, denom)| num / denom < 0.0) {
        // The sign is the reference's to give: a negative value under an S or W would be
        // turned back.
        return Err(format!(
            "GPS {name} has a negative degree, minute or second; position dropped"
        ));
    }
    let value = parts
        .iter()
        .take(3)
        .zip([1.0, 60.0, 3600.0])
        .map(|((num, denom), div)| num / denom / div)
        .sum::<f64>();
    let reference = exif
        .get_field(ref_tag, In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Ascii(v) => v.first().and_then(|s| s.first().copied()),
            _ => None,
        });
    let negative = match reference.map(|c| c.to_ascii_uppercase()) {
        None => false,
        Some(c) if c == refs[0] => false,
        Some(c) if c == refs[1] => true,
        Some(c) => {
            return Err(format!(
                "GPS {name} reference {:?} is neither {} nor {}; position dropped",
                char::from(c),
                char::from(refs[0]),
                char::from(refs[1])
            ))
        }
    };
    Ok(value
        .is_finite()
        .then_some(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_orientation_means_upright() {
        assert_eq!(Orientation::from_exif(0), Orientation::Normal);
        assert_eq!(Orientation::from_exif(9), Orientation::Normal);
        for v in 1..=8 {
            assert_eq!(u32::from(Orientation::from_exif(v).exif_value()), v);
        }
        assert!(Orientation::from_exif(6).swaps_dimensions());
        assert!(!Orientation::from_exif(3).swaps_dimensions());
    }

    /// A little-endian TIFF holding one ASCII tag.
    fn tiff_with_ascii(tag: u16, text: &[u8]) -> Vec<u8> {
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        tiff.extend(1u16.to_le_bytes());
        tiff.extend(tag.to_le_bytes());
        tiff.extend(2u16.to_le_bytes()); // ASCII
        tiff.extend((text.len() as u32 + 1).to_le_bytes());
        tiff.extend(26u32.to_le_bytes()); // the text, after this IFD
        tiff.extend(0u32.to_le_bytes()); // no next IFD
        tiff.extend(text);
        tiff.push(0);
        tiff
    }

    #[test]
    fn camera_names_are_kept_short_and_printable() {
        let (facts, _) = ExifFacts::from_tiff(tiff_with_ascii(0x010F, b"  Canon\x01\x02  "));
        assert_eq!(facts.make.as_deref(), Some("Canon"));
        // A hostile file's megabyte of text: cut to MAX_EXIF_TEXT characters.
        let mut huge = b"Nikon ".to_vec();
        huge.extend(std::iter::repeat_n(b'\x07', 60_000));
        huge.extend(std::iter::repeat_n(b'x', 1_000_000));
        let (facts, _) = ExifFacts::from_tiff(tiff_with_ascii(0x0110, &huge));
        let model = facts.model.expect("a model");
        assert_eq!(model.chars().count(), MAX_EXIF_TEXT);
        assert!(model.starts_with("Nikon x"), "{model}");
        let (facts, _) = ExifFacts::from_tiff(tiff_with_ascii(0x010F, b"\x01\x02 "));
        assert_eq!(facts.make, None);
        // Invisible characters that reorder or break what they are shown in: a right-to-left
        // override, a zero-width space, a byte order mark, a line separator, a C1 control.
        let sly = "Ca\u{202E}no\u{200B}n\u{FEFF} \u{2028}EOS\u{85}".as_bytes();
        let (facts, _) = ExifFacts::from_tiff(tiff_with_ascii(0x0110, sly));
        assert_eq!(facts.model.as_deref(), Some("Canon EOS"));
        // Not UTF-8: read as Latin-1, not as replacement characters.
        let (facts, _) = ExifFacts::from_tiff(tiff_with_ascii(0x010F, b"Soci\xe9t\xe9 X"));
        assert_eq!(facts.make.as_deref(), Some("Soci\u{e9}t\u{e9} X"));
    }

    /// A little-endian TIFF whose IFD0 points to a GPS IFD with this latitude and longitude
    /// (degrees, minutes, seconds as whole numbers), north and east.
    fn tiff_with_gps(lat: [u32; 3], lon: [u32; 3]) -> Vec<u8> {
        let signed = |v: [u32; 3]| v.map(|n| n as i32);
        tiff_with_gps_as(signed(lat), b'N', signed(lon), b'E', 5)
    }

    /// [`tiff_with_gps`] with these references and rationals of type `kind` (5 RATIONAL, 10
    /// SRATIONAL).
    fn tiff_with_gps_as(
        lat: [i32; 3],
        lat_ref: u8,
        lon: [i32; 3],
        lon_ref: u8,
        kind: u16,
    ) -> Vec<u8> {
        let rationals = |v: [i32; 3]| -> Vec<u8> {
            v.iter()
                .flat_map(|n| [n.to_le_bytes(), 1u32.to_le_bytes()].concat())
                .collect()
        };
        // IFD0 at 8: one entry (GPSInfo), then the GPS IFD at 26: four entries, then the
        // rationals at 26 + 2 + 4 * 12 + 4 = 80 and 104.
        let mut tiff = b"II*\0".to_vec();
        tiff.extend(8u32.to_le_bytes());
        let entry = |tag: u16, kind: u16, count: u32, value: u32| -> Vec<u8> {
            [
                &tag.to_le_bytes()[..],
                &kind.to_le_bytes(),
                &count.to_le_bytes(),
                &value.to_le_bytes(),
            ]
            .concat()
        };
        tiff.extend(1u16.to_le_bytes());
        tiff.extend(entry(0x8825, 4, 1, 26));
        tiff.extend(0u32.to_le_bytes());
        tiff.extend(4u16.to_le_bytes());
        tiff.extend(entry(1, 2, 2, u32::from(lat_ref)));
        tiff.extend(entry(2, kind, 3, 80));
        tiff.extend(entry(3, 2, 2, u32::from(lon_ref)));
        tiff.extend(entry(4, kind, 3, 104));
        tiff.extend(0u32.to_le_bytes());
        assert_eq!(tiff.len(), 80);
        tiff.extend(rationals(lat));
        tiff.extend(rationals(lon));
        tiff
    }

    #[test]
    fn a_position_off_the_globe_is_dropped_with_a_warning() {
        let (facts, warning) = ExifFacts::from_tiff(tiff_with_gps([48, 51, 30], [2, 17, 40]));
        let gps = facts.gps.expect("a position");
        assert!((gps.lat - 48.858_333).abs() < 1e-5 && (gps.lon - 2.294_444).abs() < 1e-5);
        assert_eq!(warning, None);
        let (facts, warning) = ExifFacts::from_tiff(tiff_with_gps([91, 0, 0], [2, 17, 40]));
        assert_eq!(facts.gps, None);
        let warning = warning.expect("a warning");
        assert!(warning.contains("off the globe"), "{warning}");
        // 0/0 is how cameras write "no fix": dropped without a word.
        let (facts, warning) = ExifFacts::from_tiff(tiff_with_gps([0, 0, 0], [0, 0, 0]));
        assert_eq!((facts.gps, warning), (None, None));
    }

    #[test]
    fn the_reference_gives_the_sign_and_a_position_it_cannot_give_is_dropped() {
        let position = |lat_ref, lon_ref, kind, sign: i32| {
            let lat = [48 * sign, 51, 30];
            ExifFacts::from_tiff(tiff_with_gps_as(lat, lat_ref, [2, 17, 40], lon_ref, kind))
        };
        let (facts, warning) = position(b's', b'W', 10, 1);
        let gps = facts.gps.expect("a position");
        assert!(gps.lat < -48.8 && gps.lon < -2.29, "{gps:?}");
        assert_eq!(warning, None);
        // A negative SRATIONAL under S would be turned back north.
        let (facts, warning) = position(b'S', b'E', 10, -1);
        assert_eq!(facts.gps, None);
        assert!(warning.expect("a warning").contains("negative"));
        // A reference that is no direction.
        let (facts, warning) = position(b'X', b'E', 5, 1);
        assert_eq!(facts.gps, None);
        assert!(warning.expect("a warning").contains("neither N nor S"));
    }

    /// A little-endian TIFF with these ASCII tags (each at least 4 characters) in IFD0 and in
    /// the Exif IFD it points to.
    fn tiff_with_texts(ifd0: &[(u16, &str)], exif: &[(u16, &str)]) -> Vec<u8> {
        let exif_at = 8 + 2 + 12 * (ifd0.len() + 1) + 4;
        let mut data_at = exif_at + 2 + 12 * exif.len() + 4;
        let (mut ifds, mut data) = (b"II*\0".to_vec(), Vec::new());
        ifds.extend(8u32.to_le_bytes());
        let mut entry = |ifds: &mut Vec<u8>, tag: u16, text: &str| {
            assert!(text.len() >= 4, "stored after the IFDs");
            ifds.extend(tag.to_le_bytes());
            ifds.extend(2u16.to_le_bytes());
            ifds.extend((text.len() as u32 + 1).to_le_bytes());
            ifds.extend((data_at as u32).to_le_bytes());
            data.extend(text.as_bytes());
            data.push(0);
            data_at += text.len() + 1;
        };
        ifds.extend((ifd0.len() as u16 + 1).to_le_bytes());
        for &(tag, text) in ifd0 {
            entry(&mut ifds, tag, text);
        }
        ifds.extend(
            [0x69u8, 0x87, 4, 0, 1, 0, 0, 0]
                .iter()
                .chain(&(exif_at as u32).to_le_bytes()),
        );
        ifds.extend(0u32.to_le_bytes());
        ifds.extend((exif.len() as u16).to_le_bytes());
        for &(tag, text) in exif {
            entry(&mut ifds, tag, text);
        }
        ifds.extend(0u32.to_le_bytes());
        assert_eq!(ifds.len(), exif_at + 2 + 12 * exif.len() + 4);
        ifds.extend(data);
        ifds
    }

    #[test]
    fn the_time_taken_falls_back_to_the_file_time_with_its_own_offset() {
        const DATE_TIME: u16 = 0x0132;
        const ORIGINAL: u16 = 0x9003;
        const OFFSET: u16 = 0x9010;
        const OFFSET_ORIGINAL: u16 = 0x9011;
        let taken = |ifd0: &[(u16, &str)], exif: &[(u16, &str)]| {
            ExifFacts::from_tiff(tiff_with_texts(ifd0, exif)).0.taken_at
        };
        let file_time = [(DATE_TIME, "2020:01:02 03:04:05")];
        let offsets = [(OFFSET, "+01:00"), (OFFSET_ORIGINAL, "+02:00")];
        let original = [&[(ORIGINAL, "2019:03:21 11:04:22")][..], &offsets].concat();
        assert_eq!(
            taken(&file_time, &original).as_deref(),
            Some("2019-03-21T11:04:22+02:00")
        );
        // DateTimeOriginal absent, or there but no date: DateTime, with OffsetTime.
        assert_eq!(
            taken(&file_time, &offsets).as_deref(),
            Some("2020-01-02T03:04:05+01:00")
        );
        let broken = [&[(ORIGINAL, "2019:13:45 99:00:00")][..], &offsets].concat();
        assert_eq!(
            taken(&file_time, &broken).as_deref(),
            Some("2020-01-02T03:04:05+01:00")
        );
        assert_eq!(
            taken(&file_time, &[]).as_deref(),
            Some("2020-01-02T03:04:05")
        );
        assert_eq!(taken(&[], &broken), None);
    }

    #[test]
    fn only_dates_on_the_calendar_are_times_taken() {
        const ORIGINAL: u16 = 0x9003;
        let taken = |text: &str| {
            ExifFacts::from_tiff(tiff_with_texts(&[], &[(ORIGINAL, text)]))
                .0
                .taken_at
        };
        for (text, iso) in [
            ("2024:02:29 10:00:00", "2024-02-29T10:00:00"),
            ("2000:02:29 10:00:00", "2000-02-29T10:00:00"),
            ("2024:04:30 23:59:59", "2024-04-30T23:59:59"),
            ("2024:12:31 00:00:00", "2024-12-31T00:00:00"),
            ("2024:12:31 00:00:00  ", "2024-12-31T00:00:00"),
            ("2024:12:31 00:00:00.123", "2024-12-31T00:00:00"),
            ("2024:12:31 00:00:00+02:00", "2024-12-31T00:00:00"),
            ("2024:12:31 00:00:00.5Z ", "2024-12-31T00:00:00"),
        ] {
            assert_eq!(taken(text).as_deref(), Some(iso), "{text}");
        }
        for text in [
            "2024:04:31 10:00:00",
            "2023:02:29 10:00:00",
            "1900:02:29 10:00:00",
            "2016:06:01 12:34:60",
            "0000:01:01 00:00:00",
            "0000:00:00 00:00:00",
            "2024:12:31 00:00:00 PM",
            "2024:12:31 00:00:0012",
            "2024:12:31 00:00:00.",
            "2024:12:31 00:00:00+25:00",
            "2024:12:31 00:00:00.5 x",
        ] {
            assert_eq!(taken(text), None, "{text}");
        }
    }

    #[test]
    fn an_offset_is_taken_as_written_not_as_cleaned() {
        const ORIGINAL: u16 = 0x9003;
        const OFFSET_ORIGINAL: u16 = 0x9011;
        let taken = |offset: &str| {
            let exif = [(ORIGINAL, "2021:06:30 12:00:00"), (OFFSET_ORIGINAL, offset)];
            ExifFacts::from_tiff(tiff_with_texts(&[], &exif)).0.taken_at
        };
        for (offset, iso) in [
            ("+02:00", "2021-06-30T12:00:00+02:00"),
            ("-03:30  ", "2021-06-30T12:00:00-03:30"),
            // Cleaning would make a valid offset of each of these: they are none.
            ("+0\u{1}2:00", "2021-06-30T12:00:00"),
            ("+0\u{200B}2:00", "2021-06-30T12:00:00"),
            (" +02:00", "2021-06-30T12:00:00"),
            ("+02:00x", "2021-06-30T12:00:00"),
        ] {
            assert_eq!(taken(offset).as_deref(), Some(iso), "{offset:?}");
        }
    }

    #[test]
    fn offsets_are_validated() {
        assert!(is_offset("+02:00"));
        assert!(is_offset("-03:30") && is_offset("+14:00") && is_offset("-12:00"));
        assert!(!is_offset("+99:99") && !is_offset("+15:00") && !is_offset("+05:60"));
        assert!(!is_offset("+14:30") && !is_offset("-12:30") && !is_offset("-13:00"));
        assert!(!is_offset("02:00"));
        assert!(!is_offset("+2:00 "));
    }
}
