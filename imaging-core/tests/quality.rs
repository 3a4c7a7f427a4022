//! Quality scores and dominant colours on the real photo corpus.
//!
//! The degraded versions are made the way a user's photo would be degraded (blur or a tone
//! curve on the full-size decoded picture), then put through the pipeline (JPEG q92, the
//! rendition job with its default options, the 1024-px rendition decoded back), and that
//! rendition is what is assessed, as the pipeline will.

use imaging_core::analysis::colors::dominant_colors;
use imaging_core::analysis::quality::{assess, Quality};
use imaging_core::{
    apply_orientation, decode, encode_jpeg, render_renditions, Limits, RenditionOptions, RgbImage,
};

use test_support::photos_in;

/// The full-size upright picture.
fn full_size(bytes: &[u8]) -> RgbImage {
    let decoded = decode(bytes, &Limits::default(), None).expect("decodes");
    apply_orientation(decoded.image, decoded.orientation)
}

/// What the pipeline would analyse for a photo whose pixels are `image`: JPEG q92, the
/// rendition job with default options, its 1024-px rendition decoded back.
fn rendition_1024(image: &RgbImage) -> RgbImage {
    let jpeg = encode_jpeg(image, 92).expect("encodes");
    let set = render_renditions(&jpeg, &RenditionOptions::default()).expect("renders");
    let r = set
        .renditions
        .iter()
        .find(|r| r.max_side == 1024)
        .expect("a 1024 rendition");
    decode(&r.jpeg, &Limits::default(), None)
        .expect("rendition decodes")
        .image
}

