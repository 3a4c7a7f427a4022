//! The sizes a HEIF/AVIF file's images are coded at, read from their codecs' own headers (the
//! AV1 sequence header's maximum frame size, the HEVC sequence parameter set's picture size),
//! not from the container's `ispe` box: a decoder makes what the codec data says, whatever the
//! container declares, and libheif (1.15) gives no coded size before it decodes. So a file
//! whose container declares 1000x1000 while its AV1 data codes 20000x15000 is refused before
//! any pixel is decoded.
//!
//! Every coded item of the file counts (the primary image, a grid's tiles, an alpha plane,
//! thumbnails), with the codec headers of its configuration box and of its data. A file this
//! reader cannot follow gives no size, and is the decoder's to judge.

/// The largest (by pixels) size any AV1 or HEVC item of the HEIF file `bytes` is coded at;
/// `None` where none can be read.
pub(crate) fn largest_coded_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let meta = boxes(bytes).find(|(kind, _)| kind == b"meta")?.1.get(4..)?;
    let mut items = Vec::new(); // (id, type)
    let mut locations = Vec::new();
    let mut properties: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut associations: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut idat: &[u8] = &[];
    for (kind, payload) in boxes(meta) {
        match &kind {
            b"iinf" => items = item_types(payload)?,
            b"iloc" => locations = item_locations(payload)?,
            b"idat" => idat = payload,
            b"iprp" => {
                for (kind, payload) in boxes(payload) {
                    match &kind {
                        b"ipco" => properties = boxes(payload).collect(),
                        b"ipma" => associations.extend(item_properties(payload)?),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut largest: Option<(u32, u32)> = None;
    for &(id, item_type) in &items {
        if &item_type != b"av01" && &item_type != b"hvc1" {
            continue;
        }
        let config_type = if &item_type == b"av01" {
            b"av1C"
        } else {
            b"hvcC"
        };
        let config = associations
            .iter()
            .filter(|(item, _)| *item == id)
            .flat_map(|(_, indices)| indices)
            .filter_map(|&i| properties.get(i.checked_sub(1)?))
            .find(|(kind, _)| kind == config_type)
            .map(|(_, payload)| *payload);
        let data = locations
            .iter()
            .find(|l| l.id == id)
            .and_then(|l| l.data(bytes, idat));
        let sizes = if &item_type == b"av01" {
            av1_sizes(config, data.as_deref())
        } else {
            hevc_sizes(config, data.as_deref())
        };
        for size in sizes {
            let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
            if largest.is_none_or(|l| pixels(size) > pixels(l)) {
                largest = Some(size);
            }
        }
    }
    largest
}

/// The boxes in `data`, as (type, payload); stops at one that does not fit.
fn boxes(mut data: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
        let kind: [u8; 4] = data.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, data.len()),
            1 => (
                16,
                usize::try_from(u64::from_be_bytes(data.get(8..16)?.try_into().ok()?)).ok()?,
            ),
            n => (8, usize::try_from(n).ok()?),
        };
        if size < header || size > data.len() {
            return None;
        }
        let payload = &data[header..size];
        data = &data[size..];
        Some((kind, payload))
    })
}

/// Big-endian unsigned integers of 0 to 8 bytes, read in turn.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn uint(&mut self, bytes: usize) -> Option<u64> {
        let (head, rest) = self.0.split_at_checked(bytes)?;
        self.0 = rest;
        Some(head.iter().fold(0, |n, &b| (n << 8) | u64::from(b)))
    }

    fn u32(&mut self, bytes: usize) -> Option<u32> {
        u32::try_from(self.uint(bytes)?).ok()
    }
}

/// `iinf`: each item's id and type (`infe` versions 2 and 3; older ones name no type).
fn item_types(payload: &[u8]) -> Option<Vec<(u32, [u8; 4])>> {
    let version = *payload.first()?;
    let skip = if version == 0 { 6 } else { 8 }; // version and flags, entry count
    let mut found = Vec::new();
    for (kind, infe) in boxes(payload.get(skip..)?) {
        if &kind != b"infe" {
            continue;
        }
        let mut r = Reader(infe);
        let version = r.uint(4)? >> 24;
        let id = match version {
            2 => r.u32(2)?,
            3 => r.u32(4)?,
            _ => continue,
        };
        r.uint(2)?; // protection index
        found.push((id, r.0.get(..4)?.try_into().ok()?));
    }
    Some(found)
}

