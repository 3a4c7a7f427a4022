//! SeetaFace's funnel-structured cascade (FuSt), evaluated by our own code from the model file
//! that the `rustface` crate ships.
//!
//! The computation is the one of rustface 0.1.7's `FuStDetector` (itself a port of SeetaFace
//! Detection, BSD-2-Clause, (c) 2016 VIPL group, ICT, CAS), written again for speed on one
//! core; a test in `faces.rs` checks that both give the same boxes and scores. rustface stays
//! a dependency for its model file (see `build.rs`) and for that test. The stages:
//!
//! 1. An image pyramid from the given size down to where the image's short side is one 40-px
//!    window, each level `factor` times the previous one, resampled from the first by
//!    rustface's bilinear interpolation.
//! 2. On each level, the 40x40 windows on a grid of `step` pixels are scored by three boosted
//!    classifiers (frontal and the two half-profiles) of 150 LAB features each: a LAB feature
//!    is an 8-bit code, one bit per 3x3 block around a centre block telling which is brighter.
//!    A window leaves a classifier as soon as its running score falls under the threshold of
//!    a group of 10 features, and is kept if it passes all 150 and its grey levels vary
//!    (standard deviation over 10). This is where almost every window ends.
//! 3. The survivors, merged per view by non-maximum suppression (overlap 0.8, scores added),
//!    are cut out of the first level, brought to 40x40, and go through three SURF-MLP stages:
//!    gradient histograms of 2x2-cell patches, normalised, into a small perceptron that says
//!    face or not and moves and resizes the box. The last stage's boxes are merged at overlap
//!    0.3, their scores added: that sum is the detection's score.
//!
//! What makes it faster than rustface on one core, for the same boxes (and scores, to float
//! rounding): the LAB codes come
//! from 3x3 block sums computed row by row in 16-bit integers (vectorised by the compiler)
//! instead of 32-bit integral images; the classifiers read flat tables; the grey variance is
//! computed only for the rare window that passes a classifier; the bilinear resampling uses
//! per-column and per-row tables and interpolates each source row once; the merging compares
//! a box only with the boxes near it (a grid) instead of all of them; the SURF-MLP stages read
//! their windows in image order (for the caches), take the cell sums from 8 gradient channels
//! summed down the columns, and run the perceptron's dot products on eight lanes.

use std::cmp::Ordering;

/// The cascade's window side, in pixels.
pub(super) const WINDOW: u32 = 40;
/// Bins of a LAB classifier's lookup table (one per 8-bit code).
const LAB_BINS: usize = 256;
/// A boosted classifier checks its running score after each group of this many features.
const LAB_GROUP: usize = 10;
/// A window must vary more than this (standard deviation of its grey levels) to pass.
const MIN_STD_DEV: f64 = 10.0;
/// SURF gradient channels per pixel.
const CHANNELS: usize = 8;
/// Values of one SURF feature: 2x2 cells of 8 channels.
const FEATURE_DIM: usize = 4 * CHANNELS;

/// The parsed model: the LAB classifiers of the first hierarchy, then the SURF-MLP stages of
/// each later hierarchy in order.
#[derive(Debug)]
pub(super) struct Model {
    lab: Vec<LabClassifier>,
    hierarchies: Vec<Vec<Mlp>>,
}

#[derive(Debug)]
struct LabClassifier {
    /// Offsets (x, y) of the features inside the window.
    features: Vec<(u32, u32)>,
    /// Threshold of the running score after each group of [`LAB_GROUP`] features.
    group_thresholds: Vec<f32>,
    /// The weight of each LAB code, per feature.
    weights: Vec<[f32; LAB_BINS]>,
}

#[derive(Debug)]
struct Mlp {
    /// Patches (x, y, width, height) in the 40x40 window whose features feed the network.
    patches: Vec<(u32, u32, u32, u32)>,
    threshold: f32,
    layers: Vec<Layer>,
}

#[derive(Debug)]
struct Layer {
    inputs: usize,
    /// `inputs` weights per output, output after output.
    weights: Vec<f32>,
    biases: Vec<f32>,
}

/// A little-endian reader over the model bytes.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes4(&mut self) -> Option<[u8; 4]> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(*head)
    }
    fn i32(&mut self) -> Option<i32> {
        self.bytes4().map(i32::from_le_bytes)
    }
    fn count(&mut self) -> Option<usize> {
        usize::try_from(self.i32()?).ok().filter(|&n| n < 1 << 24)
    }
    fn f32(&mut self) -> Option<f32> {
        self.bytes4().map(f32::from_le_bytes)
    }
    fn f32s(&mut self, n: usize) -> Option<Vec<f32>> {
        (0..n).map(|_| self.f32()).collect()
    }
}

