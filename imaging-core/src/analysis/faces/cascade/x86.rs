//! Hand-written AVX2 versions of the cascade's bilinear resampling (a gather of pixel pairs:
//! in `f64` as rustface for the pyramid, and exactly in integers for the SURF windows over 40
//! px), of its SURF column sums (sixteen columns a vector, only the rows a stage reads stored)
//! and of its SURF cell sums (sums across channels), which the compiler does not vectorise
//! well, chosen at run time where the processor has AVX2. They compute exactly what their
//! portable twins in `cascade.rs` compute (the same IEEE operations in the same order, per
//! value, or the same integers; the column sums in the rows asked for); the tests here run
//! both and require the same bytes and values, and the faces tests the same detections.

use super::{box_row, to_u8, GrayRef, Resampler, AREA, N};
use std::arch::x86_64::*;

/// Bytes read past a row's last pair: a 16-byte load from the first pixel of its last four.
const SLACK: usize = 16;

/// How many output rows ahead [`window40`] asks for source rows.
const AHEAD: usize = 6;

/// Where the output columns' pixel pairs are, as byte shuffles: for each four outputs, the
/// first pixel of the first one (`base`), and the shuffles that put the first and the second
/// pixel of each pair in the low byte of a 32-bit lane, from a 16-byte load at `base`.
#[derive(Debug, Default)]
pub(super) struct Picks {
    /// The first pixels these picks were made for.
    first: Vec<usize>,
    /// Whether every four pairs lie within 16 bytes (else the portable code runs).
    usable: bool,
    base: Vec<usize>,
    firsts: Vec<__m128i>,
    seconds: Vec<__m128i>,
}

impl Picks {
    /// Makes the picks for the output columns whose first pixels are `first` (increasing),
    /// unless they are made already; whether they are usable.
    #[target_feature(enable = "avx2")]
    fn prepare(&mut self, first: &[usize]) -> bool {
        if self.first == first {
            return self.usable;
        }
        self.first.clear();
        self.first.extend_from_slice(first);
        self.base.clear();
        self.firsts.clear();
        self.seconds.clear();
        // Increasing first pixels, within 16 bytes four by four.
        self.usable = first.is_sorted() && first.chunks_exact(4).all(|q| q[3] + 1 - q[0] < 16);
        if !self.usable {
            return false;
        }
        for quad in first.chunks_exact(4) {
            let base = quad[0];
            // 0x80: a zero byte.
            let (mut a, mut b) = ([0x80u8; 16], [0x80u8; 16]);
            for (lane, &f) in quad.iter().enumerate() {
                a[lane * 4] = (f - base) as u8;
                b[lane * 4] = (f - base + 1) as u8;
            }
            self.base.push(base);
            // SAFETY: unaligned 16-byte loads from 16-byte arrays.
            unsafe {
                self.firsts.push(_mm_loadu_si128(a.as_ptr().cast()));
                self.seconds.push(_mm_loadu_si128(b.as_ptr().cast()));
            }
        }
        true
    }
}

/// Per output column: first source pixel, and the weights of it and the next.
struct Table<'a> {
    first: &'a [usize],
    w0: &'a [f64],
    w1: &'a [f64],
}

/// [`super::interpolate`]: `out[i] = w0[i] * line[first[i]] + w1[i] * line[first[i] + 1]`, four
/// outputs at a time with the pairs picked by `picks` (usable, made for `t.first`) from `line`,
/// which holds [`SLACK`] bytes past the last pair's four.
#[target_feature(enable = "avx2")]
fn interpolate(line: &[u8], picks: &Picks, t: &Table, out: &mut [f64]) {
    let n = out.len();
    assert!(t.first.len() == n && t.w0.len() == n && t.w1.len() == n);
    // Each 16-byte load below starts at a quad's first pixel, the last one furthest (they
    // increase): checked once here.
    assert!(picks.base.last().is_none_or(|&b| b + 16 <= line.len()));
    let quads = picks.base.iter().zip(&picks.firsts).zip(&picks.seconds);
    for (q, ((&base, &firsts), &seconds)) in quads.enumerate() {
        // SAFETY: `base + 16 <= line.len()` (asserted above).
        let v = unsafe { _mm_loadu_si128(line.as_ptr().add(base).cast()) };
        let p0 = _mm256_cvtepi32_pd(_mm_shuffle_epi8(v, firsts));
        let p1 = _mm256_cvtepi32_pd(_mm_shuffle_epi8(v, seconds));
        let j = q * 4;
        assert!(j + 4 <= n);
        // SAFETY: `j + 4 <= n`, the length of the three slices.
        unsafe {
            let a = _mm256_loadu_pd(t.w0.as_ptr().add(j));
            let b = _mm256_loadu_pd(t.w1.as_ptr().add(j));
            let v = _mm256_add_pd(_mm256_mul_pd(a, p0), _mm256_mul_pd(b, p1));
            _mm256_storeu_pd(out.as_mut_ptr().add(j), v);
        }
    }
    // The last outputs of a width that is not a multiple of four, portably.
    let done = n / 4 * 4;
    let rest = (&t.first[done..], &t.w0[done..], &t.w1[done..]);
    super::interpolate(line, rest.0, rest.1, rest.2, &mut out[done..]);
}

