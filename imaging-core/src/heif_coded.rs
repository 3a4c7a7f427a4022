//! The sizes a HEIF/AVIF file's images are coded at, read from their codecs' own headers (the
//! AV1 sequence header's maximum frame size and any frame header's size overriding it, the HEVC
//! sequence parameter set's picture size), not from the container's `ispe` box: a decoder makes what the codec data says, whatever the
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
    // A configuration box is read once, however many items (a grid's tiles) share it; for AV1,
    // the sequence header its configuration OBUs leave in force is kept for each item's data.
    let mut read_configs: BTreeMap<(usize, usize), Option<Av1Sequence>> = BTreeMap::new();
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
        let key = config.map(|c| (c.as_ptr() as usize, c.len()));
        let fresh = key.is_some_and(|k| !read_configs.contains_key(&k));
        if fresh {
            work.spend(config.map_or(0, <[u8]>::len))?;
        }
        if &item_type == b"av01" {
            let sequence = match (config, key) {
                (Some(config), Some(key)) => *read_configs.entry(key).or_insert_with(|| {
                    // av1C: four bytes of its own, then the configuration OBUs.
                    av1_sizes(None, config.get(4..).unwrap_or_default(), work, &mut note)
                }),
                _ => None,
            };
            av1_sizes(
                sequence,
                data.as_deref().unwrap_or_default(),
                work,
                &mut note,
            );
        } else {
            if let Some(key) = key {
                read_configs.insert(key, None);
            }
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

/// The sizes AV1 codes in the OBUs `obus` (an `av1C`'s configuration OBUs, or an item's data,
/// which a decoder is given after them), to `note`: each sequence header's maximum frame size,
/// and each frame header's own size where it overrides that maximum (`frame_size_override_flag`;
/// a decoder such as dav1d makes a frame of that size even when it exceeds the maximum).
/// `sequence` is the sequence header in force before them; the one in force after them is
/// returned.
fn av1_sizes(
    mut sequence: Option<Av1Sequence>,
    obus: &[u8],
    work: &mut Work,
    note: &mut dyn FnMut((u32, u32)),
) -> Option<Av1Sequence> {
    each_obu(obus, work, &mut |obu| match obu.kind {
        OBU_SEQUENCE_HEADER => {
            sequence = Av1Sequence::parse(obu.payload);
            if let Some(s) = &sequence {
                note(s.max_size);
            }
        }
        OBU_FRAME_HEADER | OBU_FRAME | OBU_REDUNDANT_FRAME_HEADER => {
            if let Some(size) = sequence
                .as_ref()
                .and_then(|s| s.frame_size(obu.payload, obu.extension))
            {
                note(size);
            }
        }
        _ => {}
    });
    sequence
}

/// OBU types.
const OBU_SEQUENCE_HEADER: u8 = 1;
const OBU_FRAME_HEADER: u8 = 3;
const OBU_FRAME: u8 = 6;
const OBU_REDUNDANT_FRAME_HEADER: u8 = 7;

/// An AV1 OBU.
struct Obu<'a> {
    kind: u8,
    /// The extension byte (temporal and spatial layer), where there is one.
    extension: Option<u8>,
    payload: &'a [u8],
}