/// Kind ids of the model format.
const KIND_LAB: i32 = 0;
const KIND_MLP: i32 = 1;

impl Model {
    /// Parses SeetaFace's model format (the layout rustface reads). `None` if the bytes are not
    /// such a model or not one of the shape this code evaluates: a first hierarchy of
    /// single-stage LAB classifiers, then hierarchies of one SURF-MLP classifier each, the
    /// first fed by all the views, the next ones by the previous hierarchy.
    pub(super) fn parse(bytes: &[u8]) -> Option<Model> {
        let pool = surf_patches();
        let mut r = Reader(bytes);
        let hierarchies = r.count()?;
        let mut lab = Vec::new();
        let mut mlps = Vec::new();
        for h in 0..hierarchies {
            let size = r.count()?;
            let mut stages_here = Vec::new();
            for _ in 0..size {
                let stages = r.count()?;
                for _ in 0..stages {
                    match r.i32()? {
                        KIND_LAB if h == 0 && stages == 1 => lab.push(read_lab(&mut r)?),
                        KIND_MLP if h > 0 && size == 1 => {
                            stages_here.push(read_mlp(&mut r, &pool)?)
                        }
                        _ => return None,
                    }
                }
                // Where its windows come from; none (a count of 0 or less) for the first.
                let sources = r.i32()?.max(0);
                let sources: Vec<usize> = (0..sources).map(|_| r.count()).collect::<Option<_>>()?;
                let expected: Vec<usize> = if h == 1 {
                    (0..lab.len()).collect()
                } else if h > 1 {
                    vec![0]
                } else {
                    Vec::new()
                };
                if sources != expected {
                    return None;
                }
            }
            if h > 0 {
                mlps.push(stages_here);
            }
        }
        let ok = !lab.is_empty()
            && !mlps.is_empty()
            && mlps.iter().all(|s| !s.is_empty())
            && r.0.is_empty();
        ok.then_some(Model {
            lab,
            hierarchies: mlps,
        })
    }
}

fn read_lab(r: &mut Reader) -> Option<LabClassifier> {
    let n = r.count()?;
    let bins = r.count()? + 1;
    if bins != LAB_BINS || n == 0 || n % LAB_GROUP != 0 {
        return None;
    }
    let mut features = Vec::with_capacity(n);
    for _ in 0..n {
        let (x, y) = (r.count()?, r.count()?);
        // A feature reads 9x9 pixels from its offset: it must stay inside the window.
        if x + 9 > WINDOW as usize || y + 9 > WINDOW as usize {
            return None;
        }
        features.push((x as u32, y as u32));
    }
    let thresholds = r.f32s(n)?;
    let group_thresholds = thresholds
        .iter()
        .skip(LAB_GROUP - 1)
        .step_by(LAB_GROUP)
        .copied()
        .collect();
    let weights = (0..n)
        .map(|_| Some(std::array::from_fn(|_| r.f32().unwrap_or(f32::NAN))))
        .collect::<Option<Vec<[f32; LAB_BINS]>>>()?;
    // A table cut short by the end of the bytes reads as NaN: not a model.
    if weights.iter().flatten().any(|w| w.is_nan()) {
        return None;
    }
    Some(LabClassifier {
        features,
        group_thresholds,
        weights,
    })
}

fn read_mlp(r: &mut Reader, pool: &[(u32, u32, u32, u32)]) -> Option<Mlp> {
    let layers = r.count()?;
    let features = r.count()?;
    let mut patches = Vec::with_capacity(features);
    for _ in 0..features {
        // Feature ids count from 1.
        patches.push(*pool.get(r.count()?.checked_sub(1)?)?);
    }
    let threshold = r.f32()?;
    let mut inputs = r.count()?;
    if inputs != features * FEATURE_DIM || layers < 2 {
        return None;
    }
    let mut out = Vec::with_capacity(layers - 1);
    for _ in 1..layers {
        let outputs = r.count()?;
        let weights = r.f32s(inputs * outputs)?;
        let biases = r.f32s(outputs)?;
        out.push(Layer {
            inputs,
            weights,
            biases,
        });
        inputs = outputs;
    }
    // The last layer gives the score and the three box corrections.
    (inputs == 4).then_some(Mlp {
        patches,
        threshold,
        layers: out,
    })
}

