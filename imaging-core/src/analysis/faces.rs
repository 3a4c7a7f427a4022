//! Face detection: where the faces of a photo are, as boxes with a confidence.
//!
//! The detector is SeetaFace's funnel-structured cascade (FuSt: three boosted LAB classifiers
//! for the frontal and half-profile views, then SURF-MLP stages that verify and refine the box)
//! with its frontal model `seeta_fd_frontal_v1.0.bin`, as shipped inside the `rustface` crate.
//! Model and method are under the BSD-2-Clause licence, (c) 2016 VIPL group, ICT, Chinese
//! Academy of Sciences. `build.rs` copies the model out of the rustface package that cargo
//! resolved and it is embedded here with `include_bytes!`: nothing is fetched at run time. The
//! cascade itself is evaluated by `faces/cascade.rs`, our own code written for speed on one
//! core: it finds rustface's faces (a test compares them; with rustface's rounding of the
//! resampled windows, box for box and score for score) in under a sixth of the time on a
//! processor with AVX2, about a quarter with the baseline code.
//!
//! The cascade looks at 40x40 windows over an image pyramid that starts at the size it is
//! given, so that size sets both the smallest face found and the cost. The photo is reduced
//! so that the smallest face looked for ([`DetectionSettings::min_face_fraction`] of the long
//! side, 3% by default: 61 px of a 2048-px rendition, about the faces of a 29-person group
//! photo, all of which are found) just fills the window, and no time goes to smaller faces
//! (on the corpus, through the pipeline, 2.7% found three more small faces outside the group
//! photos, in a distant crowd and a blurred night street, missed one that 3% finds, and took
//! a fifth longer on every photo: over the 60 ms a photo asked for, on a textured one). The
//! window moves by 4 px on each level. Detections are taken from score 1 (rustface's default
//! is 2); those under 8 get a second look: the cascade again on a crop of
//! the full-resolution image, the face brought to 64 px, and are kept if that look scores at
//! least [`DetectionSettings::score_threshold`] (3.5). On the photo corpus this keeps
//! every group photo face and drops the textures (a wheel, a badge, clouds) that pass at one
//! scale. It does not drop painted faces, which are faces to the model: a portrait on a wall is
//! detected.
//!
//! Cost, on one core with AVX2 (`examples/face_timing.rs --rounds 5`, medians, on a day when
//! this machine ran about a fifth slower than its best): under 1 ms for a thumbnail, 14-21 ms
//! for a 1-MP image, 13-38 ms for most 2048-px renditions, 50 ms for the group photo, whose many
//! faces go through every stage, and up to 54 ms for a photo of much fine texture (a wisteria in
//! flower), whose windows pass the LAB classifiers in numbers (9,000 windows a photo through the
//! SURF-MLP stages). About 35% of the time is the LAB classifiers on the pyramid, 45% the
//! SURF-MLP stages, the rest the grey working image and the second looks.

use crate::analysis::geometry::Rect;
use crate::pixels::RgbImage;
use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::OnceLock;

/// Long side of the rendition [`detect_faces`] wants: the 2048-px one.
///
/// The cascade cannot see faces smaller than its 40-px window. In a group photo (the Solvay
/// 1927 conference: 29 faces across a 3000-px-wide picture) a face is about 3% of the long
/// side: 31 px in the 1024 rendition, too small, 61 px in the 2048 one. The detector reduces
/// the 2048 rendition itself to the scale it needs (40/61, about 0.65), which keeps detail that
/// an upscaled 1024 rendition would have lost, at the same cost.
pub const FACE_DETECTION_SIDE: u32 = 2048;

/// A face found in an image, in that image's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels (the detector's boxes are square, but clamping at an edge may cut one).
    pub height: u32,
    /// How sure the detector is, in (0, 1): the cascade's score `s` mapped as `s / (s + 10)`,
    /// so the default threshold (score 3.5) is about 0.26 and a clear frontal face is above 0.6.
    pub confidence: f32,
}

