//! Photo quality scores: sharpness, exposure and noise, each in `0..=1`, higher is better.
//!
//! All three are computed from the luma `Y' = 0.2126 R' + 0.7152 G' + 0.0722 B'` of the
//! (gamma-encoded) sRGB pixels, at a *working scale*: an image whose long side is 2048 px or
//! more is first box-reduced by the integer factor `long side / 1024` (so the long side ends up
//! between 1024 and 2047 px; the factor is capped at `short side / 8` so that an extreme strip
//! keeps 8 rows); smaller images are measured as they are. The scores therefore describe the
//! photo as seen at about 1024 px, which is what the pipeline passes in (the 1024-px
//! rendition). A thumbnail is judged at its own size.
//!
//! Cost: about 3 ms for a 1024x768 rendition (one pass for the luma, one for the Laplacian,
//! Sobel and block sums, one for the tones, and the noise high-pass on a tenth of the blocks).

use crate::pixels::RgbImage;
use serde::Serialize;

/// Quality scores of one photo, each in `0..=1`, higher is better.
///
/// Luma levels below are `0..=255`; "blocks" are square tiles of the working-scale luma.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quality {
    /// Focus and fine detail, from the high-frequency energy of the luma.
    ///
    /// `E / (E + 1000)`, where `E` is the mean square of the 4-neighbour Laplacian
    /// `4Y(x,y) - Y(x-1,y) - Y(x+1,y) - Y(x,y-1) - Y(x,y+1)` (levels²) over the interior
    /// pixels, taken per block (square blocks of `2 · clamp(long side / 64, 4, 16)` px: 32 px
    /// at 1024, 8 px on a thumbnail) and averaged over the sharpest tenth of the blocks.
    /// An RMS Laplacian of about 32 levels scores 0.5; sharp photos at 1024 px mostly score
    /// 0.7-0.95. It is a per-pixel mean at a fixed working scale, so it does not grow with the
    /// pixel count, and it looks at the sharpest tenth, so a sharp subject on a soft background
    /// counts as sharp. Any blur lowers it; a flat image scores 0; it is absolute, so a very
    /// low-contrast photo (fog, a night scene) scores low even in focus; noise raises it a
    /// little.
    pub sharpness: f32,
    /// How well the tones are placed, from the luma: a tone factor times a clipping factor.
    ///
    /// Tone: the centre-weighted mean luma `m` (0..1; Gaussian weights with a standard
    /// deviation of a quarter of the width and of the height, like a camera's centre-weighted
    /// metering) is compared with a well-exposed target `T = 0.43` (110/255, mid-tones) as the
    /// gamma correction, in stops, that would bring it there: `c = log2(ln T / ln m)` (`c = -1`
    /// when the photo needs `Y^0.5` to reach the target, `+1` when it needs `Y^2`). The tone
    /// factor is `exp(-c² / (2 · 0.8²))`: one stop of gamma away scores 0.46.
    /// Clipping: with `hi` the fraction of pixels at luma >= 252 and `lo` at luma <= 3, the
    /// factor is `exp(-max(0, hi - 0.005) / 0.03 - max(0, lo - 0.05) / 0.2)`. Blown highlights
    /// are the defect: half a percent of pure white is free, each further 3 % of the picture
    /// divides the score by e. Pure black is mostly something black (a suit, a helmet, a studio
    /// background, the night sky), and lost shadow detail shows less: 5 % is free, each
    /// further fifth of the picture divides the score by e (a well-lit portrait with 13 % of
    /// black keeps two thirds of its score). A frame mostly at black still scores near 0 on
    /// its tone.
    /// A histogram cannot tell intent: a hazy, bright scene is scored as over-exposed, a night
    /// scene and a low-key portrait on a large black background (half the picture black: a
    /// factor of 0.11) as under-exposed.
    pub exposure: f32,
    /// Cleanliness: `1 / (1 + (σ / 4)²)` (σ = 4 levels scores 0.5), σ being a robust estimate
    /// of the noise standard deviation in flat regions.
    ///
    /// σ is 1.4826 × the median absolute value of Immerkær's high-pass
    /// `[1 -2 1; -2 4 -2; 1 -2 1] / 6` (unit gain on white noise, zero on planes) over the
    /// flattest tenth of the blocks (blocks of `clamp(long side / 64, 4, 16)` px, ranked by mean
    /// Sobel gradient magnitude; blocks with mean luma outside 16..=240, where noise is
    /// clipped, are skipped unless nothing else is left). Fine texture that fills the whole
    /// frame (rock, foliage) reads as mild noise; JPEG-smoothed renditions read as clean.
    pub noise: f32,
    /// A weighted geometric mean, `sharpness^0.5 · exposure^0.3 · noise^0.2`: sharpness
    /// weighs most because it cannot be fixed afterwards, and any score at 0 makes the whole 0.
    pub overall: f32,
}

