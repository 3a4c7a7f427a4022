//! Dominant colours: a small palette of the photo with the share of the picture each covers.
//!
//! Deterministic weighted k-means in CIELAB (D65), so clusters follow perceived colour
//! differences rather than RGB distances:
//!
//! 1. At most about 16,384 pixels are sampled on a regular grid (the centre of each cell of
//!    `step x step` pixels, `step = ceil(sqrt(pixels / 16384))`).
//! 2. The samples are binned by their top 5 bits per channel; each non-empty bin becomes one
//!    point (its mean colour, in CIELAB) weighted by its number of samples.
//! 3. Seeds: the heaviest point, then repeatedly the point with the largest
//!    `weight x (squared distance to the nearest seed)` (a deterministic k-means++), until
//!    `max` seeds or until every point sits on a seed.
//! 4. Up to 32 Lloyd iterations (weighted means in CIELAB) until the assignment is stable;
//!    clusters that empty are dropped and clusters whose centres end up less than ΔE\*ab 5
//!    apart (barely distinguishable) are merged.
//!
//! Each colour is its cluster's mean converted back to sRGB; its weight is the cluster's share
//! of the samples. Ties in the order by weight are broken by the hex string.
//!
//! Cost: under 1 ms on a 256-px or a 1024-px rendition (the sampling bounds the work).

use crate::pixels::RgbImage;
use serde::Serialize;

/// One colour of the palette.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DominantColor {
    /// The colour as lowercase sRGB hex, `#rrggbb`.
    pub hex: String,
    /// Share of the picture this colour covers, `0..=1`; the weights of one palette sum to 1.
    pub weight: f32,
}

/// Largest number of pixels sampled.
const MAX_SAMPLES: usize = 16_384;
/// Bits per channel kept when binning samples.
const BIN_BITS: u32 = 5;
/// Largest number of Lloyd iterations.
const MAX_ITERATIONS: usize = 32;
/// Clusters closer than this (ΔE*ab) are merged.
const MERGE_DELTA_E: f32 = 5.0;

/// The up to `max` dominant colours of `image`, heaviest first (see the module documentation
/// for the method). Empty when `max` is 0 or the image has no pixels.
pub fn dominant_colors(image: &RgbImage, max: usize) -> Vec<DominantColor> {
    let points = binned_samples(image);
    if max == 0 || points.is_empty() {
        return Vec::new();
    }
    let mut centres = seeds(&points, max);
    let mut assignment = vec![usize::MAX; points.len()];
    for _ in 0..MAX_ITERATIONS {
        if !assign(&points, &centres, &mut assignment) {
            break;
        }
        centres = recentre(&points, &assignment, centres.len())
            .into_iter()
            .flatten()
            .collect();
    }
    let mut clusters = clusters(&points, &centres, &mut assignment);
    merge_close(&mut clusters);
    let total: f64 = clusters.iter().map(|c| c.weight).sum();
    let mut out: Vec<DominantColor> = clusters
        .iter()
        .map(|c| DominantColor {
            hex: hex(lab_to_srgb(c.lab)),
            weight: (c.weight / total) as f32,
        })
        .collect();
    out.sort_by(|a, b| {
        b.weight
            .total_cmp(&a.weight)
            .then_with(|| a.hex.cmp(&b.hex))
    });
    out
}

/// A colour in CIELAB with a weight (number of samples).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    lab: [f32; 3],
    weight: f64,
}

