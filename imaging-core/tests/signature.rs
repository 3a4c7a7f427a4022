//! The near-duplicate signature on the real photo corpus: edited copies of a photo stay within
//! the threshold, different photos stay outside it.
//!
//! Every signature is computed from the photo's bytes through [`render_renditions`] (default
//! options), its stored 256 rendition (JPEG) decoded back, then [`signature`]. (Production
//! takes the rendition's pixels before the JPEG encoding.)
//! Edited copies are made from the photo's 2048 rendition (its upright sRGB pixels), encoded
//! as JPEG and sent down the same path.

use imaging_core::analysis::signature::{distance, signature, Signature, NEAR_DUPLICATE_THRESHOLD};
use imaging_core::resize::Resizer;
use imaging_core::{decode, encode_jpeg, render_renditions, Limits, RenditionOptions, RgbImage};

use test_support::photo_paths;

/// The folders of real photos (`broken/` holds malformed files, not photos).
const FOLDERS: [&str; 4] = ["camera", "exif-orientation", "faces", "formats"];

/// JPEG quality of the edited copies other than the re-encoded one, high enough that only the
/// edit itself matters.
const EDIT_QUALITY: u8 = 95;

/// The decoded rendition of longest side `side`.
fn rendition(set: &imaging_core::RenditionSet, side: u32) -> RgbImage {
    let r = set.renditions.iter().find(|r| r.max_side == side);
    let jpeg = &r.expect("rendition present").jpeg;
    decode(jpeg, &Limits::default(), None)
        .expect("a rendition decodes")
        .image
}

/// The signature of a photo's bytes (of its decoded 256 rendition), with its decoded 2048
/// rendition.
fn signature_of(bytes: &[u8]) -> imaging_core::Result<(Signature, RgbImage)> {
    let set = render_renditions(bytes, &RenditionOptions::default())?;
    Ok((signature(&rendition(&set, 256)), rendition(&set, 2048)))
}

struct Photo {
    key: String,
    signature: Signature,
    /// The 2048 rendition, upright sRGB.
    pixels: RgbImage,
}

/// Every photo of [`FOLDERS`] that the rendition job reads; the others are skipped.
fn corpus() -> Vec<Photo> {
    let mut photos = Vec::new();
    for folder in FOLDERS {
        for path in photo_paths(folder) {
            let key = format!(
                "{folder}/{}",
                path.file_name().expect("name").to_string_lossy()
            );
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{key}: {e}"));
            match signature_of(&bytes) {
                Ok((signature, pixels)) => photos.push(Photo {
                    key,
                    signature,
                    pixels,
                }),
                Err(e) => eprintln!("skipped {key}: {e}"),
            }
        }
    }
    photos
}

/// Files that are genuinely the same photograph (checked by eye and against the manifest), with
/// why: being within the threshold of each other is then right, not a collision.
///
/// Looked at and deliberately NOT grouped: `formats/jpeg_panorama_strip_10to1.jpg` is a
/// 10:1 strip (the middle 22% of the height) of `formats/jpeg_panorama_pixel.jpg`, a different
/// framing rather than a copy; `camera/pixel_IMG_20180725_163423.jpg` was taken nine minutes
/// after that panorama at the same place (same path through fields) but is a different shot;
/// the `Landscape_*` and `Portrait_*` sets are two different waterfall photos;
/// `faces/obama_official_portrait.jpg` and `faces/two_people_obama_biden.jpg` are different
/// photos of the same man. All of these must stay apart.
fn same_picture_groups() -> Vec<(&'static str, Vec<String>)> {
    let numbered = |name: &str| -> Vec<String> {
        (0..=8)
            .map(|n| format!("exif-orientation/{name}_{n}.jpg"))
            .collect()
    };
    let list = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
    vec![
        (
            "one waterfall landscape stored with each EXIF orientation; upright, only the digit \
             in the overlay differs",
            numbered("Landscape"),
        ),
        (
            "one waterfall portrait stored with each EXIF orientation; upright, only the digit \
             in the overlay differs",
            numbered("Portrait"),
        ),
        (
            "the Curies' portrait, and the same picture in grey, stored rotated with EXIF \
             orientation 6 and labelled Top/Bottom/Left/Right (manifest: same scene)",
            list(&[
                "faces/curie_portrait.jpg",
                "faces/curie_portrait_orientation6.jpg",
            ]),
        ),
        (
            "Pillow's 128x128 Grace Hopper test picture: in colour, in grey, and as a TIFF",
            list(&[
                "faces/hopper.jpg",
                "formats/jpeg_grayscale_hopper.jpg",
                "formats/tiff_rgb_hopper.tif",
            ]),
        ),
        (
            "libvips' 290x442 sample picture (man walking in a field) as a 16-bit PNG and as a \
             JPEG with an A98 profile: same framing, slightly different colour",
            list(&[
                "formats/png_16bit_rgb_sample.png",
                "formats/jpeg_icc_a98_small.jpg",
            ]),
        ),
        (
            "one CMYK photo (man, baby, dog in a park) with and without its SWOP profile \
             (manifest: same CMYK photo)",
            list(&[
                "formats/jpeg_cmyk_no_icc.jpg",
                "formats/jpeg_cmyk_swop_icc.jpg",
            ]),
        ),
    ]
}

fn same_picture(a: &str, b: &str, groups: &[(&str, Vec<String>)]) -> bool {
    groups
        .iter()
        .any(|(_, keys)| keys.iter().any(|k| k == a) && keys.iter().any(|k| k == b))
}

