//! Hand-written AVX2 versions of cascade loops that the compiler does not vectorise well,
//! chosen at run time where the processor has AVX2. Each computes exactly what its portable
//! twin in `cascade.rs` computes (the same IEEE operations in the same order, per value); the
//! faces tests run both and require the same detections.

use super::{box_row, GrayRef, AREA, N};
use std::arch::x86_64::*;

/// [`super::window40`] for processors with AVX2 (a `size` other than 40): each source row's
/// pixel pairs are picked four at a time out of a 16-byte load by byte shuffles, interpolated
/// on vectors, and the rows are blended and truncated to bytes on vectors.
#[target_feature(enable = "avx2")]
pub(super) fn window40(
    image: &GrayRef,
    x: i32,
    y: i32,
    size: u32,
    out: &mut [u8; AREA],
    pad: &mut Vec<u8>,
) {
    let (x, y, len) = (i64::from(x), i64::from(y), size as usize);
    // Per output column (and row): first source pixel, and the weights of it and the next.
    let ratio = f64::from(size) / f64::from(super::WINDOW);
    let (mut first, mut w0, mut w1) = ([0usize; N], [0.0f64; N], [0.0f64; N]);
    for i in 0..N {
        let s = ratio * i as f64;
        let i0 = (s as u32).min(size - 2);
        let w = s - f64::from(i0);
        (first[i], w0[i], w1[i]) = (i0 as usize, 1.0 - w, w);
    }
    let picks = Picks::new(&first);
    // The two source rows in use, interpolated; `top` says which is the upper one.
    let mut rows = [[0.0f64; N]; 2];
    let mut top = 0;
    let mut have: Option<usize> = None;
    for (i, dst) in out.chunks_exact_mut(N).enumerate() {
        let r = first[i];
        let iy = y + r as i64;
        // The rows a few outputs on are asked for from memory now, to be there when needed.
        prefetch(image, x, y + first[(i + AHEAD).min(N - 1)] as i64 + 1, len);
        let mut row = |iy: i64, into: &mut [f64; N]| match box_row(image, x, iy, len, SLACK, pad) {
            None => into.fill(0.0),
            Some(line) => match &picks {
                Some(picks) => interpolate(line, picks, &w0, &w1, into),
                None => super::interpolate(line, &first, &w0, &w1, into),
            },
        };
        match have {
            Some(h) if h == r => {}
            Some(h) if h + 1 == r => {
                top ^= 1;
                row(iy + 1, &mut rows[top ^ 1]);
            }
            _ => {
                row(iy, &mut rows[top]);
                row(iy + 1, &mut rows[top ^ 1]);
            }
        }
        have = Some(r);
        blend(&rows[top], &rows[top ^ 1], w0[i], w1[i], dst);
    }
}

/// How many output rows ahead [`window40`] fetches source rows.
const AHEAD: usize = 6;

/// Asks for the cache lines of row `iy` from column `x`, `len` bytes (if inside the image).
#[target_feature(enable = "avx2")]
fn prefetch(image: &GrayRef, x: i64, iy: i64, len: usize) {
    if iy < 0 || iy >= i64::from(image.height) {
        return;
    }
    let start = (iy * i64::from(image.width) + x.max(0)) as usize;
    let end = (iy * i64::from(image.width) + (x + len as i64).min(i64::from(image.width))) as usize;
    // Every 64 bytes from the first, and the last: each cache line of the row.
    for at in (start..end).step_by(64).chain(end.checked_sub(1)) {
        // SAFETY: a prefetch is a hint that does not fault; `at` is inside the pixels.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(image.pixels.as_ptr().add(at).cast()) };
    }
}

/// Bytes read past a row's `size` pixels: a 16-byte load from the last quarter's first pixel.
const SLACK: usize = 16;

/// Where the output columns' pixel pairs are, as byte shuffles: for each four outputs, the
/// first pixel of the first one (`base`), and the shuffles that put the first and the second
/// pixel of each pair in the low byte of a 32-bit lane, from a 16-byte load at `base`.
struct Picks {
    base: [usize; N / 4],
    firsts: [__m128i; N / 4],
    seconds: [__m128i; N / 4],
}