/// Long side of the working scale (see the module documentation).
const WORK_LONG_SIDE: usize = 1024;
/// `E0` of the sharpness mapping: mean squared Laplacian that scores 0.5.
const SHARPNESS_E0: f64 = 1000.0;
/// Fraction of blocks, the sharpest ones, the sharpness is averaged over.
const SHARPEST_FRACTION: f64 = 0.10;
/// The well-exposed mean luma (0..1).
const EXPOSURE_TARGET: f64 = 0.43;
/// Width (in stops of gamma) of the tone factor.
const EXPOSURE_TONE_SIGMA: f64 = 0.8;
/// Centre weighting of the metering: standard deviation as a fraction of each side.
const METERING_SIGMA: f64 = 0.25;
/// Fraction of clipped white that costs nothing.
const WHITE_CLIP_FREE: f64 = 0.005;
/// Clipped white fraction (beyond the free part) that divides the exposure score by e.
const WHITE_CLIP_SCALE: f64 = 0.03;
/// Fraction of pure black that costs nothing.
const BLACK_CLIP_FREE: f64 = 0.05;
/// Pure black fraction (beyond the free part) that divides the exposure score by e.
const BLACK_CLIP_SCALE: f64 = 0.2;
/// Luma at or below which a pixel counts as clipped black.
const CLIP_BLACK: u8 = 3;
/// Luma at or above which a pixel counts as clipped white.
const CLIP_WHITE: u8 = 252;
/// Noise σ (levels) that scores 0.5.
const NOISE_SIGMA0: f64 = 4.0;
/// Fraction of blocks, the flattest ones, the noise is measured on.
const FLATTEST_FRACTION: f64 = 0.10;

/// Scores the quality of a photo (see [`Quality`] for the exact definitions). Meant for the
/// upright sRGB 1024-px rendition; works on any size, returning for images under 3x3 pixels,
/// where no detail can be measured, a sharpness of 0 and a noise score of 1.
pub fn assess(image: &RgbImage) -> Quality {
    let luma = Luma::working_scale(image);
    let m = measure(&luma);
    let sharpness = (m.laplacian_energy / (m.laplacian_energy + SHARPNESS_E0)) as f32;
    let exposure = exposure_score(&m) as f32;
    let noise = (1.0 / (1.0 + (m.noise_sigma / NOISE_SIGMA0).powi(2))) as f32;
    let overall = (f64::from(sharpness).powf(0.5)
        * f64::from(exposure).powf(0.3)
        * f64::from(noise).powf(0.2)) as f32;
    Quality {
        sharpness: clamp01(sharpness),
        exposure: clamp01(exposure),
        noise: clamp01(noise),
        overall: clamp01(overall),
    }
}

fn clamp01(v: f32) -> f32 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

/// The raw measurements behind the scores.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Measurements {
    /// Mean squared Laplacian over the sharpest blocks (levels²).
    laplacian_energy: f64,
    /// Robust noise standard deviation (levels).
    noise_sigma: f64,
    /// Centre-weighted mean luma, 0..1.
    metered_luma: f64,
    /// Fraction of pixels at or below `CLIP_BLACK`.
    black_clip: f64,
    /// Fraction of pixels at or above `CLIP_WHITE`.
    white_clip: f64,
}

fn measure(luma: &Luma) -> Measurements {
    let (metered_luma, black_clip, white_clip) = tones(luma);
    let (laplacian_energy, noise_sigma) = match BlockStats::scan(luma) {
        Some(blocks) => (blocks.laplacian_energy(), blocks.noise_sigma(luma)),
        None => (0.0, 0.0),
    };
    Measurements {
        laplacian_energy,
        noise_sigma,
        metered_luma,
        black_clip,
        white_clip,
    }
}

/// The gamma correction, in stops (log2 of the exponent), that brings `m` (0..1) to the target.
fn tone_correction_stops(m: f64) -> f64 {
    let m = m.clamp(0.5 / 255.0, 254.5 / 255.0);
    (EXPOSURE_TARGET.ln() / m.ln()).log2()
}

