//! Bytes → the book-layout service's requests: an SNS event or a bare request, parsed and
//! validated as `layout.requested` and `render.requested`; a valid layout request is planned
//! (with photo facts made up from each key), a valid render request named.
//!
//! Nothing here may panic. Every placement lies inside its photo; as many photos are selected
//! as there are slots (or photos); the plan serialises; a render key stays a safe key.
#![no_main]

use imaging_core::analysis::geometry::Rect;
use imaging_core::analysis::roi::Roi;
use imaging_core::PrintFormat;
use libfuzzer_sys::fuzz_target;
use photo_suite_functions::keys::check_safe;
use photo_suite_functions::plan::{plan, PhotoFacts, PlanSettings};
use photo_suite_functions::render::render_key;
use photo_suite_functions::requests::{
    parse_message, request_messages, LayoutRequest, RenderRequest,
};
use serde_json::Value;

/// Facts for a photo, derived from its key (FNV-1a), so the same key gives the same photo.
fn facts(key: &str) -> PhotoFacts {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let width = 1 + (h % 6000) as u32;
    let height = 1 + ((h >> 16) % 6000) as u32;
    let side = 1 + ((h >> 32) as u32 % width.min(height));
    let face = Rect {
        x: (h >> 40) as u32 % (width - side + 1),
        y: (h >> 48) as u32 % (height - side + 1),
        width: side,
        height: side,
    };
    PhotoFacts {
        key: key.to_string(),
        width,
        height,
        sha256: (h % 2 == 0).then(|| format!("{h:064x}")),
        taken_at: None,
        time: (h % 3 != 0).then_some((h >> 8) as i64 % 10_000_000),
        gps: (h % 5 == 0).then_some((
            ((h >> 3) % 180) as f64 - 90.0,
            ((h >> 5) % 360) as f64 - 180.0,
        )),
        faces: if h % 2 == 0 { vec![face] } else { vec![] },
        quality: (h % 1000) as f64 / 1000.0,
        roi: Roi::whole(width, height),
        signature: format!("{:016x}{:016x}{:016x}", h, h.rotate_left(21), h % 7)
            .parse()
            .expect("48 hex digits"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let messages = match serde_json::from_str::<Value>(text) {
        Ok(event) => match request_messages(&event) {
            Ok(messages) => messages,
            Err(_) => return,
        },
        Err(_) => vec![parse_message(text)],
    };
    for request in messages.into_iter().flatten() {
        if let Ok(layout) = LayoutRequest::parse(&request) {
            let photos: Vec<PhotoFacts> = layout.photos.iter().map(|k| facts(k)).collect();
            // The request's settings over the defaults, refused as the function refuses them.
            let Ok(settings) = layout.plan_settings(PlanSettings::default()) else {
                continue;
            };
            let result = plan(&photos, &layout.surfaces, &settings);
            let slots: usize = layout.surfaces.iter().map(|s| s.slots.len()).sum();
            let selected = result.photos.iter().filter(|p| p.selected).count();
            assert_eq!(selected, slots.min(photos.len()));
            for slot in result.surfaces.iter().flat_map(|s| &s.slots) {
                if let (Some(key), Some(p)) = (&slot.photo, slot.placement) {
                    let photo = photos
                        .iter()
                        .find(|f| &f.key == key)
                        .expect("a requested photo");
                    assert!(p.x + p.width <= photo.width && p.y + p.height <= photo.height);
                    assert!(p.width > 0 && p.height > 0);
                }
            }
            serde_json::to_string(&result).expect("the plan serialises");
        }
        if let Ok(render) = RenderRequest::parse(&request) {
            for format in [
                PrintFormat::Png,
                PrintFormat::Jpeg {
                    quality: render.quality,
                },
            ] {
                let key = render_key(&render.photo, &render, format);
                assert!(
                    key.starts_with("renders/") && check_safe(&key).is_ok(),
                    "{key}"
                );
            }
        }
    }
});
