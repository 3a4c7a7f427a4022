//! Criterion benches of the rendition job and its stages on two real camera photos: the
//! original's SHA-256, decode (full and shrunk on load), the resize cascade, encode, the whole
//! job without and with the pixel analysis, and the pixel analysis alone (faces, quality, ROI,
//! crops, colours, signature on the 2048/1024/256 renditions).

use criterion::{criterion_group, criterion_main, Criterion};
use imaging_core::resize::{fit_within, Resizer};
use imaging_core::{
    analyze_pixels, decode, encode_jpeg, render_renditions, sha256_hex, AnalysisImages, Limits,
    RenditionOptions,
};
use std::hint::black_box;
use test_support::photos_dir;

const PHOTOS: [(&str, &str); 2] = [
    ("24mp", "faces/craft_beer_24mp.jpg"),
    ("16mp", "camera/motorola_empty_gps.jpg"),
];

fn stages(c: &mut Criterion) {
    // As the CLI and the Lambdas do at start-up.
    imaging_core::tune_allocator_for_images();
    let limits = Limits::default();
    for (name, path) in PHOTOS {
        let bytes = std::fs::read(photos_dir().join(path)).expect("corpus photo");
        let mut group = c.benchmark_group(name);
        group.sample_size(10);

        group.bench_function("sha256", |b| b.iter(|| sha256_hex(black_box(&bytes))));
        group.bench_function("decode_full", |b| {
            b.iter(|| decode(black_box(&bytes), &limits, None).expect("decode"))
        });
        group.bench_function("decode_shrink_on_load_2048", |b| {
            b.iter(|| decode(black_box(&bytes), &limits, Some(2048)).expect("decode"))
        });

        let decoded = decode(&bytes, &limits, Some(2048)).expect("decode");
        let (w, h) = decoded.upright_size();
        let mut resizer = Resizer::default();
        group.bench_function("resize_cascade", |b| {
            b.iter(|| {
                let mut current = decoded.image.clone();
                for side in [2048, 1024, 256] {
                    let (tw, th) = fit_within(w, h, side);
                    current = resizer.resize(&current, tw, th).expect("resize");
                }
                current
            })
        });

        let (tw, th) = fit_within(w, h, 2048);
        let rendition_2048 = resizer.resize(&decoded.image, tw, th).expect("resize");
        group.bench_function("encode_2048_q85", |b| {
            b.iter(|| encode_jpeg(black_box(&rendition_2048), 85).expect("encode"))
        });

        let without = RenditionOptions {
            analyze_pixels: false,
            ..RenditionOptions::default()
        };
        group.bench_function("rendition_job", |b| {
            b.iter(|| render_renditions(black_box(&bytes), &without).expect("job"))
        });
        let with = RenditionOptions::default();
        group.bench_function("rendition_job_with_analysis", |b| {
            b.iter(|| render_renditions(black_box(&bytes), &with).expect("job"))
        });

        // The analysis renditions, made as the job makes them (each from the one above).
        assert_eq!(
            decoded.orientation.exif_value(),
            1,
            "{path}: benched photos are upright"
        );
        let upright = rendition_2048.clone();
        let (uw, uh) = (upright.width, upright.height);
        let medium = {
            let (tw, th) = fit_within(uw, uh, 1024);
            resizer.resize(&upright, tw, th).expect("resize")
        };
        let small = {
            let (tw, th) = fit_within(uw, uh, 256);
            resizer.resize(&medium, tw, th).expect("resize")
        };
        let images = AnalysisImages {
            large: upright,
            medium,
            small,
        };
        group.bench_function("pixel_analysis", |b| {
            b.iter(|| analyze_pixels(black_box(&images), w, h))
        });
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