/// SeetaFace's pool of SURF patches in the 40x40 window, in its order: for each patch shape
/// (width:height 1:1, 1:2, 2:1, 2:3, 3:2, all of 2x2 cells), each size from 16 px up whose
/// sides divide into cells, at every 16-px step that fits.
fn surf_patches() -> Vec<(u32, u32, u32, u32)> {
    const SHAPES: [(u32, u32); 5] = [(1, 1), (1, 2), (2, 1), (2, 3), (3, 2)];
    let (side, min, step) = (WINDOW, 16, 16);
    let mut pool = Vec::new();
    for (fw, fh) in SHAPES {
        for h in min..=side {
            if h % 2 != 0 || h % fh != 0 {
                continue;
            }
            let w = h / fh * fw;
            if w % 2 != 0 || w < min || w > side {
                continue;
            }
            for y in (0..=side - h).step_by(step) {
                for x in (0..=side - w).step_by(step) {
                    pool.push((x, y, w, h));
                }
            }
        }
    }
    pool
}

/// A box of the cascade, in the pixels of the image it was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Candidate {
    pub x: i32,
    pub y: i32,
    pub size: u32,
    pub score: f64,
}

/// How to search: grid step of the window and ratio between pyramid levels.
#[derive(Debug, Clone, Copy)]
pub(super) struct Search {
    pub step: u32,
    pub factor: f32,
}

/// Scratch buffers, kept between calls.
#[derive(Default)]
pub(super) struct Scratch {
    level: Vec<u8>,
    row_sums: Vec<u16>,
    box_sums: Vec<u16>,
    codes: Vec<u8>,
    window40: Vec<u8>,
    planes: Vec<i32>,
    input: Vec<f32>,
    hidden: [Vec<f32>; 2],
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// The cascade's detections in a grey image (`pixels`, `width` x `height`, row-major) that
/// score at least `threshold`, in the order of the last merging (by the score of each group's
/// best box), as rustface gives them.
pub(super) fn detect(
    model: &Model,
    pixels: &[u8],
    width: u32,
    height: u32,
    search: Search,
    threshold: f64,
    scratch: &mut Scratch,
) -> Vec<Candidate> {
    if width.min(height) < WINDOW || pixels.len() != width as usize * height as usize {
        return Vec::new();
    }
    let image = GrayRef {
        pixels,
        width,
        height,
    };
    // Stage 2 on every level of the pyramid (stage 1), the positives by view.
    let mut views: Vec<Vec<Candidate>> = vec![Vec::new(); model.lab.len()];
    let min_scale = WINDOW as f32 / width.min(height) as f32;
    let mut scale = 1.0f32;
    while scale >= min_scale {
        let w = (width as f32 * scale) as u32;
        let h = (height as f32 * scale) as u32;
        if w == width && h == height {
            scan_level(model, pixels, w, h, scale, search.step, scratch, &mut views);
        } else if w >= WINDOW && h >= WINDOW {
            let mut level = std::mem::take(&mut scratch.level);
            resize_bilinear(&image, w, h, &mut level);
            scan_level(model, &level, w, h, scale, search.step, scratch, &mut views);
            scratch.level = level;
        }
        scale *= search.factor;
    }
    // Stage 3: the views merged each, then together through the SURF-MLP hierarchies.
    let mut proposals: Vec<Candidate> = Vec::new();
    for view in views.iter_mut() {
        proposals.extend(merge(view, 0.8));
    }
    let last = model.hierarchies.len() - 1;
    for (i, stages) in model.hierarchies.iter().enumerate() {
        for (k, mlp) in stages.iter().enumerate() {
            // Verified in reading order, for the caches (the windows are read from the image),
            // but kept in their order: the merging keeps the first of boxes with equal scores.
            let mut order: Vec<usize> = (0..proposals.len()).collect();
            order.sort_by_key(|&i| (proposals[i].y, proposals[i].x));
            let mut keep = vec![false; proposals.len()];
            for i in order {
                keep[i] = verify(mlp, &image, &mut proposals[i], scratch);
            }
            let mut kept = keep.into_iter();
            proposals.retain(|_| kept.next().unwrap_or(false));
            if k + 1 < stages.len() {
                proposals = merge(&mut proposals, 0.8);
            } else if i == last {
                proposals = merge(&mut proposals, 0.3);
            }
        }
    }
    proposals.retain(|c| c.score >= threshold);
    proposals
}

#[derive(Clone, Copy)]
struct GrayRef<'a> {
    pixels: &'a [u8],
    width: u32,
    height: u32,
}