/// Separable Gaussian blur (kernel radius 3σ, edges replicated); σ = 0 returns a copy.
fn gaussian_blur(image: &RgbImage, sigma: f32) -> RgbImage {
    if sigma <= 0.0 {
        return image.clone();
    }
    let radius = (3.0 * sigma).ceil() as usize;
    let mut kernel: Vec<f32> = (0..=2 * radius)
        .map(|i| {
            let d = i as f32 - radius as f32;
            (-d * d / (2.0 * sigma * sigma)).exp()
        })
        .collect();
    let total: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= total);

    let (w, h) = (image.width as usize, image.height as usize);
    let stride = w * 3;
    let mut out = vec![0u8; image.pixels.len()];
    // One row at a time: vertical pass into a padded row, then the horizontal pass.
    let mut padded = vec![0f32; (w + 2 * radius) * 3];
    for (y, out_row) in out.chunks_exact_mut(stride).enumerate() {
        let column = &mut padded[radius * 3..(radius + w) * 3];
        column.iter_mut().for_each(|v| *v = 0.0);
        for (k, &weight) in kernel.iter().enumerate() {
            let sy = (y + k).saturating_sub(radius).min(h - 1);
            let row = &image.pixels[sy * stride..(sy + 1) * stride];
            for (v, &p) in column.iter_mut().zip(row) {
                *v += weight * f32::from(p);
            }
        }
        for i in 0..radius {
            for c in 0..3 {
                padded[i * 3 + c] = padded[radius * 3 + c];
                padded[(radius + w + i) * 3 + c] = padded[(radius + w - 1) * 3 + c];
            }
        }
        for (x, px) in out_row.chunks_exact_mut(3).enumerate() {
            let mut acc = [0f32; 3];
            let window = &padded[x * 3..(x + 2 * radius + 1) * 3];
            for (&weight, p) in kernel.iter().zip(window.chunks_exact(3)) {
                for c in 0..3 {
                    acc[c] += weight * p[c];
                }
            }
            for c in 0..3 {
                px[c] = acc[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    RgbImage::from_raw(image.width, image.height, out).expect("same size")
}

/// `255 (v / 255)^gamma` on every channel value.
fn apply_gamma(image: &RgbImage, gamma: f32) -> RgbImage {
    let lut: Vec<u8> = (0..=255u8)
        .map(|v| (255.0 * (f32::from(v) / 255.0).powf(gamma)).round() as u8)
        .collect();
    let pixels = image.pixels.iter().map(|&v| lut[usize::from(v)]).collect();
    RgbImage::from_raw(image.width, image.height, pixels).expect("same size")
}

/// A score with 4 significant digits, so that tiny scores still show their order.
fn sig(v: f32) -> String {
    if v != 0.0 && v.abs() < 0.01 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

fn show(q: &Quality) -> String {
    format!(
        "sharp {:.4} expo {:.4} noise {:.4} overall {:.4}",
        q.sharpness, q.exposure, q.noise, q.overall
    )
}

#[test]
fn sharpness_falls_strictly_along_a_blur_ladder_on_every_camera_photo() {
    let sigmas = [0.0f32, 1.0, 2.0, 4.0];
    let mut failures = Vec::new();
    let mut max_ratio = 0f32;
    for (name, bytes) in photos_in("camera") {
        let full = full_size(&bytes);
        let scores: Vec<Quality> = sigmas
            .iter()
            .map(|&s| assess(&rendition_1024(&gaussian_blur(&full, s))))
            .collect();
        let ladder: Vec<String> = scores
            .iter()
            .map(|q| format!("{:.4}", q.sharpness))
            .collect();
        eprintln!(
            "sharpness {name} ({}x{}), blur σ {sigmas:?}: {}",
            full.width,
            full.height,
            ladder.join(" > ")
        );
        for (i, pair) in scores.windows(2).enumerate() {
            max_ratio = max_ratio.max(pair[1].sharpness / pair[0].sharpness);
            if pair[1].sharpness >= pair[0].sharpness {
                failures.push(format!(
                    "{name}: σ {} scores {} but σ {} scores {}",
                    sigmas[i],
                    pair[0].sharpness,
                    sigmas[i + 1],
                    pair[1].sharpness
                ));
            }
        }
    }
    eprintln!("sharpness: largest ratio of a blurrier step to the step before: {max_ratio:.4}");
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The night scene whose camera exposure is not the correct one (see the test below).
const UNDEREXPOSED: &str = "canon_eos1300d_canon-dslr.jpg";

/// Photos on which the exposure score does NOT rank the camera's exposure best, and why.
/// Reported to the lead; removing a line makes the test fail on that photo again.
///
/// The wisteria close-up is hazy: nothing in it is dark (1st percentile of luma 51/255, mean
/// 143/255, 1.7 % of clipped white flowers). Its gamma-2 version has a full tonal range
/// (black point 10/255, mean 94/255, the same highlights) and scores better on every
/// histogram measure tried (mean, centre-weighted mean, median, black point, clipping, and
/// their combinations). Its luma histograms at gamma 1 and 2 are close (Kolmogorov-Smirnov
/// distance 0.10) to those of the Olympus museum shot at gamma 0.5 and 1, where the camera
/// exposure is the darker one, so no function of the histogram ranks both photos' camera
/// exposure first. The score does rank it above the brighter gamma-0.5 version.
///
/// The falcon on a sunlit white cliff is high-key too (centre-weighted mean luma 0.62): its
/// gamma-2 version meters at 0.45, near the mid-tone target (0.43). Only 1-2 % of that version
/// is pure black, which the score charged as clipping (3 % a factor of e) until pure black got
/// its own, gentler rule (5 % free, a fifth of the picture a factor of e: see
/// `black_areas_of_well_lit_portraits_are_not_scored_as_clipping`); the evaluation
/// (`benches/eval`) scored that version best before as well (0.612 against 0.580).
const PREFERS_DARKER: &[&str] = &["iphone6_hdr_NO.jpg", "canon_eosr5_prairie_falcon.jpg"];

#[test]
fn exposure_ranks_the_camera_exposure_best_on_a_gamma_ladder() {
    let gammas = [0.5f32, 1.0, 2.0];
    let mut failures = Vec::new();
    for (name, bytes) in photos_in("camera") {
        let full = full_size(&bytes);
        let scores: Vec<Quality> = gammas
            .iter()
            .map(|&g| assess(&rendition_1024(&apply_gamma(&full, g))))
            .collect();
        let [brighter, camera, darker] = [scores[0], scores[1], scores[2]].map(|q| q.exposure);
        eprintln!(
            "exposure {name}, gamma 0.5 / 1 / 2: {} / {} / {} (margins {:+.4} {:+.4}); \
             at gamma 1: {}",
            sig(brighter),
            sig(camera),
            sig(darker),
            camera - brighter,
            camera - darker,
            show(&scores[1])
        );
        if name == UNDEREXPOSED {
            // A night scene recorded nearly black (the manifest: "very dark/underexposed"):
            // mean luma under 2/255, about 80 % of the pixels at luma 3 or less. Its correct
            // exposure is brighter than what the camera recorded, so the ladder must rank the
            // brighter version first, and the camera exposure must score as bad.
            if !(brighter > camera && camera > darker && camera < 0.05) {
                failures.push(format!(
                    "{name} (underexposed): want gamma 0.5 > 1 > 2 and gamma 1 < 0.05, \
                     got {brighter} / {camera} / {darker}"
                ));
            }
        } else if PREFERS_DARKER.contains(&name.as_str()) {
            eprintln!(
                "exposure {name}: KNOWN EXCEPTION, the score prefers gamma 2 (see PREFERS_DARKER)"
            );
            // Still an exception (else the line goes), and still above the brighter version.
            if !(darker > camera && camera > brighter) {
                failures.push(format!(
                    "{name} (known exception): want gamma 2 > 1 > 0.5, got {brighter} / {camera} / {darker}"
                ));
            }
        } else if !(camera > brighter && camera > darker) {
            failures.push(format!(
                "{name}: gamma 0.5 / 1 / 2 score {brighter} / {camera} / {darker}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Well-lit portraits with large black areas (a black helmet and background, dark suits, a
/// black-and-white photo's shadows), by eye well exposed: 5-18 % of their pixels at luma 3 or
/// less, which the rule for white (half a percent free, 3 % a factor of e), once applied to
/// black too, scored 0.002 to 0.13 (`photo-suite analyze`). Here they score 0.34 to 0.72.
const DARK_AREAS_WELL_LIT: [&str; 4] = [
    "astronaut_eileen_collins.png",
    "curie_portrait.jpg",
    "hawking_obama_white_house.jpg",
    "two_people_obama_biden.jpg",
];

#[test]
fn black_areas_of_well_lit_portraits_are_not_scored_as_clipping() {
    let mut seen = 0;
    let mut failures = Vec::new();
    for (name, bytes) in photos_in("faces") {
        if !DARK_AREAS_WELL_LIT.contains(&name.as_str()) {
            continue;
        }
        seen += 1;
        let q = assess(&rendition_1024(&full_size(&bytes)));
        eprintln!("{name}: {}", show(&q));
        if q.exposure < 0.25 {
            failures.push(format!("{name}: exposure {}", q.exposure));
        }
    }
    assert_eq!(
        seen,
        DARK_AREAS_WELL_LIT.len(),
        "every listed photo is in faces/"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn half_red_half_blue_gives_red_and_blue_at_one_half_each() {
    let w = 200u32;
    let image = RgbImage::from_fn(
        w,
        100,
        |x, _| if x < w / 2 { [255, 0, 0] } else { [0, 0, 255] },
    );
    let colours = dominant_colors(&image, 5);
    eprintln!("half red, half blue: {colours:?}");
    assert!(colours.len() >= 2, "{colours:?}");
    let mut top: Vec<&str> = colours[..2].iter().map(|c| c.hex.as_str()).collect();
    top.sort();
    assert_eq!(top, ["#0000ff", "#ff0000"]);
    for c in &colours[..2] {
        assert!((c.weight - 0.5).abs() < 0.01, "{colours:?}");
    }
}

#[test]
fn dominant_colours_of_real_photos_are_at_most_five_sorted_and_sum_to_one() {
    for folder in ["camera", "faces"] {
        for (name, bytes) in photos_in(folder) {
            let image = rendition_1024(&full_size(&bytes));
            let colours = dominant_colors(&image, 5);
            let summary: Vec<String> = colours
                .iter()
                .map(|c| format!("{} {:.3}", c.hex, c.weight))
                .collect();
            eprintln!("colours {folder}/{name}: {}", summary.join(", "));
            assert!(
                !colours.is_empty() && colours.len() <= 5,
                "{name}: {colours:?}"
            );
            let sum: f32 = colours.iter().map(|c| c.weight).sum();
            assert!((sum - 1.0).abs() <= 0.01, "{name}: weights sum to {sum}");
            assert!(
                colours.windows(2).all(|p| p[0].weight >= p[1].weight),
                "{name}: not sorted: {colours:?}"
            );
            assert!(
                colours.iter().all(|c| c.hex.len() == 7
                    && c.hex.starts_with('#')
                    && c.hex[1..]
                        .chars()
                        .all(|ch| matches!(ch, '0'..='9' | 'a'..='f'))),
                "{name}: {colours:?}"
            );
            assert_eq!(
                colours,
                dominant_colors(&image, 5),
                "{name}: not deterministic"
            );
        }
    }
}
