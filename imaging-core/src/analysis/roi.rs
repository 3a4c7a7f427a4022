//! Region of interest and focal point: where the subject of a photo is, for cropping.
//!
//! Computed on a small upright rendition, meant to be the 256-px one ([`ROI_SIDE`]); a larger
//! image is first box-reduced by the integer factor `ceil(long side / 256)`, so the cost and
//! the result hardly depend on the size passed in. On the working grid:
//!
//! 1. **Saliency** of each pixel, the sum of four terms, each divided by its mean over the
//!    picture (with a floor, so that faint noise on a flat picture is not blown up):
//!    - *detail*: the luma gradient (central differences, L1), averaged over a 5x5 window, so
//!      that texture and edges of the subject count and single noisy pixels do not;
//!    - *colour contrast*: the distance of the pixel's colour (luma and two opponent axes,
//!      `R - G` and `(R + G) / 2 - B`) from the mean colour of the picture: what stands out
//!      from the background;
//!    - *saturation* (`max - min` of R, G, B), at half weight;
//!    - *skin*: pixels in the skin range of YCbCr (`77 <= Cb <= 127`, `133 <= Cr <= 173`, luma
//!      above 40), at half weight.
//!
//!    The sum is smoothed (a box of 1/32 of the long side) and only the part above its mean is
//!    kept (the background level is removed, so that the mass concentrates on what stands out
//!    and an evenly textured picture has none), and it is multiplied by a mild centre prior `0.6 + 0.4 exp(-d² / 2)`, `d` the
//!    distance from the centre in units of 0.3 of each side. Faces are then added: each face,
//!    grown by [`FACE_HEADROOM`] of its height above, a quarter of its width on each side and
//!    half its height below (hair, ears, chin), gets a mass proportional to its area, all faces
//!    together twice the mass of the rest of the picture.
//! 2. **ROI**: the smallest rectangle (on cells of about 4x4 working pixels) holding
//!    [`ROI_MASS`] of the saliency mass, grown by 1/32 of the long side on each side (the mass
//!    rule trims the subject's edges) and clipped to the picture; with faces, grown to hold
//!    every grown face whole.
//! 3. **Focal point**: with faces, the centre of the faces weighted by their area (a close,
//!    big face weighs most); without, the centroid of the saliency mass inside the ROI.
//!
//! A picture with no saliency at all (flat, all black) keeps the centre prior alone: a
//! centred ROI of about 60 % of each side and the centre as focal point.
//!
//! Deterministic (no randomness, fixed summation order). Cost: about 1.4 ms for a 256x192
//! rendition (one call, measured on a shared, loaded 2-core machine; the unit test
//! `timing_at_the_roi_side` prints it), independent of the content.

use crate::analysis::geometry::{Point, Rect};
use crate::pixels::RgbImage;

/// Long side of the rendition [`region_of_interest`] expects (the pipeline's 256-px
/// rendition). Larger images work, box-reduced to about this size first.
pub const ROI_SIDE: u32 = 256;

/// Fraction of the saliency mass the ROI holds.
pub const ROI_MASS: f64 = 0.85;

/// Room kept above a face, as a fraction of its height (hair, the top of the head).
pub const FACE_HEADROOM: f64 = 0.5;

/// Where the subject of a photo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roi {
    /// The region holding the subject, in the pixels of the analysed image.
    pub rect: Rect,
    /// Where a crop should centre (the "dropping point"), inside `rect`.
    pub focal_point: Point,
}

impl Roi {
    /// The whole of a `width` x `height` image, the focal point at its centre: the region of a
    /// photo with no subject to single out.
    pub fn whole(width: u32, height: u32) -> Roi {
        Roi {
            rect: Rect {
                x: 0,
                y: 0,
                width,
                height,
            },
            focal_point: Point {
                x: width / 2,
                y: height / 2,
            },
        }
    }
}

/// Floors of the means the saliency terms are divided by (levels): below these, a term is
/// too faint to be anything but noise.
const DETAIL_FLOOR: f32 = 3.0;
const CONTRAST_FLOOR: f32 = 8.0;
const SATURATION_FLOOR: f32 = 10.0;
/// Mass of all faces together, relative to the mass of the rest of the picture.
const FACE_MASS: f64 = 2.0;
/// Cells of the ROI search: at most this many along the long side.
const SEARCH_CELLS: usize = 64;

