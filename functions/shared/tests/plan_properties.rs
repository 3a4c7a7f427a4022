//! Property tests of the layout planner: for random photos (sizes, faces, regions of interest,
//! capture times, signatures) and random books (pages, slots), every placement is inside its
//! photo, has its slot's ratio, keeps every face whenever a crop of that ratio can, and reports
//! the DPI its width gives; selection fills the slots, never takes two near duplicates while
//! distinct photos remain, and the same input gives the same plan.

use imaging_core::analysis::crop::crop_size;
use imaging_core::analysis::geometry::{Point, Rect};
use imaging_core::analysis::roi::Roi;
use imaging_core::analysis::signature::{is_near_duplicate, Signature};
use photo_suite_functions::plan::{
    plan, Page, PhotoFacts, PlanSettings, PrintQuality, Slot, Surface,
};
use proptest::prelude::*;

fn signature(seed: u64) -> Signature {
    // 48 hex digits from a seed: different seeds give unrelated signatures.
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut text = String::new();
    for _ in 0..3 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(&format!("{x:016x}"));
    }
    text.parse().expect("48 hex digits")
}

prop_compose! {
    fn photo(index: usize)(
        width in 200u32..6000,
        height in 200u32..6000,
        face_seeds in prop::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.02f64..0.4), 0..4),
        roi_seed in (0.0f64..0.5, 0.0f64..0.5, 0.1f64..0.5, 0.1f64..0.5),
        time in prop::option::of(0i64..200_000),
        quality in 0.0f64..1.0,
        duplicate_of in prop::option::of(0usize..4),
    ) -> PhotoFacts {
        let faces = face_seeds
            .iter()
            .map(|&(fx, fy, fs)| {
                let side = ((f64::from(width.min(height)) * fs) as u32).max(1);
                Rect {
                    x: ((f64::from(width - side)) * fx) as u32,
                    y: ((f64::from(height - side)) * fy) as u32,
                    width: side,
                    height: side,
                }
            })
            .collect();
        let (rx, ry, rw, rh) = roi_seed;
        let roi = Rect {
            x: (f64::from(width) * rx) as u32,
            y: (f64::from(height) * ry) as u32,
            width: ((f64::from(width) * rw) as u32).max(1),
            height: ((f64::from(height) * rh) as u32).max(1),
        };
        PhotoFacts {
            key: format!("photo-{index:03}.jpg"),
            width,
            height,
            sha256: None,
            taken_at: None,
            time: time.map(|t| t * 60),
            gps: None,
            faces,
            quality,
            roi: Roi {
                rect: roi,
                focal_point: Point {
                    x: roi.x + roi.width / 2,
                    y: roi.y + roi.height / 2,
                },
            },
            // Photos sharing a `duplicate_of` share a signature: near duplicates.
            signature: signature(duplicate_of.map_or(1000 + index as u64, |d| d as u64)),
        }
    }
}

fn photos() -> impl Strategy<Value = Vec<PhotoFacts>> {
    (1usize..24).prop_flat_map(|n| (0..n).map(photo).collect::<Vec<_>>())
}

prop_compose! {
    fn slot()(w in 100u32..4000, h in 100u32..4000, rot in prop::sample::select(vec![0.0, 90.0, -3.5])) -> Slot {
        // Ratios from 1:4 to 4:1, as a book designer would draw them.
        let h = h.clamp(w / 4 + 1, w * 4);
        Slot { x: 10.0, y: 20.0, w: f64::from(w), h: f64::from(h), rot }
    }
}

fn surfaces() -> impl Strategy<Value = Vec<Surface>> {
    prop::collection::vec(
        (
            prop::collection::vec(slot(), 1..5),
            prop::sample::select(vec![150.0, 300.0]),
        ),
        1..6,
    )
    .prop_map(|pages| {
        pages
            .into_iter()
            .enumerate()
            .map(|(i, (slots, dpi))| Surface {
                surface_number: (i as u32 * 7) % 11 + 1, // out of order on purpose
                page: Page {
                    width: 4000.0,
                    height: 4000.0,
                    dpi,
                },
                slots,
            })
            .collect()
    })
}

