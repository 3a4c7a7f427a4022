//! Replays `fuzz/regressions/decode_analyze/` through the same job and options as the
//! `decode_analyze` fuzz target: each file's outcome is pinned, a typed error or renditions with
//! their analysis, and none may panic. Its 30-minute run found nothing; the folder holds
//! hand-made hostile inputs, and is where the target's findings go.

use imaging_core::{render_renditions, Limits, RenditionOptions};

/// The fuzz target's options (`fuzz/fuzz_targets/decode_analyze.rs`): one small rendition, the
/// pixel analysis, and limits of 512x512 pixels.
fn options() -> RenditionOptions {
    RenditionOptions {
        sizes: vec![256],
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

/// What must become of a file: `Ok(())` when it renders, else the error's kind.
const REGRESSIONS: &[(&str, Result<(), &str>)] = &[
    // Hand-made. One pixel over the limit, refused from the header (there is no pixel data).
    ("limits-png-header-513x512.png", Err("limits")),
    // One-pixel-thin strips through resize, analysis and crops.
    ("renders-png-1x512.png", Ok(())),
    ("renders-png-512x1.png", Ok(())),
];

#[test]
fn every_regression_input_has_its_pinned_outcome() {
    let pinned: Vec<&str> = REGRESSIONS.iter().map(|(name, _)| *name).collect();
    let inputs = test_support::fuzz_regressions("decode_analyze", &pinned);
    let options = options();
    for (name, expected) in REGRESSIONS {
        match render_renditions(&inputs[*name], &options) {
            Ok(set) => {
                assert_eq!(*expected, Ok(()), "{name} rendered");
                assert!(set.info.analysis.is_some(), "{name}");
                for r in &set.renditions {
                    assert!(r.width > 0 && r.height > 0 && r.width.max(r.height) <= r.max_side);
                }
            }
            Err(e) => assert_eq!(*expected, Err(e.kind()), "{name}: {e}"),
        }
    }
}