/// Bilinear resampling as rustface does it (source position `x * sw / dw`, no half-pixel
/// shift, the last column and row clamped, rounded down), with per-column and per-row tables
/// and each source row's horizontal interpolation computed once (the same arithmetic).
fn resize_bilinear(src: &GrayRef, width: u32, height: u32, dst: &mut Vec<u8>) {
    dst.clear();
    if src.width == width && src.height == height {
        dst.extend_from_slice(src.pixels);
        return;
    }
    let sw = src.width as usize;
    // Per output column (and row): first source pixel, and the weights of it and the next.
    let table = |n: u32, from: u32| -> Vec<(usize, f64, f64)> {
        let ratio = f64::from(from) / f64::from(n);
        (0..n)
            .map(|i| {
                let s = ratio * f64::from(i);
                let i0 = (s as u32).min(from.saturating_sub(2));
                let w = s - f64::from(i0);
                (i0 as usize, 1.0 - w, w)
            })
            .collect()
    };
    let xs = table(width, src.width);
    let ys = table(height, src.height);
    let values = u8_as_f64();
    let horizontal = |row: usize, out: &mut Vec<f64>| {
        let line = &src.pixels[row.min(src.height as usize - 1) * sw..][..sw];
        out.clear();
        out.extend(xs.iter().map(|&(x0, w0, w1)| {
            w0 * values[line[x0] as usize] + w1 * values[line[(x0 + 1).min(sw - 1)] as usize]
        }));
    };
    let (mut top, mut bottom) = (Vec::new(), Vec::new());
    let mut have: Option<usize> = None;
    dst.reserve(width as usize * height as usize);
    for &(y0, w0, w1) in &ys {
        match have {
            Some(r) if r == y0 => {}
            Some(r) if r + 1 == y0 => {
                std::mem::swap(&mut top, &mut bottom);
                horizontal(y0 + 1, &mut bottom);
            }
            _ => {
                horizontal(y0, &mut top);
                horizontal(y0 + 1, &mut bottom);
            }
        }
        have = Some(y0);
        dst.extend(
            top.iter()
                .zip(&bottom)
                .map(|(t, b)| (w0 * t + w1 * b) as u8),
        );
    }
}

/// Stage 2 on one pyramid level: every window of the grid through the LAB classifiers; the
/// positives go to `views` (one list per classifier) in the first level's pixels.
#[allow(clippy::too_many_arguments)]
fn scan_level(
    model: &Model,
    level: &[u8],
    w: u32,
    h: u32,
    scale: f32,
    step: u32,
    scratch: &mut Scratch,
    views: &mut [Vec<Candidate>],
) {
    let (wu, hu) = (w as usize, h as usize);
    lab_codes(level, wu, hu, scratch);
    let codes = &scratch.codes;
    let size = (WINDOW as f32 / scale + 0.5) as u32;
    let step = step.max(1) as usize;
    let last = WINDOW as usize;
    let mut offsets: Vec<Vec<usize>> = Vec::with_capacity(model.lab.len());
    for lab in &model.lab {
        offsets.push(
            lab.features
                .iter()
                .map(|&(fx, fy)| fy as usize * wu + fx as usize)
                .collect(),
        );
    }
    for y in (0..=hu - last).step_by(step) {
        for x in (0..=wu - last).step_by(step) {
            let base = y * wu + x;
            let mut varied: Option<bool> = None;
            for ((view, lab), offsets) in views.iter_mut().zip(&model.lab).zip(&offsets) {
                let Some(score) = lab_score(lab, offsets, &codes[base..]) else {
                    continue;
                };
                let varied = *varied.get_or_insert_with(|| std_dev(level, wu, x, y) > MIN_STD_DEV);
                if varied {
                    view.push(Candidate {
                        x: (x as f32 / scale + 0.5) as i32,
                        y: (y as f32 / scale + 0.5) as i32,
                        size,
                        score: f64::from(score),
                    });
                }
            }
        }
    }
}

/// The running score of a boosted LAB classifier on the window whose codes start at `codes`,
/// or `None` if it falls under a group threshold.
#[inline]
fn lab_score(lab: &LabClassifier, offsets: &[usize], codes: &[u8]) -> Option<f32> {
    let mut score = 0.0f32;
    for (g, &threshold) in lab.group_thresholds.iter().enumerate() {
        let range = g * LAB_GROUP..(g + 1) * LAB_GROUP;
        for (i, &offset) in offsets[range.clone()].iter().enumerate() {
            score += lab.weights[range.start + i][usize::from(codes[offset])];
        }
        if score < threshold {
            return None;
        }
    }
    Some(score)
}