proptest! {
    // 200 random books a property; failures are printed shrunk (not persisted to files).
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn placements_are_inside_with_the_slot_ratio_faces_kept_and_dpi_right(
        photos in photos(),
        surfaces in surfaces(),
    ) {
        let settings = PlanSettings::default();
        let result = plan(&photos, &surfaces, &settings);
        let by_key = |k: &str| photos.iter().find(|p| p.key == k).expect("a requested photo");
        for surface in &result.surfaces {
            let request = surfaces
                .iter()
                .find(|s| s.surface_number == surface.surface_number)
                .expect("same surfaces");
            prop_assert_eq!(surface.slots.len(), request.slots.len());
            for filled in &surface.slots {
                let Some(key) = &filled.photo else { continue };
                let photo = by_key(key);
                let slot = request.slots[filled.slot as usize];
                let p = filled.placement.expect("a filled slot has a placement");
                // Inside the photo.
                prop_assert!(p.x + p.width <= photo.width && p.y + p.height <= photo.height);
                // The slot's ratio within 0.5%.
                let (a, b) = (f64::from(p.width) / f64::from(p.height), slot.w / slot.h);
                prop_assert!(a.max(b) / a.min(b) - 1.0 <= 0.005, "{a} vs {b}");
                prop_assert_eq!(p.rot, slot.rot);
                // Every face whole whenever a crop of this size can hold all of them.
                let (cw, ch) = crop_size(photo.width, photo.height, slot.ratio().expect("valid"));
                let union = photo.faces.iter().copied().reduce(|a, b| a.union(&b));
                let possible = union.is_none_or(|u| u.width <= cw && u.height <= ch);
                let kept = photo.faces.iter().all(|f| p.rect().contains(f));
                prop_assert_eq!(filled.faces_kept, Some(kept));
                if possible {
                    prop_assert!(kept, "faces {:?} fit a {cw}x{ch} crop but {:?} cuts one", photo.faces, p);
                }
                // Effective DPI: placement width over slot width in inches.
                let dpi = f64::from(p.width) / (slot.w / request.page.dpi);
                // Reported to 0.1 DPI, and judged on what is reported.
                let shown = filled.effective_dpi.expect("dpi");
                prop_assert!((shown - dpi).abs() <= 0.05 + 1e-9);
                prop_assert_eq!(filled.print_quality, Some(quality_of(shown, &settings)));
            }
        }
    }

    #[test]
    fn selection_fills_slots_avoids_duplicates_and_is_deterministic(
        photos in photos(),
        surfaces in surfaces(),
    ) {
        let settings = PlanSettings::default();
        let result = plan(&photos, &surfaces, &settings);
        let slots: usize = surfaces.iter().map(|s| s.slots.len()).sum();
        let selected: Vec<&PhotoFacts> = result
            .photos
            .iter()
            .zip(&photos)
            .filter(|(p, _)| p.selected)
            .map(|(_, f)| f)
            .collect();
        prop_assert_eq!(selected.len(), slots.min(photos.len()));
        let filled: usize = result.surfaces.iter().flat_map(|s| &s.slots).filter(|s| s.photo.is_some()).count();
        prop_assert_eq!(filled, selected.len());
        // Distinct photos: one per near-duplicate group.
        let mut distinct: Vec<&PhotoFacts> = Vec::new();
        for p in &photos {
            if !distinct.iter().any(|d| is_near_duplicate(&d.signature, &p.signature)) {
                distinct.push(p);
            }
        }
        if distinct.len() >= slots {
            for (i, a) in selected.iter().enumerate() {
                for b in &selected[i + 1..] {
                    prop_assert!(!is_near_duplicate(&a.signature, &b.signature), "{} and {}", a.key, b.key);
                }
            }
        }
        // Slots are filled in chronological order, surface by surface.
        let mut order: Vec<&photo_suite_functions::plan::SurfacePlan> = result.surfaces.iter().collect();
        order.sort_by_key(|s| s.surface_number);
        let sequence = |key: &str| result.photos.iter().find(|p| p.key == key).map(|p| p.sequence);
        let mut last = 0;
        for surface in order {
            let seqs: Vec<u32> = surface.slots.iter().filter_map(|s| s.photo.as_deref()).filter_map(sequence).collect();
            if let Some(&min) = seqs.iter().min() {
                prop_assert!(min > last);
                last = *seqs.iter().max().expect("non-empty");
            }
        }
        prop_assert_eq!(plan(&photos, &surfaces, &settings), result);
    }
}

/// A photo of `width` x `height` with no faces, no place and time 0, of quality 0.8, its
/// signature from `seed`.
fn plain_photo(key: &str, width: u32, height: u32, seed: u64) -> PhotoFacts {
    PhotoFacts {
        key: key.into(),
        width,
        height,
        sha256: None,
        taken_at: None,
        time: Some(0),
        gps: None,
        faces: vec![],
        quality: 0.8,
        roi: Roi::whole(width, height),
        signature: signature(seed),
    }
}