/// Each OBU in `data`, to `visit`.
fn each_obu(mut data: &[u8], work: &mut Work, visit: &mut dyn FnMut(Obu<'_>)) {
    while let Some(&header) = data.first() {
        if work.spend(1).is_none() {
            return;
        }
        let kind = (header >> 3) & 0xF;
        let extension = if header & 0x4 != 0 {
            match data.get(1) {
                Some(&e) => Some(e),
                None => return,
            }
        } else {
            None
        };
        let mut at = 1 + usize::from(extension.is_some());
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
        visit(Obu {
            kind,
            extension,
            payload: &data[at..end],
        });
        data = &data[end..];
    }
}

/// `seq_force_screen_content_tools` / `seq_force_integer_mv`: chosen per frame.
const SELECT: u32 = 2;
/// Frame types.
const KEY_FRAME: u32 = 0;
const INTRA_ONLY_FRAME: u32 = 2;
const SWITCH_FRAME: u32 = 3;

/// What a frame header's size depends on in its AV1 sequence header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Av1Sequence {
    /// `max_frame_width_minus_1 + 1` and the height.
    max_size: (u32, u32),
    reduced_still_picture_header: bool,
    /// `frame_width_bits_minus_1 + 1` and the height's.
    size_bits: (u32, u32),
    /// `frame_presentation_time_length_minus_1 + 1` where a shown frame carries a
    /// presentation time (decoder model info without equal picture intervals), else 0.
    presentation_time_bits: u32,
    /// `buffer_removal_time_length_minus_1 + 1` with decoder model info, else `None`.
    buffer_removal_time_bits: Option<u32>,
    /// Each operating point's `operating_point_idc` and `decoder_model_present_for_this_op`.
    operating_points: [(u32, bool); 32],
    operating_point_count: usize,
    /// `(idLen, delta_frame_id_length_minus_2 + 2)` where frame ids are present.
    frame_id_bits: Option<(u32, u32)>,
    /// `OrderHintBits`: 0 without order hints.
    order_hint_bits: u32,
    force_screen_content_tools: u32,
    force_integer_mv: u32,
}

impl Av1Sequence {
    /// The fields of a sequence header OBU's payload up to what frame headers depend on.
    fn parse(payload: &[u8]) -> Option<Av1Sequence> {
        let mut b = Bits {
            data: payload,
            at: 0,
        };
        let mut s = Av1Sequence {
            max_size: (0, 0),
            reduced_still_picture_header: false,
            size_bits: (0, 0),
            presentation_time_bits: 0,
            buffer_removal_time_bits: None,
            operating_points: [(0, false); 32],
            operating_point_count: 1,
            frame_id_bits: None,
            order_hint_bits: 0,
            force_screen_content_tools: SELECT,
            force_integer_mv: SELECT,
        };
        b.bits(3)?; // seq_profile
        b.bit()?; // still_picture
        s.reduced_still_picture_header = b.bit()? == 1;
        if s.reduced_still_picture_header {
            b.bits(5)?; // seq_level_idx[0]
        } else {
            let mut buffer_delay_bits = 0;
            if b.bit()? == 1 {
                // timing_info
                b.skip(64)?; // num_units_in_display_tick, time_scale
                let equal_picture_interval = b.bit()? == 1;
                if equal_picture_interval {
                    // uvlc num_ticks_per_picture_minus_1
                    let mut zeros = 0;
                    while b.bit()? == 0 {
                        zeros += 1;
                        if zeros >= 32 {
                            return None;
                        }
                    }
                    b.skip(zeros)?;
                }
                if b.bit()? == 1 {
                    // decoder_model_info
                    buffer_delay_bits = b.bits(5)? + 1;
                    b.skip(32)?; // num_units_in_decoding_tick
                    s.buffer_removal_time_bits = Some(b.bits(5)? + 1);
                    let presentation_time_bits = b.bits(5)? + 1;
                    if !equal_picture_interval {
                        s.presentation_time_bits = presentation_time_bits;
                    }
                }
            }
            let initial_display_delay = b.bit()? == 1;
            s.operating_point_count = b.bits(5)? as usize + 1;
            for point in &mut s.operating_points[..s.operating_point_count] {
                point.0 = b.bits(12)?; // operating_point_idc
                if b.bits(5)? > 7 {
                    b.bit()?; // seq_tier
                }
                if s.buffer_removal_time_bits.is_some() && b.bit()? == 1 {
                    point.1 = true;
                    b.skip(2 * buffer_delay_bits as usize + 1)?;
                }
                if initial_display_delay && b.bit()? == 1 {
                    b.bits(4)?;
                }
            }
        }
        s.size_bits = (b.bits(4)? + 1, b.bits(4)? + 1);
        s.max_size = (
            b.bits(s.size_bits.0)?.checked_add(1)?,
            b.bits(s.size_bits.1)?.checked_add(1)?,
        );
        if s.reduced_still_picture_header {
            return Some(s);
        }
        if b.bit()? == 1 {
            // frame_id_numbers_present_flag
            let delta = b.bits(4)? + 2;
            let additional = b.bits(3)? + 1;
            s.frame_id_bits = Some((delta + additional, delta));
        }
        // use_128x128_superblock, enable_filter_intra, enable_intra_edge_filter,
        // enable_interintra_compound, enable_masked_compound, enable_warped_motion,
        // enable_dual_filter
        b.skip(7)?;
        let order_hint = b.bit()? == 1;
        if order_hint {
            b.skip(2)?; // enable_jnt_comp, enable_ref_frame_mvs
        }
        if b.bit()? == 0 {
            // not seq_choose_screen_content_tools
            s.force_screen_content_tools = b.bit()?;
        }
        if s.force_screen_content_tools > 0 && b.bit()? == 0 {
            // not seq_choose_integer_mv
            s.force_integer_mv = b.bit()?;
        }
        if order_hint {
            s.order_hint_bits = b.bits(3)? + 1;
        }
        Some(s)
    }