/// The region of interest and focal point of `image` (see the module documentation), given
/// the faces found in it (in its pixels; parts outside the image are ignored). The result is
/// in `image`'s pixels. Never panics: an empty image or a buffer that does not match the size
/// gives the whole image (or the empty rectangle) with its centre.
pub fn region_of_interest(image: &RgbImage, faces: &[Rect]) -> Roi {
    let (w, h) = (image.width, image.height);
    if w == 0 || h == 0 || image.pixels.len() as u64 != u64::from(w) * u64::from(h) * 3 {
        return Roi::whole(w, h);
    }
    let grid = Grid::of(image);
    let faces: Vec<Rect> = faces.iter().filter_map(|f| f.clip(w, h)).collect();
    let grown: Vec<Rect> = faces.iter().map(|f| grow_face(f, w, h)).collect();
    let to_grid = |r: &Rect| r.rescale((w, h), (grid.width as u32, grid.height as u32));
    let mut saliency = grid.saliency();
    add_faces(
        &mut saliency,
        grid.width,
        &grown.iter().map(to_grid).collect::<Vec<_>>(),
    );
    let (gx0, gy0, gx1, gy1) = smallest_rect_with_mass(&saliency, grid.width, grid.height);
    let grid_rect = Rect {
        x: gx0 as u32,
        y: gy0 as u32,
        width: (gx1 - gx0) as u32,
        height: (gy1 - gy0) as u32,
    };
    let margin = (w.max(h) / 32) as i64;
    let mut rect = pad(
        &grid_rect.rescale((grid.width as u32, grid.height as u32), (w, h)),
        margin,
        w,
        h,
    );
    for g in &grown {
        rect = rect.union(g);
    }
    let focal_point = if faces.is_empty() {
        centroid(&saliency, grid.width, &grid_rect)
            .map(|p| p.rescale((grid.width as u32, grid.height as u32), (w, h)))
            .unwrap_or(Point {
                x: rect.x + rect.width / 2,
                y: rect.y + rect.height / 2,
            })
    } else {
        faces_centre(&faces)
    };
    Roi {
        rect,
        focal_point: clamp_point(focal_point, &rect),
    }
}

/// `r` grown by `margin` on each side, clipped to a `w` x `h` image.
fn pad(r: &Rect, margin: i64, w: u32, h: u32) -> Rect {
    let x0 = (i64::from(r.x) - margin).max(0);
    let y0 = (i64::from(r.y) - margin).max(0);
    let x1 = (i64::from(r.right()) + margin).min(i64::from(w));
    let y1 = (i64::from(r.bottom()) + margin).min(i64::from(h));
    Rect {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0).max(0) as u32,
        height: (y1 - y0).max(0) as u32,
    }
}

/// A face grown to the head around it (see the module documentation), clipped to the image.
fn grow_face(f: &Rect, w: u32, h: u32) -> Rect {
    let (fw, fh) = (f64::from(f.width), f64::from(f.height));
    let x0 = (f64::from(f.x) - 0.25 * fw).max(0.0);
    let y0 = (f64::from(f.y) - FACE_HEADROOM * fh).max(0.0);
    let x1 = (f64::from(f.right()) + 0.25 * fw).min(f64::from(w));
    let y1 = (f64::from(f.bottom()) + 0.5 * fh).min(f64::from(h));
    let (x0, y0) = (x0.floor() as u32, y0.floor() as u32);
    let (x1, y1) = (x1.ceil() as u32, y1.ceil() as u32);
    Rect {
        x: x0,
        y: y0,
        width: x1.saturating_sub(x0).max(1),
        height: y1.saturating_sub(y0).max(1),
    }
}

/// Centre of the faces, weighted by their area.
fn faces_centre(faces: &[Rect]) -> Point {
    let (mut sx, mut sy, mut total) = (0f64, 0f64, 0f64);
    for f in faces {
        let a = f.area() as f64;
        sx += a * (f64::from(f.x) + f64::from(f.width) / 2.0);
        sy += a * (f64::from(f.y) + f64::from(f.height) / 2.0);
        total += a;
    }
    if total <= 0.0 {
        return Point { x: 0, y: 0 };
    }
    Point {
        x: (sx / total).floor() as u32,
        y: (sy / total).floor() as u32,
    }
}