/// The print quality README gives for `dpi`: `good` from `dpi_good`, `fair` from `dpi_fair`.
fn quality_of(dpi: f64, settings: &PlanSettings) -> PrintQuality {
    if dpi >= settings.dpi_good {
        PrintQuality::Good
    } else if dpi >= settings.dpi_fair {
        PrintQuality::Fair
    } else {
        PrintQuality::Low
    }
}

#[test]
fn the_print_quality_agrees_with_the_dpi_shown_at_the_thresholds() {
    // A 4000x3000 photo filling a 4:3 slot 4000 px wide: its effective DPI is the page's.
    let photo = plain_photo("a.jpg", 4000, 3000, 1);
    let settings = PlanSettings::default();
    for (page_dpi, shown, quality) in [
        (249.96, 250.0, PrintQuality::Good),
        (249.94, 249.9, PrintQuality::Fair),
        (149.96, 150.0, PrintQuality::Fair),
        (149.94, 149.9, PrintQuality::Low),
    ] {
        let surfaces = vec![Surface {
            surface_number: 1,
            page: Page {
                width: 4000.0,
                height: 3000.0,
                dpi: page_dpi,
            },
            slots: vec![Slot {
                x: 0.0,
                y: 0.0,
                w: 4000.0,
                h: 3000.0,
                rot: 0.0,
            }],
        }];
        let result = plan(std::slice::from_ref(&photo), &surfaces, &settings);
        let slot = &result.surfaces[0].slots[0];
        assert_eq!(
            (slot.effective_dpi, slot.print_quality),
            (Some(shown), Some(quality)),
            "page at {page_dpi} dpi"
        );
    }
}

#[test]
fn portrait_photos_go_to_portrait_slots() {
    let photos = vec![
        plain_photo("a-landscape.jpg", 4000, 3000, 1),
        plain_photo("b-portrait.jpg", 3000, 4000, 2),
    ];
    let slot = |w: f64, h: f64| Slot {
        x: 0.0,
        y: 0.0,
        w,
        h,
        rot: 0.0,
    };
    let surfaces = vec![Surface {
        surface_number: 1,
        page: Page {
            width: 6000.0,
            height: 3000.0,
            dpi: 300.0,
        },
        // The portrait slot first: chronological order alone would put the landscape there.
        slots: vec![slot(1500.0, 2000.0), slot(2000.0, 1500.0)],
    }];
    let result = plan(&photos, &surfaces, &PlanSettings::default());
    let placed: Vec<Option<&str>> = result.surfaces[0]
        .slots
        .iter()
        .map(|s| s.photo.as_deref())
        .collect();
    assert_eq!(
        placed,
        vec![Some("b-portrait.jpg"), Some("a-landscape.jpg")]
    );
}

#[test]
fn events_split_on_time_gaps_and_distance() {
    let base = |key: &str, minutes: i64, gps: Option<(f64, f64)>, seed: u64| PhotoFacts {
        key: key.into(),
        width: 1000,
        height: 1000,
        sha256: None,
        taken_at: None,
        time: Some(minutes * 60),
        gps,
        faces: vec![],
        quality: 0.5,
        roi: Roi::whole(1000, 1000),
        signature: signature(seed),
    };
    let paris = Some((48.8566, 2.3522));
    let versailles = Some((48.8049, 2.1204)); // 18 km away: same event
    let lyon = Some((45.764, 4.8357)); // 390 km away: a new event
    let photos = vec![
        base("1.jpg", 0, paris, 1),
        base("2.jpg", 30, versailles, 2),
        base("3.jpg", 60, lyon, 3),
        base("4.jpg", 60 + 4 * 60, lyon, 4), // 4 h later: a new event
        base("5.jpg", 60 + 5 * 60, None, 5),
    ];
    let surfaces = vec![Surface {
        surface_number: 1,
        page: Page {
            width: 3000.0,
            height: 3000.0,
            dpi: 300.0,
        },
        slots: vec![Slot {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 1000.0,
            rot: 0.0,
        }],
    }];
    let result = plan(&photos, &surfaces, &PlanSettings::default());
    let events: Vec<u32> = result.photos.iter().map(|p| p.event).collect();
    assert_eq!(events, vec![1, 1, 2, 3, 3]);
}