impl Face {
    /// The box as a rectangle.
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            width: self.width,
            height: self.height,
        }
    }
}

/// The knobs of [`detect_faces_with`]; [`Default`] holds the values tuned on the photo corpus.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectionSettings {
    /// Smallest face looked for, as a fraction of the image's long side (never below 40 px).
    pub min_face_fraction: f32,
    /// Step of the sliding window, in pixels of each pyramid level (1 to 40). 4 by default,
    /// rustface's: 6 costs about a third less but misses one face of the group photo through
    /// the pipeline (the corpus evaluation), 7 misses more.
    pub window_step: u32,
    /// Ratio between two pyramid levels, in (0.1, 0.99).
    pub pyramid_factor: f32,
    /// Score a detection needs: its first-look score when that is high (8 or more), else the
    /// score of its second look at a higher resolution.
    pub score_threshold: f64,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        DetectionSettings {
            min_face_fraction: 0.03,
            window_step: 4,
            pyramid_factor: 0.8,
            score_threshold: 3.5,
        }
    }
}

/// Finds the faces in an upright sRGB image (ideally the [`FACE_DETECTION_SIDE`] rendition).
///
/// Boxes are in the pixels of `image`, sorted by confidence (highest first), then top to
/// bottom and left to right. Deterministic; an image too small to hold a face gives none.
pub fn detect_faces(image: &RgbImage) -> Vec<Face> {
    detect_faces_with(image, &DetectionSettings::default())
}

/// [`detect_faces`] with explicit settings (out-of-range values are clamped).
pub fn detect_faces_with(image: &RgbImage, settings: &DetectionSettings) -> Vec<Face> {
    let Some(model) = model() else {
        return Vec::new();
    };
    let expected = u64::from(image.width) * u64::from(image.height) * 3;
    if image.pixels.len() as u64 != expected || image.width.min(image.height) < WINDOW {
        return Vec::new();
    }
    let settings = Clamped::from(settings);
    BUFFERS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffers) => detect_in(image, model, &settings, &mut buffers),
        Err(_) => detect_in(image, model, &settings, &mut Buffers::default()),
    })
}

/// Buffers of the detection, kept between photos (one set per thread): allocating them again
/// for each photo costs the system's page faults and zeroing.
#[derive(Default)]
struct Buffers {
    /// The grey image, and the working image reduced from it.
    gray: Vec<u8>,
    work: Vec<u8>,
    /// The resampler, with its own buffers.
    resizer: Resizer,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// [`detect_faces_with`] on a checked image, with clamped settings.
fn detect_in(
    image: &RgbImage,
    model: &cascade::Model,
    settings: &Clamped,
    buffers: &mut Buffers,
) -> Vec<Face> {
    // Grey, at the scale where the smallest face looked for fills the window.
    let long_side = image.width.max(image.height) as f32;
    let min_face = (settings.min_face_fraction * long_side).max(WINDOW as f32);
    let scale = WINDOW as f32 / min_face;
    let gray_full = Gray::from_rgb(image, std::mem::take(&mut buffers.gray));
    let work = if scale < 1.0 {
        let w = ((image.width as f32 * scale).round() as u32).max(1);
        let h = ((image.height as f32 * scale).round() as u32).max(1);
        let buffer = std::mem::take(&mut buffers.work);
        gray_full.resized(w, h, &mut buffers.resizer, buffer)
    } else {
        Some(gray_full.clone())
    };
    let Some(work) = work.filter(|w| w.width.min(w.height) >= WINDOW) else {
        return Vec::new();
    };
    let sx = image.width as f32 / work.width as f32;
    let sy = image.height as f32 / work.height as f32;

    let mut faces: Vec<Face> = run_cascade(&work, model, CANDIDATE_SCORE, settings)
        .into_iter()
        .filter_map(|mut d| {
            if d.score < SURE_SCORE {
                let resizer = &mut buffers.resizer;
                d.score = recheck(&gray_full, &d, (sx, sy), model, settings, resizer);
            }
            if d.score < settings.score_threshold {
                return None;
            }
            let x0 = (d.x * sx).floor().clamp(0.0, image.width as f32);
            let y0 = (d.y * sy).floor().clamp(0.0, image.height as f32);
            let x1 = ((d.x + d.size) * sx).ceil().clamp(0.0, image.width as f32);
            let y1 = ((d.y + d.size) * sy).ceil().clamp(0.0, image.height as f32);
            let face = Face {
                x: x0 as u32,
                y: y0 as u32,
                width: (x1 - x0) as u32,
                height: (y1 - y0) as u32,
                confidence: (d.score / (d.score + 10.0)) as f32,
            };
            if face.width == 0 || face.height == 0 {
                return None;
            }
            Some(face)
        })
        .collect();
    faces.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then(a.y.cmp(&b.y))
            .then(a.x.cmp(&b.x))
    });
    buffers.gray = gray_full.pixels;
    buffers.work = work.pixels;
    faces
}