fn clamp_point(p: Point, r: &Rect) -> Point {
    Point {
        x: p.x.clamp(r.x, r.right().saturating_sub(1).max(r.x)),
        y: p.y.clamp(r.y, r.bottom().saturating_sub(1).max(r.y)),
    }
}

/// The picture on the working grid, as luma and two opponent colour axes (levels).
struct Grid {
    width: usize,
    height: usize,
    /// `[luma, R - G, (R + G) / 2 - B, saturation, skin (0 or 1)]` per pixel.
    values: Vec<[f32; 5]>,
}

impl Grid {
    /// Box-reduces by `ceil(long side / ROI_SIDE)`; the buffer must match the size.
    fn of(image: &RgbImage) -> Grid {
        let (w, h) = (image.width as usize, image.height as usize);
        let factor = w.max(h).div_ceil(ROI_SIDE as usize).max(1);
        let (width, height) = (w.div_ceil(factor), h.div_ceil(factor));
        let mut sums = vec![[0f32; 3]; width * height];
        let mut counts = vec![0u32; width * height];
        for (y, row) in image.pixels.chunks_exact(w * 3).enumerate() {
            let base = (y / factor) * width;
            for (x, p) in row.chunks_exact(3).enumerate() {
                let cell = &mut sums[base + x / factor];
                cell[0] += f32::from(p[0]);
                cell[1] += f32::from(p[1]);
                cell[2] += f32::from(p[2]);
                counts[base + x / factor] += 1;
            }
        }
        let values = sums
            .iter()
            .zip(&counts)
            .map(|(s, &n)| {
                let n = n.max(1) as f32;
                let (r, g, b) = (s[0] / n, s[1] / n, s[2] / n);
                let luma = 0.2126 * r + 0.7152 * g + 0.0722 * b;
                let saturation = r.max(g).max(b) - r.min(g).min(b);
                // YCbCr (BT.601, full range).
                let y601 = 0.299 * r + 0.587 * g + 0.114 * b;
                let cb = 128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b;
                let cr = 128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b;
                let skin =
                    y601 > 40.0 && (77.0..=127.0).contains(&cb) && (133.0..=173.0).contains(&cr);
                [
                    luma,
                    r - g,
                    (r + g) / 2.0 - b,
                    saturation,
                    f32::from(u8::from(skin)),
                ]
            })
            .collect();
        Grid {
            width,
            height,
            values,
        }
    }