fn exposure_score(m: &Measurements) -> f64 {
    let c = tone_correction_stops(m.metered_luma);
    let tone = (-c * c / (2.0 * EXPOSURE_TONE_SIGMA * EXPOSURE_TONE_SIGMA)).exp();
    let white = (m.white_clip - WHITE_CLIP_FREE).max(0.0) / WHITE_CLIP_SCALE;
    let black = (m.black_clip - BLACK_CLIP_FREE).max(0.0) / BLACK_CLIP_SCALE;
    tone * (-(white + black)).exp()
}

/// Luma at the working scale, levels 0..255 as `f32`, row-major.
struct Luma {
    width: usize,
    height: usize,
    values: Vec<f32>,
}

impl Luma {
    /// The luma, box-reduced by the integer factor `long side / 1024` (at most
    /// `short side / 8`) when that is 2 or more. Empty when the pixel buffer does not match
    /// the size.
    fn working_scale(image: &RgbImage) -> Luma {
        let (w, h) = (image.width as usize, image.height as usize);
        if image.pixels.len() != w * h * 3 {
            return Luma {
                width: 0,
                height: 0,
                values: Vec::new(),
            };
        }
        let factor = (w.max(h) / WORK_LONG_SIDE).min(w.min(h) / 8).max(1);
        let (width, height) = (w / factor, h / factor);
        let mut values = vec![0f32; width * height];
        if factor == 1 {
            for (v, p) in values.iter_mut().zip(image.pixels.chunks_exact(3)) {
                *v = luma_of(p);
            }
        } else {
            let scale = 1.0 / (factor * factor) as f32;
            let mut row_sums = vec![0f32; width];
            for (oy, out_row) in values.chunks_exact_mut(width.max(1)).enumerate() {
                row_sums.iter_mut().for_each(|s| *s = 0.0);
                for y in oy * factor..(oy + 1) * factor {
                    let row = &image.pixels[y * w * 3..(y + 1) * w * 3];
                    for (ox, sum) in row_sums.iter_mut().enumerate() {
                        let start = ox * factor * 3;
                        *sum += row[start..start + factor * 3]
                            .chunks_exact(3)
                            .map(luma_of)
                            .sum::<f32>();
                    }
                }
                for (v, s) in out_row.iter_mut().zip(&row_sums) {
                    *v = s * scale;
                }
            }
        }
        Luma {
            width,
            height,
            values,
        }
    }
}

fn luma_of(p: &[u8]) -> f32 {
    0.2126 * f32::from(p[0]) + 0.7152 * f32::from(p[1]) + 0.0722 * f32::from(p[2])
}

/// Lanes of the sums below: independent partial sums let the compiler vectorise them.
const LANES: usize = 8;