/// Standard deviation of the grey levels of the window at (`x`, `y`).
fn std_dev(level: &[u8], w: usize, x: usize, y: usize) -> f64 {
    let (mut sum, mut squares) = (0u64, 0u64);
    for row in level[y * w + x..].chunks(w).take(WINDOW as usize) {
        for &p in &row[..WINDOW as usize] {
            sum += u64::from(p);
            squares += u64::from(p) * u64::from(p);
        }
    }
    let area = f64::from(WINDOW * WINDOW);
    let mean = sum as f64 / area;
    (squares as f64 / area - mean * mean).sqrt()
}

/// The LAB code of every position whose 9x9 neighbourhood fits the level: bit set where the
/// centre 3x3 block sums at least as much as the neighbouring block (0x80 top-left, 0x40 top,
/// 0x20 top-right, 0x08 right, 0x01 bottom-right, 0x02 bottom, 0x04 bottom-left, 0x10 left).
fn lab_codes(level: &[u8], w: usize, h: usize, scratch: &mut Scratch) {
    // Sums of 3 pixels along rows, then of 3 of those down columns: 3x3 block sums at their
    // top-left corner.
    let rows = &mut scratch.row_sums;
    rows.clear();
    rows.resize(w * h, 0);
    for (src, dst) in level.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for ((d, a), (b, c)) in dst[..w - 2]
            .iter_mut()
            .zip(src)
            .zip(src[1..].iter().zip(&src[2..]))
        {
            *d = u16::from(*a) + u16::from(*b) + u16::from(*c);
        }
    }
    let boxes = &mut scratch.box_sums;
    boxes.clear();
    boxes.resize(w * h, 0);
    for r in 0..h - 2 {
        let (a, b, c) = (
            &rows[r * w..][..w],
            &rows[(r + 1) * w..][..w],
            &rows[(r + 2) * w..][..w],
        );
        for (((d, a), b), c) in boxes[r * w..][..w].iter_mut().zip(a).zip(b).zip(c) {
            *d = a + b + c;
        }
    }
    let codes = &mut scratch.codes;
    codes.clear();
    codes.resize(w * h, 0);
    let n = w - 8;
    for r in 0..h - 8 {
        let top = &boxes[r * w..];
        let mid = &boxes[(r + 3) * w..];
        let bot = &boxes[(r + 6) * w..];
        let (t0, t1, t2) = (&top[..n], &top[3..3 + n], &top[6..6 + n]);
        let (m0, m1, m2) = (&mid[..n], &mid[3..3 + n], &mid[6..6 + n]);
        let (b0, b1, b2) = (&bot[..n], &bot[3..3 + n], &bot[6..6 + n]);
        let out = &mut codes[r * w..][..n];
        for i in 0..n {
            let c = m1[i];
            out[i] = (u8::from(c >= t0[i]) << 7)
                | (u8::from(c >= t1[i]) << 6)
                | (u8::from(c >= t2[i]) << 5)
                | (u8::from(c >= m0[i]) << 4)
                | (u8::from(c >= m2[i]) << 3)
                | (u8::from(c >= b0[i]) << 2)
                | (u8::from(c >= b1[i]) << 1)
                | u8::from(c >= b2[i]);
        }
    }
}

