//! SeetaFace's funnel-structured cascade (FuSt), evaluated by our own code from the model file
//! that the `rustface` crate ships.
//!
//! The computation is the one of rustface 0.1.7's `FuStDetector` (itself a port of SeetaFace
//! Detection, BSD-2-Clause, (c) 2016 VIPL group, ICT, CAS), written again for speed on one
//! core, but for one rounding: the candidate windows over 40 px (nearly all of them) are
//! resampled to 40x40 exactly, in integers, where rustface's `f64` arithmetic takes about one
//! pixel in 400 one grey level below (see [`exact40`]). A test in `faces.rs` checks that, with
//! rustface's rounding asked for, both give the same boxes and scores, and that, resampled
//! exactly, they find the same faces (boxes a pixel or a few apart on some). rustface stays a dependency for its model
//! file (see `build.rs`) and for that test. The stages:
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
//! What makes it faster than rustface on one core, for the same boxes and scores (to float
//! rounding) when the windows are rounded as rustface rounds them:
//! - The LAB codes come from 3x3 block sums computed row by row in 16-bit integers instead of
//!   32-bit integral images. A classifier runs on a whole row of the grid's windows a group of
//!   10 features at a time (flat tables), four windows in step, then drops without a branch the
//!   windows whose score fell under the group's threshold: the processor overlaps the additions
//!   of successive windows instead of mispredicting where each one stops (two thirds of the
//!   windows pass the first group); the codes' bounds are checked once a row, not at each of
//!   the millions of reads. The grey variance is computed only for a window that passes, from
//!   column sums moved down the grid (40 sums, not 1,600 pixels), and the scan's buffers are
//!   reused without being cleared.
//! - Bilinear resampling uses per-column and per-row tables, interpolates each source row
//!   once, and gathers the pixels before the arithmetic (each pair of neighbours in one load,
//!   checked against the row once) so that it runs on vectors. The pyramid's levels are
//!   computed in `f64` as rustface computes them, truncated to bytes by adding 2^52 instead of
//!   a saturating conversion per value. The SURF windows (in `f64`, a quarter of the time on
//!   a photo of fine texture) are resampled in 16- and 32-bit integers, exactly: weights in
//!   40ths of a pixel, the sums divided by 1600 (with AVX2: a multiply-add of bytes for eight
//!   columns, one of 16-bit lanes for the rows, a division by multiplication), their shuffles
//!   made once for each size (the windows go through a stage size by size); windows under 40
//!   px (boxes a stage made smaller) are resampled in `f64`.
//! - The merging compares a box only with the boxes whose corners are close enough to overlap
//!   it as much as asked (a grid), not with all of them.
//! - A SURF-MLP stage sums only the columns of the window its patches read (the first stage,
//!   which sees most windows, 32 of 40) and, with AVX2, stores only the rows its cells read;
//!   a window that two views proposed goes through it once.
//! - The SURF-MLP stages take the cell sums from 8 gradient channels summed down the columns
//!   in 16-bit lanes. The windows of a stage go through its perceptron eight at a time: the
//!   dot products run on eight lanes, two weight rows by four windows, so that the weights
//!   (690 KB for the last stage) come from memory once for four windows.
//! - On x86-64, the hot loops are compiled a second time for AVX2 and that copy runs where
//!   the processor has it (`with_avx2!`): the same operations in the same order on wider
//!   vectors (no fused multiply-add), so the same results as the baseline (SSE2) copy. Where
//!   the compiler does not vectorise well, `x86.rs` has hand-written AVX2 versions, tested
//!   against the portable ones: the resampling picks its pixel pairs with byte shuffles out of
//!   16-byte loads (and asks for the window's next rows from memory ahead), the SURF column
//!   sums run sixteen columns a vector, and a SURF cell's eight channel sums are added across
//!   in one vector.

use std::cmp::Ordering;

#[cfg(target_arch = "x86_64")]
mod x86;

/// Defines a function whose body is compiled twice on x86-64, for the baseline and for AVX2
/// (the same operations on wider vectors: the results are the same), and runs the AVX2 one
/// where the processor has it. Elsewhere (aarch64: NEON is the baseline) it is the function.
macro_rules! with_avx2 {
    ($(#[$meta:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if avx2_available() {
                // SAFETY: the processor has AVX2, as just checked.
                return unsafe { avx2($($arg),*) };
            }
            portable($($arg),*)
        }
    };
}

/// Whether the AVX2 copies may run: the processor has AVX2, the environment variable
/// [`NO_AVX2_VARIABLE`] was not set when the process first asked, and, in tests, the baseline
/// copies are not being checked (see [`baseline_only`]).
#[cfg(target_arch = "x86_64")]
fn avx2_available() -> bool {
    #[cfg(test)]
    if BASELINE_ONLY.with(std::cell::Cell::get) {
        return false;
    }
    static AVX2: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVX2.get_or_init(|| {
        std::env::var_os(NO_AVX2_VARIABLE).is_none() && std::arch::is_x86_feature_detected!("avx2")
    })
}

/// Set (to anything) in the environment, it makes the cascade run its baseline code on an x86-64
/// with AVX2: what other x86-64 processors run, and the closest this machine comes to the
/// arm64 build (the same source, on vectors as wide). For timing that code
/// (`examples/face_timing.rs`); the detections are the same either way.
#[cfg(target_arch = "x86_64")]
const NO_AVX2_VARIABLE: &str = "PHOTO_SUITE_FACES_NO_AVX2";