/// `dst[i] = to_u8(w0 * upper[i] + w1 * lower[i])`, eight at a time.
#[target_feature(enable = "avx2")]
fn blend(upper: &[f64], lower: &[f64], w0: f64, w1: f64, dst: &mut [u8]) {
    let n = dst.len();
    assert!(upper.len() >= n && lower.len() >= n);
    let (a, b) = (_mm256_set1_pd(w0), _mm256_set1_pd(w1));
    let (zero, max) = (_mm256_setzero_pd(), _mm256_set1_pd(255.0));
    for k in (0..n / 8 * 8).step_by(8) {
        let mut words = [_mm_setzero_si128(); 2];
        for (h, word) in words.iter_mut().enumerate() {
            let j = k + h * 4;
            // SAFETY: `j + 4 <= n` for both loads.
            let (t, u) = unsafe {
                (
                    _mm256_loadu_pd(upper.as_ptr().add(j)),
                    _mm256_loadu_pd(lower.as_ptr().add(j)),
                )
            };
            let v = _mm256_add_pd(_mm256_mul_pd(a, t), _mm256_mul_pd(b, u));
            // Clamped to 0..=255 and truncated, as `to_u8`.
            *word = _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(v, zero), max));
        }
        let words = _mm_packs_epi32(words[0], words[1]);
        let bytes = _mm_packus_epi16(words, words);
        // SAFETY: `k + 8 <= n = dst.len()`; an unaligned 8-byte store.
        unsafe { _mm_storel_epi64(dst.as_mut_ptr().add(k).cast(), bytes) };
    }
    let done = n / 8 * 8;
    for ((d, t), u) in dst[done..]
        .iter_mut()
        .zip(&upper[done..])
        .zip(&lower[done..])
    {
        *d = to_u8(w0 * t + w1 * u);
    }
}

/// [`super::row_pairs`] with rustface's blend of the two rows ([`blend`]), each source row
/// interpolated by `source` into one of two buffers as long as the columns to write in each
/// row.
#[target_feature(enable = "avx2")]
#[inline]
fn each_row(
    (first, w0, w1): (&[usize], &[f64], &[f64]),
    rows: [&mut [f64]; 2],
    out: &mut [u8],
    width: usize,
    mut source: impl FnMut(usize, &mut [f64]),
) {
    let blend_rows = |i: usize, upper: &&mut [f64], lower: &&mut [f64], dst: &mut [u8]| {
        let columns = upper.len();
        blend(upper, lower, w0[i], w1[i], &mut dst[..columns]);
    };
    super::row_pairs(
        first,
        out,
        width,
        &mut { rows },
        |r, row| source(r, row),
        blend_rows,
    );
}

/// [`super::resize_bilinear`] (to another size), with the interpolation and the blend above
/// (the portable interpolation where the picks are not usable: levels about 4.7 times smaller
/// than the first).
#[target_feature(enable = "avx2")]
pub(super) fn resize_bilinear(src: &GrayRef, width: u32, height: u32, dst: &mut Vec<u8>) {
    let (xs, xw0, xw1) = super::table(width, src.width);
    let (ys, yw0, yw1) = super::table(height, src.height);
    let t = Table {
        first: &xs,
        w0: &xw0,
        w1: &xw1,
    };
    let mut picks = Picks::default();
    let usable = picks.prepare(&xs);
    let (w, sw) = (width as usize, src.width as usize);
    let mut pad = Vec::new();
    let source = |r: usize, out: &mut [f64]| {
        let at = r.min(src.height as usize - 1) * sw;
        if !usable {
            return super::interpolate(&src.pixels[at..][..sw], &xs, &xw0, &xw1, out);
        }
        // The row and the bytes after it, or a copy of the row followed by zeros at the end.
        let line = match src.pixels.get(at..at + sw + SLACK) {
            Some(line) => line,
            None => {
                pad.clear();
                pad.extend_from_slice(&src.pixels[at..][..sw]);
                pad.resize(sw + SLACK, 0);
                &pad[..]
            }
        };
        interpolate(line, &picks, &t, out);
    };
    let (mut upper, mut lower) = (vec![0.0f64; w], vec![0.0f64; w]);
    // Every row is written below: the buffer is only grown or cut, not cleared.
    dst.resize(w * height as usize, 0);
    each_row((&ys, &yw0, &yw1), [&mut upper, &mut lower], dst, w, source);
}