    /// The saliency map (see the module documentation), without the faces.
    fn saliency(&self) -> Vec<f32> {
        let (w, h) = (self.width, self.height);
        let n = (w * h) as f32;
        let v = &self.values;
        // Detail: L1 central-difference gradient of the luma, edges replicated.
        let mut detail = vec![0f32; w * h];
        for y in 0..h {
            let (up, down) = (y.saturating_sub(1), (y + 1).min(h - 1));
            for x in 0..w {
                let (left, right) = (x.saturating_sub(1), (x + 1).min(w - 1));
                let gx = v[y * w + right][0] - v[y * w + left][0];
                let gy = v[down * w + x][0] - v[up * w + x][0];
                detail[y * w + x] = 0.5 * (gx.abs() + gy.abs());
            }
        }
        let detail = box_blur(&detail, w, h, 2);
        let mut mean = [0f32; 3];
        for p in v {
            for (m, c) in mean.iter_mut().zip(p) {
                *m += c;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let contrast: Vec<f32> = v
            .iter()
            .map(|p| {
                let (dl, da, db) = (p[0] - mean[0], p[1] - mean[1], p[2] - mean[2]);
                (dl * dl + da * da + db * db).sqrt()
            })
            .collect();
        let norm = |values: &mut dyn Iterator<Item = f32>, floor: f32| {
            (values.sum::<f32>() / n).max(floor)
        };
        let detail_norm = norm(&mut detail.iter().copied(), DETAIL_FLOOR);
        let contrast_norm = norm(&mut contrast.iter().copied(), CONTRAST_FLOOR);
        let saturation_norm = norm(&mut v.iter().map(|p| p[3]), SATURATION_FLOOR);
        let combined: Vec<f32> = (0..w * h)
            .map(|i| {
                detail[i] / detail_norm
                    + contrast[i] / contrast_norm
                    + 0.5 * v[i][3] / saturation_norm
                    + 0.5 * v[i][4]
            })
            .collect();
        let radius = (w.max(h) / 64).max(1);
        let smooth = box_blur(&combined, w, h, radius);
        let floor = smooth.iter().sum::<f32>() / n;
        // The centre prior is separable: exp(-(dx² + dy²) / 2) = exp(-dx² / 2) exp(-dy² / 2).
        let prior = |n: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let d = (i as f32 + 0.5 - n as f32 / 2.0) / (0.3 * n as f32);
                    (-0.5 * d * d).exp()
                })
                .collect()
        };
        let (prior_x, prior_y) = (prior(w), prior(h));
        let mut out = vec![0f32; w * h];
        for ((out_row, smooth_row), &py) in out
            .chunks_exact_mut(w)
            .zip(smooth.chunks_exact(w))
            .zip(&prior_y)
        {
            for ((o, &s), &px) in out_row.iter_mut().zip(smooth_row).zip(&prior_x) {
                let centre = 0.6 + 0.4 * px * py;
                // A small constant keeps the centre prior alone when nothing stands out.
                *o = ((s - floor).max(0.0) + 1e-3) * centre;
            }
        }
        out
    }
}

/// Mean over a `(2r+1)²` window, edges replicated (separable, running sums).
fn box_blur(values: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let pass = |src: &[f32], len: usize, stride: usize, count: usize, step: usize| {
        let mut dst = vec![0f32; src.len()];
        let k = (2 * r + 1) as f32;
        for line in 0..count {
            let at = |i: isize| src[line * step + (i.clamp(0, len as isize - 1) as usize) * stride];
            let mut sum: f32 = (-(r as isize)..=r as isize).map(at).sum();
            for i in 0..len {
                dst[line * step + i * stride] = sum / k;
                sum += at(i as isize + r as isize + 1) - at(i as isize - r as isize);
            }
        }
        dst
    };
    let horizontal = pass(values, w, 1, h, w);
    pass(&horizontal, h, w, w, 1)
}

/// Adds each face's mass (rectangles on the grid) to the map.
fn add_faces(saliency: &mut [f32], w: usize, faces: &[Rect]) {
    let rest: f64 = saliency.iter().map(|&s| f64::from(s)).sum();
    let total_area: f64 = faces.iter().map(|f| f.area() as f64).sum();
    if faces.is_empty() || total_area <= 0.0 {
        return;
    }
    // Every face gets the same density: its mass is proportional to its area.
    let density = (FACE_MASS * rest.max(1e-6) / total_area) as f32;
    for f in faces {
        for y in f.y as usize..f.bottom() as usize {
            for s in &mut saliency[y * w + f.x as usize..y * w + f.right() as usize] {
                *s += density;
            }
        }
    }
}

