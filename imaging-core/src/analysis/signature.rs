//! Near-duplicate signature: two perceptual hashes of a photo's luma, compared by Hamming
//! distance.
//!
//! The signature is computed from a small decoded rendition (the pipeline passes the 256-px one,
//! upright, sRGB; any size works). Its luma (Rec. 601 weights on the sRGB values) is
//! area-averaged onto small grids that ignore the aspect ratio, and two hashes are taken:
//!
//! - a **DCT hash** (pHash, 64 bits): the 8 x 8 lowest frequencies of the DCT-II of a 32 x 32
//!   grid; bit `8v + u` is set when coefficient `(u, v)` is above the median of the 64. It
//!   captures the coarse layout of light and dark and ignores brightness, contrast and colour.
//! - a **difference hash** (dHash, 128 bits): on a 9 x 8 grid, whether each cell is brighter
//!   than its left neighbour (64 bits), and on an 8 x 9 grid, whether each cell is brighter than
//!   the one above (64 bits). It captures local gradients, which makes errors of the two hashes
//!   largely independent: different photos rarely come close in both.
//!
//! [`distance`] adds the two Hamming distances, each pHash bit counted twice so that both hashes
//! weigh 128; it ranges from 0 (same hashes) to 256. Unrelated photos land near 128.
//!
//! Everything is plain `f64` arithmetic on the pixel values in a fixed order, and the one
//! transcendental function (the DCT's cosines) is rounded to 2^-30, so the same pixels give the
//! same signature on every run and platform. A bit is set only when its difference is over
//! [`TIE`], far below any a pixel value makes but above the rounding of the sums: so a flat
//! image (a blank frame, a 1x1 picture), which has no structure to hash, hashes to the same
//! signature whatever its size or shade (only the pHash's DC bit set; black sets none, at
//! distance 2), and a flat region gives the same bits, where rounding would set some at random.

use crate::pixels::RgbImage;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Side of the luma grid the DCT runs on.
const DCT_GRID: usize = 32;
/// Side of the low-frequency block of the DCT that is kept.
const DCT_LOW: usize = 8;
/// Cells compared along each row (or column) by the difference hash; it needs one more cell.
const DIFF: usize = 8;
/// Smallest difference (grey levels, or DCT coefficient units) that sets a bit: the sums'
/// rounding stays under 1e-9 here; a change of one level in one channel of one pixel of the
/// 256-px rendition moves a cell by over 1e-4.
const TIE: f64 = 1e-6;
/// Length of [`Signature`]'s text form: 16 hex digits of pHash, then 32 of dHash.
const HEX_LEN: usize = 48;

/// Largest [`distance`] at which two signatures are near duplicates (out of 256).
///
/// Measured on the 58 non-degenerate photos of the test corpus (`tests/signature.rs`: the
/// stored 256 rendition of the JPEG-encoded copy, decoded back): copies re-encoded at JPEG q60,
/// resized to 50%, cropped by 5% (2.5% each side) or brightened by 10% stayed within 36 of their
/// original (the worst case is a nearly black night photo, where the difference hash sees
/// noise; a cut-out on flat white was one too until flat areas hashed alike, see [`TIE`]);
/// different photos were at least 89 apart (1575 pairs, mean
/// about 128). 60 leaves a margin of 24 on one side and 29 on the other, and also tolerates a 5%
/// crop from one side only (up to about 47). Not near duplicates by this measure: crops of
/// 10% or more, contrast stretches of nearly black photos and JPEG q30 of nearly flat ones.
pub const NEAR_DUPLICATE_THRESHOLD: u32 = 60;

/// A photo's perceptual signature: a 64-bit DCT hash and a 128-bit difference hash.
///
/// Its text form (used by [`Serialize`], [`Display`](fmt::Display) and [`FromStr`]) is 48
/// lowercase hex digits: the pHash as a big-endian `u64`, then the dHash as a big-endian `u128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature {
    /// Bit `8v + u` (least significant first): DCT coefficient `(u, v)` above the median.
    phash: u64,
    /// Bits `0..64`: row `r`, column `c` brighter than column `c - 1`, at `8r + c - 1`; bits
    /// `64..128`: the same with rows and columns swapped (brighter than the cell above).
    dhash: u128,
}

/// Computes the signature of an upright sRGB image of any size.
pub fn signature(image: &RgbImage) -> Signature {
    let (w, h) = (image.width as usize, image.height as usize);
    let luma: Vec<f64> = image
        .pixels
        .chunks_exact(3)
        .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
        .collect();
    let dct_grid = area_grid(&luma, w, h, DCT_GRID, DCT_GRID);
    let wide = area_grid(&luma, w, h, DIFF + 1, DIFF);
    let tall = area_grid(&luma, w, h, DIFF, DIFF + 1);
    Signature {
        phash: dct_hash(&dct_grid),
        dhash: diff_hash(&wide, &tall),
    }
}