/// [`super::window40`] for a `size` other than 40 (and `columns` at most 40), with the
/// interpolation (the portable one for boxes of 189 px and more, but for 190) and the blend above;
/// the source rows are asked for from memory a few rows ahead.
#[target_feature(enable = "avx2")]
pub(super) fn window40(
    image: &GrayRef,
    (x, y, size): (i32, i32, u32),
    columns: usize,
    out: &mut [u8; AREA],
    resampler: &mut Resampler,
) {
    let (x, y, len) = (i64::from(x), i64::from(y), size as usize);
    let (first, w0, w1) = super::window_table(size);
    // The columns' part of the table; the rows' is all of it.
    let t = Table {
        first: &first[..columns],
        w0: &w0[..columns],
        w1: &w1[..columns],
    };
    let Resampler { pad, picks, .. } = resampler;
    let usable = picks.prepare(t.first);
    let source = |r: usize, into: &mut [f64]| {
        let iy = y + r as i64;
        prefetch(image, x, iy + AHEAD as i64, len);
        match box_row(image, x, iy, len, SLACK, pad) {
            None => into.fill(0.0),
            Some(line) if usable => interpolate(line, picks, &t, into),
            Some(line) => super::interpolate(line, t.first, t.w0, t.w1, into),
        }
    };
    let (mut upper, mut lower) = ([0.0f64; N], [0.0f64; N]);
    let rows = [&mut upper[..columns], &mut lower[..columns]];
    each_row((&first, &w0, &w1), rows, out, N, source);
}

/// The byte shuffles and weights of [`exact40`] for one window size: for each four output
/// columns, the first pixel of the first (`base`) and the shuffle that puts each column's pixel
/// pair side by side (two bytes), from a 16-byte load at `base`, in the low or (odd fours) the
/// high half of a vector; for each eight, the pairs' weights in 40ths as signed bytes.
#[derive(Debug)]
pub(super) struct PairPicks {
    /// The window size these are for (0: none yet).
    size: u32,
    /// Whether every four pairs lie within 16 bytes (else the portable code runs).
    usable: bool,
    /// [`super::exact_table`] of the size: each output's first pixel and weight in 40ths.
    first: [usize; N],
    k: [u16; N],
    base: [usize; N / 4],
    shuffles: [__m128i; N / 4],
    weights: [__m128i; N / 8],
}

impl Default for PairPicks {
    fn default() -> Self {
        // SAFETY: all-zero bytes are valid vectors.
        let zero = unsafe { std::mem::zeroed::<__m128i>() };
        PairPicks {
            size: 0,
            usable: false,
            first: [0; N],
            k: [0; N],
            base: [0; N / 4],
            shuffles: [zero; N / 4],
            weights: [zero; N / 8],
        }
    }
}

impl PairPicks {
    /// Makes the picks for windows of side `size` (over 40), unless made already; whether they
    /// are usable.
    #[target_feature(enable = "avx2")]
    fn prepare(&mut self, size: u32) -> bool {
        if self.size == size {
            return self.usable;
        }
        let (first, k) = super::exact_table(size);
        (self.size, self.first, self.k) = (size, first, k);
        self.usable = first.chunks_exact(4).all(|q| q[3] + 1 - q[0] < 16);
        if !self.usable {
            return false;
        }
        for (q, quad) in first.chunks_exact(4).enumerate() {
            let base = quad[0];
            // 0x80: a zero byte; odd fours go to the high half.
            let mut picks = [0x80u8; 16];
            let half = (q % 2) * 8;
            for (lane, &f) in quad.iter().enumerate() {
                picks[half + lane * 2] = (f - base) as u8;
                picks[half + lane * 2 + 1] = (f - base + 1) as u8;
            }
            self.base[q] = base;
            // SAFETY: an unaligned 16-byte load from a 16-byte array.
            self.shuffles[q] = unsafe { _mm_loadu_si128(picks.as_ptr().cast()) };
        }
        for (g, ks) in k.chunks_exact(8).enumerate() {
            let mut weights = [0i8; 16];
            for (pair, &k) in weights.chunks_exact_mut(2).zip(ks) {
                // At most 40: a signed byte.
                (pair[0], pair[1]) = ((N as u16 - k) as i8, k as i8);
            }
            // SAFETY: an unaligned 16-byte load from a 16-byte array.
            self.weights[g] = unsafe { _mm_loadu_si128(weights.as_ptr().cast()) };
        }
        true
    }
}

