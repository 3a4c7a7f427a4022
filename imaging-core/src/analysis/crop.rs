//! Smart crops: the crop of a given aspect ratio that keeps the faces and follows the subject.
//!
//! Works in the pixels of the upright original: the caller rescales the faces and the
//! [`Roi`] (computed on a small rendition) with [`Rect::rescale`] and
//! [`Point::rescale`](crate::analysis::geometry::Point::rescale).
//!
//! **Size** ([`crop_size`]): the largest crop of the ratio that fits in the image, i.e. one side
//! is the image's whole side. Photo-book slots are filled, not zoomed: a smaller crop would
//! throw away print resolution and the photographer's framing for a guess about the subject,
//! and the faces and the ROI only decide where the crop goes. The other side is rounded to
//! the nearer achievable ratio, which is within [`RATIO_TOLERANCE`] (0.5 %) as soon as that
//! side is 100 px or more; so every crop is within 0.5 % when the image's short side is at
//! least 100 px times the ratio's long term over its short term (in particular on any image
//! whose short side is 200 px or more, for ratios up to 2:1, such as the named ones). On an
//! image too small for that, every size of crop is tried: the largest one within 0.5 % if
//! there is one, otherwise the one closest to the ratio (ties: the larger). Examples: a 1x1
//! image gives its 1x1 pixel for every ratio; a 3x1000 image asked for 16:9 gives 2x1
//! (12.5 % off, the closest there is); a 30x30 image asked for 7:5 gives 28x20 (exact) rather
//! than 30x21 (2 % off).
//!
//! **Position** ([`best_crop`]), by order of priority:
//! 1. keep the most faces whole and cut the fewest: the weight of the faces wholly inside
//!    minus that of the faces cut by an edge, each face counting by its size (the square root
//!    of its area, in integer pixels), so that a close subject outweighs a small face or two
//!    in the background, equal faces count by number, and a face that does not fit is left
//!    wholly out when the crop can do so, rather than cut in half (in a group photo, a crop
//!    that keeps 24 faces and cuts 2 loses to one that keeps 24 slightly smaller ones and cuts
//!    none); every face is kept whenever the crop can hold their union. A cut face counts
//!    against a crop as much as a kept one counts for it: a close subject that could only be
//!    kept by cutting small faces about as heavy as it gives way to them;
//! 2. then keep the most face weight whole;
//! 3. then cover as much of the ROI as possible;
//! 4. then centre the crop on the focal point as far as the image edges allow.
//!
//! Only the 64 largest faces are considered (the search is exact and costs `O(faces³)`);
//! smaller ones are ignored. Deterministic: ties go to the top-most, then left-most position.

use crate::analysis::geometry::{Point, Rect};
use crate::analysis::roi::Roi;
use std::fmt;
use std::str::FromStr;

/// The crop ratios offered by name.
pub const NAMED_RATIOS: [&str; 7] = ["1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16"];

/// Largest relative difference between a crop's ratio and the requested one (0.5 %), met
/// whenever the image is large enough (see the module documentation).
pub const RATIO_TOLERANCE: f64 = 0.005;

/// Most faces the position search considers (the largest ones).
pub const MAX_FACES: usize = 64;

/// A width:height aspect ratio, in lowest terms, each term `1..=`[`AspectRatio::MAX_TERM`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AspectRatio {
    w: u32,
    h: u32,
}

/// Why a text or a pair of numbers is not an aspect ratio.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AspectRatioError {
    /// The text is not `W:H`.
    #[error("aspect ratio {0:?} is not of the form W:H (e.g. 4:3)")]
    MissingColon(String),
    /// A term is not a whole decimal number.
    #[error("aspect ratio term {0:?} is not a whole number")]
    NotANumber(String),
    /// A term is 0.
    #[error("aspect ratio terms must be positive")]
    Zero,
    /// A term is above [`AspectRatio::MAX_TERM`].
    #[error("aspect ratio term {0} is over the maximum of {max}", max = AspectRatio::MAX_TERM)]
    TooLarge(u64),
}