/// The distance between two signatures, 0..=256: twice the Hamming distance of the DCT hashes
/// plus the Hamming distance of the difference hashes. It is symmetric, 0 for identical
/// signatures and obeys the triangle inequality.
pub fn distance(a: &Signature, b: &Signature) -> u32 {
    2 * (a.phash ^ b.phash).count_ones() + (a.dhash ^ b.dhash).count_ones()
}

/// Whether two signatures are near duplicates: [`distance`] at most
/// [`NEAR_DUPLICATE_THRESHOLD`].
pub fn is_near_duplicate(a: &Signature, b: &Signature) -> bool {
    distance(a, b) <= NEAR_DUPLICATE_THRESHOLD
}

/// Groups near duplicates: `result[i]` is the group of `signatures[i]`, where two photos share a
/// group when a chain of near-duplicate pairs ([`is_near_duplicate`]) links them (single
/// linkage). Groups are numbered 0, 1, ... in the order of their first member, so the same
/// list gives the same numbers; a photo with no near duplicate has a group of its own.
pub fn near_duplicate_groups(signatures: &[Signature]) -> Vec<usize> {
    // Union-find over indices, the smaller root winning so roots are first members.
    let mut parent: Vec<usize> = (0..signatures.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..signatures.len() {
        for j in i + 1..signatures.len() {
            if is_near_duplicate(&signatures[i], &signatures[j]) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                let (low, high) = (a.min(b), a.max(b));
                parent[high] = low;
            }
        }
    }
    let mut numbers: Vec<Option<usize>> = vec![None; signatures.len()];
    let mut next = 0;
    (0..signatures.len())
        .map(|i| {
            let r = root(&mut parent, i);
            *numbers[r].get_or_insert_with(|| {
                next += 1;
                next - 1
            })
        })
        .collect()
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}{:032x}", self.phash, self.dhash)
    }
}

/// Why a string is not a [`Signature`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseSignatureError;

impl fmt::Display for ParseSignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a signature is {HEX_LEN} hex digits")
    }
}

impl std::error::Error for ParseSignatureError {}

impl FromStr for Signature {
    type Err = ParseSignatureError;

    /// Parses the text form written by [`Display`](fmt::Display) (either letter case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != HEX_LEN || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseSignatureError);
        }
        let (phash, dhash) = s.split_at(16);
        Ok(Signature {
            phash: u64::from_str_radix(phash, 16).map_err(|_| ParseSignatureError)?,
            dhash: u128::from_str_radix(dhash, 16).map_err(|_| ParseSignatureError)?,
        })
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Area weights mapping `len` source pixels onto `cells` equal cells: for each cell, the first
/// pixel it overlaps and the weights of the pixels from there on (summing to 1).
fn cell_weights(len: usize, cells: usize) -> Vec<(usize, Vec<f64>)> {
    let scale = len as f64 / cells as f64;
    (0..cells)
        .map(|cell| {
            let (a, b) = (cell as f64 * scale, (cell + 1) as f64 * scale);
            let first = a.floor() as usize;
            let end = (b.ceil() as usize).clamp(first + 1, len);
            let weights = (first..end)
                .map(|x| (((x + 1) as f64).min(b) - (x as f64).max(a)).max(0.0) / (b - a))
                .collect();
            (first, weights)
        })
        .collect()
}

/// `plane` (`w` x `h`, row-major) area-averaged onto `cols` x `rows` cells, row-major; all zero
/// for an empty image.
fn area_grid(plane: &[f64], w: usize, h: usize, cols: usize, rows: usize) -> Vec<f64> {
    let mut grid = vec![0.0; cols * rows];
    if w == 0 || h == 0 {
        return grid;
    }
    let col_weights = cell_weights(w, cols);
    let row_weights = cell_weights(h, rows);
    // Horizontal pass: every source row onto `cols` cells.
    let mut narrowed = vec![0.0; h * cols];
    for (src, dst) in plane.chunks_exact(w).zip(narrowed.chunks_exact_mut(cols)) {
        for (out, (first, weights)) in dst.iter_mut().zip(&col_weights) {
            *out = weights.iter().zip(&src[*first..]).map(|(k, v)| k * v).sum();
        }
    }
    // Vertical pass.
    for (dst, (first, weights)) in grid.chunks_exact_mut(cols).zip(&row_weights) {
        for (i, k) in weights.iter().enumerate() {
            let src = &narrowed[(first + i) * cols..][..cols];
            for (out, v) in dst.iter_mut().zip(src) {
                *out += k * v;
            }
        }
    }
    grid
}