/// First-look score from which a detection is a candidate (rustface's own default is 2.0).
const CANDIDATE_SCORE: f64 = 1.0;
/// First-look score from which a detection needs no second look.
const SURE_SCORE: f64 = 8.0;
/// Size a doubtful detection is brought to for its second look.
const RECHECK_SIZE: f32 = 64.0;

/// A second look at a doubtful detection `d` (in working pixels; `sx`, `sy` map them to
/// `full`): the cascade again, on a crop of the full-resolution grey image around it, scaled
/// so that the face is about 64 px. A face scores as well or better with more pixels on it;
/// a texture that happened to fit the 40-px window at one scale mostly does not. Returns the
/// best score of a box there that overlaps `d`, or 0.
fn recheck(
    full: &Gray,
    d: &Detection,
    (sx, sy): (f32, f32),
    model: &cascade::Model,
    settings: &Clamped,
    resizer: &mut Resizer,
) -> f64 {
    let (x, y, size) = (d.x * sx, d.y * sy, d.size * sx.max(sy));
    let pad = size * 0.5;
    let x0 = (x - pad).floor().clamp(0.0, full.width as f32) as u32;
    let y0 = (y - pad).floor().clamp(0.0, full.height as f32) as u32;
    let x1 = (x + size + pad).ceil().clamp(0.0, full.width as f32) as u32;
    let y1 = (y + size + pad).ceil().clamp(0.0, full.height as f32) as u32;
    if x1 <= x0 || y1 <= y0 {
        return 0.0;
    }
    let crop = full.crop(x0, y0, x1, y1);
    let zoom = RECHECK_SIZE / size;
    let w = (crop.width as f32 * zoom).round() as u32;
    let h = (crop.height as f32 * zoom).round() as u32;
    let Some(crop) = crop
        .resized(w, h, resizer, Vec::new())
        .filter(|c| c.width.min(c.height) >= WINDOW)
    else {
        return 0.0;
    };
    let expected = Detection {
        x: (x - x0 as f32) * zoom,
        y: (y - y0 as f32) * zoom,
        size: size * zoom,
        score: 0.0,
    };
    let best = run_cascade(&crop, model, CANDIDATE_SCORE, settings)
        .iter()
        .filter(|c| c.iou(&expected) > 0.3)
        .map(|c| c.score)
        .fold(0.0, f64::max);
    best
}

mod cascade;

/// The cascade's window side.
const WINDOW: u32 = cascade::WINDOW;

static MODEL_BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seeta_fd_frontal_v1.0.bin"));

/// The embedded model, parsed once; `None` if it does not parse.
fn model() -> Option<&'static cascade::Model> {
    static MODEL: OnceLock<Option<cascade::Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| cascade::Model::parse(MODEL_BYTES))
        .as_ref()
}