/// Sum of `values`, in `LANES` partial sums.
fn lane_sum(values: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f32 = chunks.remainder().iter().sum();
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// Dot product of two equally long slices, in `LANES` partial sums.
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let rest: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// Per-block sums over the interior pixels (`1..w-1` x `1..h-1`) of the working-scale luma, on a
/// grid of square blocks of `clamp(long side / 64, 4, 16)` px. Noise is measured on these blocks,
/// sharpness on groups of 2x2 of them.
struct BlockStats {
    side: usize,
    columns: usize,
    rows: usize,
    count: Vec<u32>,
    /// Sum of the squared Laplacian.
    laplacian2: Vec<f64>,
    /// Sum of the Sobel gradient magnitude (L1).
    gradient: Vec<f64>,
    /// Sum of the luma.
    luma: Vec<f64>,
}

impl BlockStats {
    /// `None` when the image is under 3x3 pixels (no interior pixel).
    fn scan(luma: &Luma) -> Option<BlockStats> {
        let (w, h) = (luma.width, luma.height);
        if w < 3 || h < 3 {
            return None;
        }
        let side = (w.max(h) / 64).clamp(4, 16);
        let (columns, rows) = (w.div_ceil(side), h.div_ceil(side));
        let mut stats = BlockStats {
            side,
            columns,
            rows,
            count: vec![0; columns * rows],
            laplacian2: vec![0.0; columns * rows],
            gradient: vec![0.0; columns * rows],
            luma: vec![0.0; columns * rows],
        };
        let v = &luma.values;
        // Per-pixel values of one row (interior pixels 1..w-1 at indices 0..w-2).
        let (mut lap2_row, mut grad_row) = (vec![0f32; w - 2], vec![0f32; w - 2]);
        for y in 1..h - 1 {
            let (u, m, d) = (
                &v[(y - 1) * w..y * w],
                &v[y * w..(y + 1) * w],
                &v[(y + 1) * w..(y + 2) * w],
            );
            for (i, (lap2, grad)) in lap2_row.iter_mut().zip(grad_row.iter_mut()).enumerate() {
                let lap = 4.0 * m[i + 1] - m[i] - m[i + 2] - u[i + 1] - d[i + 1];
                let gx = (u[i + 2] + 2.0 * m[i + 2] + d[i + 2]) - (u[i] + 2.0 * m[i] + d[i]);
                let gy = (d[i] + 2.0 * d[i + 1] + d[i + 2]) - (u[i] + 2.0 * u[i + 1] + u[i + 2]);
                *lap2 = lap * lap;
                *grad = gx.abs() + gy.abs();
            }
            for bx in 0..columns {
                let (x0, x1) = ((bx * side).max(1), ((bx + 1) * side).min(w - 1));
                if x0 >= x1 {
                    continue;
                }
                let b = (y / side) * columns + bx;
                stats.count[b] += (x1 - x0) as u32;
                stats.laplacian2[b] += f64::from(lane_sum(&lap2_row[x0 - 1..x1 - 1]));
                stats.gradient[b] += f64::from(lane_sum(&grad_row[x0 - 1..x1 - 1]));
                stats.luma[b] += f64::from(lane_sum(&m[x0..x1]));
            }
        }
        Some(stats)
    }

    /// Mean squared Laplacian over the sharpest tenth of the 2x2 groups of blocks.
    fn laplacian_energy(&self) -> f64 {
        let (gc, gr) = (self.columns.div_ceil(2), self.rows.div_ceil(2));
        let mut sums = vec![(0f64, 0u32); gc * gr];
        for by in 0..self.rows {
            for bx in 0..self.columns {
                let b = by * self.columns + bx;
                let g = &mut sums[(by / 2) * gc + bx / 2];
                g.0 += self.laplacian2[b];
                g.1 += self.count[b];
            }
        }
        let mut means: Vec<f64> = sums
            .iter()
            .filter(|g| g.1 > 0)
            .map(|g| g.0 / f64::from(g.1))
            .collect();
        if means.is_empty() {
            return 0.0;
        }
        means.sort_unstable_by(|a, b| b.total_cmp(a));
        let top = ((means.len() as f64 * SHARPEST_FRACTION).ceil() as usize).clamp(1, means.len());
        means[..top].iter().sum::<f64>() / top as f64
    }

    /// Robust noise σ over the flattest tenth of the blocks (see [`Quality::noise`]).
    fn noise_sigma(&self, luma: &Luma) -> f64 {
        let blocks = (0..self.count.len()).filter(|&b| self.count[b] > 0);
        let brightness_ok = |b: usize| {
            let mean = self.luma[b] / f64::from(self.count[b]);
            (16.0..=240.0).contains(&mean)
        };
        let mut eligible: Vec<usize> = blocks.clone().filter(|&b| brightness_ok(b)).collect();
        if eligible.is_empty() {
            // Nothing but near-black or near-white: use every block.
            eligible = blocks.collect();
        }
        let flatness = |b: usize| self.gradient[b] / f64::from(self.count[b]);
        eligible.sort_unstable_by(|&a, &b| flatness(a).total_cmp(&flatness(b)).then(a.cmp(&b)));
        let keep = ((eligible.len() as f64 * FLATTEST_FRACTION).ceil() as usize).max(1);
        let (w, h) = (luma.width, luma.height);
        let v = &luma.values;
        let mut residuals = Vec::new();
        for &b in eligible.iter().take(keep) {
            let (bx, by) = (b % self.columns, b / self.columns);
            let (x0, x1) = ((bx * self.side).max(1), ((bx + 1) * self.side).min(w - 1));
            for y in (by * self.side).max(1)..((by + 1) * self.side).min(h - 1) {
                let u = &v[(y - 1) * w + x0 - 1..=(y - 1) * w + x1];
                let m = &v[y * w + x0 - 1..=y * w + x1];
                let d = &v[(y + 1) * w + x0 - 1..=(y + 1) * w + x1];
                for i in 0..x1 - x0 {
                    let r = (u[i] + u[i + 2] + d[i] + d[i + 2])
                        - 2.0 * (u[i + 1] + m[i] + m[i + 2] + d[i + 1])
                        + 4.0 * m[i + 1];
                    residuals.push((r / 6.0).abs());
                }
            }
        }
        if residuals.is_empty() {
            return 0.0;
        }
        let mid = residuals.len() / 2;
        let (_, median, _) = residuals.select_nth_unstable_by(mid, f32::total_cmp);
        1.4826 * f64::from(*median)
    }
}

/// Centre-weighted mean luma (0..1) and the clipped fractions at both ends.
fn tones(luma: &Luma) -> (f64, f64, f64) {
    let (w, h) = (luma.width, luma.height);
    if w == 0 || h == 0 {
        return (0.0, 0.0, 0.0);
    }
    let profile = |n: usize| -> Vec<f32> {
        let centre = (n as f64 - 1.0) / 2.0;
        let sigma = (METERING_SIGMA * n as f64).max(0.5);
        (0..n)
            .map(|i| {
                let d = (i as f64 - centre) / sigma;
                (-0.5 * d * d).exp() as f32
            })
            .collect()
    };
    let (wx, wy) = (profile(w), profile(h));
    // Rounded luma <= CLIP_BLACK, >= CLIP_WHITE.
    let (black_below, white_from) = (f32::from(CLIP_BLACK) + 0.5, f32::from(CLIP_WHITE) - 0.5);
    let (mut weighted, mut black, mut white) = (0f64, 0usize, 0usize);
    for (row, &ky) in luma.values.chunks_exact(w).zip(&wy) {
        let row_sum = lane_dot(row, &wx);
        let row_black: u32 = row.iter().map(|&v| u32::from(v < black_below)).sum();
        let row_white: u32 = row.iter().map(|&v| u32::from(v >= white_from)).sum();
        weighted += f64::from(row_sum) * f64::from(ky);
        black += row_black as usize;
        white += row_white as usize;
    }
    let total = wx.iter().map(|&k| f64::from(k)).sum::<f64>()
        * wy.iter().map(|&k| f64::from(k)).sum::<f64>();
    let n = (w * h) as f64;
    (weighted / total / 255.0, black as f64 / n, white as f64 / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The well-exposed grey.
    const MID: u8 = 110;

    fn in_unit(q: &Quality) -> bool {
        [q.sharpness, q.exposure, q.noise, q.overall]
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
    }

    #[test]
    fn a_single_pixel_has_no_detail_and_no_noise() {
        let q = assess(&RgbImage::from_fn(1, 1, |_, _| [MID, MID, MID]));
        assert!(in_unit(&q), "{q:?}");
        assert_eq!(q.sharpness, 0.0);
        assert_eq!(q.noise, 1.0);
        assert!(q.exposure > 0.99, "{q:?}");
        assert_eq!(q.overall, 0.0);
    }

    #[test]
    fn an_empty_image_scores_zero_without_panicking() {
        let q = assess(&RgbImage::from_fn(0, 0, |_, _| [0, 0, 0]));
        assert!(in_unit(&q), "{q:?}");
        assert_eq!(q.sharpness, 0.0);
        assert_eq!(q.overall, 0.0);
    }

    #[test]
    fn flat_grey_is_not_sharp_not_noisy_and_well_exposed() {
        let q = assess(&RgbImage::from_fn(64, 48, |_, _| [MID, MID, MID]));
        assert_eq!(q.sharpness, 0.0);
        assert_eq!(q.noise, 1.0);
        assert!(q.exposure > 0.99, "{q:?}");
    }

    #[test]
    fn pure_black_costs_less_than_blown_white() {
        // Mid-grey with its left 15 % pure black, or pure white: the same clipped fraction.
        let edge =
            |v: u8| RgbImage::from_fn(100, 80, move |x, _| [if x < 15 { v } else { MID }; 3]);
        let (black, white) = (assess(&edge(0)), assess(&edge(255)));
        // Black: exp(-(0.15 - 0.05) / 0.2) = 0.61 of a tone factor near 1.
        assert!(black.exposure > 0.5, "{black:?}");
        // White: exp(-(0.15 - 0.005) / 0.03) = 0.008.
        assert!(white.exposure < 0.05, "{white:?}");
    }

    #[test]
    fn black_and_white_frames_are_badly_exposed() {
        let black = assess(&RgbImage::from_fn(32, 32, |_, _| [0, 0, 0]));
        let white = assess(&RgbImage::from_fn(32, 32, |_, _| [255, 255, 255]));
        let grey = assess(&RgbImage::from_fn(32, 32, |_, _| [MID, MID, MID]));
        assert!(black.exposure < 0.01, "{black:?}");
        assert!(white.exposure < 0.01, "{white:?}");
        assert!(grey.exposure > black.exposure && grey.exposure > white.exposure);
    }

    #[test]
    fn a_checkerboard_is_sharp_and_its_blur_is_less_sharp() {
        let sharp = RgbImage::from_fn(64, 64, |x, y| {
            if (x / 4 + y / 4) % 2 == 0 {
                [40, 40, 40]
            } else {
                [200, 200, 200]
            }
        });
        // A 3-tap box blur along x and y.
        let soft = RgbImage::from_fn(64, 64, |x, y| {
            let mut sum = 0u32;
            for dy in -1i32..=1 {
                for dx in -1i32..=1 {
                    let sx = (x as i32 + dx).clamp(0, 63) as usize;
                    let sy = (y as i32 + dy).clamp(0, 63) as usize;
                    sum += u32::from(sharp.pixels[(sy * 64 + sx) * 3]);
                }
            }
            let v = (sum / 9) as u8;
            [v, v, v]
        });
        let (qs, qb) = (assess(&sharp), assess(&soft));
        assert!(qs.sharpness > 0.9, "{qs:?}");
        assert!(qb.sharpness < qs.sharpness, "{qs:?} {qb:?}");
    }

    /// A deterministic pseudo-random sequence (xorshift), for synthetic noise.
    fn noise_source(seed: u32) -> impl FnMut() -> f32 {
        let mut s = seed;
        move || {
            // Sum of 4 uniforms: roughly Gaussian, variance 4/12.
            (0..4)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    s as f32 / u32::MAX as f32
                })
                .sum::<f32>()
                - 2.0
        }
    }

    #[test]
    fn the_noise_estimate_recovers_the_sigma_of_added_noise_on_a_gradient() {
        for sigma in [2.0f32, 6.0, 12.0] {
            let mut next = noise_source(7);
            let scale = sigma / (4.0f32 / 12.0).sqrt();
            let img = RgbImage::from_fn(256, 192, |x, _| {
                let v = (60.0 + x as f32 * 0.5 + next() * scale)
                    .round()
                    .clamp(0.0, 255.0) as u8;
                [v, v, v]
            });
            let est = measure(&Luma::working_scale(&img)).noise_sigma;
            assert!(
                (est - f64::from(sigma)).abs() < 0.15 * f64::from(sigma),
                "added σ {sigma}, estimated {est}"
            );
        }
    }

    #[test]
    fn noisier_is_worse() {
        let make = |sigma: f32| {
            let mut next = noise_source(11);
            RgbImage::from_fn(128, 128, |_, _| {
                let v = (f32::from(MID) + next() * sigma).round().clamp(0.0, 255.0) as u8;
                [v, v, v]
            })
        };
        let (clean, mild, heavy) = (assess(&make(0.0)), assess(&make(4.0)), assess(&make(16.0)));
        assert!(clean.noise > mild.noise && mild.noise > heavy.noise);
        assert_eq!(clean.noise, 1.0);
    }

    #[test]
    fn the_working_scale_box_reduces_large_images_by_an_integer_factor() {
        let img = RgbImage::from_fn(2100, 30, |x, _| {
            let v = (x % 2 * 200) as u8;
            [v, v, v]
        });
        let luma = Luma::working_scale(&img);
        assert_eq!((luma.width, luma.height), (1050, 15));
        assert!(luma.values.iter().all(|&v| (v - 100.0).abs() < 1e-3));
    }

    #[test]
    fn an_extreme_strip_keeps_eight_rows_and_a_bad_buffer_does_not_panic() {
        let strip =
            Luma::working_scale(&RgbImage::from_fn(4000, 16, |x, _| [(x % 256) as u8, 0, 0]));
        assert_eq!((strip.width, strip.height), (2000, 8));
        let broken = RgbImage {
            width: 3000,
            height: 3000,
            pixels: vec![0; 10],
        };
        let q = assess(&broken);
        assert!(in_unit(&q), "{q:?}");
        assert_eq!(q.overall, 0.0);
    }

    #[test]
    fn tone_correction_is_zero_at_the_target_and_one_stop_for_a_gamma_of_two() {
        assert!(tone_correction_stops(EXPOSURE_TARGET).abs() < 1e-12);
        let bright = EXPOSURE_TARGET.sqrt(); // the target seen through gamma 0.5
        assert!((tone_correction_stops(bright) - 1.0).abs() < 1e-9);
        let dark = EXPOSURE_TARGET * EXPOSURE_TARGET; // through gamma 2
        assert!((tone_correction_stops(dark) + 1.0).abs() < 1e-9);
    }
}