/// Horizontal sums of [`exact40`] for one source row: 40 values in 40ths in 16-bit lanes,
/// sixteen a vector, then 8 zeros.
type Sums = [__m256i; 3];

/// `floor(n / 1600)` of the 32-bit lanes of `low` and `high` (each `0 <= n <= 408,000`), as
/// sixteen 16-bit lanes: `n / 64` (at most 6,375) packed, then divided by 25 as
/// `(m * 10,486) >> 18`, exact for `m < 43,690` (10,486 is 2^18 / 25 rounded up by 6/25, an
/// error that stays under one until `m` reaches 2^18 / 6). `floor(floor(n / 64) / 25)` is
/// `floor(n / 1600)`. The lanes come out in the order of `_mm256_packus_epi32`.
#[target_feature(enable = "avx2")]
fn divide_by_scale(low: __m256i, high: __m256i) -> __m256i {
    let m = _mm256_packus_epi32(_mm256_srli_epi32::<6>(low), _mm256_srli_epi32::<6>(high));
    _mm256_srli_epi16::<2>(_mm256_mulhi_epu16(m, _mm256_set1_epi16(10_486)))
}

/// The horizontal sums of [`exact40`] for source row `iy` of the window at column `x`, `len`
/// wide (zero outside the image), with the pairs and weights of `picks` (usable, for `len`).
#[target_feature(enable = "avx2")]
#[inline]
fn pair_sums(
    image: &GrayRef,
    (x, iy, len): (i64, i64, usize),
    picks: &PairPicks,
    pad: &mut Vec<u8>,
) -> Sums {
    prefetch(image, x, iy + AHEAD as i64, len);
    let Some(line) = box_row(image, x, iy, len, SLACK, pad) else {
        return [_mm256_setzero_si256(); 3];
    };
    // Each load below starts at a four's first pixel, at most the last one's: checked once.
    assert!(picks.base[N / 4 - 1] + 16 <= line.len());
    let [e0, e1, e2, e3, e4]: [__m128i; N / 8] = std::array::from_fn(|g| {
        let (a, b) = (picks.base[2 * g], picks.base[2 * g + 1]);
        // SAFETY: `a, b <= base[9]` and `base[9] + 16 <= line.len()` (asserted above).
        let (a, b) = unsafe {
            (
                _mm_loadu_si128(line.as_ptr().add(a).cast()),
                _mm_loadu_si128(line.as_ptr().add(b).cast()),
            )
        };
        let pairs = _mm_or_si128(
            _mm_shuffle_epi8(a, picks.shuffles[2 * g]),
            _mm_shuffle_epi8(b, picks.shuffles[2 * g + 1]),
        );
        _mm_maddubs_epi16(pairs, picks.weights[g])
    });
    [
        _mm256_set_m128i(e1, e0),
        _mm256_set_m128i(e3, e2),
        _mm256_set_m128i(_mm_setzero_si128(), e4),
    ]
}

/// [`super::exact40`]: the pixel pairs picked by byte shuffles (four columns a load, as in
/// [`window40`]), weighted and summed in one multiply-add of bytes per eight columns, the rows
/// blended in 32-bit multiply-adds of sixteen columns; the portable code where the pairs of
/// four columns span more than 16 bytes (windows of 189 px and more, but for 190).
#[target_feature(enable = "avx2")]
pub(super) fn exact40(
    image: &GrayRef,
    (x, y, size): (i32, i32, u32),
    out: &mut [u8; AREA],
    resampler: &mut Resampler,
) {
    let Resampler { pad, pairs, .. } = resampler;
    if !pairs.prepare(size) {
        return super::exact40(image, (x, y, size), out, pad);
    }
    let (x, y, len) = (i64::from(x), i64::from(y), size as usize);
    let (first, k) = (pairs.first, pairs.k);
    // The two source rows in use, kept in registers: `lower` is row `next - 1`, `upper` the
    // one before it. Each output row moves down at least one source row (the window is over
    // 40 px): it takes its two rows, the upper one from `lower` when it follows on.
    let (mut upper, mut lower) = ([_mm256_setzero_si256(); 3], [_mm256_setzero_si256(); 3]);
    let mut next = 0;
    for (i, dst) in out.chunks_exact_mut(N).enumerate() {
        let r = first[i];
        while next < r + 2 {
            let row = next.max(r);
            upper = lower;
            lower = pair_sums(image, (x, y + row as i64, len), pairs, pad);
            next = row + 1;
        }
        // Weights of the upper and the lower row, as the two 16-bit halves of each lane.
        let weights = _mm256_set1_epi32((i32::from(k[i]) << 16) | (N as i32 - i32::from(k[i])));
        for (c, (&t, &u)) in upper.iter().zip(&lower).enumerate() {
            // Columns 0-3 and 8-11 of the sixteen, then 4-7 and 12-15, each upper sum beside
            // its lower one; the packs below put them back in order.
            let low = _mm256_madd_epi16(_mm256_unpacklo_epi16(t, u), weights);
            let high = _mm256_madd_epi16(_mm256_unpackhi_epi16(t, u), weights);
            let values = divide_by_scale(low, high);
            let bytes = _mm256_packus_epi16(values, values);
            let bytes = _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(bytes));
            // SAFETY: bytes `16c..16c + 16` of the row (only 8 of the last sixteen, the row's
            // last): inside `dst`.
            unsafe {
                if c < 2 {
                    _mm_storeu_si128(dst.as_mut_ptr().add(16 * c).cast(), bytes);
                } else {
                    _mm_storel_epi64(dst.as_mut_ptr().add(32).cast(), bytes);
                }
            }
        }
    }
}