/// The smallest rectangle, on cells of `ceil(long side / SEARCH_CELLS)` pixels, holding
/// `ROI_MASS` of the map, as `(x0, y0, x1, y1)` pixel bounds (exclusive ends) on the map.
/// Of rectangles of the same area, the one holding the most mass (so that a flat map, where
/// only the centre prior varies, gives a centred one); exact ties go to the first found
/// (top-most, then left-most).
fn smallest_rect_with_mass(map: &[f32], w: usize, h: usize) -> (usize, usize, usize, usize) {
    let cell = w.max(h).div_ceil(SEARCH_CELLS).max(1);
    let (cols, rows) = (w.div_ceil(cell), h.div_ceil(cell));
    let mut cells = vec![0f64; cols * rows];
    for y in 0..h {
        for x in 0..w {
            cells[(y / cell) * cols + x / cell] += f64::from(map[y * w + x]);
        }
    }
    let total: f64 = cells.iter().sum();
    let target = ROI_MASS * total;
    let mut best = (0, 0, cols, rows);
    let (mut best_area, mut best_mass) = (cols * rows, total);
    let mut column = vec![0f64; cols];
    for y0 in 0..rows {
        column.iter_mut().for_each(|c| *c = 0.0);
        let mut band = 0.0;
        for y1 in y0..rows {
            for (c, v) in column.iter_mut().zip(&cells[y1 * cols..(y1 + 1) * cols]) {
                *c += v;
                band += v;
            }
            let height = y1 - y0 + 1;
            if band < target || height > best_area {
                continue;
            }
            // Narrowest run of columns holding the target (two pointers).
            let (mut left, mut sum) = (0usize, 0f64);
            for right in 0..cols {
                sum += column[right];
                while left < right && sum - column[left] >= target {
                    sum -= column[left];
                    left += 1;
                }
                if sum >= target {
                    let area = (right - left + 1) * height;
                    if area < best_area || (area == best_area && sum > best_mass) {
                        (best_area, best_mass) = (area, sum);
                        best = (left, y0, right + 1, y1 + 1);
                    }
                }
            }
        }
    }
    let (x0, y0, x1, y1) = best;
    (x0 * cell, y0 * cell, (x1 * cell).min(w), (y1 * cell).min(h))
}

