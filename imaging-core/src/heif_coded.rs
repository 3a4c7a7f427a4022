//! The sizes a HEIF/AVIF file's images are coded at, read from their codecs' own headers (the
//! AV1 sequence header's maximum frame size, the HEVC sequence parameter set's picture size),
//! not from the container's `ispe` box: a decoder makes what the codec data says, whatever the
//! container declares, and libheif (1.15) gives no coded size before it decodes. So a file
//! whose container declares 1000x1000 while its AV1 data codes 20000x15000 is refused before
//! any pixel is decoded.
//!
//! The items read are those libheif decodes for the primary image: the primary item, the
//! items it is derived from (a grid's tiles) and its auxiliary images (alpha), with the codec
//! headers of their configuration boxes and of their data. A file this reader cannot follow
//! gives no size and is the decoder's to judge; a size with a zero side is no size.

use std::collections::{BTreeMap, BTreeSet};

/// A file whose structure would take more work to read than any real file's (overlapping
/// item data, extents that take no bytes): a hostile file, refused rather than decoded
/// unchecked. Real files stay far within the budget (see [`Work`]).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooCostly;

/// The sizes an image's items are coded at, where any could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodedSizes {
    /// The largest by pixels.
    pub largest: (u32, u32),
    /// The one with the longest side.
    pub longest: (u32, u32),
}

/// Work left for reading a file's coded sizes: two units a byte of the file and 65,536 more.
/// A unit is a byte of item data looked at, an extent, a reference, an association, an OBU or
/// a NAL unit: a real file's items do not share data, so it spends at most about one unit a
/// byte.
struct Work {
    left: usize,
    exhausted: bool,
}

impl Work {
    fn spend(&mut self, units: usize) -> Option<()> {
        if units > self.left {
            self.exhausted = true;
            return None;
        }
        self.left -= units;
        Some(())
    }
}

/// The sizes the primary image of the HEIF file `bytes` is coded at (its items, see the
/// module documentation); `Ok(None)` where none can be read.
pub(crate) fn coded_sizes(bytes: &[u8]) -> Result<Option<CodedSizes>, TooCostly> {
    let mut work = Work {
        left: bytes.len().saturating_mul(2).saturating_add(1 << 16),
        exhausted: false,
    };
    let sizes = read_sizes(bytes, &mut work);
    if work.exhausted {
        return Err(TooCostly);
    }
    Ok(sizes)
}

/// The `meta` box's children this reader uses.
#[derive(Default)]
struct Meta<'a> {
    pitm: Option<&'a [u8]>,
    iinf: Option<&'a [u8]>,
    iloc: Option<&'a [u8]>,
    iref: Option<&'a [u8]>,
    idat: Option<&'a [u8]>,
    ipco: Option<&'a [u8]>,
    ipma: Option<&'a [u8]>,
}