/// Settings within the ranges the cascade is meant for (rustface panics outside them).
struct Clamped {
    min_face_fraction: f32,
    window_step: u32,
    pyramid_factor: f32,
    score_threshold: f64,
}

impl From<&DetectionSettings> for Clamped {
    fn from(s: &DetectionSettings) -> Self {
        let finite = |v: f32, d: f32| if v.is_finite() { v } else { d };
        Clamped {
            min_face_fraction: finite(s.min_face_fraction, 0.0).clamp(0.0, 1.0),
            window_step: s.window_step.clamp(1, WINDOW),
            pyramid_factor: finite(s.pyramid_factor, 0.8).clamp(0.1, 0.99),
            score_threshold: if s.score_threshold.is_finite() {
                s.score_threshold.max(0.01)
            } else {
                2.0
            },
        }
    }
}

/// An 8-bit grey image, row-major, tightly packed.
#[derive(Clone)]
struct Gray {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Gray {
    /// BT.601 luma, as the model was trained on, in `buffer` (emptied first).
    fn from_rgb(image: &RgbImage, buffer: Vec<u8>) -> Gray {
        let (rgb, _) = image.pixels.as_chunks::<3>();
        let mut pixels = buffer;
        pixels.clear();
        pixels.extend(rgb.iter().map(|p| {
            // At most 256 * 255 + 128: 16 bits hold it, and the compiler vectorises it.
            let y = 77 * u16::from(p[0]) + 150 * u16::from(p[1]) + 29 * u16::from(p[2]);
            ((y + 128) >> 8) as u8
        }));
        Gray {
            width: image.width,
            height: image.height,
            pixels,
        }
    }

    /// Resized with a bilinear filter (antialiased when shrinking) by `resizer`, into `buffer`;
    /// `None` on a bad size.
    fn resized(
        &self,
        width: u32,
        height: u32,
        resizer: &mut Resizer,
        buffer: Vec<u8>,
    ) -> Option<Gray> {
        let source = ImageRef::new(self.width, self.height, &self.pixels, PixelType::U8).ok()?;
        let len = width as usize * height as usize;
        // Every pixel is written by the resampler: the buffer is only grown, not cleared.
        let mut buffer = buffer;
        buffer.resize(len, 0);
        let mut dst = Image::from_vec_u8(width, height, buffer, PixelType::U8).ok()?;
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        resizer.resize(&source, &mut dst, &options).ok()?;
        let mut pixels = dst.into_vec();
        pixels.truncate(len);
        Some(Gray {
            width,
            height,
            pixels,
        })
    }

    /// The part inside `[x0, x1) x [y0, y1)`, which the caller has clamped to the image.
    fn crop(&self, x0: u32, y0: u32, x1: u32, y1: u32) -> Gray {
        let w = self.width as usize;
        let mut pixels = Vec::with_capacity(((x1 - x0) * (y1 - y0)) as usize);
        for y in y0 as usize..y1 as usize {
            pixels.extend_from_slice(&self.pixels[y * w + x0 as usize..y * w + x1 as usize]);
        }
        Gray {
            width: x1 - x0,
            height: y1 - y0,
            pixels,
        }
    }
}

/// A square in the working image, with the cascade's score.
#[derive(Debug, Clone, Copy)]
struct Detection {
    x: f32,
    y: f32,
    size: f32,
    score: f64,
}

impl Detection {
    fn iou(&self, other: &Detection) -> f32 {
        let ix = (self.x + self.size).min(other.x + other.size) - self.x.max(other.x);
        let iy = (self.y + self.size).min(other.y + other.size) - self.y.max(other.y);
        if ix <= 0.0 || iy <= 0.0 {
            return 0.0;
        }
        let inter = ix * iy;
        inter / (self.size * self.size + other.size * other.size - inter)
    }