/// Asks for the cache lines of row `iy` from column `x`, `len` bytes (where inside the image).
#[target_feature(enable = "avx2")]
fn prefetch(image: &GrayRef, x: i64, iy: i64, len: usize) {
    let (w, h) = (i64::from(image.width), i64::from(image.height));
    if iy < 0 || iy >= h {
        return;
    }
    let start = (iy * w + x.clamp(0, w)) as usize;
    let end = (iy * w + (x + len as i64).clamp(0, w)) as usize;
    // Every 64 bytes from the first, and the last: each cache line of the row.
    for at in (start..end)
        .step_by(64)
        .chain(end.checked_sub(1).filter(|&e| e >= start))
    {
        // SAFETY: a prefetch is a hint that does not fault; `at` is inside the pixels.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(image.pixels.as_ptr().add(at).cast()) };
    }
}

/// [`super::surf_columns_portably`], sixteen columns a vector: the window's rows widened to
/// 16 bits once, with a column added at each side whose difference with the one beyond the
/// border gives the border's doubled one-sided gradient (`2a - b`), then each block of sixteen
/// columns down the rows with its eight channel sums in registers. A width that is not a
/// multiple of sixteen takes its last block from sixteen columns before its end (the columns
/// summed twice get the same values). Only the rows of `rows` (bit `r` for row `r`) are
/// stored: the stores are most of the work. The same integers as the portable code.
#[target_feature(enable = "avx2")]
pub(super) fn surf_columns(
    window: &[u8; AREA],
    (right, rows): (usize, u64),
    planes: &mut [i16; super::PLANES],
) {
    let width = super::summed_width(right);
    if width < 16 {
        return super::surf_columns_portably(window, right, planes);
    }
    // Row `y` of the window at columns `1..=40` of `wide[y]`, the borders' extrapolations at
    // 0 and 41, then slack for whole-vector loads.
    let mut wide = [[0i16; 48]; N];
    for (row, pixels) in wide.iter_mut().zip(window.chunks_exact(N)) {
        for (w, &p) in row[1..=N].iter_mut().zip(pixels) {
            *w = i16::from(p);
        }
        row[0] = 2 * row[1] - row[2];
        row[N + 1] = 2 * row[N] - row[N - 1];
    }
    let blocks = (0..width / 16 * 16)
        .step_by(16)
        .chain((!width.is_multiple_of(16)).then_some(width - 16));
    for x0 in blocks {
        // A load of sixteen values of `wide` row `y` from column `at` (at most 26: inside
        // the row's 48).
        let load = |y: usize, at: usize| {
            assert!(at + 16 <= 48);
            // SAFETY: `at + 16 <= 48`, the row's length.
            unsafe { _mm256_loadu_si256(wide[y].as_ptr().add(at).cast()) }
        };
        // Plane `c`, row `r`, columns `x0..x0 + 16`; the last plane's last row is furthest.
        let at = |c: usize, r: usize| c * super::PLANE + r * N + x0;
        assert!(at(super::CHANNELS - 1, N) + 16 <= planes.len());
        let mut sums = [_mm256_setzero_si256(); super::CHANNELS];
        for (c, &sum) in sums.iter().enumerate().filter(|_| rows & 1 != 0) {
            let i = at(c, 0);
            // SAFETY: `i + 16 <= planes.len()` (asserted above for the furthest `i`).
            unsafe { _mm256_storeu_si256(planes.as_mut_ptr().add(i).cast(), sum) };
        }
        for y in 0..N {
            let (up, down) = (y.saturating_sub(1), (y + 1).min(N - 1));
            let gx = _mm256_sub_epi16(load(y, x0 + 2), load(y, x0));
            let mut gy = _mm256_sub_epi16(load(down, x0 + 1), load(up, x0 + 1));
            if y == 0 || y == N - 1 {
                gy = _mm256_add_epi16(gy, gy);
            }
            // All ones where the other gradient is negative.
            let (ny, nx) = (_mm256_srai_epi16::<15>(gy), _mm256_srai_epi16::<15>(gx));
            let (ax, ay) = (_mm256_abs_epi16(gx), _mm256_abs_epi16(gy));
            let values = [
                _mm256_andnot_si256(ny, gx),
                _mm256_andnot_si256(ny, ax),
                _mm256_and_si256(gx, ny),
                _mm256_and_si256(ax, ny),
                _mm256_andnot_si256(nx, gy),
                _mm256_andnot_si256(nx, ay),
                _mm256_and_si256(gy, nx),
                _mm256_and_si256(ay, nx),
            ];
            for (sum, v) in sums.iter_mut().zip(values) {
                *sum = _mm256_add_epi16(*sum, v);
            }
            if rows & 1 << (y + 1) != 0 {
                for (c, &sum) in sums.iter().enumerate() {
                    let i = at(c, y + 1);
                    // SAFETY: `i + 16 <= planes.len()` (asserted above for the furthest `i`).
                    unsafe { _mm256_storeu_si256(planes.as_mut_ptr().add(i).cast(), sum) };
                }
            }
        }
    }
}