fn read_sizes(bytes: &[u8], work: &mut Work) -> Option<CodedSizes> {
    let mut meta = Meta::default();
    let payload = boxes(bytes).find(|(kind, _)| kind == b"meta")?.1.get(4..)?;
    for (kind, payload) in boxes(payload) {
        match &kind {
            b"pitm" => meta.pitm = meta.pitm.or(Some(payload)),
            b"iinf" => meta.iinf = meta.iinf.or(Some(payload)),
            b"iloc" => meta.iloc = meta.iloc.or(Some(payload)),
            b"iref" => meta.iref = meta.iref.or(Some(payload)),
            b"idat" => meta.idat = meta.idat.or(Some(payload)),
            b"iprp" => {
                for (kind, payload) in boxes(payload) {
                    match &kind {
                        b"ipco" => meta.ipco = meta.ipco.or(Some(payload)),
                        b"ipma" => meta.ipma = meta.ipma.or(Some(payload)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mut r = Reader(meta.pitm?);
    let primary = if r.uint(4)? >> 24 == 0 {
        r.u32(2)?
    } else {
        r.u32(4)?
    };
    let wanted = decoded_items(primary, meta.iref, work)?;
    let types = item_types(meta.iinf?, &wanted)?;
    let configs = match (meta.ipma, meta.ipco) {
        (Some(ipma), Some(ipco)) => item_configs(ipma, ipco, &types, work)?,
        _ => BTreeMap::new(),
    };
    let locations = match meta.iloc {
        Some(iloc) => item_locations(iloc, &types, work)?,
        None => BTreeMap::new(),
    };
    let mut sizes: Option<CodedSizes> = None;
    // A configuration box is read once, however many items (a grid's tiles) share it.
    let mut read_configs = BTreeSet::new();
    for (&id, &item_type) in &types {
        let data = locations
            .get(&id)
            .and_then(|l| l.data(bytes, meta.idat.unwrap_or_default(), work));
        if work.exhausted {
            return None;
        }
        let mut note = |(w, h): (u32, u32)| {
            if w == 0 || h == 0 {
                return;
            }
            let pixels = |(w, h): (u32, u32)| u64::from(w) * u64::from(h);
            let side = |(w, h): (u32, u32)| w.max(h);
            let s = sizes.get_or_insert(CodedSizes {
                largest: (w, h),
                longest: (w, h),
            });
            if pixels((w, h)) > pixels(s.largest) {
                s.largest = (w, h);
            }
            if side((w, h)) > side(s.longest) {
                s.longest = (w, h);
            }
        };
        let config = configs.get(&id).copied();
        let fresh = config.is_some_and(|c| read_configs.insert((c.as_ptr() as usize, c.len())));
        if fresh {
            work.spend(config.map_or(0, <[u8]>::len))?;
        }
        if &item_type == b"av01" {
            av1_sizes(config.filter(|_| fresh), data.as_deref(), work, &mut note);
        } else {
            hevc_sizes(config, fresh, data.as_deref(), work, &mut note);
        }
    }
    sizes
}

/// The items libheif decodes for the primary image: itself, its auxiliary images (`auxl` to
/// it: alpha, depth) and the items each of these is derived from (`dimg`: a grid's tiles, at
/// any depth: a tile may itself be a grid).
fn decoded_items(primary: u32, iref: Option<&[u8]>, work: &mut Work) -> Option<BTreeSet<u32>> {
    let mut wanted = BTreeSet::from([primary]);
    let Some(iref) = iref else {
        return Some(wanted);
    };
    let id_size = if *iref.first()? == 0 { 2 } else { 4 };
    // Item -> the items it is derived from; image -> its auxiliary images.
    let mut derived: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut auxiliary: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut kept = 0;
    for (kind, payload) in boxes(iref.get(4..)?) {
        let is_dimg = &kind == b"dimg";
        if !is_dimg && &kind != b"auxl" {
            continue;
        }
        work.spend(1)?;
        let mut r = Reader(payload);
        let from = r.u32(id_size)?;
        for _ in 0..r.uint(2)? {
            let to = r.u32(id_size)?;
            kept += 1;
            if kept > MAX_ITEMS {
                work.exhausted = true;
                return None;
            }
            if is_dimg {
                derived.entry(from).or_default().push(to);
            } else if to == primary {
                auxiliary.entry(to).or_default().push(from);
            }
        }
    }
    let mut queue = vec![primary];
    while let Some(item) = queue.pop() {
        let next = auxiliary.get(&item).into_iter().flatten();
        for &n in next.chain(derived.get(&item).into_iter().flatten()) {
            if wanted.insert(n) {
                queue.push(n);
            }
        }
    }
    Some(wanted)
}

/// The most items, properties and extents a file may have for this reader: far more than any
/// real file (a grid has at most 256 x 256 tiles; real files have tens of properties), so that
/// what it keeps stays small; a file with more is [`TooCostly`].
const MAX_ITEMS: usize = 1 << 17;
const MAX_PROPERTIES: usize = 1 << 16;
const MAX_EXTENTS: usize = 1 << 20;

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
        if bytes > 8 {
            return None;
        }
        let (head, rest) = self.0.split_at_checked(bytes)?;
        self.0 = rest;
        Some(head.iter().fold(0, |n, &b| (n << 8) | u64::from(b)))
    }

    fn u32(&mut self, bytes: usize) -> Option<u32> {
        u32::try_from(self.uint(bytes)?).ok()
    }
}

/// `iinf`: the type of each of the `wanted` items that is coded in AV1 (`av01`) or HEVC
/// (`hvc1`), from its first `infe` (versions 2 and 3; older ones name no type), whatever the
/// entry count says.
fn item_types(payload: &[u8], wanted: &BTreeSet<u32>) -> Option<BTreeMap<u32, [u8; 4]>> {
    let mut r = Reader(payload);
    // The entry count is passed over: libheif reads every `infe` there is.
    if r.uint(4)? >> 24 == 0 {
        r.uint(2)?
    } else {
        r.uint(4)?
    };
    let mut found = BTreeMap::new();
    for (kind, infe) in boxes(r.0) {
        if &kind != b"infe" {
            continue;
        }
        let mut r = Reader(infe);
        let id = match r.uint(4)? >> 24 {
            2 => r.u32(2)?,
            3 => r.u32(4)?,
            _ => continue,
        };
        r.uint(2)?; // protection index
        let item_type: [u8; 4] = r.0.get(..4)?.try_into().ok()?;
        if wanted.contains(&id) && matches!(&item_type, b"av01" | b"hvc1") {
            found.entry(id).or_insert(item_type);
        }
    }
    Some(found)
}

/// `ipma` and `ipco`: the configuration box (`av1C`, `hvcC`) of each item of `types`, the first
/// of its type among the item's properties.
fn item_configs<'a>(
    ipma: &[u8],
    ipco: &'a [u8],
    types: &BTreeMap<u32, [u8; 4]>,
    work: &mut Work,
) -> Option<BTreeMap<u32, &'a [u8]>> {
    let properties: Vec<([u8; 4], &[u8])> = boxes(ipco).take(MAX_PROPERTIES + 1).collect();
    if properties.len() > MAX_PROPERTIES {
        work.exhausted = true;
        return None;
    }
    let mut r = Reader(ipma);
    let version_flags = r.uint(4)?;
    let (version, wide) = (version_flags >> 24, version_flags & 1 == 1);
    let count = r.uint(4)?;
    let mut found = BTreeMap::new();
    for _ in 0..count {
        work.spend(1)?;
        let id = if version < 1 { r.u32(2)? } else { r.u32(4)? };
        let n = r.uint(1)?;
        for _ in 0..n {
            let index = if wide {
                r.uint(2)? & 0x7FFF
            } else {
                r.uint(1)? & 0x7F
            };
            let Some(item_type) = types.get(&id) else {
                continue;
            };
            let config_type = if item_type == b"av01" {
                b"av1C"
            } else {
                b"hvcC"
            };
            let property = usize::try_from(index)
                .ok()
                .and_then(|i| properties.get(i.checked_sub(1)?));
            if let Some((kind, payload)) = property {
                if kind == config_type {
                    found.entry(id).or_insert(*payload);
                }
            }
        }
    }
    Some(found)
}

/// Where an item's data is: in the file or in `idat`, as extents.
struct Location {
    /// 0: offsets in the file; 1: in the (first) `idat` box; 2: in another item (not read).
    method: u8,
    /// (offset, length); a length of 0 runs to the end.
    extents: Vec<(u64, u64)>,
}

impl Location {
    /// The item's data (borrowed when it is one extent, as it nearly always is); `None` for
    /// data elsewhere (another item's).
    fn data<'a>(
        &self,
        file: &'a [u8],
        idat: &'a [u8],
        work: &mut Work,
    ) -> Option<std::borrow::Cow<'a, [u8]>> {
        let source = match self.method {
            0 => file,
            1 => idat,
            _ => return None,
        };
        let mut pieces = Vec::new();
        for &(offset, length) in &self.extents {
            let start = usize::try_from(offset).ok()?;
            let rest = source.get(start..)?;
            let take = match length {
                0 => rest.len(),
                n => usize::try_from(n).ok()?.min(rest.len()),
            };
            work.spend(take)?;
            pieces.push(&rest[..take]);
        }
        Some(match pieces[..] {
            [one] => std::borrow::Cow::Borrowed(one),
            _ => std::borrow::Cow::Owned(pieces.concat()),
        })
    }
}