    /// Whether the centre of `other` lies inside `self`.
    fn holds_centre_of(&self, other: &Detection) -> bool {
        let (cx, cy) = (other.x + other.size / 2.0, other.y + other.size / 2.0);
        cx >= self.x && cx < self.x + self.size && cy >= self.y && cy < self.y + self.size
    }
}

/// Greedy non-maximum suppression: best first, dropping any box that overlaps a kept one by
/// more than `iou` or shares its centre with it (one face seen at two scales).
fn merge(mut boxes: Vec<Detection>, iou: f32) -> Vec<Detection> {
    boxes.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.y.total_cmp(&b.y))
            .then(a.x.total_cmp(&b.x))
    });
    let mut kept: Vec<Detection> = Vec::new();
    for b in boxes {
        if kept
            .iter()
            .all(|k| k.iou(&b) <= iou && !k.holds_centre_of(&b) && !b.holds_centre_of(k))
        {
            kept.push(b);
        }
    }
    kept
}

thread_local! {
    /// The cascade's scratch buffers, one set per thread, kept between photos.
    static SCRATCH: RefCell<cascade::Scratch> = RefCell::new(cascade::Scratch::default());
}

/// The cascade's detections in `work` scoring at least `threshold`, in its pixels, overlapping
/// ones merged.
fn run_cascade(
    work: &Gray,
    model: &cascade::Model,
    threshold: f64,
    settings: &Clamped,
) -> Vec<Detection> {
    let search = cascade::Search {
        step: settings.window_step,
        factor: settings.pyramid_factor,
    };
    let found = SCRATCH.with(|cell| {
        // The cascade checks its input and indexes within bounds; the guard only keeps a bug
        // of it from taking a photo's whole analysis down (no faces instead).
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cascade::detect(
                model,
                &work.pixels,
                work.width,
                work.height,
                search,
                threshold,
                &mut cell.borrow_mut(),
            )
        }))
        .unwrap_or_default()
    });
    let detections = found
        .iter()
        .map(|c| Detection {
            x: c.x as f32,
            y: c.y as f32,
            size: c.size as f32,
            score: c.score,
        })
        .collect();
    merge(detections, 0.3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_parses() {
        assert!(model().is_some());
        assert!(cascade::Model::parse(&MODEL_BYTES[..MODEL_BYTES.len() - 4]).is_none());
    }

    /// Our cascade against rustface's, on corpus photos with faces, at the scale the detector
    /// works at: with the windows rounded as rustface rounds them, the same boxes, and the
    /// same scores but for float rounding; resampled exactly, the same faces (boxes overlapping
    /// by 70%, scores within 10%). Both with the baseline copies of the hot loops too.
    #[test]
    fn the_cascade_gives_rustfaces_boxes_and_scores() {
        let root = test_support::photos_dir();
        let model = model().expect("model");
        let theirs = rustface::read_model(MODEL_BYTES).expect("rustface reads the model");
        let mut detector = rustface::create_detector_with_model(theirs);
        detector.set_score_thresh(CANDIDATE_SCORE);
        let mut scratch = cascade::Scratch::default();
        for name in [
            "faces/hopper.jpg",
            "faces/two_people_obama_biden.jpg",
            "faces/curie_portrait.jpg",
            "faces/solvay_conference_1927.jpg",
        ] {
            let bytes = std::fs::read(root.join(name)).expect("corpus photo");
            let image = crate::decode(&bytes, &crate::Limits::default(), None)
                .expect("decodes")
                .image;
            let gray = Gray::from_rgb(&image, Vec::new());
            let long = gray.width.max(gray.height);
            let gray = if long > 1500 {
                let k = 1500.0 / long as f32;
                let (w, h) = (gray.width as f32 * k, gray.height as f32 * k);
                let mut resizer = Resizer::default();
                gray.resized(w as u32, h as u32, &mut resizer, Vec::new())
                    .expect("resizes")
            } else {
                gray
            };
            let search = cascade::Search {
                step: 4,
                factor: 0.8,
            };
            let mut detect = || {
                cascade::detect(
                    model,
                    &gray.pixels,
                    gray.width,
                    gray.height,
                    search,
                    CANDIDATE_SCORE,
                    &mut scratch,
                )
            };
            let ours = detect();
            let rounded = cascade::rustface_rounding_only(&mut detect);
            // The copies of the hot loops that processors without AVX2 run give the same.
            assert_eq!(
                cascade::baseline_only(&mut detect),
                ours,
                "{name}: baseline"
            );
            assert_eq!(
                cascade::baseline_only(|| cascade::rustface_rounding_only(&mut detect)),
                rounded,
                "{name}: baseline, rustface's rounding"
            );
            let theirs = detector.detect(&rustface::ImageData::new(
                &gray.pixels,
                gray.width,
                gray.height,
            ));
            assert!(!ours.is_empty(), "{name}: no faces");
            // With the windows rounded as rustface rounds them, the same boxes and scores.
            assert_eq!(rounded.len(), theirs.len(), "{name}: {rounded:?}");
            for (a, b) in rounded.iter().zip(&theirs) {
                let bb = b.bbox();
                assert_eq!(
                    (a.x, a.y, a.size),
                    (bb.x(), bb.y(), bb.width()),
                    "{name}: {rounded:?}"
                );
                assert!((a.score - b.score()).abs() < 1e-3, "{name}: {a:?}");
            }
            // Resampled exactly, the same faces: each of rustface's boxes has one of ours
            // overlapping it by 70% or more, with a score within 10%.
            assert_eq!(ours.len(), theirs.len(), "{name}: {ours:?}");
            let mut unmatched = ours.clone();
            for b in &theirs {
                let bb = b.bbox();
                let theirs = Rect {
                    x: bb.x().max(0) as u32,
                    y: bb.y().max(0) as u32,
                    width: bb.width(),
                    height: bb.height(),
                };
                let at = unmatched.iter().position(|a| {
                    let ours = Rect {
                        x: a.x.max(0) as u32,
                        y: a.y.max(0) as u32,
                        width: a.size,
                        height: a.size,
                    };
                    ours.iou(&theirs) >= 0.7 && (a.score - b.score()).abs() <= 0.1 * b.score()
                });
                let at = at.unwrap_or_else(|| panic!("{name}: {bb:?} not in {unmatched:?}"));
                unmatched.swap_remove(at);
            }
        }
    }

    #[test]
    fn tiny_flat_and_malformed_images_give_no_faces() {
        for (w, h) in [
            (0, 0),
            (1, 1),
            (39, 200),
            (200, 39),
            (40, 40),
            (64, 48),
            (3000, 41),
        ] {
            let grey = RgbImage::from_raw(w, h, vec![128; (w * h * 3) as usize]).expect("size");
            assert!(detect_faces(&grey).is_empty(), "{w}x{h}");
        }
        let wrong_length = RgbImage {
            width: 100,
            height: 100,
            pixels: vec![0; 10],
        };
        assert!(detect_faces(&wrong_length).is_empty());
    }

    #[test]
    fn noise_gives_no_faces_and_the_same_answer_twice() {
        let mut state = 12345u32;
        let pixels: Vec<u8> = (0..300 * 200 * 3)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        let noise = RgbImage::from_raw(300, 200, pixels).expect("size");
        let first = detect_faces(&noise);
        assert_eq!(first, detect_faces(&noise));
        assert!(first.is_empty(), "{first:?}");
    }

    #[test]
    fn extreme_settings_are_clamped_instead_of_panicking() {
        let img = RgbImage::from_raw(64, 64, vec![90; 64 * 64 * 3]).expect("size");
        let wild = DetectionSettings {
            min_face_fraction: f32::NAN,
            window_step: 0,
            pyramid_factor: 5.0,
            score_threshold: -1.0,
        };
        assert!(detect_faces_with(&img, &wild).is_empty());
    }
}