/// [`super::features`]: each cell's eight channel sums at once. Per channel, the cell's column
/// sums (a difference of two rows of the plane: at most 20,400 in size, exact in 16 bits) are
/// added in pairs into 32-bit lanes, then the eight channels' lanes are added across into one
/// vector of eight sums. Integer sums are exact in any order, and so is the squared norm summed
/// in 64 bits (under 2^37, which `f64` holds exactly): the values are the portable code's.
#[target_feature(enable = "avx2")]
pub(super) fn features(
    patches: &[(u32, u32, u32, u32)],
    planes: &[i16; super::PLANES],
    input: &mut Vec<f32>,
) {
    let lanes = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let ones = _mm256_set1_epi16(1);
    for &(px, py, pw, ph) in patches {
        let (px, py, cw, chh) = (px as usize, py as usize, pw as usize / 2, ph as usize / 2);
        // Lanes of a 16-wide load inside the cell: all of the first load where the cell is
        // wider than 16, then the rest.
        let widths = [cw.min(16), cw.saturating_sub(16)];
        let masks = widths.map(|w| _mm256_cmpgt_epi16(_mm256_set1_epi16(w as i16), lanes));
        let mut cells = [_mm256_setzero_si256(); 4];
        for (cell, (cx, cy)) in [(0, 0), (1, 0), (0, 1), (1, 1)].into_iter().enumerate() {
            let (x0, y0) = (px + cx * cw, py + cy * chh);
            let (top, bottom) = (y0 * N + x0, (y0 + chh) * N + x0);
            // Every load below reads 16 values from `top` or `bottom` (+ 16) of a plane:
            // inside `planes`, whose slack covers the last plane's last cells.
            assert!((super::CHANNELS - 1) * super::PLANE + bottom + 32 <= planes.len());
            let channel = |c: usize| {
                let plane = c * super::PLANE;
                let mut pairs = _mm256_setzero_si256();
                for (k, (&w, &mask)) in widths.iter().zip(&masks).enumerate() {
                    if w == 0 {
                        continue;
                    }
                    let (t, b) = (plane + top + k * 16, plane + bottom + k * 16);
                    // SAFETY: `b + 16 <= planes.len()` and `t < b` (asserted above).
                    let (t, b) = unsafe {
                        (
                            _mm256_loadu_si256(planes.as_ptr().add(t).cast()),
                            _mm256_loadu_si256(planes.as_ptr().add(b).cast()),
                        )
                    };
                    let d = _mm256_and_si256(_mm256_sub_epi16(b, t), mask);
                    pairs = _mm256_add_epi32(pairs, _mm256_madd_epi16(d, ones));
                }
                pairs
            };
            let h01 = _mm256_hadd_epi32(channel(0), channel(1));
            let h23 = _mm256_hadd_epi32(channel(2), channel(3));
            let h45 = _mm256_hadd_epi32(channel(4), channel(5));
            let h67 = _mm256_hadd_epi32(channel(6), channel(7));
            let (low, high) = (_mm256_hadd_epi32(h01, h23), _mm256_hadd_epi32(h45, h67));
            // Lane c of the low (high) half of `low`: channel c's pairs 0-3 (4-7); of `high`:
            // channel c + 4's.
            cells[cell] = _mm256_add_epi32(
                _mm256_permute2x128_si256::<0x20>(low, high),
                _mm256_permute2x128_si256::<0x31>(low, high),
            );
        }
        // Squares in 32 bits, wrapping (as the portable code), summed in 64 bits.
        let mut squares = _mm256_setzero_si256();
        for &v in &cells {
            let s = _mm256_mullo_epi32(v, v);
            squares = _mm256_add_epi64(
                squares,
                _mm256_add_epi64(
                    _mm256_cvtepi32_epi64(_mm256_castsi256_si128(s)),
                    _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(s)),
                ),
            );
        }
        let mut four = [0i64; 4];
        // SAFETY: a 32-byte store into a 32-byte array.
        unsafe { _mm256_storeu_si256(four.as_mut_ptr().cast(), squares) };
        let norm2 = four.iter().sum::<i64>() as f64;
        let mut values = [0.0f32; super::FEATURE_DIM];
        if norm2 != 0.0 {
            let norm = _mm256_set1_ps(norm2.sqrt() as f32);
            for (chunk, &v) in values.chunks_exact_mut(8).zip(&cells) {
                let v = _mm256_div_ps(_mm256_cvtepi32_ps(v), norm);
                // SAFETY: a 32-byte store into an 8-value chunk.
                unsafe { _mm256_storeu_ps(chunk.as_mut_ptr(), v) };
            }
        }
        input.extend_from_slice(&values);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        baseline_only, exact40 as exact40_dispatched, features_portably, resample40,
        resize_portably, surf_columns_portably, surf_patches, Mlp, PLANES, SCALE,
    };

    /// The portable [`super::super::exact40`], on a processor with AVX2.
    fn exact40_portably(
        image: &GrayRef,
        at: (i32, i32, u32),
        out: &mut [u8; AREA],
        pad: &mut Vec<u8>,
    ) {
        baseline_only(|| exact40_dispatched(image, at, out, pad));
    }

    /// The division of the exact resampling is exact for every sum it can be given.
    #[test]
    fn the_vector_division_is_exact() {
        if !is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: its versions never run");
            return;
        }
        let top = 255 * SCALE as i32;
        for start in (0..=top).step_by(16) {
            let n: [i32; 16] = std::array::from_fn(|l| (start + l as i32).min(top));
            // SAFETY: the processor has AVX2, as checked above; 8-lane loads and a 16-lane
            // store of arrays of those sizes.
            let q = unsafe {
                let low = _mm256_loadu_si256(n.as_ptr().cast());
                let high = _mm256_loadu_si256(n.as_ptr().add(8).cast());
                let mut q = [0u16; 16];
                _mm256_storeu_si256(q.as_mut_ptr().cast(), divide_by_scale(low, high));
                q
            };
            // `_mm256_packus_epi32` order: four of `low`, four of `high`, per 128-bit half.
            let order = [0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 12, 13, 14, 15];
            for (lane, &q) in q.iter().enumerate() {
                let n = n[order[lane]];
                assert_eq!(i32::from(q), n / SCALE as i32, "{n}");
            }
        }
    }
    use super::*;

    /// Pseudo-random bytes (xorshift), the same on every run.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 24) as u8
            })
            .collect()
    }

    /// Each AVX2 version gives exactly its portable twin's bytes and values: windows of every
    /// size from 41 to 300 px (past the 189 px where the shuffles give way to the portable
    /// interpolation), inside, across and outside the image's edges and at the end of its
    /// buffer; pyramid levels of many sizes; features of every patch of SeetaFace's pool on
    /// noisy and on extreme (black and white) windows.
    #[test]
    fn the_avx2_versions_give_the_portable_results() {
        if !is_x86_feature_detected!("avx2") {
            eprintln!("no AVX2 here: its versions never run");
            return;
        }
        let (width, height) = (211u32, 157u32);
        let pixels = noise((width * height) as usize, 7);
        let image = GrayRef {
            pixels: &pixels,
            width,
            height,
        };
        let (mut ours, mut theirs) = ([0u8; AREA], [0u8; AREA]);
        let mut resampler = Resampler::default();
        let mut pad = Vec::new();
        // Noise, and images whose values fall on or next to integers (a flat grey, a smooth
        // ramp), where the truncation to bytes is the most sensitive to the arithmetic.
        let flat = vec![137u8; pixels.len()];
        let ramp: Vec<u8> = (0..pixels.len())
            .map(|i| ((i % width as usize + i / width as usize) / 2) as u8)
            .collect();
        let images = [&pixels, &flat, &ramp].map(|pixels| GrayRef {
            pixels,
            width,
            height,
        });
        for (image, size) in images
            .iter()
            .flat_map(|i| (41..=300u32).map(move |s| (i, s)))
        {
            let reach = size as i32;
            for (x, y) in [
                (0, 0),
                (-reach / 2, 10),
                (17, -reach / 3),
                (width as i32 - reach / 2, height as i32 - reach),
                (width as i32 - reach, height as i32 - reach),
                (3, height as i32 - reach / 4),
                (width as i32 + 5, 0),
            ] {
                // All the columns, and the 33 that the first stage reads (the rest of each
                // row is left as it was: only the first 33 are compared).
                for columns in [N, 33] {
                    // SAFETY: the processor has AVX2, as checked above.
                    unsafe { window40(image, (x, y, size), columns, &mut ours, &mut resampler) };
                    resample40(image, (x, y, size), columns, &mut theirs, &mut pad);
                    let rows = |w: &[u8; AREA]| {
                        w.chunks_exact(N)
                            .map(|r| r[..columns].to_vec())
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(rows(&ours), rows(&theirs), "window {size} at ({x}, {y})");
                }
                // The exact resampling, all 40 columns.
                // SAFETY: the processor has AVX2, as checked above.
                unsafe { exact40(image, (x, y, size), &mut ours, &mut resampler) };
                exact40_portably(image, (x, y, size), &mut theirs, &mut pad);
                assert_eq!(ours, theirs, "exact window {size} at ({x}, {y})");
            }
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for (w, h) in [
            (168, 125),
            (100, 80),
            (41, 40),
            (57, 150),
            (40, 40),
            (300, 200),
        ] {
            // SAFETY: the processor has AVX2, as checked above.
            unsafe { resize_bilinear(&image, w, h, &mut ours) };
            resize_portably(&image, w, h, &mut theirs);
            assert_eq!(ours, theirs, "level {w}x{h}");
        }
        let mlp = Mlp {
            right: N,
            rows: u64::MAX,
            patches: surf_patches(),
            threshold: 0.0,
            layers: Vec::new(),
        };
        let mut planes = Box::new([0i16; PLANES]);
        let extreme: Vec<u8> = (0..AREA)
            .map(|i| {
                if (i / N + i % N / 3).is_multiple_of(2) {
                    0
                } else {
                    255
                }
            })
            .collect();
        for window in [noise(AREA, 3), noise(AREA, 11), extreme, vec![9; AREA]] {
            let window: &[u8; AREA] = window.as_slice().try_into().expect("a window");
            // The AVX2 sums are the portable ones, for each width a stage may sum, in the
            // rows asked for (every row, or some).
            for (right, rows) in [3, 8, 12, 16, 20, 24, 30, 32, 33, 36, N]
                .into_iter()
                .flat_map(|r| {
                    [
                        (r, u64::MAX),
                        (r, 0b1_0100_0001_0000_0000_0000_0101_0000_0001),
                    ]
                })
            {
                let mut theirs = Box::new([0i16; PLANES]);
                surf_columns_portably(window, right, &mut theirs);
                planes.fill(-1);
                // SAFETY: the processor has AVX2, as checked above.
                unsafe { surf_columns(window, (right, rows), &mut planes) };
                let width = super::super::summed_width(right);
                let lines = planes.chunks_exact(N).zip(theirs.chunks_exact(N));
                for (r, (a, b)) in lines.enumerate() {
                    if rows & 1 << (r % (N + 1)) != 0 && r < super::super::CHANNELS * (N + 1) {
                        assert_eq!(a[..width], b[..width], "right {right}, row {r}");
                    }
                }
            }
            // The sums of the first 32 columns do not depend on the others being summed.
            surf_columns_portably(window, 32, &mut planes);
            let part = planes.clone();
            surf_columns_portably(window, N, &mut planes);
            for (a, b) in planes.chunks_exact(N).zip(part.chunks_exact(N)) {
                assert_eq!(a[..32], b[..32]);
            }
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            // SAFETY: the processor has AVX2, as checked above.
            unsafe { features(&mlp.patches, &planes, &mut ours) };
            features_portably(&mlp, &planes, &mut theirs);
            assert_eq!(ours.len(), mlp.patches.len() * super::super::FEATURE_DIM);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&ours), bits(&theirs));
        }
    }
}