/// Non-maximum suppression as SeetaFace does it: best score first (ties in their order),
/// dropping each box that overlaps a kept one by more than `iou` and adding its score to it.
///
/// Two squares overlap that much only if the larger is under `1 / sqrt(iou)` times the smaller
/// and their corners are closer than that: each box is compared with the boxes whose top-left
/// corner lies in the cells of a 32-px grid that are that close, not with all of them.
fn merge(boxes: &mut [Candidate], iou: f32) -> Vec<Candidate> {
    const CELL: i64 = 32;
    boxes.sort_by(|a, b| b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal));
    let Some(first) = boxes.first() else {
        return Vec::new();
    };
    let (mut x0, mut y0, mut x1, mut y1) = (first.x, first.y, first.x, first.y);
    for b in boxes.iter() {
        (x0, y0, x1, y1) = (x0.min(b.x), y0.min(b.y), x1.max(b.x), y1.max(b.y));
    }
    let cols = ((i64::from(x1) - i64::from(x0)) / CELL + 1) as usize;
    let rows = ((i64::from(y1) - i64::from(y0)) / CELL + 1) as usize;
    let cell = |x: i32, y: i32| -> (usize, usize) {
        let cx = (i64::from(x) - i64::from(x0)).clamp(0, i64::from(x1) - i64::from(x0)) / CELL;
        let cy = (i64::from(y) - i64::from(y0)).clamp(0, i64::from(y1) - i64::from(y0)) / CELL;
        (cx as usize, cy as usize)
    };
    // The boxes of each cell, best first: `members[start[c]..start[c + 1]]`.
    let mut start = vec![0usize; cols * rows + 1];
    for b in boxes.iter() {
        let (cx, cy) = cell(b.x, b.y);
        start[cy * cols + cx + 1] += 1;
    }
    for c in 1..start.len() {
        start[c] += start[c - 1];
    }
    let mut fill = start.clone();
    let mut members = vec![0usize; boxes.len()];
    for (i, b) in boxes.iter().enumerate() {
        let (cx, cy) = cell(b.x, b.y);
        members[fill[cy * cols + cx]] = i;
        fill[cy * cols + cx] += 1;
    }
    let reach = 1.0 / iou.max(0.01).sqrt();
    let mut merged = vec![false; boxes.len()];
    let mut kept = Vec::new();
    for i in 0..boxes.len() {
        if merged[i] {
            continue;
        }
        let a = boxes[i];
        let (ax2, ay2) = (a.x + a.size as i32 - 1, a.y + a.size as i32 - 1);
        let area_a = (a.size * a.size) as f32;
        let r = (a.size as f32 * reach).ceil() as i32 + 1;
        let (cx0, cy0) = cell(a.x.saturating_sub(r), a.y.saturating_sub(r));
        let (cx1, cy1) = cell(a.x.saturating_add(r), a.y.saturating_add(r));
        let mut score = a.score;
        for cy in cy0..=cy1 {
            for c in cy * cols + cx0..=cy * cols + cx1 {
                for &j in &members[start[c]..start[c + 1]] {
                    if j <= i || merged[j] {
                        continue;
                    }
                    let b = boxes[j];
                    let iw = ax2.min(b.x + b.size as i32 - 1) - a.x.max(b.x) + 1;
                    let ih = ay2.min(b.y + b.size as i32 - 1) - a.y.max(b.y) + 1;
                    if iw <= 0 || ih <= 0 {
                        continue;
                    }
                    let inter = (iw * ih) as f32;
                    if inter / (area_a + (b.size * b.size) as f32 - inter) > iou {
                        merged[j] = true;
                        score += b.score;
                    }
                }
            }
        }
        kept.push(Candidate { score, ..a });
    }
    kept
}

/// One SURF-MLP stage on a candidate: `false` if it rejects it, else the box is moved and
/// resized as the network says and takes its score.
fn verify(mlp: &Mlp, image: &GrayRef, c: &mut Candidate, scratch: &mut Scratch) -> bool {
    let size = c.size as i32;
    if c.x + size <= 0 || c.y + size <= 0 || size < 2 {
        return false;
    }
    window40(image, c.x, c.y, c.size, &mut scratch.window40);
    // rustface then moves a box that starts above or left of the image to its edge.
    c.x = c.x.max(0);
    c.y = c.y.max(0);
    surf_columns(&scratch.window40, &mut scratch.planes);
    let out = run_mlp(mlp, scratch);
    if out[0] <= mlp.threshold {
        return false;
    }
    let (x, y, w) = (c.x as f32, c.y as f32, c.size as f32);
    let side = ((out[3] * 2.0 - 1.0) * w + w + 0.5).floor();
    c.size = side as u32;
    c.x = ((out[1] * 2.0 - 1.0) * w + x + (w - side) * 0.5 + 0.5).floor() as i32;
    c.y = ((out[2] * 2.0 - 1.0) * w + y + (w - side) * 0.5 + 0.5).floor() as i32;
    c.score = f64::from(out[0]);
    true
}