    /// The size a frame header OBU's payload codes explicitly (`frame_size_override_flag`),
    /// where it does; `None` where the frame takes the sequence's maximum or a reference
    /// frame's size (itself coded by an earlier header), or where the header cannot be read.
    /// `extension` is the OBU's extension byte (its temporal and spatial layer).
    fn frame_size(&self, payload: &[u8], extension: Option<u8>) -> Option<(u32, u32)> {
        if self.reduced_still_picture_header {
            return None; // a key frame at the maximum size
        }
        let mut b = Bits {
            data: payload,
            at: 0,
        };
        if b.bit()? == 1 {
            return None; // show_existing_frame
        }
        let frame_type = b.bits(2)?;
        let show_frame = b.bit()? == 1;
        if show_frame {
            b.skip(self.presentation_time_bits as usize)?; // temporal_point_info
        } else {
            b.bit()?; // showable_frame
        }
        let error_resilient =
            frame_type == SWITCH_FRAME || (frame_type == KEY_FRAME && show_frame) || b.bit()? == 1;
        b.bit()?; // disable_cdf_update
        let screen_content_tools = if self.force_screen_content_tools == SELECT {
            b.bit()?
        } else {
            self.force_screen_content_tools
        };
        if screen_content_tools > 0 && self.force_integer_mv == SELECT {
            b.bit()?; // force_integer_mv
        }
        if let Some((id_bits, _)) = self.frame_id_bits {
            b.skip(id_bits as usize)?; // current_frame_id
        }
        let size_override = frame_type == SWITCH_FRAME || b.bit()? == 1;
        b.skip(self.order_hint_bits as usize)?; // order_hint
        let intra = frame_type == KEY_FRAME || frame_type == INTRA_ONLY_FRAME;
        if !(intra || error_resilient) {
            b.bits(3)?; // primary_ref_frame
        }
        if let Some(removal_bits) = self.buffer_removal_time_bits {
            if b.bit()? == 1 {
                // buffer_removal_time_present_flag
                let (temporal, spatial) = extension.map_or((0, 0), |e| (e >> 5, (e >> 3) & 3));
                for &(idc, present) in &self.operating_points[..self.operating_point_count] {
                    let in_layers =
                        (idc >> temporal) & 1 == 1 && (idc >> (u32::from(spatial) + 8)) & 1 == 1;
                    if present && (idc == 0 || in_layers) {
                        b.skip(removal_bits as usize)?;
                    }
                }
            }
        }
        let all_refreshed = frame_type == SWITCH_FRAME
            || (frame_type == KEY_FRAME && show_frame)
            || b.bits(8)? == 0xFF;
        if (!intra || !all_refreshed) && error_resilient {
            b.skip(8 * self.order_hint_bits as usize)?; // ref_order_hint[8]
        }
        if !intra {
            let short_signaling = self.order_hint_bits > 0 && b.bit()? == 1;
            if short_signaling {
                b.skip(6)?; // last_frame_idx, gold_frame_idx
            }
            let delta_id_bits = self.frame_id_bits.map_or(0, |(_, delta)| delta);
            // ref_frame_idx[7] unless short, delta_frame_id_minus_1 each
            let per_ref = (if short_signaling { 0 } else { 3 }) + delta_id_bits;
            b.skip(7 * per_ref as usize)?;
            if size_override && !error_resilient {
                // frame_size_with_refs: a found_ref takes that reference's size.
                for _ in 0..7 {
                    if b.bit()? == 1 {
                        return None;
                    }
                }
            }
        }
        if !size_override {
            return None;
        }
        let width = b.bits(self.size_bits.0)?.checked_add(1)?;
        let height = b.bits(self.size_bits.1)?.checked_add(1)?;
        Some((width, height))
    }
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