impl AspectRatio {
    /// Largest term accepted: ratios from 1:10000 to 10000:1.
    pub const MAX_TERM: u32 = 10_000;

    /// The ratio `w:h`, reduced to lowest terms.
    pub fn new(w: u32, h: u32) -> Result<Self, AspectRatioError> {
        if w == 0 || h == 0 {
            return Err(AspectRatioError::Zero);
        }
        if let Some(&big) = [w, h].iter().find(|&&t| t > Self::MAX_TERM) {
            return Err(AspectRatioError::TooLarge(u64::from(big)));
        }
        let g = gcd(w, h);
        Ok(AspectRatio { w: w / g, h: h / g })
    }

    /// The width term.
    pub fn width(&self) -> u32 {
        self.w
    }

    /// The height term.
    pub fn height(&self) -> u32 {
        self.h
    }

    /// Width divided by height.
    pub fn value(&self) -> f64 {
        f64::from(self.w) / f64::from(self.h)
    }

    /// The [`NAMED_RATIOS`], parsed.
    pub fn named() -> [AspectRatio; 7] {
        // Each named ratio is valid; the fallback is never used.
        NAMED_RATIOS.map(|s| s.parse().unwrap_or(AspectRatio { w: 1, h: 1 }))
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl FromStr for AspectRatio {
    type Err = AspectRatioError;

    /// Parses `W:H` (spaces around the terms allowed), e.g. `4:3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (w, h) = s
            .split_once(':')
            .ok_or_else(|| AspectRatioError::MissingColon(s.to_owned()))?;
        let term = |t: &str| -> Result<u32, AspectRatioError> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(AspectRatioError::NotANumber(t.to_owned()));
            }
            // All digits: parsing fails only on overflow.
            let v = t.parse::<u64>().unwrap_or(u64::MAX);
            u32::try_from(v)
                .ok()
                .filter(|&v| v <= Self::MAX_TERM)
                .ok_or(AspectRatioError::TooLarge(v))
        };
        AspectRatio::new(term(w)?, term(h)?)
    }
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.w, self.h)
    }
}

/// Relative difference between the ratio of a `width` x `height` crop and `ratio`:
/// `max(a, b) / min(a, b) - 1` with `a = width / height` and `b = ratio` (symmetric, so 4:3
/// and 3:4 crops are judged alike). Infinite for an empty crop.
pub fn ratio_error(width: u32, height: u32, ratio: AspectRatio) -> f64 {
    let a = u64::from(width) * u64::from(ratio.h);
    let b = u64::from(height) * u64::from(ratio.w);
    if a == 0 || b == 0 {
        return f64::INFINITY;
    }
    a.max(b) as f64 / a.min(b) as f64 - 1.0
}