impl Picks {
    /// `None` where four pairs span more than 16 bytes (a box over 4.3 times the window).
    #[target_feature(enable = "avx2")]
    fn new(first: &[usize; N]) -> Option<Picks> {
        let mut picks = Picks {
            base: [0; N / 4],
            firsts: [_mm_setzero_si128(); N / 4],
            seconds: [_mm_setzero_si128(); N / 4],
        };
        for (q, quad) in first.chunks_exact(4).enumerate() {
            let base = quad[0];
            if quad[3] + 1 - base >= 16 {
                return None;
            }
            // 0x80: a zero byte.
            let (mut a, mut b) = ([0x80u8; 16], [0x80u8; 16]);
            for (lane, &f) in quad.iter().enumerate() {
                a[lane * 4] = (f - base) as u8;
                b[lane * 4] = (f - base + 1) as u8;
            }
            picks.base[q] = base;
            // SAFETY: unaligned 16-byte loads from 16-byte arrays.
            unsafe {
                picks.firsts[q] = _mm_loadu_si128(a.as_ptr().cast());
                picks.seconds[q] = _mm_loadu_si128(b.as_ptr().cast());
            }
        }
        Some(picks)
    }
}

/// [`super::interpolate`] with the pairs picked by `picks` from `line` (which has [`SLACK`]
/// bytes past the last pair's quarter).
#[target_feature(enable = "avx2")]
fn interpolate(line: &[u8], picks: &Picks, w0: &[f64; N], w1: &[f64; N], out: &mut [f64; N]) {
    // Each 16-byte load below starts at a first pixel, at most `line.len() - SLACK`.
    assert!(picks.base.iter().all(|&b| b + 16 <= line.len()));
    for q in 0..N / 4 {
        // SAFETY: `base + 16 <= line.len()` (asserted above).
        let v = unsafe { _mm_loadu_si128(line.as_ptr().add(picks.base[q]).cast()) };
        let p0 = _mm256_cvtepi32_pd(_mm_shuffle_epi8(v, picks.firsts[q]));
        let p1 = _mm256_cvtepi32_pd(_mm_shuffle_epi8(v, picks.seconds[q]));
        let j = q * 4;
        // SAFETY: `j + 4 <= N` for the loads and the store.
        unsafe {
            let a = _mm256_loadu_pd(w0.as_ptr().add(j));
            let b = _mm256_loadu_pd(w1.as_ptr().add(j));
            let v = _mm256_add_pd(_mm256_mul_pd(a, p0), _mm256_mul_pd(b, p1));
            _mm256_storeu_pd(out.as_mut_ptr().add(j), v);
        }
    }
}

/// `dst[i] = (w0 * upper[i] + w1 * lower[i]) as u8`, as [`super::to_u8`] truncates.
#[target_feature(enable = "avx2")]
fn blend(upper: &[f64; N], lower: &[f64; N], w0: f64, w1: f64, dst: &mut [u8]) {
    assert_eq!(dst.len(), N);
    let (a, b) = (_mm256_set1_pd(w0), _mm256_set1_pd(w1));
    let (zero, max) = (_mm256_setzero_pd(), _mm256_set1_pd(255.0));
    for k in (0..N).step_by(8) {
        let mut words = [_mm_setzero_si128(); 2];
        for (h, word) in words.iter_mut().enumerate() {
            let j = k + h * 4;
            // SAFETY: `j + 4 <= N` for both loads.
            let (t, u) = unsafe {
                (
                    _mm256_loadu_pd(upper.as_ptr().add(j)),
                    _mm256_loadu_pd(lower.as_ptr().add(j)),
                )
            };
            let v = _mm256_add_pd(_mm256_mul_pd(a, t), _mm256_mul_pd(b, u));
            *word = _mm256_cvttpd_epi32(_mm256_min_pd(_mm256_max_pd(v, zero), max));
        }
        let words = _mm_packs_epi32(words[0], words[1]);
        let bytes = _mm_packus_epi16(words, words);
        // SAFETY: `k + 8 <= N = dst.len()`; an unaligned 8-byte store.
        unsafe { _mm_storel_epi64(dst.as_mut_ptr().add(k).cast(), bytes) };
    }
}