/// `iloc` (versions 0 to 2): the location of each item of `types`.
fn item_locations(
    payload: &[u8],
    types: &BTreeMap<u32, [u8; 4]>,
    work: &mut Work,
) -> Option<BTreeMap<u32, Location>> {
    let mut r = Reader(payload);
    let version = r.uint(4)? >> 24;
    if version > 2 {
        return None;
    }
    let sizes = r.uint(2)?;
    let field = |shift: u32| {
        let size = usize::try_from((sizes >> shift) & 0xF).ok()?;
        matches!(size, 0 | 4 | 8).then_some(size)
    };
    let (offset_size, length_size, base_size) = (field(12)?, field(8)?, field(4)?);
    let index_size = if version >= 1 { field(0)? } else { 0 };
    let count = if version < 2 { r.uint(2)? } else { r.uint(4)? };
    let mut found = BTreeMap::new();
    let mut kept = 0;
    for _ in 0..count {
        work.spend(1)?;
        let id = if version < 2 { r.u32(2)? } else { r.u32(4)? };
        let method = if version >= 1 {
            (r.uint(2)? & 0xF) as u8
        } else {
            0
        };
        r.uint(2)?; // data_reference_index: libheif reads this file whatever it says
        let base = r.uint(base_size)?;
        let extent_count = r.uint(2)?;
        let keep = types.contains_key(&id) && !found.contains_key(&id);
        let mut extents = Vec::new();
        for _ in 0..extent_count {
            work.spend(1)?;
            r.uint(index_size)?;
            let offset = base.checked_add(r.uint(offset_size)?)?;
            let length = r.uint(length_size)?;
            if keep {
                kept += 1;
                if kept > MAX_EXTENTS {
                    work.exhausted = true;
                    return None;
                }
                extents.push((offset, length));
            }
        }
        if keep {
            found.insert(id, Location { method, extents });
        }
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
        self.at = self.at.checked_add(n)?;
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

/// The maximum frame size of each AV1 sequence header in `av1C`'s configuration OBUs and in
/// the item's data, to `note`.
fn av1_sizes(
    config: Option<&[u8]>,
    data: Option<&[u8]>,
    work: &mut Work,
    note: &mut dyn FnMut((u32, u32)),
) {
    for obus in config.and_then(|c| c.get(4..)).into_iter().chain(data) {
        each_obu(obus, work, &mut |kind, payload| {
            if kind == 1 {
                if let Some(size) = sequence_header_size(payload) {
                    note(size);
                }
            }
        });
    }
}

/// Each OBU in `data`, as (type, payload), to `visit`.
fn each_obu(mut data: &[u8], work: &mut Work, visit: &mut dyn FnMut(u8, &[u8])) {
    while let Some(&header) = data.first() {
        if work.spend(1).is_none() {
            return;
        }
        let kind = (header >> 3) & 0xF;
        let mut at = 1 + usize::from(header & 0x4 != 0); // the extension byte
        let size = if header & 0x2 != 0 {
            // leb128
            let mut size = 0u64;
            for i in 0..8 {
                let Some(&b) = data.get(at) else {
                    return;
                };
                size |= u64::from(b & 0x7F) << (7 * i);
                at += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
            let Ok(size) = usize::try_from(size) else {
                return;
            };
            size
        } else {
            data.len().saturating_sub(at)
        };
        let Some(end) = at.checked_add(size).filter(|&end| end <= data.len()) else {
            return;
        };
        visit(kind, &data[at..end]);
        data = &data[end..];
    }
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

/// The picture size of each HEVC sequence parameter set (of the base layer) in `hvcC`'s arrays
/// (when `fresh`: not read for an earlier item) and in the item's data (NAL units after a
/// length of `hvcC`'s size), to `note`.
fn hevc_sizes(
    config: Option<&[u8]>,
    fresh: bool,
    data: Option<&[u8]>,
    work: &mut Work,
    note: &mut dyn FnMut((u32, u32)),
) {
    let Some(config) = config else {
        return;
    };
    let mut visit = |nal: &[u8]| {
        // An SPS (type 33) of layer 0: other layers' SPS syntax differs.
        let layer = nal.get(..2).map(|h| ((h[0] & 1) << 5) | (h[1] >> 3));
        if nal.first().is_some_and(|h| (h >> 1) & 0x3F == 33) && layer == Some(0) {
            if let Some(size) = sps_size(&unescape(&nal[2..])) {
                note(size);
            }
        }
    };
    let mut r = Reader(config.get(22..).filter(|_| fresh).unwrap_or_default());
    if let Some(arrays) = r.uint(1) {
        'arrays: for _ in 0..arrays {
            let (Some(_), Some(count)) = (r.uint(1), r.uint(2)) else {
                break;
            };
            for _ in 0..count {
                let Some(len) = r.uint(2).and_then(|l| usize::try_from(l).ok()) else {
                    break 'arrays;
                };
                let Some((nal, rest)) = r.0.split_at_checked(len) else {
                    break 'arrays;
                };
                visit(nal);
                r.0 = rest;
            }
        }
    }
    let length_size = config.get(21).map_or(4, |b| usize::from(b & 3) + 1);
    let mut r = Reader(data.unwrap_or_default());
    while let Some(len) = r.uint(length_size).and_then(|l| usize::try_from(l).ok()) {
        if work.spend(1).is_none() {
            return;
        }
        let Some((nal, rest)) = r.0.split_at_checked(len) else {
            return;
        };
        visit(nal);
        r.0 = rest;
    }
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

/// The corpus's `formats/avif_8bit_srgb.avif` (AV1 coding 1617x1080) with its `ispe` box
/// declaring `width` x `height` instead. For tests of what the container says and the codec
/// codes.
#[cfg(test)]
pub(crate) fn corpus_avif_declaring(width: u32, height: u32) -> Vec<u8> {
    let path = test_support::photos_dir().join("formats/avif_8bit_srgb.avif");
    let mut avif = std::fs::read(path).expect("corpus AVIF");
    let ispe = avif
        .windows(4)
        .position(|w| w == b"ispe")
        .expect("an ispe box");
    // Version and flags, then the width and the height.
    avif[ispe + 8..ispe + 12].copy_from_slice(&width.to_be_bytes());
    avif[ispe + 12..ispe + 16].copy_from_slice(&height.to_be_bytes());
    avif
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
            assert_eq!(
                coded_sizes(&bytes).map(|s| s.map(|s| s.largest)),
                Ok(Some(size)),
                "{name}"
            );
        }
    }

    #[test]
    fn the_size_comes_from_the_codec_not_from_the_container() {
        let avif = corpus_avif_declaring(100, 100);
        assert_eq!(
            coded_sizes(&avif).map(|s| s.map(|s| s.largest)),
            Ok(Some((1617, 1080)))
        );
    }

    /// A box of `kind` holding `payload`.
    fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut b = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(payload);
        b
    }

    /// A `meta` box of `count` AV1 items, each located by `location` (an `iloc` v0 entry after
    /// the item id), the `iloc` field sizes being `sizes`: item 1 the primary, derived from
    /// the others (as a grid from its tiles).
    fn hostile(count: u16, sizes: u16, location: &[u8]) -> Vec<u8> {
        let mut dimg = 1u16.to_be_bytes().to_vec();
        dimg.extend((count - 1).to_be_bytes());
        for id in 2..=count {
            dimg.extend(id.to_be_bytes());
        }
        let mut iref = vec![0, 0, 0, 0];
        iref.extend(boxed(b"dimg", &dimg));
        let mut iinf = vec![0, 0, 0, 0];
        iinf.extend(count.to_be_bytes());
        let mut iloc = vec![0, 0, 0, 0];
        iloc.extend(sizes.to_be_bytes());
        iloc.extend(count.to_be_bytes());
        for id in 1..=count {
            let mut infe = vec![2, 0, 0, 0];
            infe.extend(id.to_be_bytes());
            infe.extend([0, 0]);
            infe.extend(b"av01");
            iinf.extend(boxed(b"infe", &infe));
            iloc.extend(id.to_be_bytes());
            iloc.extend(location);
        }
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"pitm", &[0, 0, 0, 0, 0, 1]));
        meta.extend(boxed(b"iref", &iref));
        meta.extend(boxed(b"iinf", &iinf));
        meta.extend(boxed(b"iloc", &iloc));
        boxed(b"meta", &meta)
    }

    #[test]
    fn a_file_whose_structure_would_cost_more_than_its_size_is_too_costly() {
        // 200 items whose one extent is the whole file (offset 0, length 0: to the end).
        let whole = [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let overlapping = hostile(200, 0x4400, &whole);
        assert_eq!(coded_sizes(&overlapping), Err(TooCostly));
        // The same once: read, no size found (no sequence header).
        assert_eq!(coded_sizes(&hostile(1, 0x4400, &whole)), Ok(None));
        // 65,535 extents of no bytes each, twice.
        let empty = [0, 0, 0xFF, 0xFF];
        assert_eq!(coded_sizes(&hostile(2, 0, &empty)), Err(TooCostly));
    }

    /// An AV1 sequence header OBU (reduced still picture) of maximum frame size `w` x `h`.
    fn sequence_header(w: u32, h: u32) -> Vec<u8> {
        // profile 0, still picture, reduced header, level 0, 16-bit sizes, the sizes minus 1.
        let fields: [(u64, u32); 8] = [
            (0, 3),
            (1, 1),
            (1, 1),
            (0, 5),
            (15, 4),
            (15, 4),
            (u64::from(w - 1), 16),
            (u64::from(h - 1), 16),
        ];
        let (mut bits, mut n) = (0u64, 0);
        for (value, width) in fields {
            bits = (bits << width) | value;
            n += width;
        }
        bits <<= 56 - n; // 50 bits, left-aligned in 7 bytes
        let mut obu = vec![0x0A, 7]; // type 1, with a size field; 7 bytes
        obu.extend_from_slice(&bits.to_be_bytes()[1..]);
        obu
    }

    #[test]
    fn the_items_are_found_as_libheif_finds_them() {
        // Primary 1 is a grid whose tile 2 is a grid whose tile 3 is AV1 coding 20000x15000,
        // its data in the first of two `idat` boxes (iloc v1, construction method 1), with a
        // data reference index of 1 (libheif reads this file anyway), and an `iinf` entry
        // count of 1 though it holds three (libheif reads them all).
        let mut iinf = vec![0, 0, 0, 0, 0, 1];
        for (id, kind) in [(1u16, b"grid"), (2, b"grid"), (3, b"av01")] {
            let mut infe = vec![2, 0, 0, 0];
            infe.extend(id.to_be_bytes());
            infe.extend([0, 0]);
            infe.extend(kind);
            iinf.extend(boxed(b"infe", &infe));
        }
        let mut iref = vec![0, 0, 0, 0];
        iref.extend(boxed(b"dimg", &[0, 1, 0, 1, 0, 2]));
        iref.extend(boxed(b"dimg", &[0, 2, 0, 1, 0, 3]));
        let data = sequence_header(20000, 15000);
        // v1, offset and length of 4 bytes; one item: id 3, method 1, reference 1, one extent.
        let mut iloc = vec![1, 0, 0, 0, 0x44, 0x00, 0, 1, 0, 3, 0, 1, 0, 1, 0, 1];
        iloc.extend(0u32.to_be_bytes());
        iloc.extend((data.len() as u32).to_be_bytes());
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"pitm", &[0, 0, 0, 0, 0, 1]));
        meta.extend(boxed(b"iinf", &iinf));
        meta.extend(boxed(b"iref", &iref));
        meta.extend(boxed(b"iloc", &iloc));
        meta.extend(boxed(b"idat", &data));
        meta.extend(boxed(b"idat", &vec![0; data.len()]));
        let file = boxed(b"meta", &meta);
        let sizes = coded_sizes(&file).expect("cheap").expect("a size");
        assert_eq!(
            (sizes.largest, sizes.longest),
            ((20000, 15000), (20000, 15000))
        );
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
        assert_eq!(coded_sizes(b""), Ok(None));
        assert_eq!(coded_sizes(&[0xFF; 64]), Ok(None));
        // A box claiming more than there is.
        assert_eq!(coded_sizes(b"\0\0\x01\0meta"), Ok(None));
    }
}