/// `cos(pi * (2x + 1) * u / (2 * DCT_GRID))` for the kept frequencies `u`, rounded to 2^-30 so
/// that a last-bit difference between platforms' `cos` cannot change a hash.
fn dct_basis() -> [[f64; DCT_GRID]; DCT_LOW] {
    let scale = f64::from(1u32 << 30);
    let mut basis = [[0.0; DCT_GRID]; DCT_LOW];
    for (u, row) in basis.iter_mut().enumerate() {
        for (x, c) in row.iter_mut().enumerate() {
            let angle = std::f64::consts::PI * ((2 * x + 1) * u) as f64 / (2 * DCT_GRID) as f64;
            *c = (angle.cos() * scale).round() / scale;
        }
    }
    basis
}

/// The pHash of a `DCT_GRID` x `DCT_GRID` grid: its low `DCT_LOW` x `DCT_LOW` DCT-II
/// coefficients (unnormalised) against their median.
fn dct_hash(grid: &[f64]) -> u64 {
    let basis = dct_basis();
    // Along x, then along y; only the kept frequencies are computed.
    let along_x: Vec<[f64; DCT_LOW]> = grid
        .chunks_exact(DCT_GRID)
        .map(|row| basis.map(|b| row.iter().zip(&b).map(|(v, c)| v * c).sum()))
        .collect();
    let mut coeffs = [0.0; DCT_LOW * DCT_LOW];
    for (i, c) in coeffs.iter_mut().enumerate() {
        let (v, u) = (i / DCT_LOW, i % DCT_LOW);
        *c = along_x.iter().zip(&basis[v]).map(|(r, b)| r[u] * b).sum();
    }
    let mut sorted = coeffs;
    sorted.sort_by(f64::total_cmp);
    let half = coeffs.len() / 2;
    let median = (sorted[half - 1] + sorted[half]) / 2.0;
    coeffs
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > median + TIE)
        .fold(0, |hash, (i, _)| hash | 1 << i)
}

/// The dHash: `wide` is `DIFF + 1` columns by `DIFF` rows, `tall` is `DIFF` columns by
/// `DIFF + 1` rows.
fn diff_hash(wide: &[f64], tall: &[f64]) -> u128 {
    let horizontal = wide
        .chunks_exact(DIFF + 1)
        .flat_map(|row| row.windows(2).map(|p| p[1] > p[0] + TIE));
    let vertical = tall
        .chunks_exact(DIFF)
        .zip(tall.chunks_exact(DIFF).skip(1))
        .flat_map(|(above, below)| above.iter().zip(below).map(|(a, b)| *b > a + TIE));
    horizontal
        .chain(vertical)
        .enumerate()
        .filter(|(_, brighter)| *brighter)
        .fold(0, |hash, (i, _)| hash | 1 << i)
}

#[cfg(test)]
mod tests {

    #[test]
    fn near_duplicates_are_grouped_by_chains_in_order_of_first_member() {
        let base = Signature { phash: 0, dhash: 0 };
        // 40 apart from base (20 pHash bits), 80 from base via 40 more: a chain.
        let near = Signature {
            phash: (1 << 20) - 1,
            dhash: 0,
        };
        let chained = Signature {
            phash: (1 << 40) - 1,
            dhash: 0,
        };
        let far = Signature {
            phash: u64::MAX,
            dhash: u128::MAX,
        };
        assert_eq!(
            near_duplicate_groups(&[far, base, chained, near, far]),
            vec![0, 1, 1, 1, 0]
        );
        assert!(near_duplicate_groups(&[]).is_empty());
    }

    use super::*;
    use serde::de::value::{Error as ValueError, StrDeserializer};
    use serde::de::IntoDeserializer;

