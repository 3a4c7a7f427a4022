//! Bytes → imaging-core's whole job: sniff, header limits, decode (turbojpeg, libheif, image),
//! colour conversion, EXIF, resize cascade, orientation, JPEG encoding and the pixel analysis
//! (faces, quality, region of interest, crops, colours, signature).
//!
//! Any panic, abort or sanitizer report is a bug; a typed `ImagingError` is the expected answer
//! to a bad input. The limits are tight (512x512 pixels) so that iterations stay fast: under
//! AddressSanitizer a 1 MP photo takes seconds to go through the whole job, a 512x512 one a
//! quarter of a second; larger images are refused from their header. The same options
//! are used by `imaging-core/tests/fuzz_regressions.rs`, which replays `fuzz/regressions/`.
#![no_main]

use imaging_core::{render_renditions, Limits, RenditionOptions};
use libfuzzer_sys::fuzz_target;

const MAX_SIDE: u32 = 256;

fn options() -> RenditionOptions {
    RenditionOptions {
        sizes: vec![MAX_SIDE],
        quality: 80,
        limits: Limits {
            max_input_bytes: 8 * 1024 * 1024,
            max_pixels: 262_144,
            max_side: 4_096,
        },
        shrink_on_load: true,
        analyze_pixels: true,
    }
}

fuzz_target!(|data: &[u8]| {
    let options = options();
    let Ok(set) = render_renditions(data, &options) else {
        return;
    };
    let info = &set.info;
    let limits = &options.limits;
    assert!(info.width > 0 && info.height > 0, "empty image accepted");
    assert!(info.width.max(info.height) <= limits.max_side, "side limit");
    assert!(
        u64::from(info.width) * u64::from(info.height) <= limits.max_pixels,
        "pixel limit"
    );
    assert_eq!(set.renditions.len(), 1);
    for r in &set.renditions {
        assert!(r.width > 0 && r.height > 0 && r.width.max(r.height) <= r.max_side);
        assert!(r.jpeg.starts_with(&[0xFF, 0xD8]), "rendition is not a JPEG");
    }
    assert!(info.analysis.is_some(), "analysis was asked for");
    serde_json::to_string(info).expect("the analysis document serializes");
});