    /// An `iinf` payload saying it holds `count` entries, with an `infe` (version 2) of each
    /// (item id, item type).
    fn iinf(count: u16, items: &[(u16, &[u8; 4])]) -> Vec<u8> {
        let mut iinf = vec![0, 0, 0, 0];
        iinf.extend(count.to_be_bytes());
        for (id, kind) in items {
            let mut infe = vec![2, 0, 0, 0];
            infe.extend(id.to_be_bytes());
            infe.extend([0, 0]);
            infe.extend(*kind);
            iinf.extend(boxed(b"infe", &infe));
        }
        iinf
    }

    #[test]
    fn the_items_are_found_as_libheif_finds_them() {
        // Primary 1 is a grid whose tile 2 is a grid whose tile 3 is AV1 coding 20000x15000,
        // its data in the first of two `idat` boxes (iloc v1, construction method 1), with a
        // data reference index of 1 (libheif reads this file anyway), and an `iinf` entry
        // count of 1 though it holds three (libheif reads them all).
        let iinf = iinf(1, &[(1, b"grid"), (2, b"grid"), (3, b"av01")]);
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

    /// Bits written most significant first, for building AV1 headers.
    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        used: usize,
    }

    impl BitWriter {
        fn put(&mut self, value: u64, width: u32) -> &mut Self {
            for i in (0..width).rev() {
                if self.used.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                *self.bytes.last_mut().expect("a byte") |= bit << (7 - self.used % 8);
                self.used += 1;
            }
            self
        }

        /// The bits as an OBU of `kind` with a size field (and the extension byte `extension`).
        fn obu(&self, kind: u8, extension: Option<u8>) -> Vec<u8> {
            let mut obu = vec![(kind << 3) | 0x2 | if extension.is_some() { 0x4 } else { 0 }];
            obu.extend(extension);
            assert!(self.bytes.len() < 128);
            obu.push(self.bytes.len() as u8);
            obu.extend(&self.bytes);
            obu
        }
    }