/// The size of the crops of `ratio` in a `width` x `height` image (see the module
/// documentation): the largest that fits, or on a tiny image the closest to the ratio.
/// `(0, 0)` for an empty image.
pub fn crop_size(width: u32, height: u32, ratio: AspectRatio) -> (u32, u32) {
    if width == 0 || height == 0 {
        return (0, 0);
    }
    let (rw, rh) = (u64::from(ratio.w), u64::from(ratio.h));
    let (w64, h64) = (u64::from(width), u64::from(height));
    let primary = if w64 * rh >= h64 * rw {
        // Wider than the ratio: full height.
        closer(
            width_for(height, width, ratio).map(|cw| (cw, height)),
            ratio,
        )
    } else {
        closer(
            height_for(width, height, ratio).map(|ch| (width, ch)),
            ratio,
        )
    };
    if ratio_error(primary.0, primary.1, ratio) <= RATIO_TOLERANCE {
        return primary;
    }
    // A tiny image: try every size. A width above the image's height times the ratio (or a
    // height above its width divided by the ratio) cannot pair with a side that fits.
    let max_w = width.min(u32::try_from((h64 + 1) * rw / rh + 1).unwrap_or(u32::MAX));
    let max_h = height.min(u32::try_from((w64 + 1) * rh / rw + 1).unwrap_or(u32::MAX));
    let sizes = (1..=max_w)
        .flat_map(|cw| height_for(cw, height, ratio).map(move |ch| (cw, ch)))
        .chain((1..=max_h).flat_map(|ch| width_for(ch, width, ratio).map(move |cw| (cw, ch))));
    let mut within: Option<(u32, u32)> = None;
    let mut closest = primary;
    for (cw, ch) in sizes {
        let err = ratio_error(cw, ch, ratio);
        let area = u64::from(cw) * u64::from(ch);
        if err <= RATIO_TOLERANCE
            && within.is_none_or(|(bw, bh)| {
                let best_area = u64::from(bw) * u64::from(bh);
                area > best_area || (area == best_area && err < ratio_error(bw, bh, ratio))
            })
        {
            within = Some((cw, ch));
        }
        let best_err = ratio_error(closest.0, closest.1, ratio);
        if err < best_err || (err == best_err && area > u64::from(closest.0) * u64::from(closest.1))
        {
            closest = (cw, ch);
        }
    }
    within.unwrap_or(closest)
}

/// The two widths (floor and ceiling of `ch · ratio`) nearest the ratio for a height `ch`,
/// clamped to `1..=max`.
fn width_for(ch: u32, max: u32, ratio: AspectRatio) -> [u32; 2] {
    let exact = (u64::from(ch) * u64::from(ratio.w), u64::from(ratio.h));
    nearest_pair(exact, max)
}

/// The two heights nearest the ratio for a width `cw`, clamped to `1..=max`.
fn height_for(cw: u32, max: u32, ratio: AspectRatio) -> [u32; 2] {
    let exact = (u64::from(cw) * u64::from(ratio.h), u64::from(ratio.w));
    nearest_pair(exact, max)
}

fn nearest_pair((num, den): (u64, u64), max: u32) -> [u32; 2] {
    let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX).clamp(1, max.max(1));
    [clamp(num / den), clamp(num.div_ceil(den))]
}

/// Of two sizes, the one closer to the ratio (ties: the first, the smaller).
fn closer(sizes: [(u32, u32); 2], ratio: AspectRatio) -> (u32, u32) {
    let [a, b] = sizes;
    if ratio_error(b.0, b.1, ratio) < ratio_error(a.0, a.1, ratio) {
        b
    } else {
        a
    }
}

/// The crop of `ratio` for a `width` x `height` upright original (see the module
/// documentation), given the faces and the region of interest in the original's pixels.
/// Always inside the image; the empty rectangle for an empty image.
pub fn best_crop(width: u32, height: u32, ratio: AspectRatio, faces: &[Rect], roi: &Roi) -> Rect {
    let (cw, ch) = crop_size(width, height, ratio);
    if cw == 0 || ch == 0 {
        return Rect {
            x: 0,
            y: 0,
            width: 0,
            height: 0,
        };
    }
    let mut faces: Vec<(u64, Rect)> = faces
        .iter()
        .filter_map(|f| f.clip(width, height))
        .map(|f| (f.area().isqrt(), f))
        .collect();
    // Largest first; equal weights in a fixed order, whatever the input order.
    faces.sort_by_key(|&(weight, f)| (std::cmp::Reverse(weight), f.y, f.x, f.width, f.height));
    faces.truncate(MAX_FACES);
    let roi_rect = roi.rect.clip(width, height);
    let focal = Point {
        x: roi.focal_point.x.min(width - 1),
        y: roi.focal_point.y.min(height - 1),
    };
    let xs = Axis::new(
        width,
        cw,
        faces.iter().map(|(_, f)| (f.x, f.right())),
        roi_rect.map(|r| (r.x, r.right())),
        focal.x,
    );
    let ys = Axis::new(
        height,
        ch,
        faces.iter().map(|(_, f)| (f.y, f.bottom())),
        roi_rect.map(|r| (r.y, r.bottom())),
        focal.y,
    );
    let mut best: Option<(Score, u32, u32)> = None;
    for (yi, &y) in ys.positions.iter().enumerate() {
        for (xi, &x) in xs.positions.iter().enumerate() {
            let (mut kept, mut cut) = (0u64, 0u64);
            for (fi, &(weight, _)) in faces.iter().enumerate() {
                match (xs.status[xi][fi], ys.status[yi][fi]) {
                    (Span::Inside, Span::Inside) => kept += weight,
                    (Span::Outside, _) | (_, Span::Outside) => {}
                    _ => cut += weight,
                }
            }
            let score = Score {
                net: kept as i64 - cut as i64,
                kept,
                coverage: xs.overlap[xi] * ys.overlap[yi],
                closeness: u128::MAX - (xs.distance2[xi] + ys.distance2[yi]),
            };
            if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                best = Some((score, x, y));
            }
        }
    }
    let (x, y) = best.map_or((0, 0), |(_, x, y)| (x, y));
    Rect {
        x,
        y,
        width: cw,
        height: ch,
    }
}