#[cfg(test)]
thread_local! {
    static BASELINE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static RUSTFACE_ROUNDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with `switch` on for this thread (tests' ways to take another path of the code).
#[cfg(test)]
fn switched_on<T>(
    switch: &'static std::thread::LocalKey<std::cell::Cell<bool>>,
    f: impl FnOnce() -> T,
) -> T {
    switch.with(|b| b.set(true));
    let result = f();
    switch.with(|b| b.set(false));
    result
}

/// Runs `f` on this thread with the baseline copies of the hot loops even where the processor
/// has AVX2, so that a test checks the copies the other processors (and aarch64's source) run.
#[cfg(test)]
pub(super) fn baseline_only<T>(f: impl FnOnce() -> T) -> T {
    switched_on(&BASELINE_ONLY, f)
}

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
    /// The right edge of the patches, in the window: the stage reads the gradients of the
    /// columns before it, which take the pixels of one more column. The first stage's patches
    /// end at column 32: it sums a fifth less of each window (and resamples a sixth less where
    /// its windows are resampled in `f64`, under 40 px).
    right: usize,
    /// The rows of the column sums its patches' cells read (bit `r` for row `r`, 0 to 40).
    rows: u64,
    threshold: f32,
    layers: Vec<Layer>,
}

#[derive(Debug)]
struct Layer {
    /// As many weights per output as the layer has inputs, output after output.
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
        out.push(Layer { weights, biases });
        inputs = outputs;
    }
    // The last layer gives the score and the three box corrections.
    let right = patches
        .iter()
        .map(|p| (p.0 + p.2) as usize)
        .max()
        .unwrap_or(N);
    let rows = patches.iter().fold(0u64, |rows, &(_, y, _, h)| {
        rows | 1 << y | 1 << (y + h / 2) | 1 << (y + h)
    });
    (inputs == 4).then_some(Mlp {
        right,
        rows,
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
pub(super) struct Scratch {
    level: Vec<u8>,
    row_sums: Vec<u16>,
    box_sums: Vec<u16>,
    codes: Vec<u8>,
    scores: Vec<f32>,
    alive: Vec<u32>,
    varied: Vec<Option<bool>>,
    columns: Columns,
    window40: Box<[u8; AREA]>,
    resampler: Resampler,
    planes: Box<[i16; PLANES]>,
    input: Vec<f32>,
    hidden: [Vec<f32>; 2],
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            level: Vec::new(),
            row_sums: Vec::new(),
            box_sums: Vec::new(),
            codes: Vec::new(),
            scores: Vec::new(),
            alive: Vec::new(),
            varied: Vec::new(),
            columns: Columns::default(),
            window40: Box::new([0; AREA]),
            resampler: Resampler::default(),
            planes: Box::new([0; PLANES]),
            input: Vec::new(),
            hidden: [Vec::new(), Vec::new()],
        }
    }
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
            // Verified size by size (the resampling's tables are made once for each size),
            // in reading order (for the caches: the windows are read from the image), but
            // kept in their order: the merging keeps the first of boxes with equal scores.
            let mut order: Vec<usize> = (0..proposals.len()).collect();
            let window = |c: &Candidate| (c.size, c.y, c.x);
            order.sort_by_key(|&i| window(&proposals[i]));
            // A window that two views proposed (about one in fifteen of the first stage's) is
            // verified once: the other takes its answer.
            let mut copies = Vec::new();
            order.dedup_by(|later, earlier| {
                let same = window(&proposals[*later]) == window(&proposals[*earlier]);
                if same {
                    copies.push((*later, *earlier));
                }
                same
            });
            let mut keep = verify(mlp, &image, &mut proposals, &order, scratch);
            for (copy, of) in copies {
                proposals[copy] = proposals[of];
                keep[copy] = keep[of];
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
    if src.width == width && src.height == height {
        dst.clear();
        dst.extend_from_slice(src.pixels);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: the processor has AVX2, as just checked.
        return unsafe { x86::resize_bilinear(src, width, height, dst) };
    }
    resize_portably(src, width, height, dst);
}

/// Per output column (or row) of `n` resampled from `from`: the first source pixel, and the
/// weights of it and the next, as rustface computes them, into the three slices.
fn fill_table(n: u32, from: u32, (first, w0, w1): (&mut [usize], &mut [f64], &mut [f64])) {
    let ratio = f64::from(from) / f64::from(n);
    for (i, ((f, a), b)) in first.iter_mut().zip(w0).zip(w1).enumerate() {
        let s = ratio * i as f64;
        let i0 = (s as u32).min(from.saturating_sub(2));
        let w = s - f64::from(i0);
        (*f, *a, *b) = (i0 as usize, 1.0 - w, w);
    }
}

/// [`fill_table`] for `n` outputs, in new vectors.
fn table(n: u32, from: u32) -> (Vec<usize>, Vec<f64>, Vec<f64>) {
    let mut t = (
        vec![0; n as usize],
        vec![0.0; n as usize],
        vec![0.0; n as usize],
    );
    fill_table(n, from, (&mut t.0, &mut t.1, &mut t.2));
    t
}

/// [`fill_table`] for a window of side `size` brought to 40x40.
fn window_table(size: u32) -> ([usize; N], [f64; N], [f64; N]) {
    let mut t = ([0; N], [0.0; N], [0.0; N]);
    fill_table(WINDOW, size, (&mut t.0, &mut t.1, &mut t.2));
    t
}

/// [`resize_bilinear`] to another size, portably (on x86-64 only where there is no AVX2).
fn resize_portably(src: &GrayRef, width: u32, height: u32, dst: &mut Vec<u8>) {
    dst.clear();
    let sw = src.width as usize;
    let (xs, xw0, xw1) = table(width, src.width);
    let (ys, yw0, yw1) = table(height, src.height);
    let line = |row: usize| &src.pixels[row.min(src.height as usize - 1) * sw..][..sw];
    let w = width as usize;
    dst.resize(w * height as usize, 0);
    row_pairs(
        &ys,
        dst,
        w,
        &mut [vec![0.0f64; w], vec![0.0f64; w]],
        |r, row| interpolate(line(r), &xs, &xw0, &xw1, row),
        |i, upper, lower, out| {
            for ((d, t), b) in out.iter_mut().zip(upper).zip(lower) {
                *d = to_u8(yw0[i] * t + yw1[i] * b);
            }
        },
    );
}

/// The row loop of a bilinear resampling: output row `i` (of `out`, in rows `width` long)
/// blends source rows `first[i]` and `first[i] + 1` (`first` does not decrease). The two source
/// rows in use are kept in `rows`, each made once, as it comes into use, by `source(r, buffer)`;
/// `blend(i, upper, lower, row)` makes output row `i`.
#[inline(always)]
fn row_pairs<R>(
    first: &[usize],
    out: &mut [u8],
    width: usize,
    rows: &mut [R; 2],
    mut source: impl FnMut(usize, &mut R),
    mut blend: impl FnMut(usize, &R, &R, &mut [u8]),
) {
    // `top` says which buffer holds the upper row of the two.
    let mut top = 0;
    let mut have: Option<usize> = None;
    for ((i, dst), &r) in out.chunks_exact_mut(width).enumerate().zip(first) {
        match have {
            Some(h) if h == r => {}
            Some(h) if h + 1 == r => {
                top ^= 1;
                source(r + 1, &mut rows[top ^ 1]);
            }
            _ => {
                source(r, &mut rows[top]);
                source(r + 1, &mut rows[top ^ 1]);
            }
        }
        have = Some(r);
        blend(i, &rows[top], &rows[top ^ 1], dst);
    }
}

/// Row `iy` of the box at column `x`, `len` wide, interpolated horizontally by `table`
/// (first pixel and weights per output column) into `out`; zero where it is outside the image.
#[inline(always)]
fn resample_row(
    image: &GrayRef,
    (x, iy): (i64, i64),
    len: usize,
    (first, w0, w1): (&[usize], &[f64], &[f64]),
    out: &mut [f64],
    pad: &mut Vec<u8>,
) {
    match box_row(image, x, iy, len, 0, pad) {
        Some(src) => interpolate(src, first, w0, w1, out),
        None => out.fill(0.0),
    }
}

/// `out[i] = w0[i] * line[first[i]] + w1[i] * line[first[i] + 1]`: rustface's horizontal
/// interpolation. The pixel pairs are gathered first, a block at a time and each in one load,
/// so that the arithmetic runs on vectors.
#[inline(always)]
fn interpolate(line: &[u8], first: &[usize], w0: &[f64], w1: &[f64], out: &mut [f64]) {
    const BLOCK: usize = 64;
    let n = out.len().min(first.len());
    let first = &first[..n];
    // Every pair read below lies in `line`: checked once here rather than at each read.
    let last = first.iter().copied().max().unwrap_or(0);
    assert!(n == 0 || last < line.len().saturating_sub(1));
    let blocks = out
        .chunks_mut(BLOCK)
        .zip(first.chunks(BLOCK))
        .zip(w0.chunks(BLOCK).zip(w1.chunks(BLOCK)));
    for ((out, first), (w0, w1)) in blocks {
        let mut pairs = [0u16; BLOCK];
        for (p, &f) in pairs.iter_mut().zip(first) {
            // SAFETY: `f <= last` and `last + 1 < line.len()` (checked above): both bytes
            // are in `line`; `[u8; 2]` is aligned to 1.
            let pair = unsafe { line.as_ptr().add(f).cast::<[u8; 2]>().read() };
            *p = u16::from_le_bytes(pair);
        }
        for ((o, p), (a, b)) in out.iter_mut().zip(&pairs).zip(w0.iter().zip(w1)) {
            *o = a * f64::from(*p as u8) + b * f64::from(*p >> 8);
        }
    }
}

/// `v as u8` (rounded towards zero, saturating), in operations the compiler vectorises: the
/// value clamped to 0..=255 is rounded to the nearest integer by adding 2^52 (where the spacing
/// of `f64` is 1) and corrected down when that went up; the integer is then the low bits.
#[inline(always)]
fn to_u8(v: f64) -> u8 {
    const SHIFT: f64 = (1u64 << 52) as f64;
    let v = v.clamp(0.0, 255.0);
    let nearest = (v + SHIFT) - SHIFT;
    let down = if nearest > v { nearest - 1.0 } else { nearest };
    (down + SHIFT).to_bits() as u8
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
    let Scratch {
        codes,
        scores,
        alive,
        varied,
        columns,
        ..
    } = scratch;
    let size = (WINDOW as f32 / scale + 0.5) as u32;
    let step = step.max(1) as usize;
    let last = WINDOW as usize;
    // Windows in a row of the grid.
    let count = (wu - last) / step + 1;
    let mut offsets: Vec<Vec<usize>> = Vec::with_capacity(model.lab.len());
    for lab in &model.lab {
        offsets.push(
            lab.features
                .iter()
                .map(|&(fx, fy)| fy as usize * wu + fx as usize)
                .collect(),
        );
    }
    columns.top = None;
    for y in (0..=hu - last).step_by(step) {
        // This level's codes (the buffer may be longer).
        let row = &codes[y * wu..wu * hu];
        // Whether the grey levels of each window vary enough, once known.
        varied.clear();
        varied.resize(count, None);
        for ((view, lab), offsets) in views.iter_mut().zip(&model.lab).zip(&offsets) {
            lab_row(lab, offsets, row, step, count, scores, alive);
            for &k in alive.iter() {
                let x = k as usize * step;
                let varied = *varied[k as usize]
                    .get_or_insert_with(|| columns.std_dev(level, wu, x, y) > MIN_STD_DEV);
                if varied {
                    view.push(Candidate {
                        x: (x as f32 / scale + 0.5) as i32,
                        y: (y as f32 / scale + 0.5) as i32,
                        size,
                        score: f64::from(scores[k as usize]),
                    });
                }
            }
        }
    }
}

with_avx2! {
/// A boosted LAB classifier on the `count` windows of a row of the grid, `step` apart, whose
/// codes start at `codes`: the windows that pass end in `alive` (in order), with their scores
/// in `scores`.
///
/// The row's windows go through a group of features four at a time, then those whose
/// running score fell under the group's threshold are dropped without a branch: the processor
/// overlaps the additions of successive windows instead of guessing where each one stops.
/// Each score sums the same terms in the same order as window by window.
fn lab_row(
    lab: &LabClassifier,
    offsets: &[usize],
    codes: &[u8],
    step: usize,
    count: usize,
    scores: &mut Vec<f32>,
    alive: &mut Vec<u32>,
) {
    scores.clear();
    scores.resize(count, 0.0);
    alive.clear();
    alive.extend(0..count as u32);
    // Every code read below, at `k * step + offset` for a window `k < count`, lies in `codes`:
    // checked once here rather than at each read (a compare and a branch each).
    let reach = offsets.iter().copied().max().unwrap_or(0);
    assert!(count == 0 || (count - 1) * step + reach < codes.len());
    let code = |k: usize, offset: usize| -> usize {
        debug_assert!(k < count && offset <= reach);
        // SAFETY: `k < count` (an index of `alive`) and `offset <= reach`: inside `codes`, as
        // asserted above.
        usize::from(unsafe { *codes.get_unchecked(k * step + offset) })
    };
    let groups = offsets
        .chunks_exact(LAB_GROUP)
        .zip(lab.weights.chunks_exact(LAB_GROUP))
        .zip(&lab.group_thresholds);
    for ((offsets, tables), &threshold) in groups {
        let mut kept = 0;
        // Four windows at a time, their features in step: four independent chains of
        // additions in the same stretch of code.
        let quads = alive.len() / 4 * 4;
        for i in (0..quads).step_by(4) {
            let ks: [usize; 4] = std::array::from_fn(|j| alive[i + j] as usize);
            let mut sums: [f32; 4] = std::array::from_fn(|j| scores[ks[j]]);
            for (&offset, table) in offsets.iter().zip(tables) {
                for (sum, &k) in sums.iter_mut().zip(&ks) {
                    *sum += table[code(k, offset)];
                }
            }
            for (&k, &score) in ks.iter().zip(&sums) {
                scores[k] = score;
                alive[kept] = k as u32;
                kept += std::hint::select_unpredictable(score >= threshold, 1, 0);
            }
        }
        for i in quads..alive.len() {
            let k = alive[i] as usize;
            let mut score = scores[k];
            for (&offset, table) in offsets.iter().zip(tables) {
                score += table[code(k, offset)];
            }
            scores[k] = score;
            alive[kept] = k as u32;
            kept += std::hint::select_unpredictable(score >= threshold, 1, 0);
        }
        alive.truncate(kept);
        if kept == 0 {
            return;
        }
    }
}
}

/// The sums of the grey levels and of their squares down each column of a level, over the 40
/// rows of the windows of one row of the grid, moved down with the grid: the variation of a
/// window is then a sum of 40 columns, not of 1,600 pixels (a photo of fine texture has tens
/// of windows a row to check). The sums are integers: the same in any order.
#[derive(Debug, Default)]
struct Columns {
    /// The first row summed, if any (of this level).
    top: Option<usize>,
    sums: Vec<u32>,
    squares: Vec<u32>,
}

impl Columns {
    /// Standard deviation of the grey levels of the window at (`x`, `y`) of `level` (`w`
    /// wide), with the columns moved to rows `y..y + 40` first if they are not there.
    fn std_dev(&mut self, level: &[u8], w: usize, x: usize, y: usize) -> f64 {
        let n = WINDOW as usize;
        if self.top != Some(y) {
            self.move_to(level, w, y);
        }
        let sum: u32 = self.sums[x..x + n].iter().sum();
        let squares: u32 = self.squares[x..x + n].iter().sum();
        let area = f64::from(WINDOW * WINDOW);
        let mean = f64::from(sum) / area;
        (f64::from(squares) / area - mean * mean).sqrt()
    }

    /// Sums rows `y..y + 40`: from the rows summed, taking off the ones above `y` and adding
    /// the new ones below, or afresh when that is no shorter (a move of 20 rows or more).
    fn move_to(&mut self, level: &[u8], w: usize, y: usize) {
        let n = WINDOW as usize;
        let (leave, enter) = match self.top {
            Some(top) if top < y && 2 * (y - top) < n => (top..y, top + n..y + n),
            _ => {
                self.sums.clear();
                self.sums.resize(w, 0);
                self.squares.clear();
                self.squares.resize(w, 0);
                (0..0, y..y + n)
            }
        };
        let rows = leave.map(|r| (r, false)).chain(enter.map(|r| (r, true)));
        for (r, add) in rows {
            update(&mut self.sums, &mut self.squares, &level[r * w..][..w], add);
        }
        self.top = Some(y);
    }
}

with_avx2! {
/// Adds the pixels of `row` and their squares to the column sums, or takes them off.
fn update(sums: &mut [u32], squares: &mut [u32], row: &[u8], add: bool) {
    let pixels = sums.iter_mut().zip(squares.iter_mut()).zip(row);
    let square = |p: u8| u32::from(u16::from(p) * u16::from(p));
    if add {
        for ((s, q), &p) in pixels {
            *s += u32::from(p);
            *q += square(p);
        }
    } else {
        for ((s, q), &p) in pixels {
            *s -= u32::from(p);
            *q -= square(p);
        }
    }
}
}

with_avx2! {
/// The LAB code of every position whose 9x9 neighbourhood fits the level: bit set where the
/// centre 3x3 block sums at least as much as the neighbouring block (0x80 top-left, 0x40 top,
/// 0x20 top-right, 0x08 right, 0x01 bottom-right, 0x02 bottom, 0x04 bottom-left, 0x10 left).
fn lab_codes(level: &[u8], w: usize, h: usize, scratch: &mut Scratch) {
    // Sums of 3 pixels along rows, then of 3 of those down columns: 3x3 block sums at their
    // top-left corner.
    // The buffers are only grown, not cleared (for a 1,300 x 1,000 level that would fill 6.5
    // MB with zeros): what they hold past this level's values is never used. The row sums'
    // last two columns are left from before, and added into the block sums' last two
    // columns (3-pixel sums or zeros: no overflow), which no code reads; the codes are read
    // only where written (features lie within 31 px of the window's corner, `read_lab`).
    let rows = &mut scratch.row_sums;
    grow(rows, w * h);
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
    grow(boxes, w * h);
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
    grow(codes, w * h);
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
}

/// Makes `buffer` at least `len` long, keeping what it holds.
fn grow<T: Copy + Default>(buffer: &mut Vec<T>, len: usize) {
    if buffer.len() < len {
        buffer.resize(len, T::default());
    }
}

/// Non-maximum suppression as SeetaFace does it: best score first (ties in their order),
/// dropping each box that overlaps a kept one by more than `iou` and adding its score to it.
///
/// Two squares overlap that much only if their corners are closer than `(1 - iou) / sqrt(iou)`
/// times either side, along each axis: the intersection is narrower than the larger side
/// `m` by at least that distance, and more than `iou * m` wide for the ratio to pass, while
/// `m` is under `1 / sqrt(iou)` times the smaller side. Each box is compared with the boxes
/// whose top-left corner lies in the cells of a 32-px grid that are that close, not with all.
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
    let reach = (1.0 - iou).max(0.0) / iou.max(0.01).sqrt();
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

/// Windows that go through a network together, so that they share the loads of its weights.
const BATCH: usize = 8;

/// One SURF-MLP stage on the candidates, taken in `order` a batch at a time: whether it
/// keeps each. A kept box is moved and resized as the network says and takes its score.
/// Kept out of line: `detect` stays small.
#[inline(never)]
fn verify(
    mlp: &Mlp,
    image: &GrayRef,
    candidates: &mut [Candidate],
    order: &[usize],
    scratch: &mut Scratch,
) -> Vec<bool> {
    let mut keep = vec![false; candidates.len()];
    for chunk in order.chunks(BATCH) {
        // The candidates of the batch that reach the network, their features row by row.
        let mut batch = [0usize; BATCH];
        let mut count = 0;
        scratch.input.clear();
        for &i in chunk {
            let c = &mut candidates[i];
            let size = c.size as i32;
            if c.x + size <= 0 || c.y + size <= 0 || size < 2 {
                continue;
            }
            window40(
                image,
                (c.x, c.y, c.size),
                mlp.right + 1,
                &mut scratch.window40,
                &mut scratch.resampler,
            );
            // rustface then moves a box that starts above or left of the image to its edge.
            c.x = c.x.max(0);
            c.y = c.y.max(0);
            surf_columns(
                &scratch.window40,
                (mlp.right, mlp.rows),
                &mut scratch.planes,
            );
            features(mlp, &scratch.planes, &mut scratch.input);
            batch[count] = i;
            count += 1;
        }
        let outs = run_mlp(mlp, count, scratch);
        for (&i, out) in batch[..count].iter().zip(&outs) {
            let c = &mut candidates[i];
            if out[0] <= mlp.threshold {
                continue;
            }
            let (x, y, w) = (c.x as f32, c.y as f32, c.size as f32);
            let side = ((out[3] * 2.0 - 1.0) * w + w + 0.5).floor();
            c.size = side as u32;
            c.x = ((out[1] * 2.0 - 1.0) * w + x + (w - side) * 0.5 + 0.5).floor() as i32;
            c.y = ((out[2] * 2.0 - 1.0) * w + y + (w - side) * 0.5 + 0.5).floor() as i32;
            c.score = f64::from(out[0]);
            keep[i] = true;
        }
    }
    keep
}

/// Side of the SURF window, as a count.
const N: usize = WINDOW as usize;
/// Pixels of the SURF window.
const AREA: usize = N * N;

/// Row `iy` of the image from column `x` on, `len` pixels, zero outside the image, followed by
/// `slack` more bytes (the image's next ones, or zeros): copied to `pad` when the row is partly
/// outside the image or the slack would run past its end; `None` when the row is outside.
fn box_row<'a>(
    image: &GrayRef<'a>,
    x: i64,
    iy: i64,
    len: usize,
    slack: usize,
    pad: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    let (iw, ih) = (i64::from(image.width), i64::from(image.height));
    if iy < 0 || iy >= ih {
        return None;
    }
    let start = (iy * iw) as usize;
    if x >= 0 && x + len as i64 <= iw {
        if let Some(row) = image
            .pixels
            .get(start + x as usize..start + x as usize + len + slack)
        {
            return Some(row);
        }
    }
    let line = &image.pixels[start..][..iw as usize];
    pad.clear();
    pad.resize(len + slack, 0);
    let (x0, x1) = (x.max(0), (x + len as i64).min(iw));
    if x1 > x0 {
        pad[(x0 - x) as usize..(x1 - x) as usize].copy_from_slice(&line[x0 as usize..x1 as usize]);
    }
    Some(pad)
}

/// Scratch of the window resampling.
#[derive(Debug, Default)]
struct Resampler {
    /// A row partly outside the image, completed with zeros.
    pad: Vec<u8>,
    /// The byte shuffles of the last window size (x86-64 with AVX2).
    #[cfg(target_arch = "x86_64")]
    picks: x86::Picks,
    /// Those of the exact resampling (x86-64 with AVX2).
    #[cfg(target_arch = "x86_64")]
    pairs: x86::PairPicks,
}

/// The square at (`x`, `y`) of side `size`, zero outside the image, brought to 40x40 by
/// rustface's bilinear resampling: over 40 px exactly, every column ([`exact40`]); else (or
/// in the test that asks for rustface's rounding) in `f64` as rustface, at least the first
/// `columns` (at most 40) of each row, the rest of `out` left as it was.
fn window40(
    image: &GrayRef,
    (x, y, size): (i32, i32, u32),
    columns: usize,
    out: &mut [u8; AREA],
    resampler: &mut Resampler,
) {
    let columns = columns.min(N);
    let pad = &mut resampler.pad;
    if size as usize == N {
        for (r, dst) in out.chunks_exact_mut(N).enumerate() {
            match box_row(image, i64::from(x), i64::from(y) + r as i64, N, 0, pad) {
                Some(src) => dst.copy_from_slice(src),
                None => dst.fill(0),
            }
        }
        return;
    }
    if size as usize > N && !rustface_rounding() {
        #[cfg(target_arch = "x86_64")]
        if avx2_available() {
            // SAFETY: the processor has AVX2, as just checked.
            return unsafe { x86::exact40(image, (x, y, size), out, resampler) };
        }
        return exact40(image, (x, y, size), out, pad);
    }
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: the processor has AVX2, as just checked.
        return unsafe { x86::window40(image, (x, y, size), columns, out, resampler) };
    }
    resample40(image, (x, y, size), columns, out, pad);
}

/// Whether [`window40`] rounds as rustface does even where it has exact arithmetic: only in
/// the test that compares our detections with rustface's (see [`rustface_rounding_only`]).
fn rustface_rounding() -> bool {
    #[cfg(test)]
    return RUSTFACE_ROUNDING.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// Runs `f` on this thread with every window resampled with rustface's floating-point
/// rounding, so that a test can check the rest of the cascade against rustface's, box for box.
#[cfg(test)]
pub(super) fn rustface_rounding_only<T>(f: impl FnOnce() -> T) -> T {
    switched_on(&RUSTFACE_ROUNDING, f)
}

/// The divisor of the sums of [`exact40`]: weights in 40ths across, times 40ths down.
const SCALE: u32 = (N * N) as u32;

/// `n / 1600` for `n` up to 408,000 (255 x 1600), in operations that vectorise: `n / 64` (at
/// most 6,375), then divided by 25 as `(m * 10,486) >> 18`, which is exact for `m < 43,690`
/// (10,486 is 2^18 / 25 rounded up by 6/25, an error that stays under one until `m` reaches
/// 2^18 / 6); `floor(floor(n / 64) / 25)` is `floor(n / 1600)`. A test checks every `n`.
#[inline(always)]
fn divide_by_scale(n: u32) -> u8 {
    debug_assert!(n <= 255 * SCALE);
    (((n >> 6) * 10_486) >> 18) as u8
}

/// Per output (column or row) of a window of side `size` (over 40) brought to 40x40: the
/// first source pixel, and the weight of the next one in 40ths (the first's is the rest):
/// the position `size * i / 40` of rustface's grid, in integers.
fn exact_table(size: u32) -> ([usize; N], [u16; N]) {
    let mut t = ([0; N], [0; N]);
    for (i, (f, k)) in t.0.iter_mut().zip(&mut t.1).enumerate() {
        let s = size as usize * i;
        (*f, *k) = (s / N, (s % N) as u16);
    }
    t
}

with_avx2! {
/// [`window40`] for a `size` over 40, all 40 columns: rustface's bilinear resampling on its
/// grid, each value the exact weighted sum of its four pixels (in 1600ths: horizontal sums in
/// 40ths, at most 10,200, then vertical ones, at most 408,000) rounded down. rustface computes
/// the same sum in `f64`, whose rounding takes a value that is exactly an integer one below it
/// about one time in forty (0.26% of the pixels of a wisteria photo's windows): the boxes then
/// differ by a pixel or two from rustface's, the detections are the same (tested).
fn exact40(
    image: &GrayRef,
    at: (i32, i32, u32),
    out: &mut [u8; AREA],
    pad: &mut Vec<u8>,
) {
    let (x, y, size) = at;
    let (x, y, len) = (i64::from(x), i64::from(y), size as usize);
    let (first, k) = exact_table(size);
    // Every pair read below lies in a row of `len` pixels (`first[39] + 1 < len` for a size
    // over 40): checked once here rather than at each read.
    assert!(first[N - 1] + 1 < len);
    let row = |r: usize, h: &mut [u16; N], pad: &mut Vec<u8>| {
        let Some(src) = box_row(image, x, y + r as i64, len, 0, pad) else {
            h.fill(0);
            return;
        };
        // The pixel pairs gathered first (each in one load), then the arithmetic, which the
        // compiler runs on vectors.
        let mut pairs = [0u16; N];
        for (p, &f) in pairs.iter_mut().zip(&first) {
            // SAFETY: `f <= first[39]` and `first[39] + 1 < len <= src.len()` (checked
            // above): both bytes are in `src`; `[u8; 2]` is aligned to 1.
            *p = u16::from_le_bytes(unsafe { src.as_ptr().add(f).cast::<[u8; 2]>().read() });
        }
        for ((h, &p), &k) in h.iter_mut().zip(&pairs).zip(&k) {
            *h = (N as u16 - k) * (p & 0xff) + k * (p >> 8);
        }
    };
    let blend = |i: usize, upper: &[u16; N], lower: &[u16; N], dst: &mut [u8]| {
        let (a, b) = (u32::from(N as u16 - k[i]), u32::from(k[i]));
        for ((d, &t), &u) in dst.iter_mut().zip(upper).zip(lower) {
            *d = divide_by_scale(a * u32::from(t) + b * u32::from(u));
        }
    };
    row_pairs(&first, out, N, &mut [[0u16; N]; 2], |r, h| row(r, h, pad), blend);
}
}

/// [`window40`] for a `size` other than 40, portably.
fn resample40(
    image: &GrayRef,
    (x, y, size): (i32, i32, u32),
    columns: usize,
    out: &mut [u8; AREA],
    pad: &mut Vec<u8>,
) {
    let (x, y, len) = (i64::from(x), i64::from(y), size as usize);
    let (first, w0, w1) = window_table(size);
    // Horizontal interpolation of a source row, as rustface computes it.
    let table = (&first[..], &w0[..], &w1[..]);
    let (mut upper, mut lower) = ([0.0f64; N], [0.0f64; N]);
    row_pairs(
        &first,
        out,
        N,
        &mut [&mut upper[..columns], &mut lower[..columns]],
        |r, row| resample_row(image, (x, y + r as i64), len, table, row, pad),
        |i, upper, lower, dst| {
            for ((d, t), u) in dst[..columns]
                .iter_mut()
                .zip(upper.iter())
                .zip(lower.iter())
            {
                *d = to_u8(w0[i] * t + w1[i] * u);
            }
        },
    );
}

/// Values in one channel plane of [`surf_columns`]: 41 rows of 40.
const PLANE: usize = (N + 1) * N;
/// Values of the eight planes, and 32 more that wide loads of the last cells may read.
const PLANES: usize = CHANNELS * PLANE + 32;

/// The gradient channels of a 40x40 window, summed down the columns: plane `c`, row `r`,
/// column `x` holds the sum of channel `c` over rows `0..r` of column `x` (see
/// [`surf_columns_portably`], which does it on any processor; on x86-64 with AVX2, sixteen
/// columns a vector, `x86.rs`).
/// Of the rows, those of `rows` (bit `r` for row `r`) are written at least: the ones a stage's
/// patches read.
fn surf_columns(window: &[u8; AREA], (right, rows): (usize, u64), planes: &mut [i16; PLANES]) {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: the processor has AVX2, as just checked.
        return unsafe { x86::surf_columns(window, (right, rows), planes) };
    }
    // The portable sums write every row: each is the one above it plus a row of values.
    let _ = rows;
    surf_columns_portably(window, right, planes);
}

with_avx2! {
/// The gradient channels of a 40x40 window, summed down the columns: plane `c`, row `r`,
/// column `x` holds the sum of channel `c` over rows `0..r` of column `x`, so the sum of a cell
/// is the sum along the cell's columns of two rows' difference. Channels: dx where dy >= 0,
/// |dx| there, dx where dy < 0, |dx| there, then the same for dy split by the sign of dx.
/// Gradients are central differences, doubled one-sided ones at the borders.
///
/// Only the columns before `right` (rounded up to a block of [`COLUMNS`]) are summed; their
/// gradients take the pixels of the columns up to `right` (included, where inside). The others
/// keep what they held.
///
/// A gradient is at most 510 in size, a column of 40 at most 20400: 16-bit lanes hold them.
fn surf_columns_portably(window: &[u8; AREA], right: usize, planes: &mut [i16; PLANES]) {
    let planes = &mut planes[..CHANNELS * PLANE];
    let width = summed_width(right);
    for plane in planes.chunks_exact_mut(PLANE) {
        plane[..width].fill(0);
    }
    #[inline(always)]
    fn pixel_row(window: &[u8; AREA], y: usize) -> [i16; N] {
        let mut p = [0i16; N];
        for (p, &v) in p.iter_mut().zip(&window[y * N..][..N]) {
            *p = i16::from(v);
        }
        p
    }
    for y in 0..N {
        let (up, row, down) = (
            pixel_row(window, y.saturating_sub(1)),
            pixel_row(window, y),
            pixel_row(window, (y + 1).min(N - 1)),
        );
        let k = if y == 0 || y == N - 1 { 2 } else { 1 };
        let mut dx = [0i16; N];
        dx[0] = (row[1] - row[0]) * 2;
        dx[N - 1] = (row[N - 1] - row[N - 2]) * 2;
        for x in 1..N - 1 {
            dx[x] = row[x + 1] - row[x - 1];
        }
        let mut dy = [0i16; N];
        for ((d, u), w) in dy.iter_mut().zip(&up).zip(&down) {
            *d = (w - u) * k;
        }
        // The channels of this row, `COLUMNS` columns at a time (kept in registers): where the
        // other gradient is not negative, then where it is; each added to the sums above it.
        for x0 in (0..width).step_by(COLUMNS) {
            let mut values = [[0i16; COLUMNS]; CHANNELS];
            for x in 0..COLUMNS {
                let (gx, gy) = (dx[x0 + x], dy[x0 + x]);
                // All ones where the other gradient is negative.
                let (ny, nx) = (gy >> 15, gx >> 15);
                let (ax, ay) = (gx.abs(), gy.abs());
                values[0][x] = gx & !ny;
                values[1][x] = ax & !ny;
                values[2][x] = gx & ny;
                values[3][x] = ax & ny;
                values[4][x] = gy & !nx;
                values[5][x] = ay & !nx;
                values[6][x] = gy & nx;
                values[7][x] = ay & nx;
            }
            for (plane, values) in planes.chunks_exact_mut(PLANE).zip(&values) {
                let prev = &plane[y * N + x0..][..COLUMNS];
                let next: [i16; COLUMNS] = std::array::from_fn(|l| prev[l] + values[l]);
                plane[(y + 1) * N + x0..][..COLUMNS].copy_from_slice(&next);
            }
        }
    }
}
}

/// The columns [`surf_columns`] sums for a stage whose patches end at `right`: those before
/// it, rounded up to a block of [`COLUMNS`].
fn summed_width(right: usize) -> usize {
    right.div_ceil(COLUMNS).clamp(1, N / COLUMNS) * COLUMNS
}

/// Columns of a window that [`surf_columns_portably`] takes at a time (a divisor of 40): eight 16-bit
/// lanes, one 128-bit vector, so that each column block's values stay in registers.
const COLUMNS: usize = 8;

/// The network's input for the window whose column sums are in `planes`, appended to `input`:
/// for each patch, its four cells' channel sums, normalised.
fn features(mlp: &Mlp, planes: &[i16; PLANES], input: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if avx2_available() {
        // SAFETY: the processor has AVX2, as just checked.
        return unsafe { x86::features(&mlp.patches, planes, input) };
    }
    features_portably(mlp, planes, input);
}

/// [`features`], portably.
fn features_portably(mlp: &Mlp, planes: &[i16; PLANES], input: &mut Vec<f32>) {
    // Sum of channel `c` over the cell of `w` x `h` at (`x0`, `y0`).
    #[inline(always)]
    fn sum(planes: &[i16], c: usize, (x0, y0): (usize, usize), (w, h): (usize, usize)) -> i32 {
        let plane = &planes[c * PLANE..];
        let top = &plane[y0 * N + x0..][..w];
        let bottom = &plane[(y0 + h) * N + x0..][..w];
        bottom
            .iter()
            .zip(top)
            .map(|(&b, &t)| i32::from(b) - i32::from(t))
            .sum()
    }
    for &(px, py, pw, ph) in &mlp.patches {
        let (px, py, cw, chh) = (px as usize, py as usize, pw as usize / 2, ph as usize / 2);
        let mut values = [0i32; FEATURE_DIM];
        for (cell, (cx, cy)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
            let (x0, y0) = (px + cx * cw, py + cy * chh);
            for (c, v) in values[cell * CHANNELS..][..CHANNELS].iter_mut().enumerate() {
                *v = sum(&planes[..], c, (x0, y0), (cw, chh));
            }
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
}

/// Runs the network on the `windows` inputs in `scratch.input` (one after the other); returns
/// the four outputs of each.
fn run_mlp(mlp: &Mlp, windows: usize, scratch: &mut Scratch) -> [[f32; 4]; BATCH] {
    let Scratch { input, hidden, .. } = scratch;
    let [a, b] = hidden;
    let last = mlp.layers.len() - 1;
    let mut outs = [[0.0f32; 4]; BATCH];
    if windows == 0 {
        return outs;
    }
    for (i, layer) in mlp.layers.iter().enumerate() {
        let (src, dst): (&[f32], &mut Vec<f32>) = match i {
            0 => (input, a),
            _ if i % 2 == 1 => (a, b),
            _ => (b, a),
        };
        let m = layer.biases.len();
        dst.clear();
        dst.resize(windows * m, 0.0);
        dots(&layer.weights, src, windows, dst);
        for row in dst.chunks_exact_mut(m) {
            for (x, bias) in row.iter_mut().zip(&layer.biases) {
                let v = *x + bias;
                *x = if i == last {
                    1.0 / (1.0 + (-v).exp())
                } else {
                    v.max(0.0)
                };
            }
        }
        if i == last {
            for (out, row) in outs.iter_mut().zip(dst.chunks_exact(m)) {
                out.copy_from_slice(&row[..4]);
            }
        }
    }
    outs
}

/// Lanes of a dot product.
const LANES: usize = 8;

/// `acc += x * w`, lane by lane.
#[inline(always)]
fn mac(acc: &mut [f32; LANES], x: &[f32; LANES], w: &[f32; LANES]) {
    for l in 0..LANES {
        acc[l] += x[l] * w[l];
    }
}

with_avx2! {
/// The dot products of each window's input with each row of `weights`: `input` holds the
/// inputs of `windows` windows one after the other, `out` receives their outputs the same way
/// (as many per window as `weights` has rows). Each is summed on eight lanes (the compiler vectorises them);
/// two rows and four windows at a time share their loads (the weights come from memory once
/// for four windows) and do not wait on one another's additions.
fn dots(weights: &[f32], input: &[f32], windows: usize, out: &mut [f32]) {
    if windows == 0 || weights.is_empty() {
        return;
    }
    let (n, m) = (input.len() / windows, out.len() / windows);
    let full = n / LANES * LANES;
    let finish = |lanes: &[f32; LANES], row: &[f32], x: &[f32]| -> f32 {
        let tail: f32 = x[full..].iter().zip(&row[full..]).map(|(x, w)| x * w).sum();
        lanes.iter().sum::<f32>() + tail
    };
    for r in (0..m).step_by(2) {
        // Two rows (the last one twice where the count is odd).
        let rows: [&[f32]; 2] = std::array::from_fn(|j| &weights[(r + j).min(m - 1) * n..][..n]);
        let mut first = 0;
        while first < windows {
            // Four windows, or the last one or few again.
            let xs: [&[f32]; 4] =
                std::array::from_fn(|j| &input[(first + j).min(windows - 1) * n..][..n]);
            let [w0, w1] = rows.map(|row| row[..full].as_chunks::<LANES>().0);
            let [x0, x1, x2, x3] = xs.map(|x| x[..full].as_chunks::<LANES>().0);
            let mut a = [[0.0f32; LANES]; 4];
            let mut b = [[0.0f32; LANES]; 4];
            for (((w0, w1), (x0, x1)), (x2, x3)) in
                w0.iter().zip(w1).zip(x0.iter().zip(x1)).zip(x2.iter().zip(x3))
            {
                mac(&mut a[0], x0, w0);
                mac(&mut a[1], x1, w0);
                mac(&mut a[2], x2, w0);
                mac(&mut a[3], x3, w0);
                mac(&mut b[0], x0, w1);
                mac(&mut b[1], x1, w1);
                mac(&mut b[2], x2, w1);
                mac(&mut b[3], x3, w1);
            }
            let lanes = [a, b];
            for (j, x) in xs.iter().enumerate().take(windows - first) {
                for (k, (lanes, row)) in lanes.iter().zip(&rows).enumerate().take(m - r) {
                    out[(first + j) * m + r + k] = finish(&lanes[j], row, x);
                }
            }
            first += 4;
        }
    }
}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portable division of the exact resampling is exact for every sum it can be given.
    #[test]
    fn the_division_by_the_scale_is_exact() {
        for n in 0..=255 * SCALE {
            assert_eq!(u32::from(divide_by_scale(n)), n / SCALE, "{n}");
        }
    }

    /// The exact resampling gives each pixel of a window its bilinear value on rustface's grid
    /// (computed here directly, in 64-bit integers) rounded down; rustface's rounding in `f64`
    /// differs from it only where that value is an integer, one below, and does so on these
    /// images (so the comparison is not empty).
    #[test]
    fn exact_windows_round_down_the_exact_values() {
        let (width, height) = (300u32, 200u32);
        // Noise on the left, on the right a flat grey over a smooth ramp: sums that fall on
        // integers, where the rounding in `f64` can go below.
        let mut state = 99u64;
        let pixels: Vec<u8> = (0..width * height)
            .map(|i| {
                let (c, r) = (i % width, i / width);
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                match c {
                    0..150 => (state >> 24) as u8,
                    _ if r < 100 => 201,
                    _ => ((c + r) / 3) as u8,
                }
            })
            .collect();
        let image = GrayRef {
            pixels: &pixels,
            width,
            height,
        };
        let pixel = |c: i64, r: i64| -> u64 {
            if (0..i64::from(width)).contains(&c) && (0..i64::from(height)).contains(&r) {
                u64::from(pixels[(r * i64::from(width) + c) as usize])
            } else {
                0
            }
        };
        let (mut exact, mut rounded) = ([0u8; AREA], [0u8; AREA]);
        let mut pad = Vec::new();
        let (mut below, mut integers) = (0, 0);
        for size in 41..=260u32 {
            let reach = size as i32;
            for (x, y) in [
                (0, 0),
                (13, 7),
                (-reach / 3, 20),
                (140, height as i32 - reach / 2),
                (200, -reach / 4),
            ] {
                exact40(&image, (x, y, size), &mut exact, &mut pad);
                resample40(&image, (x, y, size), N, &mut rounded, &mut pad);
                let grid = |i: usize| {
                    let s = size as usize * i;
                    ((s / N) as i64, (s % N) as u64)
                };
                for (i, j) in (0..N).flat_map(|i| (0..N).map(move |j| (i, j))) {
                    let ((fy, ky), (fx, kx)) = (grid(i), grid(j));
                    let (c, r) = (i64::from(x) + fx, i64::from(y) + fy);
                    let row = |r| (40 - kx) * pixel(c, r) + kx * pixel(c + 1, r);
                    let sum = (40 - ky) * row(r) + ky * row(r + 1);
                    let (e, f) = (exact[i * N + j], rounded[i * N + j]);
                    assert_eq!(u64::from(e), sum / 1600, "{size} at ({x}, {y}): ({j}, {i})");
                    integers += usize::from(sum % 1600 == 0);
                    if e != f {
                        assert!(sum % 1600 == 0 && f + 1 == e, "{size}: ({j}, {i})");
                        below += 1;
                    }
                }
            }
        }
        assert!(below > 0 && below < integers, "{below} of {integers}");
    }
}
