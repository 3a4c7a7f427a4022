//! The book requests. Layout of a book: 500 photos into 100 slots (25 pages of 4), from the photos' analysis
//! documents (`layout/from_analysis_json`: parsing 500 documents, then planning) and from parsed
//! facts (`layout/plan`). The photos are synthetic but shaped like ingest's output: sizes from
//! 3 to 24 MP, up to 3 faces, capture times over a fortnight with gaps, GPS on most, and one
//! photo in five a near duplicate of another. Single-threaded. And a print render: the 24 MP
//! corpus photo's largest A4-landscape crop at 300 dpi (3508x2480, JPEG q92 4:4:4), from the file.
//!
//! `cargo bench -p photo-suite-benches --bench book`

use criterion::{criterion_group, criterion_main, Criterion};
use imaging_core::analysis::geometry::Rect;
use imaging_core::{render_print, Limits, PrintFormat, PrintOptions};
use photo_suite_functions::plan::{plan, Page, PhotoFacts, PlanSettings, Slot, Surface};
use serde_json::json;
use std::hint::black_box;
use test_support::photos_dir;

const PHOTOS: usize = 500;
const PAGES: u32 = 25;

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Analysis documents as ingest writes them (the fields the planner reads, plus a few it skips).
fn documents() -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let sizes: [(u32, u32); 5] = [
        (6000, 4000),
        (4032, 3024),
        (3024, 4032),
        (4608, 1976),
        (2048, 1536),
    ];
    let mut signatures: Vec<String> = Vec::new();
    let mut minutes = 0u64;
    (0..PHOTOS)
        .map(|i| {
            let (w, h) = sizes[rng.below(sizes.len() as u64) as usize];
            minutes += if rng.below(40) == 0 { 600 + rng.below(3000) } else { rng.below(20) };
            let (day, minute) = (1 + minutes / 1440 % 28, minutes % 1440);
            let faces: Vec<_> = (0..rng.below(4))
                .map(|_| {
                    let side = 100 + rng.below(u64::from(w.min(h)) / 4);
                    json!({"x": rng.below(u64::from(w) - side), "y": rng.below(u64::from(h) - side),
                           "width": side, "height": side, "confidence": 0.8})
                })
                .collect();
            let signature = if i > 0 && rng.below(5) == 0 {
                signatures[rng.below(signatures.len() as u64) as usize].clone()
            } else {
                format!("{:016x}{:016x}{:016x}", rng.next(), rng.next(), rng.next())
            };
            signatures.push(signature.clone());
            let doc = json!({
                "width": w, "height": h, "orientation": 1, "format": "jpeg",
                "taken_at": format!("2026-07-{day:02}T{:02}:{:02}:00+02:00", minute / 60, minute % 60),
                "make": "Google", "model": "Pixel",
                "gps": if rng.below(5) == 0 { serde_json::Value::Null } else {
                    json!({"lat": 43.0 + rng.below(1000) as f64 / 100.0, "lon": 5.0 + rng.below(100) as f64 / 100.0})
                },
                "faces": faces,
                "quality": {"sharpness": 0.8, "exposure": 0.9, "noise": 0.7, "overall": rng.below(1000) as f64 / 1000.0},
                "roi": {"x": w / 4, "y": h / 4, "width": w / 2, "height": h / 2},
                "focal_point": {"x": w / 2, "y": h / 2},
                "crops": {}, "colors": [],
                "signature": signature,
            });
            (format!("uploads/trip/IMG_{i:04}.jpg"), serde_json::to_vec_pretty(&doc).expect("json"))
        })
        .collect()
}

fn book() -> Vec<Surface> {
    let slot = |x: f64, y: f64, w: f64, h: f64| Slot {
        x,
        y,
        w,
        h,
        rot: 0.0,
    };
    (1..=PAGES)
        .map(|n| Surface {
            surface_number: n,
            page: Page {
                width: 3600.0,
                height: 2700.0,
                dpi: 300.0,
            },
            slots: vec![
                slot(100.0, 100.0, 1600.0, 2500.0),
                slot(1800.0, 100.0, 1700.0, 1200.0),
                slot(1800.0, 1400.0, 800.0, 1200.0),
                slot(2700.0, 1400.0, 800.0, 800.0),
            ],
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let docs = documents();
    let surfaces = book();
    let settings = PlanSettings::default();
    let facts: Vec<PhotoFacts> = docs
        .iter()
        .map(|(k, d)| PhotoFacts::from_analysis(k, d).expect("valid"))
        .collect();
    let mut group = c.benchmark_group("layout");
    group.bench_function("plan_500_photos_100_slots", |b| {
        b.iter(|| plan(black_box(&facts), black_box(&surfaces), &settings))
    });
    group.bench_function("from_analysis_json_500_photos_100_slots", |b| {
        b.iter(|| {
            let facts: Vec<PhotoFacts> = black_box(&docs)
                .iter()
                .map(|(k, d)| PhotoFacts::from_analysis(k, d).expect("valid"))
                .collect();
            plan(&facts, black_box(&surfaces), &settings)
        })
    });
    group.finish();
}

fn print(c: &mut Criterion) {
    imaging_core::tune_allocator_for_images();
    let bytes =
        std::fs::read(photos_dir().join("faces/craft_beer_24mp.jpg")).expect("corpus photo");
    let options = PrintOptions {
        crop: Rect {
            x: 171,
            y: 0,
            width: 5658,
            height: 4000,
        },
        turn: 0,
        width: 3508,
        height: 2480,
        format: PrintFormat::Jpeg { quality: 92 },
        limits: Limits::default(),
    };
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    group.bench_function("24mp_to_a4_300dpi", |b| {
        b.iter(|| render_print(black_box(&bytes), &options).expect("render"))
    });
    group.finish();
}

criterion_group!(benches, bench, print);
criterion_main!(benches);