/// The square at (`x`, `y`) of side `size`, zero outside the image, brought to 40x40 by
/// rustface's bilinear resampling.
fn window40(image: &GrayRef, x: i32, y: i32, size: u32, out: &mut Vec<u8>) {
    let n = WINDOW as usize;
    out.clear();
    let (iw, ih) = (i64::from(image.width), i64::from(image.height));
    let (x, y) = (i64::from(x), i64::from(y));
    let s = i64::from(size);
    // The box's rows, zero outside the image.
    let mut padded = Vec::new();
    let line = |r: usize, buf: &mut Vec<u8>| -> bool {
        let iy = y + r as i64;
        if iy < 0 || iy >= ih {
            return false;
        }
        if x >= 0 && x + s <= iw {
            return true;
        }
        buf.clear();
        buf.resize(size as usize, 0);
        let (x0, x1) = (x.max(0), (x + s).min(iw));
        if x1 > x0 {
            let at = (x0 - x) as usize;
            buf[at..at + (x1 - x0) as usize]
                .copy_from_slice(&image.pixels[(iy * iw + x0) as usize..(iy * iw + x1) as usize]);
        }
        true
    };
    if size == WINDOW {
        for r in 0..n {
            let iy = y + r as i64;
            if !line(r, &mut padded) {
                out.extend([0u8; WINDOW as usize]);
            } else if x >= 0 && x + s <= iw {
                out.extend_from_slice(&image.pixels[(iy * iw + x) as usize..][..n]);
            } else {
                out.extend_from_slice(&padded);
            }
        }
        return;
    }
    let ratio = f64::from(size) / f64::from(WINDOW);
    // Per output column (and row): first source pixel, and the weights of it and the next.
    let mut table = [(0usize, 0.0f64, 0.0f64); WINDOW as usize];
    for (i, t) in table.iter_mut().enumerate() {
        let s = ratio * i as f64;
        let i0 = (s as u32).min(size - 2);
        let w = s - f64::from(i0);
        *t = (i0 as usize, 1.0 - w, w);
    }
    let values = u8_as_f64();
    // Horizontal interpolation of a source row, as rustface computes it.
    let horizontal = |r: usize, buf: &mut Vec<u8>| -> [f64; WINDOW as usize] {
        let iy = y + r as i64;
        let src: &[u8] = if iy < 0 || iy >= ih {
            return [0.0; WINDOW as usize];
        } else if x >= 0 && x + s <= iw {
            &image.pixels[(iy * iw + x) as usize..][..size as usize]
        } else {
            line(r, buf);
            buf
        };
        let mut out = [0.0; WINDOW as usize];
        for (o, &(x0, w0, w1)) in out.iter_mut().zip(&table) {
            let pair = &src[x0..x0 + 2];
            *o = w0 * values[pair[0] as usize] + w1 * values[pair[1] as usize];
        }
        out
    };
    let mut cached: Option<(usize, [f64; WINDOW as usize], [f64; WINDOW as usize])> = None;
    for &(y0, w0, w1) in &table {
        let (top, bottom) = match cached {
            Some((r, t, b)) if r == y0 => (t, b),
            Some((r, _, b)) if r + 1 == y0 => (b, horizontal(y0 + 1, &mut padded)),
            _ => (horizontal(y0, &mut padded), horizontal(y0 + 1, &mut padded)),
        };
        cached = Some((y0, top, bottom));
        out.extend(
            top.iter()
                .zip(&bottom)
                .map(|(t, b)| (w0 * t + w1 * b) as u8),
        );
    }
}

/// Every byte value as an `f64`, for resampling without conversions.
fn u8_as_f64() -> &'static [f64; 256] {
    static VALUES: std::sync::OnceLock<[f64; 256]> = std::sync::OnceLock::new();
    VALUES.get_or_init(|| std::array::from_fn(|i| i as f64))
}

/// Side of the SURF window, as a count.
const N: usize = WINDOW as usize;
/// Values in one channel plane of [`surf_columns`]: 41 rows of 40.
const PLANE: usize = (N + 1) * N;