/// What a placement is worth, compared field by field (larger is better).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    /// Weight of the faces wholly inside minus that of the faces partly inside (at most 64
    /// faces of at most 2^32 each: no overflow).
    net: i64,
    /// Weight of the faces wholly inside.
    kept: u64,
    /// Area of the ROI inside the crop.
    coverage: u64,
    /// `u128::MAX` minus the squared distance (in half pixels) from the crop's centre to the
    /// focal point.
    closeness: u128,
}

/// Where a face's span lies relative to the crop's span along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Outside,
    Partly,
    Inside,
}

/// The candidate positions of the crop along one axis, and what each gives.
///
/// The best placement has, on each axis, a position where the crop's edge meets an edge of a
/// face (holding it or leaving it out), of the ROI or of the image, or where the crop is
/// centred on the focal point: every criterion is constant or monotonic between those.
struct Axis {
    positions: Vec<u32>,
    /// Per position, per face.
    status: Vec<Vec<Span>>,
    /// Per position, the length of the ROI's span inside the crop's.
    overlap: Vec<u64>,
    /// Per position, `(2 · crop centre - 2 · focal centre)²`, in half pixels squared.
    distance2: Vec<u128>,
}

impl Axis {
    fn new(
        side: u32,
        crop: u32,
        faces: impl Iterator<Item = (u32, u32)> + Clone,
        roi: Option<(u32, u32)>,
        focal: u32,
    ) -> Axis {
        let last = i64::from(side - crop);
        let crop64 = i64::from(crop);
        let mut raw: Vec<i64> = vec![0, last];
        for (a, b) in faces.clone() {
            let (a, b) = (i64::from(a), i64::from(b));
            raw.extend([b - crop64, a, b, a - crop64]);
        }
        if let Some((a, b)) = roi {
            raw.extend([i64::from(a), i64::from(b) - crop64]);
        }
        // Centred on the focal pixel's centre: x + crop / 2 = focal + 1/2.
        let centred = (2 * i64::from(focal) + 1 - crop64).div_euclid(2);
        raw.extend([centred, centred + 1]);
        let mut positions: Vec<u32> = raw
            .into_iter()
            .map(|p| u32::try_from(p.clamp(0, last)).unwrap_or(0))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let status = positions
            .iter()
            .map(|&p| {
                let (c0, c1) = (p, p + crop);
                faces
                    .clone()
                    .map(|(a, b)| {
                        if a >= c0 && b <= c1 {
                            Span::Inside
                        } else if b <= c0 || a >= c1 {
                            Span::Outside
                        } else {
                            Span::Partly
                        }
                    })
                    .collect()
            })
            .collect();
        let overlap = positions
            .iter()
            .map(|&p| {
                roi.map_or(0, |(a, b)| {
                    u64::from(b.min(p + crop).saturating_sub(a.max(p)))
                })
            })
            .collect();
        let distance2 = positions
            .iter()
            .map(|&p| {
                let d = (2 * i128::from(p) + i128::from(crop)) - (2 * i128::from(focal) + 1);
                (d * d) as u128
            })
            .collect();
        Axis {
            positions,
            status,
            overlap,
            distance2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: u32, y: u32, width: u32, height: u32) -> Rect {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    fn ratio(w: u32, h: u32) -> AspectRatio {
        AspectRatio::new(w, h).expect("valid ratio")
    }

    /// xorshift64*, for reproducible random cases.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        /// Uniform in `lo..=hi`.
        fn range(&mut self, lo: u32, hi: u32) -> u32 {
            lo + (self.next() % u64::from(hi - lo + 1)) as u32
        }
    }

    #[test]
    fn ratios_parse_reduce_and_print() {
        assert_eq!("4:3".parse(), Ok(ratio(4, 3)));
        assert_eq!(" 16 : 9 ".parse(), Ok(ratio(16, 9)));
        assert_eq!(
            "8:6".parse::<AspectRatio>().map(|r| r.to_string()),
            Ok("4:3".into())
        );
        assert_eq!(
            "10000:1".parse::<AspectRatio>().map(|r| r.width()),
            Ok(10_000)
        );
        assert_eq!(
            AspectRatio::named().map(|r| r.to_string()),
            NAMED_RATIOS.map(String::from)
        );
        let err = |s: &str| s.parse::<AspectRatio>().err();
        assert_eq!(
            err("4/3"),
            Some(AspectRatioError::MissingColon("4/3".into()))
        );
        assert_eq!(err(""), Some(AspectRatioError::MissingColon(String::new())));
        assert_eq!(err("0:3"), Some(AspectRatioError::Zero));
        assert_eq!(err("3:0"), Some(AspectRatioError::Zero));
        assert_eq!(err("a:3"), Some(AspectRatioError::NotANumber("a".into())));
        assert_eq!(err("-4:3"), Some(AspectRatioError::NotANumber("-4".into())));
        assert_eq!(
            err("1.5:1"),
            Some(AspectRatioError::NotANumber("1.5".into()))
        );
        assert_eq!(err(":"), Some(AspectRatioError::NotANumber(String::new())));
        assert_eq!(
            err("4:3:2"),
            Some(AspectRatioError::NotANumber("3:2".into()))
        );
        assert_eq!(err("10001:1"), Some(AspectRatioError::TooLarge(10_001)));
        assert_eq!(
            err("99999999999999999999999:1"),
            Some(AspectRatioError::TooLarge(u64::MAX))
        );
        assert_eq!(AspectRatio::new(0, 1), Err(AspectRatioError::Zero));
        assert!(err("0:3").is_some_and(|e| !e.to_string().is_empty()));
    }

    #[test]
    fn the_crop_is_the_largest_of_the_ratio() {
        assert_eq!(crop_size(4000, 3000, ratio(4, 3)), (4000, 3000));
        assert_eq!(crop_size(4000, 3000, ratio(1, 1)), (3000, 3000));
        assert_eq!(crop_size(4000, 3000, ratio(16, 9)), (4000, 2250));
        assert_eq!(crop_size(4000, 3000, ratio(9, 16)), (1688, 3000));
        assert_eq!(crop_size(0, 10, ratio(1, 1)), (0, 0));
    }

    #[test]
    fn tiny_images_get_the_closest_ratio_there_is() {
        for r in AspectRatio::named() {
            assert_eq!(crop_size(1, 1, r), (1, 1));
        }
        // 3 px wide: 2x1 (2.0, 12.5 % off) is the closest to 16:9 there is.
        assert_eq!(crop_size(3, 1000, ratio(16, 9)), (2, 1));
        assert_eq!(crop_size(3, 1000, ratio(9, 16)), (3, 5));
        // 30x21 would be 2 % off; 28x20 is exact.
        assert_eq!(crop_size(30, 30, ratio(7, 5)), (28, 20));
        // 1:20 in a 150-px-high image: 8x150 is 6.7 % off, 7x140 exact.
        assert_eq!(crop_size(20_000, 150, ratio(1, 20)), (7, 140));
    }

    /// Against every possible size: the largest within the tolerance when there is one,
    /// otherwise the closest to the ratio.
    #[test]
    fn crop_sizes_on_small_images_match_an_exhaustive_search() {
        let ratios = [
            (1, 1),
            (4, 3),
            (3, 4),
            (16, 9),
            (9, 16),
            (7, 5),
            (1, 20),
            (20, 1),
            (3, 2),
        ];
        for w in 1..=48 {
            for h in 1..=48 {
                for &(rw, rh) in &ratios {
                    let r = ratio(rw, rh);
                    let (cw, ch) = crop_size(w, h, r);
                    assert!((1..=w).contains(&cw) && (1..=h).contains(&ch));
                    let all = (1..=w).flat_map(|a| (1..=h).map(move |b| (a, b)));
                    let within = all
                        .clone()
                        .filter(|&(a, b)| ratio_error(a, b, r) <= RATIO_TOLERANCE)
                        .map(|(a, b)| a * b)
                        .max();
                    let err = ratio_error(cw, ch, r);
                    match within {
                        Some(area) => assert!(
                            err <= RATIO_TOLERANCE && cw * ch == area,
                            "{w}x{h} {r}: got {cw}x{ch}, largest within has area {area}"
                        ),
                        None => {
                            let best = all
                                .map(|(a, b)| ratio_error(a, b, r))
                                .fold(f64::INFINITY, f64::min);
                            assert!(
                                err <= best,
                                "{w}x{h} {r}: got {cw}x{ch} ({err}), best {best}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// What a placement is worth, recomputed from the definitions.
    fn naive_score(crop: &Rect, faces: &[Rect], roi: &Roi) -> (i64, u64, u64, u128) {
        let (mut kept, mut cut) = (0, 0);
        for f in faces {
            let w = f.area().isqrt();
            let inter = crop.iou(f) > 0.0;
            if crop.contains(f) {
                kept += w;
            } else if inter {
                cut += w;
            }
        }
        let ox = u64::from(
            crop.right()
                .min(roi.rect.right())
                .saturating_sub(crop.x.max(roi.rect.x)),
        );
        let oy = u64::from(
            crop.bottom()
                .min(roi.rect.bottom())
                .saturating_sub(crop.y.max(roi.rect.y)),
        );
        let dx = i128::from(2 * crop.x + crop.width) - i128::from(2 * roi.focal_point.x + 1);
        let dy = i128::from(2 * crop.y + crop.height) - i128::from(2 * roi.focal_point.y + 1);
        (
            kept as i64 - cut as i64,
            kept,
            ox * oy,
            u128::MAX - (dx * dx + dy * dy) as u128,
        )
    }

    fn random_face(rng: &mut Rng, w: u32, h: u32) -> Rect {
        let side_max = w.min(h).max(1);
        let fw = rng.range(1, (side_max / 3).max(1));
        let fh = rng.range(1, (side_max / 3).max(1)).min(h);
        let fw = fw.min(w);
        rect(rng.range(0, w - fw), rng.range(0, h - fh), fw, fh)
    }

    fn random_roi(rng: &mut Rng, w: u32, h: u32) -> Roi {
        let rw = rng.range(1, w);
        let rh = rng.range(1, h);
        let r = rect(rng.range(0, w - rw), rng.range(0, h - rh), rw, rh);
        Roi {
            rect: r,
            focal_point: Point {
                x: rng.range(r.x, r.right() - 1),
                y: rng.range(r.y, r.bottom() - 1),
            },
        }
    }

    /// On small images, no position of the crop scores better (faces kept less faces cut,
    /// faces kept, ROI covered, distance to the focal point) than the one chosen.
    #[test]
    fn the_position_is_the_best_of_every_position_on_small_images() {
        let mut rng = Rng(0x5eed);
        let ratios = [
            (1, 1),
            (4, 3),
            (3, 4),
            (16, 9),
            (9, 16),
            (7, 5),
            (1, 3),
            (3, 1),
        ];
        for case in 0..1500 {
            let (w, h) = (rng.range(1, 80), rng.range(1, 80));
            let (rw, rh) = ratios[case % ratios.len()];
            let r = ratio(rw, rh);
            let faces: Vec<Rect> = (0..rng.range(0, 5))
                .map(|_| random_face(&mut rng, w, h))
                .collect();
            let roi = random_roi(&mut rng, w, h);
            let crop = best_crop(w, h, r, &faces, &roi);
            let got = naive_score(&crop, &faces, &roi);
            for y in 0..=h - crop.height {
                for x in 0..=w - crop.width {
                    let other = rect(x, y, crop.width, crop.height);
                    let score = naive_score(&other, &faces, &roi);
                    assert!(
                        score <= got,
                        "{w}x{h} {r} faces {faces:?} roi {roi:?}: chose {crop:?} {got:?}, \
                         {other:?} scores {score:?}"
                    );
                }
            }
        }
    }

    /// Random sizes up to 20000 px, ratios from 1:20 to 20:1, random faces.
    #[test]
    fn random_crops_keep_their_promises() {
        let mut rng = Rng(0xc0ffee);
        let named = AspectRatio::named();
        for case in 0..5000 {
            let (w, h) = (rng.range(1, 20_000), rng.range(1, 20_000));
            let r = if case % 2 == 0 {
                named[case / 2 % named.len()]
            } else {
                ratio(rng.range(1, 20), rng.range(1, 20))
            };
            let faces: Vec<Rect> = (0..rng.range(0, 6))
                .map(|_| random_face(&mut rng, w, h))
                .collect();
            let roi = random_roi(&mut rng, w, h);
            let crop = best_crop(w, h, r, &faces, &roi);
            assert!(
                rect(0, 0, w, h).contains(&crop) && crop.area() > 0,
                "{w}x{h} {r}: {crop:?}"
            );
            assert_eq!(crop, best_crop(w, h, r, &faces, &roi), "not deterministic");
            let mut reversed = faces.clone();
            reversed.reverse();
            assert_eq!(
                crop,
                best_crop(w, h, r, &reversed, &roi),
                "depends on the face order"
            );
            // An exact crop fits when the ratio's terms do; then the crop is within 0.5 %
            // (so on every image of 200 px or more on its short side, for these ratios).
            if r.width() <= w && r.height() <= h {
                let err = ratio_error(crop.width, crop.height, r);
                assert!(err <= RATIO_TOLERANCE, "{w}x{h} {r}: {crop:?} is {err} off");
            }
            if let Some(first) = faces.first() {
                let union = faces.iter().fold(*first, |u, f| u.union(f));
                if union.width <= crop.width && union.height <= crop.height {
                    assert!(
                        faces.iter().all(|f| crop.contains(f)),
                        "{w}x{h} {r}: {crop:?} misses some of {faces:?}"
                    );
                }
            } else if roi.rect.width <= crop.width && roi.rect.height <= crop.height {
                assert!(
                    crop.contains(&roi.rect),
                    "{w}x{h} {r}: {crop:?} misses {roi:?}"
                );
            }
        }
    }

    #[test]
    fn a_face_that_does_not_fit_is_left_out_rather_than_cut() {
        // 400x400 crops of a 1000x400 image: the big face (200..400) is kept; the small one
        // (550..620) cannot be kept with it, and is left wholly out (x <= 150) although the
        // focal point pulls the crop to the right.
        let faces = [rect(200, 100, 200, 200), rect(550, 150, 70, 70)];
        let roi = Roi {
            rect: rect(0, 0, 1000, 400),
            focal_point: Point { x: 700, y: 200 },
        };
        let crop = best_crop(1000, 400, ratio(1, 1), &faces, &roi);
        assert_eq!(crop, rect(150, 0, 400, 400));
    }

    #[test]
    fn a_crop_that_cuts_no_face_beats_one_that_keeps_a_little_more_but_cuts_some() {
        // A row of faces 100 px high across a 1000x300 image; 300x300 crops. Holding the two
        // faces of 100 and 110 px (430..530, 560..670) keeps the most (204) but cuts a face
        // whichever way (the ones at 330..429 and 665..764 close them in). Other positions
        // keep 199, 200 or 203 and cut none: the largest is taken. (Weights: the square root of the
        // area, 100 for 100x100, 104 for 110x100, 99 for 99x100.)
        let faces = [
            rect(20, 100, 100, 100),
            rect(150, 100, 100, 100),
            rect(330, 100, 99, 100),
            rect(430, 100, 100, 100),
            rect(560, 100, 110, 100),
            rect(665, 100, 99, 100),
        ];
        let most_kept = rect(430, 0, 300, 300);
        assert!(most_kept.contains(&faces[3]) && most_kept.contains(&faces[4]));
        let crop = best_crop(1000, 300, ratio(1, 1), &faces, &Roi::whole(1000, 300));
        for face in &faces {
            assert!(
                crop.contains(face) || crop.iou(face) == 0.0,
                "{crop:?} cuts {face:?}"
            );
        }
        let (net, kept, _, _) = naive_score(&crop, &faces, &Roi::whole(1000, 300));
        assert_eq!((net, kept), (203, 203), "{crop:?}");
    }

    #[test]
    fn the_biggest_face_wins_over_small_ones() {
        // A close subject on the left, two small faces far right: a 1:1 crop holds one side.
        let faces = [
            rect(50, 100, 300, 300),
            rect(1500, 100, 40, 40),
            rect(1600, 120, 40, 40),
        ];
        let crop = best_crop(2000, 500, ratio(1, 1), &faces, &Roi::whole(2000, 500));
        assert!(crop.contains(&faces[0]), "{crop:?}");
        // Two equal faces outweigh one of the same size.
        let faces = [
            rect(100, 100, 50, 50),
            rect(1500, 100, 50, 50),
            rect(1700, 100, 50, 50),
        ];
        let crop = best_crop(2000, 500, ratio(1, 1), &faces, &Roi::whole(2000, 500));
        assert!(
            crop.contains(&faces[1]) && crop.contains(&faces[2]),
            "{crop:?}"
        );
    }

    #[test]
    fn without_faces_the_crop_follows_the_subject_up_to_the_edges() {
        let roi = Roi {
            rect: rect(2600, 1000, 400, 600),
            focal_point: Point { x: 2800, y: 1300 },
        };
        // 3000x3000 square of a 4000x3000 photo: centred on x 2800 would pass the edge.
        assert_eq!(
            best_crop(4000, 3000, ratio(1, 1), &[], &roi),
            rect(1000, 0, 3000, 3000)
        );
        // A 9:16 crop (1688 wide) is centred on the focal point.
        let crop = best_crop(4000, 3000, ratio(9, 16), &[], &roi);
        assert_eq!(crop, rect(2800 - 844, 0, 1688, 3000));
        // A ROI larger than the crop: as much of it as possible, then the focal point.
        let wide = Roi {
            rect: rect(500, 0, 3000, 3000),
            focal_point: Point { x: 1000, y: 1500 },
        };
        let crop = best_crop(4000, 3000, ratio(9, 16), &[], &wide);
        assert_eq!(crop.x, 500, "{crop:?}");
    }
}