    /// A full (not reduced) AV1 sequence header of maximum size 500x500 using what frame
    /// headers depend on: a decoder model with presentation times, two operating points (the
    /// second for temporal layer 1 only, both with a decoder model), frame ids (15 + 4 bits),
    /// order hints (7 bits), screen content tools and integer motion vectors chosen per frame.
    fn full_sequence_header() -> Vec<u8> {
        let mut b = BitWriter::default();
        b.put(0, 3).put(0, 1).put(0, 1); // profile, still_picture, reduced header
        b.put(1, 1).put(1, 32).put(30, 32).put(0, 1); // timing info, no equal interval
        b.put(1, 1).put(9, 5).put(1, 32).put(11, 5).put(13, 5); // decoder model: 10, 12, 14
        b.put(0, 1).put(1, 5); // no initial display delay, two operating points
        for idc in [0x103, 0x102] {
            b.put(idc, 12).put(8, 5).put(0, 1); // idc, level 8 (with a tier bit)
            b.put(1, 1).put(0, 10).put(0, 10).put(0, 1); // its decoder model parameters
        }
        b.put(15, 4).put(15, 4).put(499, 16).put(499, 16); // 16-bit sizes, 500x500
        b.put(1, 1).put(13, 4).put(3, 3); // frame ids: delta 15 bits, 15 + 4 bits in all
        b.put(0, 7); // superblock and tool flags
        b.put(1, 1).put(0, 2); // order hints, no jnt_comp nor ref_frame_mvs
        b.put(1, 1).put(1, 1); // screen content tools chosen, integer mv chosen
        b.put(6, 3); // 7 order hint bits
        b.put(0, 3).put(0, 1); // superres, cdef, restoration; colour config and the rest
        b.obu(1, None)
    }

    /// The sizes `av1_sizes` notes for the item data `data`.
    fn av1_noted(data: &[u8]) -> Vec<(u32, u32)> {
        let mut work = Work {
            left: 1 << 20,
            exhausted: false,
        };
        let mut noted = Vec::new();
        av1_sizes(None, data, &mut work, &mut |s| noted.push(s));
        noted
    }

    /// A shown key frame under [`full_sequence_header`], screen content tools on, its size
    /// overridden to `w` x `h`, with `removal_times` buffer removal times (one for each
    /// operating point whose layers hold the frame).
    fn key_frame(w: u64, h: u64, removal_times: usize) -> BitWriter {
        let mut key = BitWriter::default();
        key.put(0, 1).put(0, 2).put(1, 1).put(77, 14); // not existing, key, shown, time
        key.put(0, 1).put(1, 1).put(0, 1); // cdf update, screen content, integer mv
        key.put(5, 19).put(1, 1).put(3, 7); // frame id, override, order hint
        key.put(1, 1); // removal times present
        for _ in 0..removal_times {
            key.put(0, 12);
        }
        key.put(w - 1, 16).put(h - 1, 16);
        key
    }