/// Where an item's data is: in the file or in `idat`, as extents.
struct Location {
    id: u32,
    /// 0: offsets in the file; 1: in the `idat` box.
    method: u8,
    /// (offset, length); a length of 0 runs to the end.
    extents: Vec<(u64, u64)>,
}

impl Location {
    /// The item's data, at most as many bytes as the file has; `None` for data elsewhere
    /// (another item's, an external file).
    fn data(&self, file: &[u8], idat: &[u8]) -> Option<Vec<u8>> {
        let source = match self.method {
            0 => file,
            1 => idat,
            _ => return None,
        };
        let mut out = Vec::new();
        for &(offset, length) in &self.extents {
            let start = usize::try_from(offset).ok()?;
            let rest = source.get(start..)?;
            let take = match length {
                0 => rest.len(),
                n => usize::try_from(n).ok()?.min(rest.len()),
            };
            if out.len() + take > file.len() {
                return None;
            }
            out.extend_from_slice(&rest[..take]);
        }
        Some(out)
    }
}

/// `iloc`: each item's location.
fn item_locations(payload: &[u8]) -> Option<Vec<Location>> {
    let mut r = Reader(payload);
    let version = r.uint(4)? >> 24;
    let sizes = r.uint(2)?;
    let field = |shift: u32| usize::try_from((sizes >> shift) & 0xF).ok();
    let (offset_size, length_size, base_size) = (field(12)?, field(8)?, field(4)?);
    let index_size = if version >= 1 { field(0)? } else { 0 };
    let count = if version < 2 { r.uint(2)? } else { r.uint(4)? };
    let mut found = Vec::new();
    for _ in 0..count {
        let id = if version < 2 { r.u32(2)? } else { r.u32(4)? };
        let method = if version >= 1 {
            (r.uint(2)? & 0xF) as u8
        } else {
            0
        };
        r.uint(2)?; // data reference index
        let base = r.uint(base_size)?;
        let extent_count = r.uint(2)?;
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            r.uint(index_size)?;
            let offset = base.checked_add(r.uint(offset_size)?)?;
            extents.push((offset, r.uint(length_size)?));
        }
        found.push(Location {
            id,
            method,
            extents,
        });
    }
    Some(found)
}

/// `ipma`: each item's properties, as 1-based indices into `ipco`.
fn item_properties(payload: &[u8]) -> Option<Vec<(u32, Vec<usize>)>> {
    let mut r = Reader(payload);
    let version_flags = r.uint(4)?;
    let (version, wide) = (version_flags >> 24, version_flags & 1 == 1);
    let count = r.uint(4)?;
    let mut found = Vec::new();
    for _ in 0..count {
        let id = if version < 1 { r.u32(2)? } else { r.u32(4)? };
        let n = r.uint(1)?;
        let mut indices = Vec::new();
        for _ in 0..n {
            let index = if wide {
                r.uint(2)? & 0x7FFF
            } else {
                r.uint(1)? & 0x7F
            };
            indices.push(usize::try_from(index).ok()?);
        }
        found.push((id, indices));
    }
    Some(found)
}

/// Bits, most significant first.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.at / 8)?;
        let bit = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.at += n;
        (self.at <= self.data.len() * 8).then_some(())
    }

    /// Exp-Golomb `ue(v)` (HEVC).
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        Some(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }
}

/// The maximum frame sizes of the AV1 sequence headers in `av1C`'s configuration OBUs and in
/// the item's data.
fn av1_sizes(config: Option<&[u8]>, data: Option<&[u8]>) -> Vec<(u32, u32)> {
    let obus = config.and_then(|c| c.get(4..)).into_iter().chain(data);
    obus.flat_map(obu_payloads)
        .filter(|(kind, _)| *kind == 1)
        .filter_map(|(_, header)| sequence_header_size(header))
        .collect()
}