    /// A smooth synthetic scene with structure at several scales, sampled at `w` x `h`.
    fn scene(w: u32, h: u32, shift: f64) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let (u, v) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
            let base = 0.5
                + 0.25 * (6.0 * u + shift).sin() * (4.0 * v).cos()
                + 0.2 * ((u - 0.3).powi(2) + (v - 0.6).powi(2) < 0.04) as u8 as f64
                - 0.15 * (11.0 * (u + v)).sin();
            let g = (base.clamp(0.0, 1.0) * 255.0).round() as u8;
            [g, g.saturating_sub(30), 255 - g]
        })
    }

    fn mirrored(image: &RgbImage) -> RgbImage {
        let row = image.width as usize * 3;
        let pixels = image
            .pixels
            .chunks_exact(row)
            .flat_map(|r| r.chunks_exact(3).rev().flatten().copied())
            .collect();
        RgbImage::from_raw(image.width, image.height, pixels).expect("size")
    }

    #[test]
    fn identical_images_are_at_distance_zero_and_the_signature_is_deterministic() {
        let img = scene(256, 171, 0.0);
        let (a, b) = (signature(&img), signature(&img.clone()));
        assert_eq!(a, b);
        assert_eq!(distance(&a, &b), 0);
        assert!(is_near_duplicate(&a, &b));
    }

    #[test]
    fn distance_is_symmetric_bounded_and_obeys_the_triangle_inequality() {
        let sigs: Vec<Signature> = [0.0, 0.7, 2.0, 4.0]
            .iter()
            .map(|&s| signature(&scene(200, 150, s)))
            .chain([signature(&mirrored(&scene(200, 150, 0.0)))])
            .collect();
        for a in &sigs {
            for b in &sigs {
                assert_eq!(distance(a, b), distance(b, a));
                assert!(distance(a, b) <= 256);
                for c in &sigs {
                    assert!(distance(a, c) <= distance(a, b) + distance(b, c));
                }
            }
        }
    }

    #[test]
    fn the_same_scene_at_another_size_or_brightness_is_a_near_duplicate() {
        let reference = signature(&scene(256, 171, 0.0));
        let smaller = signature(&scene(128, 85, 0.0));
        let brighter = {
            let mut img = scene(256, 171, 0.0);
            img.pixels
                .iter_mut()
                .for_each(|v| *v = (f64::from(*v) * 1.1).round().min(255.0) as u8);
            signature(&img)
        };
        assert!(
            distance(&reference, &smaller) <= 10,
            "{reference} {smaller}"
        );
        assert!(is_near_duplicate(&reference, &brighter));
    }

    #[test]
    fn a_mirrored_or_different_scene_is_not_a_near_duplicate() {
        let img = scene(256, 171, 0.0);
        let reference = signature(&img);
        let mirror = signature(&mirrored(&img));
        let other = signature(&scene(256, 171, 3.0));
        assert!(distance(&reference, &mirror) > NEAR_DUPLICATE_THRESHOLD);
        assert!(distance(&reference, &other) > NEAR_DUPLICATE_THRESHOLD);
    }

    #[test]
    fn tiny_flat_and_empty_images_do_not_panic() {
        for (w, h) in [(1, 1), (1, 40), (40, 1), (3, 2), (0, 0)] {
            let img = RgbImage::from_raw(w, h, vec![77; (w * h * 3) as usize]).expect("size");
            let sig = signature(&img);
            assert_eq!(sig, signature(&img));
        }
    }

    #[test]
    fn every_flat_image_has_the_same_signature() {
        // Sizes whose area averages round differently (they set bits at random before).
        let flat = |w: u32, h: u32, rgb: [u8; 3]| signature(&RgbImage::from_fn(w, h, |_, _| rgb));
        let white = flat(256, 192, [255, 255, 255]);
        assert_eq!(white.to_string(), format!("{:016x}{:032x}", 1, 0));
        // Black has no DC bit either: all zeros.
        let black = flat(640, 480, [0, 0, 0]);
        assert_eq!(black.to_string(), "0".repeat(48));
        assert_eq!(distance(&black, &white), 2);
        for (w, h, rgb) in [
            (640, 480, [255, 255, 255]),
            (300, 33, [128, 128, 128]),
            (20, 10, [255, 0, 0]),
            (200, 256, [200, 30, 90]),
            (1, 1, [7, 7, 7]),
        ] {
            assert_eq!(flat(w, h, rgb), white, "{w}x{h} {rgb:?}");
        }
    }

    #[test]
    fn area_grid_keeps_the_mean() {
        let plane: Vec<f64> = (0..7 * 5).map(f64::from).collect();
        let grid = area_grid(&plane, 7, 5, 3, 4);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&grid) - mean(&plane)).abs() < 1e-9);
    }

    #[test]
    fn the_text_form_round_trips() {
        let sig = signature(&scene(64, 48, 1.0));
        let text = sig.to_string();
        assert_eq!(text.len(), HEX_LEN);
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(text.parse::<Signature>(), Ok(sig));
        assert_eq!(text.to_uppercase().parse::<Signature>(), Ok(sig));
        let de: StrDeserializer<'_, ValueError> = text.as_str().into_deserializer();
        assert_eq!(Signature::deserialize(de).ok(), Some(sig));
        for bad in [
            "",
            "00",
            &text[1..],
            &format!("{text}0"),
            &format!("g{}", &text[1..]),
        ] {
            assert_eq!(
                bad.parse::<Signature>(),
                Err(ParseSignatureError),
                "{bad:?}"
            );
        }
    }
}