    #[test]
    fn a_frame_header_overriding_the_maximum_size_is_read() {
        let sequence = full_sequence_header();
        assert_eq!(av1_noted(&sequence), vec![(500, 500)]);
        // In temporal layer 1, both operating points' removal times are there.
        let frame = key_frame(12000, 9000, 2).obu(OBU_FRAME_HEADER, Some(1 << 5));
        assert_eq!(
            av1_noted(&[sequence.clone(), frame].concat()),
            vec![(500, 500), (12000, 9000)]
        );
        // In temporal layer 0 only the first point's.
        let frame0 = key_frame(12000, 9000, 1).obu(OBU_FRAME, None);
        assert_eq!(
            av1_noted(&[sequence.clone(), frame0].concat()),
            vec![(500, 500), (12000, 9000)]
        );
        // An inter frame, not error resilient, finding no reference of its size: its own.
        let mut inter = BitWriter::default();
        inter.put(0, 1).put(1, 2).put(1, 1).put(0, 14); // inter, shown
        inter.put(0, 1).put(0, 1).put(0, 1); // not resilient, cdf, no screen content
        inter.put(6, 19).put(1, 1).put(4, 7).put(0, 3); // id, override, hint, primary ref
        inter.put(0, 1).put(0x01, 8); // no removal times, refresh one
        inter.put(0, 1).put(0, 7 * (3 + 15)); // not short, ref idx and delta ids
        inter.put(0, 7).put(99, 16).put(29999, 16); // no reference found, 100x30000
        let inter_frame = inter.obu(OBU_FRAME_HEADER, None);
        assert_eq!(
            av1_noted(&[sequence.clone(), inter_frame].concat()),
            vec![(500, 500), (100, 30000)]
        );
        // Finding a reference: that reference's size, coded by an earlier header.
        let mut found = BitWriter::default();
        found.put(0, 1).put(1, 2).put(1, 1).put(0, 14);
        found.put(0, 1).put(0, 1).put(0, 1);
        found.put(6, 19).put(1, 1).put(4, 7).put(0, 3);
        found.put(0, 1).put(0x01, 8);
        found.put(0, 1).put(0, 7 * 18);
        found.put(0, 2).put(1, 1).put(0xFFFF_FFFF, 32); // the third reference
        let found_frame = found.obu(OBU_FRAME_HEADER, None);
        assert_eq!(
            av1_noted(&[sequence.clone(), found_frame].concat()),
            vec![(500, 500)]
        );
        // A frame header before any sequence header, or under a reduced one, codes nothing.
        let mut plain = BitWriter::default();
        plain.put(0, 1).put(0, 2).put(1, 1).put(0, 14).put(0, 3);
        plain.put(5, 19).put(0, 1).put(3, 7).put(0, 1).put(0, 16);
        let plain_frame = plain.obu(OBU_FRAME_HEADER, None);
        assert_eq!(
            av1_noted(&[sequence, plain_frame].concat()),
            vec![(500, 500)]
        );
        let mut reduced = sequence_header(600, 400);
        reduced.extend(key_frame(12000, 9000, 1).obu(OBU_FRAME, None));
        assert_eq!(av1_noted(&reduced), vec![(600, 400)]);
        assert_eq!(
            av1_noted(&key_frame(12000, 9000, 1).obu(OBU_FRAME, None)),
            vec![]
        );
    }

    #[test]
    fn tiles_sharing_a_configuration_box_keep_its_sequence_header() {
        // A grid of two AV1 tiles sharing one `av1C` whose configuration OBUs hold the
        // sequence header (maximum 500x500); the second tile's data is only a frame coding
        // 12000x9000, which the decoder reads under that sequence header.
        let iinf = iinf(3, &[(1, b"grid"), (2, b"av01"), (3, b"av01")]);
        let mut iref = vec![0, 0, 0, 0];
        iref.extend(boxed(b"dimg", &[0, 1, 0, 2, 0, 2, 0, 3]));
        let mut av1c = vec![0x81, 0, 0, 0];
        av1c.extend(full_sequence_header());
        let ipco = boxed(b"av1C", &av1c);
        // Version 0: two entries, items 2 and 3 each with the essential property 1.
        let ipma = [0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 1, 0x81, 0, 3, 1, 0x81];
        let mut iprp = boxed(b"ipco", &ipco);
        iprp.extend(boxed(b"ipma", &ipma));
        let first = [0x12, 0]; // a temporal delimiter
        let second = key_frame(12000, 9000, 1).obu(OBU_FRAME, None);
        let mut iloc = vec![1, 0, 0, 0, 0x44, 0x00, 0, 2];
        for (id, offset, length) in [(2u16, 0, first.len()), (3, first.len(), second.len())] {
            iloc.extend(id.to_be_bytes());
            iloc.extend([0, 1, 0, 0, 0, 1]); // from idat, this file, one extent
            iloc.extend((offset as u32).to_be_bytes());
            iloc.extend((length as u32).to_be_bytes());
        }
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(boxed(b"pitm", &[0, 0, 0, 0, 0, 1]));
        meta.extend(boxed(b"iinf", &iinf));
        meta.extend(boxed(b"iref", &iref));
        meta.extend(boxed(b"iprp", &iprp));
        meta.extend(boxed(b"iloc", &iloc));
        meta.extend(boxed(b"idat", &[&first[..], &second].concat()));
        let sizes = coded_sizes(&boxed(b"meta", &meta))
            .expect("cheap")
            .expect("a size");
        assert_eq!(sizes.largest, (12000, 9000));
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