/// The gradient channels of a 40x40 window, summed down the columns: plane `c`, row `r`,
/// column `x` holds the sum of channel `c` over rows `0..r` of column `x`, so the sum of a cell
/// is the sum along the cell's columns of two rows' difference. Channels: dx where dy >= 0,
/// |dx| there, dx where dy < 0, |dx| there, then the same for dy split by the sign of dx.
/// Gradients are central differences, doubled one-sided ones at the borders.
fn surf_columns(window: &[u8], planes: &mut Vec<i32>) {
    // Every value but the first row of each plane (zero) is written below.
    planes.resize(CHANNELS * PLANE, 0);
    for plane in planes.chunks_exact_mut(PLANE) {
        plane[..N].fill(0);
    }
    let p = |y: usize| -> [i32; N] { std::array::from_fn(|x| i32::from(window[y * N + x])) };
    let (mut up, mut row) = (p(0), p(0));
    let mut down = p(1);
    for y in 0..N {
        let k = if y == 0 || y == N - 1 { 2 } else { 1 };
        let mut dx = [0i32; N];
        dx[0] = (row[1] - row[0]) * 2;
        dx[N - 1] = (row[N - 1] - row[N - 2]) * 2;
        for x in 1..N - 1 {
            dx[x] = row[x + 1] - row[x - 1];
        }
        let dy: [i32; N] = std::array::from_fn(|x| (down[x] - up[x]) * k);
        // All ones where the other gradient is negative, and where it is not.
        let dy_neg: [i32; N] = std::array::from_fn(|x| dy[x] >> 31);
        let dx_neg: [i32; N] = std::array::from_fn(|x| dx[x] >> 31);
        let dx_abs: [i32; N] = std::array::from_fn(|x| dx[x].abs());
        let dy_abs: [i32; N] = std::array::from_fn(|x| dy[x].abs());
        let sources: [(&[i32; N], &[i32; N], bool); CHANNELS] = [
            (&dx, &dy_neg, false),
            (&dx_abs, &dy_neg, false),
            (&dx, &dy_neg, true),
            (&dx_abs, &dy_neg, true),
            (&dy, &dx_neg, false),
            (&dy_abs, &dx_neg, false),
            (&dy, &dx_neg, true),
            (&dy_abs, &dx_neg, true),
        ];
        for (plane, (values, negative, keep_negative)) in
            planes.chunks_exact_mut(PLANE).zip(sources)
        {
            let (above, below) = plane.split_at_mut((y + 1) * N);
            let above = &above[y * N..];
            let flip = if keep_negative { 0 } else { -1 };
            for (((out, prev), v), m) in below[..N].iter_mut().zip(above).zip(values).zip(negative)
            {
                *out = prev + (v & (m ^ flip));
            }
        }
        if y + 1 < N {
            up = row;
            row = down;
            down = if y + 2 < N { p(y + 2) } else { row };
        }
    }
}

/// Runs the network on the window whose column sums are in `scratch`; returns its four outputs.
fn run_mlp(mlp: &Mlp, scratch: &mut Scratch) -> [f32; 4] {
    let planes = &scratch.planes;
    // Sums of the channels over the cell of `w` x `h` at (`x0`, `y0`).
    let sum = |x0: usize, y0: usize, w: usize, h: usize| -> [i32; CHANNELS] {
        std::array::from_fn(|c| {
            let plane = &planes[c * PLANE..];
            let top = &plane[y0 * N + x0..][..w];
            let bottom = &plane[(y0 + h) * N + x0..][..w];
            bottom.iter().zip(top).map(|(b, t)| b - t).sum()
        })
    };
    let input = &mut scratch.input;
    input.clear();
    for &(px, py, pw, ph) in &mlp.patches {
        let (px, py, cw, chh) = (px as usize, py as usize, pw as usize / 2, ph as usize / 2);
        let mut values = [0i32; FEATURE_DIM];
        for (cell, (cx, cy)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
            let (x0, y0) = (px + cx * cw, py + cy * chh);
            values[cell * CHANNELS..][..CHANNELS].copy_from_slice(&sum(x0, y0, cw, chh));
        }
        // As SeetaFace: squares in 32-bit (wrapping, as rustface's release build), summed in f64.
        let norm2: f64 = values.iter().map(|&v| f64::from(v.wrapping_mul(v))).sum();
        if norm2 != 0.0 {
            let norm = norm2.sqrt() as f32;
            input.extend(values.iter().map(|&v| v as f32 / norm));
        } else {
            input.extend([0.0; FEATURE_DIM]);
        }
    }
    let [a, b] = &mut scratch.hidden;
    let last = mlp.layers.len() - 1;
    let mut out = [0.0f32; 4];
    for (i, layer) in mlp.layers.iter().enumerate() {
        let (src, dst): (&[f32], &mut Vec<f32>) = match i {
            0 => (input, a),
            _ if i % 2 == 1 => (a, b),
            _ => (b, a),
        };
        dst.clear();
        dst.extend(
            layer
                .weights
                .chunks_exact(layer.inputs)
                .zip(&layer.biases)
                .map(|(w, bias)| {
                    let x = dot(src, w) + bias;
                    if i == last {
                        1.0 / (1.0 + (-x).exp())
                    } else {
                        x.max(0.0)
                    }
                }),
        );
        if i == last {
            out.copy_from_slice(&dst[..4]);
        }
    }
    out
}

/// Dot product on eight lanes (the compiler vectorises it).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}