/// Centroid of the map's mass inside `r`; `None` when it holds none.
fn centroid(map: &[f32], w: usize, r: &Rect) -> Option<Point> {
    let (mut sx, mut sy, mut total) = (0f64, 0f64, 0f64);
    for y in r.y as usize..r.bottom() as usize {
        for x in r.x as usize..r.right() as usize {
            let s = f64::from(map[y * w + x]);
            sx += s * (x as f64 + 0.5);
            sy += s * (y as f64 + 0.5);
            total += s;
        }
    }
    (total > 0.0).then(|| Point {
        x: (sx / total).floor() as u32,
        y: (sy / total).floor() as u32,
    })
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

    fn assert_sane(img: &RgbImage, roi: &Roi) {
        let whole = rect(0, 0, img.width, img.height);
        assert!(whole.contains(&roi.rect), "{img:?}: {roi:?}");
        assert!(
            roi.rect
                .contains(&rect(roi.focal_point.x, roi.focal_point.y, 1, 1))
                || img.width == 0
                || img.height == 0,
            "{img:?}: {roi:?}"
        );
    }

    /// A textured grey background (deterministic noise of a few levels).
    fn background(x: u32, y: u32) -> [u8; 3] {
        let n = ((x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)) % 7) as u8;
        [118 + n, 120 + n, 116 + n]
    }

    #[test]
    fn degenerate_images_do_not_panic() {
        for img in [
            RgbImage::from_fn(1, 1, |_, _| [0, 0, 0]),
            RgbImage::from_fn(1, 1, |_, _| [200, 10, 10]),
            RgbImage::from_fn(1, 300, |_, y| [y as u8, 0, 0]),
            RgbImage::from_fn(300, 1, |x, _| [x as u8, 0, 0]),
            RgbImage::from_fn(2, 2, |_, _| [255, 255, 255]),
            RgbImage::from_fn(64, 48, |_, _| [0, 0, 0]),
        ] {
            let roi = region_of_interest(&img, &[]);
            assert_sane(&img, &roi);
            // Faces partly or wholly outside the image are clipped or ignored.
            let roi = region_of_interest(&img, &[rect(0, 0, 5, 5), rect(1000, 1000, 5, 5)]);
            assert_sane(&img, &roi);
        }
        let empty = RgbImage::default();
        let roi = region_of_interest(&empty, &[rect(0, 0, 1, 1)]);
        assert_eq!(roi.rect, rect(0, 0, 0, 0));
        let broken = RgbImage {
            width: 10,
            height: 10,
            pixels: vec![0; 7],
        };
        assert_eq!(region_of_interest(&broken, &[]).rect, rect(0, 0, 10, 10));
    }

    #[test]
    fn a_flat_picture_gives_a_centred_roi() {
        // Square and not, the sides a multiple of the search cells or not (a square was given
        // the left-most of its equally large rectangles, its focal point 5.5% left).
        for (w, h) in [(256, 192), (256, 256), (200, 256), (256, 64), (250, 190)] {
            for grey in [0, 128] {
                let img = RgbImage::from_fn(w, h, |_, _| [grey, grey, grey]);
                let roi = region_of_interest(&img, &[]);
                let r = roi.rect;
                let (cx, cy) = (r.x + r.width / 2, r.y + r.height / 2);
                let near = |a: u32, b: u32, side: u32| a.abs_diff(b) <= (side / 64).max(2);
                assert!(near(cx, w / 2, w) && near(cy, h / 2, h), "{w}x{h}: {roi:?}");
                // Not the whole picture, but where 85% of a long strip takes nearly all of it.
                if w <= 2 * h {
                    assert!(r.area() < u64::from(w * h), "{w}x{h}: {roi:?}");
                }
                let p = roi.focal_point;
                assert!(
                    near(p.x, w / 2, w) && near(p.y, h / 2, h),
                    "{w}x{h}: {roi:?}"
                );
            }
        }
    }

    #[test]
    fn an_off_centre_subject_holds_the_roi_and_the_focal_point() {
        // A red disk of radius 20 centred at (200, 50) on a textured grey background.
        let img = RgbImage::from_fn(256, 192, |x, y| {
            let (dx, dy) = (x as i32 - 200, y as i32 - 50);
            if dx * dx + dy * dy <= 400 {
                [210, 40, 30]
            } else {
                background(x, y)
            }
        });
        let roi = region_of_interest(&img, &[]);
        assert!(roi.rect.contains(&rect(184, 34, 32, 32)), "{roi:?}");
        assert!(roi.rect.area() < 256 * 192 / 4, "{roi:?}");
        let p = roi.focal_point;
        assert!(p.x.abs_diff(200) <= 6 && p.y.abs_diff(50) <= 6, "{roi:?}");
    }

    #[test]
    fn faces_are_covered_with_headroom_and_centre_the_focal_point() {
        let img = RgbImage::from_fn(256, 192, background);
        let faces = [rect(30, 80, 20, 24), rect(200, 60, 30, 36)];
        let roi = region_of_interest(&img, &faces);
        for f in &faces {
            let head = rect(f.x, f.y - f.height / 2, f.width, f.height + f.height / 2);
            assert!(roi.rect.contains(&head), "{roi:?} misses {head:?}");
        }
        // Weighted by area: 480 at x 40, 1080 at x 215.
        let expected_x = (480.0 * 40.0 + 1080.0 * 215.0) / 1560.0;
        assert!(
            (f64::from(roi.focal_point.x) - expected_x).abs() <= 1.0,
            "{roi:?}"
        );
    }

    #[test]
    fn the_result_is_deterministic_and_larger_images_give_about_the_same_roi() {
        let draw = |scale: u32| {
            move |x: u32, y: u32| {
                let (dx, dy) = (x as i32 - 60 * scale as i32, y as i32 - 120 * scale as i32);
                if dx * dx + dy * dy <= (15 * 15 * scale * scale) as i32 {
                    [30, 60, 200]
                } else {
                    background(x / scale, y / scale)
                }
            }
        };
        let small = RgbImage::from_fn(256, 192, draw(1));
        let big = RgbImage::from_fn(1024, 768, draw(4));
        let a = region_of_interest(&small, &[]);
        assert_eq!(a, region_of_interest(&small, &[]));
        let b = region_of_interest(&big, &[]);
        let b_small = b.rect.rescale((1024, 768), (256, 192));
        assert!(a.rect.iou(&b_small) > 0.7, "{a:?} vs {b:?}");
    }

    #[test]
    fn timing_at_the_roi_side() {
        let img = RgbImage::from_fn(ROI_SIDE, ROI_SIDE * 3 / 4, |x, y| {
            let v = ((x * 7 + y * 13) % 256) as u8;
            [v, v / 2, 255 - v]
        });
        let faces = [rect(100, 50, 30, 30)];
        let runs = 50;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(region_of_interest(std::hint::black_box(&img), &faces));
        }
        let per_call = start.elapsed() / runs;
        eprintln!(
            "region_of_interest at {}x{}: {per_call:?} per call",
            img.width, img.height
        );
        assert!(per_call.as_millis() < 50, "{per_call:?}");
    }
}