/// A 1x1 picture is degenerate: a single pixel has no structure to hash (every 1x1 image has
/// the same signature), so the corpus' two `formats/png_1x1_*.png` are left out of both checks.
fn degenerate(photo: &Photo) -> bool {
    photo.pixels.width < 2 || photo.pixels.height < 2
}

/// Every channel multiplied by `factor`, clipped.
fn brighten(image: &RgbImage, factor: f32) -> RgbImage {
    let pixels = image
        .pixels
        .iter()
        .map(|&v| (f32::from(v) * factor).round().min(255.0) as u8)
        .collect();
    RgbImage::from_raw(image.width, image.height, pixels).expect("same size")
}

/// `fraction` of the width and of the height cut off each side.
fn crop(image: &RgbImage, fraction: f64) -> RgbImage {
    let cut = |len: u32| (f64::from(len) * fraction).round() as u32;
    let (dx, dy) = (cut(image.width), cut(image.height));
    let (w, h) = (image.width - 2 * dx, image.height - 2 * dy);
    let row = image.width as usize * 3;
    let pixels = (dy..dy + h)
        .flat_map(|y| {
            let start = y as usize * row + dx as usize * 3;
            image.pixels[start..start + w as usize * 3].iter().copied()
        })
        .collect();
    RgbImage::from_raw(w, h, pixels).expect("cropped size")
}

/// The edited copies of a photo, as JPEG files.
fn edited_copies(image: &RgbImage, resizer: &mut Resizer) -> Vec<(&'static str, Vec<u8>)> {
    let half = resizer
        .resize(image, (image.width / 2).max(1), (image.height / 2).max(1))
        .expect("resize");
    let edits = [
        ("re-encoded at JPEG q60", encode_jpeg(image, 60)),
        ("resized to 50%", encode_jpeg(&half, EDIT_QUALITY)),
        (
            "cropped 5% (2.5% each side)",
            encode_jpeg(&crop(image, 0.025), EDIT_QUALITY),
        ),
        (
            "brightened 10%",
            encode_jpeg(&brighten(image, 1.1), EDIT_QUALITY),
        ),
    ];
    edits
        .into_iter()
        .map(|(name, jpeg)| (name, jpeg.expect("encode")))
        .collect()
}

#[test]
fn edited_copies_are_near_duplicates_and_different_photos_are_not() {
    let groups = same_picture_groups();
    let all = corpus();
    let photos: Vec<&Photo> = all.iter().filter(|p| !degenerate(p)).collect();
    assert_eq!(
        all.len() - photos.len(),
        2,
        "only the two 1x1 PNGs are degenerate"
    );
    assert!(photos.len() >= 50, "only {} photos read", photos.len());
    for (why, keys) in &groups {
        for key in keys {
            assert!(
                photos.iter().any(|p| &p.key == key),
                "{key} ({why}) was not read"
            );
        }
    }
    let mut failures = Vec::new();

    // 1. Edited copies stay within the threshold.
    let mut resizer = Resizer::default();
    let mut largest_edit = (0, String::new());
    let mut largest_per_edit: Vec<(&str, u32, &str)> = Vec::new();
    for photo in &photos {
        for (edit, jpeg) in edited_copies(&photo.pixels, &mut resizer) {
            let (copy, _) = signature_of(&jpeg).expect("an edited copy renders");
            let d = distance(&photo.signature, &copy);
            if d > largest_edit.0 {
                largest_edit = (d, format!("{} {edit}", photo.key));
            }
            match largest_per_edit
                .iter_mut()
                .find(|(name, _, _)| *name == edit)
            {
                Some(entry) if entry.1 >= d => {}
                Some(entry) => *entry = (edit, d, &photo.key),
                None => largest_per_edit.push((edit, d, &photo.key)),
            }
            if d > NEAR_DUPLICATE_THRESHOLD {
                failures.push(format!("{} {edit}: distance {d}", photo.key));
            }
        }
    }

    // 2. Different photos stay outside it. Same pictures are checked to be within it, which
    // confirms that a group does not hide a collision between different photos.
    let mut different = Vec::new();
    let mut largest_same = (0, String::new());
    for (i, a) in photos.iter().enumerate() {
        for b in &photos[i + 1..] {
            let d = distance(&a.signature, &b.signature);
            if same_picture(&a.key, &b.key, &groups) {
                if d > largest_same.0 {
                    largest_same = (d, format!("{} vs {}", a.key, b.key));
                }
                if d > NEAR_DUPLICATE_THRESHOLD {
                    failures.push(format!(
                        "same picture {} and {}: distance {d}",
                        a.key, b.key
                    ));
                }
                continue;
            }
            if d <= NEAR_DUPLICATE_THRESHOLD {
                failures.push(format!("{} and {}: distance {d}", a.key, b.key));
            }
            different.push((d, format!("{} vs {}", a.key, b.key)));
        }
    }
    different.sort();

    eprintln!(
        "threshold {NEAR_DUPLICATE_THRESHOLD}; largest distance of an edited copy {} ({}); \
         smallest distance between different photos {} ({}), over {} pairs",
        largest_edit.0,
        largest_edit.1,
        different[0].0,
        different[0].1,
        different.len()
    );
    for (edit, d, key) in &largest_per_edit {
        eprintln!("  largest distance of a copy {edit}: {d:3} {key}");
    }
    eprintln!(
        "largest distance within a same-picture group {} ({})",
        largest_same.0, largest_same.1
    );
    for (d, pair) in different.iter().take(5) {
        eprintln!("  nearest different photos: {d:3} {pair}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