/// The OBUs in `data`, as (type, payload).
fn obu_payloads(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut found = Vec::new();
    while let Some(&header) = data.first() {
        let kind = (header >> 3) & 0xF;
        let mut at = 1 + usize::from(header & 0x4 != 0); // the extension byte
        let size = if header & 0x2 != 0 {
            // leb128
            let mut size = 0u64;
            let mut i = 0;
            loop {
                let Some(&b) = data.get(at) else {
                    return found;
                };
                size |= u64::from(b & 0x7F) << (7 * i);
                at += 1;
                i += 1;
                if b & 0x80 == 0 || i == 8 {
                    break;
                }
            }
            match usize::try_from(size) {
                Ok(s) => s,
                Err(_) => return found,
            }
        } else {
            data.len().saturating_sub(at)
        };
        let Some(payload) = at.checked_add(size).and_then(|end| data.get(at..end)) else {
            return found;
        };
        found.push((kind, payload));
        data = &data[at + size..];
    }
    found
}

/// `max_frame_width_minus_1 + 1` and the height, from an AV1 sequence header OBU's payload.
fn sequence_header_size(payload: &[u8]) -> Option<(u32, u32)> {
    let mut b = Bits {
        data: payload,
        at: 0,
    };
    b.bits(3)?; // seq_profile
    b.bit()?; // still_picture
    if b.bit()? == 1 {
        // reduced_still_picture_header
        b.bits(5)?; // seq_level_idx[0]
    } else {
        let mut buffer_delay_bits = 0;
        let timing_info = b.bit()? == 1;
        let mut decoder_model_info = false;
        if timing_info {
            b.skip(64)?; // num_units_in_display_tick, time_scale
            if b.bit()? == 1 {
                // equal_picture_interval: uvlc num_ticks_per_picture_minus_1
                let mut zeros = 0;
                while b.bit()? == 0 {
                    zeros += 1;
                    if zeros >= 32 {
                        return None;
                    }
                }
                b.skip(zeros)?;
            }
            decoder_model_info = b.bit()? == 1;
            if decoder_model_info {
                buffer_delay_bits = b.bits(5)? + 1;
                b.skip(32 + 5 + 5)?;
            }
        }
        let initial_display_delay = b.bit()? == 1;
        let operating_points = b.bits(5)? + 1;
        for _ in 0..operating_points {
            b.bits(12)?; // operating_point_idc
            if b.bits(5)? > 7 {
                b.bit()?; // seq_tier
            }
            if decoder_model_info && b.bit()? == 1 {
                b.skip(2 * buffer_delay_bits as usize + 1)?;
            }
            if initial_display_delay && b.bit()? == 1 {
                b.bits(4)?;
            }
        }
    }
    let width_bits = b.bits(4)? + 1;
    let height_bits = b.bits(4)? + 1;
    let width = b.bits(width_bits)?.checked_add(1)?;
    let height = b.bits(height_bits)?.checked_add(1)?;
    Some((width, height))
}

/// The picture sizes of the HEVC sequence parameter sets in `hvcC`'s arrays and in the item's
/// data (NAL units after a length of `hvcC`'s size).
fn hevc_sizes(config: Option<&[u8]>, data: Option<&[u8]>) -> Vec<(u32, u32)> {
    let Some(config) = config else {
        return Vec::new();
    };
    let mut nals: Vec<&[u8]> = Vec::new();
    let length_size = config.get(21).map_or(4, |b| usize::from(b & 3) + 1);
    let mut r = Reader(config.get(22..).unwrap_or_default());
    if let Some(arrays) = r.uint(1) {
        for _ in 0..arrays {
            let (Some(_), Some(count)) = (r.uint(1), r.uint(2)) else {
                break;
            };
            for _ in 0..count {
                let Some(len) = r.uint(2).and_then(|l| usize::try_from(l).ok()) else {
                    break;
                };
                let Some((nal, rest)) = r.0.split_at_checked(len) else {
                    break;
                };
                nals.push(nal);
                r.0 = rest;
            }
        }
    }
    let mut r = Reader(data.unwrap_or_default());
    while let Some(len) = r.uint(length_size).and_then(|l| usize::try_from(l).ok()) {
        let Some((nal, rest)) = r.0.split_at_checked(len) else {
            break;
        };
        nals.push(nal);
        r.0 = rest;
    }
    nals.into_iter()
        .filter(|nal| nal.first().is_some_and(|h| (h >> 1) & 0x3F == 33))
        .filter_map(|nal| sps_size(&unescape(nal.get(2..)?)))
        .collect()
}