fn distance2(a: [f32; 3], b: [f32; 3]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Samples the image on a grid and bins the samples (steps 1 and 2 of the module doc).
fn binned_samples(image: &RgbImage) -> Vec<Point> {
    let (w, h) = (image.width as usize, image.height as usize);
    if w == 0 || h == 0 || image.pixels.len() < w * h * 3 {
        return Vec::new();
    }
    let step = ((w * h) as f64 / MAX_SAMPLES as f64).sqrt().ceil().max(1.0) as usize;
    let shift = 8 - BIN_BITS;
    let bins = 1usize << (3 * BIN_BITS);
    let mut counts = vec![0u32; bins];
    let mut sums = vec![[0u32; 3]; bins];
    for y in (step / 2..h).step_by(step) {
        let row = &image.pixels[y * w * 3..(y + 1) * w * 3];
        for x in (step / 2..w).step_by(step) {
            let p = &row[x * 3..x * 3 + 3];
            let bin = (usize::from(p[0] >> shift) << (2 * BIN_BITS))
                | (usize::from(p[1] >> shift) << BIN_BITS)
                | usize::from(p[2] >> shift);
            counts[bin] += 1;
            for (s, &v) in sums[bin].iter_mut().zip(p) {
                *s += u32::from(v);
            }
        }
    }
    counts
        .iter()
        .zip(&sums)
        .filter(|(&n, _)| n > 0)
        .map(|(&n, s)| {
            let mean = s.map(|v| v as f32 / n as f32);
            Point {
                lab: srgb_to_lab(mean),
                weight: f64::from(n),
            }
        })
        .collect()
}

/// Deterministic k-means++ seeding (step 3 of the module doc).
fn seeds(points: &[Point], max: usize) -> Vec<[f32; 3]> {
    let first = points
        .iter()
        .enumerate()
        .max_by(|(i, a), (j, b)| a.weight.total_cmp(&b.weight).then(j.cmp(i)))
        .map(|(_, p)| p.lab);
    let Some(first) = first else {
        return Vec::new();
    };
    let mut centres = vec![first];
    let mut nearest: Vec<f32> = points.iter().map(|p| distance2(p.lab, first)).collect();
    while centres.len() < max {
        let mut best: Option<(f64, usize)> = None;
        for (i, (p, &d)) in points.iter().zip(&nearest).enumerate() {
            let score = p.weight * f64::from(d);
            if score > 0.0 && best.is_none_or(|(s, _)| score > s) {
                best = Some((score, i));
            }
        }
        let Some((_, i)) = best else { break };
        let c = points[i].lab;
        centres.push(c);
        for (n, p) in nearest.iter_mut().zip(points) {
            *n = n.min(distance2(p.lab, c));
        }
    }
    centres
}

/// Assigns each point to its nearest centre (lowest index on ties); whether anything changed.
fn assign(points: &[Point], centres: &[[f32; 3]], assignment: &mut [usize]) -> bool {
    let mut changed = false;
    for (p, a) in points.iter().zip(assignment.iter_mut()) {
        let mut best = (f32::INFINITY, 0);
        for (i, &c) in centres.iter().enumerate() {
            let d = distance2(p.lab, c);
            if d < best.0 {
                best = (d, i);
            }
        }
        if *a != best.1 {
            *a = best.1;
            changed = true;
        }
    }
    changed
}

/// Weighted mean of each cluster; `None` for an empty one.
fn recentre(points: &[Point], assignment: &[usize], k: usize) -> Vec<Option<[f32; 3]>> {
    let mut sums = vec![([0f64; 3], 0f64); k];
    for (p, &a) in points.iter().zip(assignment) {
        let (s, w) = &mut sums[a];
        for (s, &v) in s.iter_mut().zip(&p.lab) {
            *s += f64::from(v) * p.weight;
        }
        *w += p.weight;
    }
    sums.iter()
        .map(|(s, w)| (*w > 0.0).then(|| s.map(|v| (v / w) as f32)))
        .collect()
}

/// A final cluster: mean colour and total weight.
#[derive(Debug, Clone, Copy)]
struct Cluster {
    lab: [f32; 3],
    weight: f64,
}

fn clusters(points: &[Point], centres: &[[f32; 3]], assignment: &mut [usize]) -> Vec<Cluster> {
    assign(points, centres, assignment);
    let mut weights = vec![0f64; centres.len()];
    for (p, &a) in points.iter().zip(assignment.iter()) {
        weights[a] += p.weight;
    }
    recentre(points, assignment, centres.len())
        .into_iter()
        .zip(weights)
        .filter_map(|(lab, weight)| lab.map(|lab| Cluster { lab, weight }))
        .collect()
}

/// Merges clusters closer than `MERGE_DELTA_E`, closest pair first.
fn merge_close(clusters: &mut Vec<Cluster>) {
    loop {
        let mut closest: Option<(f32, usize, usize)> = None;
        for i in 0..clusters.len() {
            for j in i + 1..clusters.len() {
                let d = distance2(clusters[i].lab, clusters[j].lab);
                if d < MERGE_DELTA_E * MERGE_DELTA_E && closest.is_none_or(|(b, _, _)| d < b) {
                    closest = Some((d, i, j));
                }
            }
        }
        let Some((_, i, j)) = closest else { return };
        let (a, b) = (clusters[i], clusters[j]);
        let w = a.weight + b.weight;
        let mut lab = [0f32; 3];
        for (c, v) in lab.iter_mut().enumerate() {
            *v = ((f64::from(a.lab[c]) * a.weight + f64::from(b.lab[c]) * b.weight) / w) as f32;
        }
        clusters[i] = Cluster { lab, weight: w };
        clusters.remove(j);
    }
}

/// D65 reference white (XYZ, Y = 1).
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn srgb_to_linear(v: f32) -> f32 {
    let v = v / 255.0;
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    255.0
        * if v <= 0.003_130_8 {
            v * 12.92
        } else {
            1.055 * v.powf(1.0 / 2.4) - 0.055
        }
}

/// sRGB (0..255 per channel, may be fractional) to CIELAB.
fn srgb_to_lab(rgb: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = rgb.map(srgb_to_linear);
    let xyz = [
        0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b,
        0.212_672_9 * r + 0.715_152_2 * g + 0.072_175 * b,
        0.019_333_9 * r + 0.119_192 * g + 0.950_304_1 * b,
    ];
    let f = |t: f32| {
        const D: f32 = 6.0 / 29.0;
        if t > D * D * D {
            t.cbrt()
        } else {
            t / (3.0 * D * D) + 4.0 / 29.0
        }
    };
    let [fx, fy, fz] = [
        f(xyz[0] / WHITE[0]),
        f(xyz[1] / WHITE[1]),
        f(xyz[2] / WHITE[2]),
    ];
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIELAB to sRGB bytes (out-of-gamut colours are clipped).
fn lab_to_srgb(lab: [f32; 3]) -> [u8; 3] {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let inv = |t: f32| {
        const D: f32 = 6.0 / 29.0;
        if t > D {
            t * t * t
        } else {
            3.0 * D * D * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (inv(fx) * WHITE[0], inv(fy) * WHITE[1], inv(fz) * WHITE[2]);
    let r = 3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z;
    let g = -0.969_266 * x + 1.876_010_8 * y + 0.041_556 * z;
    let b = 0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z;
    [r, g, b].map(|v| linear_to_srgb(v).round() as u8)
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_round_trips_every_grey_and_the_primaries() {
        for v in 0..=255u8 {
            let grey = [v, v, v].map(f32::from);
            assert_eq!(lab_to_srgb(srgb_to_lab(grey)), [v, v, v]);
        }
        for c in [[255, 0, 0], [0, 255, 0], [0, 0, 255], [12, 200, 99]] {
            assert_eq!(lab_to_srgb(srgb_to_lab(c.map(f32::from))), c);
        }
        let white = srgb_to_lab([255.0; 3]);
        assert!((white[0] - 100.0).abs() < 0.01 && white[1].abs() < 0.01);
    }

    #[test]
    fn a_single_pixel_is_its_own_palette() {
        let colours = dominant_colors(&RgbImage::from_fn(1, 1, |_, _| [0x1a, 0x2b, 0x3c]), 5);
        assert_eq!(
            colours,
            vec![DominantColor {
                hex: "#1a2b3c".into(),
                weight: 1.0
            }]
        );
    }

    #[test]
    fn nothing_is_asked_or_nothing_is_there() {
        assert!(dominant_colors(&RgbImage::from_fn(4, 4, |_, _| [1, 2, 3]), 0).is_empty());
        assert!(dominant_colors(&RgbImage::from_fn(0, 0, |_, _| [1, 2, 3]), 5).is_empty());
    }

    #[test]
    fn thirds_give_three_colours_in_order_of_area() {
        // 50 % green, 30 % white, 20 % black.
        let img = RgbImage::from_fn(100, 10, |x, _| match x {
            0..=49 => [0, 160, 0],
            50..=79 => [255, 255, 255],
            _ => [0, 0, 0],
        });
        let colours = dominant_colors(&img, 5);
        let got: Vec<(&str, f32)> = colours.iter().map(|c| (c.hex.as_str(), c.weight)).collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "#00a000");
        assert_eq!(got[1].0, "#ffffff");
        assert_eq!(got[2].0, "#000000");
        for (g, want) in got.iter().zip([0.5, 0.3, 0.2]) {
            assert!((g.1 - want).abs() < 1e-6, "{got:?}");
        }
    }

    #[test]
    fn asking_for_fewer_merges_into_fewer() {
        let img = RgbImage::from_fn(90, 9, |x, _| match x / 30 {
            0 => [200, 30, 30],
            1 => [30, 200, 30],
            _ => [30, 30, 200],
        });
        let one = dominant_colors(&img, 1);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].weight, 1.0);
        let two = dominant_colors(&img, 2);
        assert_eq!(two.len(), 2);
        assert!((two.iter().map(|c| c.weight).sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_smooth_gradient_is_deterministic_and_sums_to_one() {
        let img = RgbImage::from_fn(300, 200, |x, y| {
            [(x * 255 / 299) as u8, (y * 255 / 199) as u8, 128]
        });
        let a = dominant_colors(&img, 5);
        let b = dominant_colors(&img, 5);
        assert_eq!(a, b);
        assert_eq!(a.len(), 5);
        let sum: f32 = a.iter().map(|c| c.weight).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{a:?}");
        assert!(a.windows(2).all(|p| p[0].weight >= p[1].weight), "{a:?}");
    }
}