/// A NAL unit's payload without its emulation-prevention bytes (`00 00 03` is `00 00`).
fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// `pic_width_in_luma_samples` and the height, from an HEVC SPS's payload.
fn sps_size(sps: &[u8]) -> Option<(u32, u32)> {
    let mut b = Bits { data: sps, at: 0 };
    b.bits(4)?; // sps_video_parameter_set_id
    let sub_layers = b.bits(3)? as usize; // sps_max_sub_layers_minus1
    b.bit()?; // sps_temporal_id_nesting_flag
              // profile_tier_level: the general profile and level, then the sub-layers'.
    b.skip(88 + 8)?;
    let mut present = Vec::new();
    for _ in 0..sub_layers {
        present.push((b.bit()?, b.bit()?));
    }
    if sub_layers > 0 {
        b.skip(2 * (8 - sub_layers))?;
    }
    for (profile, level) in present {
        b.skip(88 * profile as usize + 8 * level as usize)?;
    }
    b.ue()?; // sps_seq_parameter_set_id
    if b.ue()? == 3 {
        b.bit()?; // separate_colour_plane_flag
    }
    let width = b.ue()?;
    let height = b.ue()?;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_heif_files_are_coded_at_the_size_of_their_items() {
        let dir = test_support::photos_dir().join("formats");
        for (name, size) in [
            ("avif_8bit_srgb.avif", (1617, 1080)),
            ("avif_10bit_hdr_p3_nclx.avif", (3681, 5594)),
            ("avif_iphone_orientation6.avif", (3024, 4032)),
            ("heif_collection_multi_image.heic", (1440, 960)),
            // Grids: tiles of 512 (HEVC codes whole 8x8 blocks at least).
            ("heic_iphone7.heic", (512, 512)),
            ("heic_iphone_xs_max.heic", (512, 512)),
        ] {
            let bytes = std::fs::read(dir.join(name)).expect("corpus file");
            assert_eq!(largest_coded_size(&bytes), Some(size), "{name}");
        }
    }

    #[test]
    fn the_size_comes_from_the_codec_not_from_the_container() {
        let path = test_support::photos_dir().join("formats/avif_8bit_srgb.avif");
        let mut avif = std::fs::read(path).expect("corpus AVIF");
        let ispe = avif
            .windows(4)
            .position(|w| w == b"ispe")
            .expect("an ispe box");
        avif[ispe + 8..ispe + 16].copy_from_slice(&[0, 0, 0, 100, 0, 0, 0, 100]);
        assert_eq!(largest_coded_size(&avif), Some((1617, 1080)));
    }

    #[test]
    fn exp_golomb_and_emulation_prevention_are_read() {
        // ue(v): 1 -> 0, 010 -> 1, 011 -> 2, 00100 -> 3.
        let mut b = Bits {
            data: &[0b1010_0110, 0b0100_0000],
            at: 0,
        };
        assert_eq!(
            (b.ue(), b.ue(), b.ue(), b.ue()),
            (Some(0), Some(1), Some(2), Some(3))
        );
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3, 0]), vec![0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn what_is_not_a_heif_file_gives_no_size() {
        assert_eq!(largest_coded_size(b""), None);
        assert_eq!(largest_coded_size(&[0xFF; 64]), None);
        // A box claiming more than there is.
        assert_eq!(largest_coded_size(b"\0\0\x01\0meta"), None);
    }
}
