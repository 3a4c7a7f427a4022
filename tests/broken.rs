//! End-to-end test of the CLI on the hostile and broken files of the corpus (`broken/`): each
//! file's outcome is pinned, failures are typed and leave no output.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use test_support::photos_dir;

/// What must become of a file of `broken/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Fails with this kind in failures.jsonl.
    Fails(&'static str),
    /// Renders, with no warning.
    Renders,
    /// Renders, with a warning on stderr containing this text.
    RendersWithWarning(&'static str),
}

use Expected::*;

const BROKEN: &[(&str, Expected)] = &[
    // Bombs: refused from the header, before any pixel is decoded.
    ("bomb_avif_17000x17000.avif", Fails("limits")),
    ("bomb_gif_65535x66601.gif", Fails("limits")), // a frame, not the screen, is huge
    ("bomb_gif_frame_extents.gif", Fails("limits")), // a second frame placed at 65535,65535
    ("bomb_jpeg_65535x65535.jpg", Fails("limits")),
    ("bomb_png_65536x65536.png", Fails("limits")),
    ("jpeg_zero_height_invalid_dimensions.jpg", Fails("limits")),
    ("jpeg_zero_width_null_height.jpg", Fails("limits")),
    // Not images.
    ("empty_0_bytes.jpg", Fails("unsupported")),
    ("not_an_image_html.jpg", Fails("unsupported")),
    // Corrupt structure.
    ("broken.png", Fails("decode")),
    ("corrupt_header_sharp.jpg", Fails("decode")),
    ("crash_tiff_pillow.tif", Fails("decode")),
    ("fuzz_derive_huffman_codes_overflow.jpg", Fails("decode")),
    ("fuzz_missing_frame_4_bytes.jpg", Fails("decode")),
    ("jpeg_missing_sof.jpg", Fails("decode")),
    ("jpeg_missing_sos.jpg", Fails("decode")),
    ("oom_tiff_pillow.tif", Fails("decode")),
    // Truncated: never half-grey renditions.
    ("corrupt_scan_imagetestsuite.jpg", Fails("decode")),
    ("truncated_image.png", Fails("decode")),
    ("truncated_jpeg_10000B_libvips.jpg", Fails("decode")),
    ("truncated_jpeg_10000B_sharp.jpg", Fails("decode")),
    ("truncated_jpeg_progressive_pillow.jpg", Fails("decode")),
    ("truncated_real_photo_half.jpg", Fails("decode")),
    // Complete file, but its scan data ends after a fifth of the picture.
    ("fuzz_dc_predictor_overflow.jpg", Fails("decode")),
    // A 16 KiB stretch of scan data erased (0xFF); libjpeg resynchronises at the next restart
    // marker, and 24 rows of 2736 are left blank at the bottom.
    (
        "exif_corrupted_olympus_10mp.jpg",
        RendersWithWarning("24 of 2736 rows at the bottom have no data"),
    ),
    // Five junk bytes between two header segments: a header that cannot be trusted.
    ("junk_jpeg_header.jpg", Fails("decode")),
    // Whatever broke other EXIF readers on these is not EXIF we read (XMP; Photoshop and ICC).
    ("exif_invalid_image00971.jpg", Renders),
    ("exif_range_error_offset.jpg", Renders),
    // A PNG named .jpg: the bytes choose the decoder, but a name that lies is refused.
    ("png_data_with_jpg_extension.jpg", Fails("format_mismatch")),
];

#[test]
fn every_broken_file_has_its_pinned_outcome_and_failures_leave_no_output() {
    let folder = photos_dir().join("broken");
    let out = scratch("broken-outcomes");
    let result = ingest(&folder, &out);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("photo-suite: error"), "{stderr}");
    // Bombs are refused from their headers: the whole run stays far from what they declare.
    let peak: u64 = stderr
        .split(", peak memory ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|mb| mb.parse().ok())
        .unwrap_or_else(|| panic!("the summary gives the peak memory\n{stderr}"));
    assert!(peak < 300, "peak memory {peak} MB ingesting broken/");

    let expected: BTreeMap<&str, Expected> = BROKEN.iter().copied().collect();
    let on_disk: Vec<String> = std::fs::read_dir(&folder)
        .expect("broken/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for name in &on_disk {
        assert!(
            expected.contains_key(name.as_str()),
            "{name}: new file in broken/, pin its outcome"
        );
    }
    assert_eq!(on_disk.len(), expected.len(), "every pinned file exists");

    let failures: BTreeMap<String, Value> = std::fs::read_to_string(out.join("failures.jsonl"))
        .expect("failures.jsonl")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
        .map(|f| (f["key"].as_str().expect("key").to_string(), f))
        .collect();
    let warnings = |key: &str| -> Vec<&str> {
        let prefix = format!("photo-suite: warning: {key}: ");
        stderr
            .lines()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .collect()
    };

    for (key, outcome) in BROKEN {
        let analysis = out.join(format!("analysis/{key}.json"));
        let renditions = out.join(format!("renditions/{key}"));
        match outcome {
            Fails(kind) => {
                let failure = failures
                    .get(*key)
                    .unwrap_or_else(|| panic!("{key}: must fail\n{stderr}"));
                assert_eq!(failure["kind"], *kind, "{key}: {failure}");
                let message = failure["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty());
                // Words for a person, not a decoder's structures printed for debugging.
                assert!(!message.contains(" { "), "{key}: {message}");
                assert!(
                    stderr.contains(&format!("failed {key}: {kind}")),
                    "{key} reported on stderr"
                );
                assert!(!analysis.exists(), "{key}: no analysis");
                assert!(!renditions.exists(), "{key}: no renditions");
            }
            Renders | RendersWithWarning(_) => {
                assert!(
                    !failures.contains_key(*key),
                    "{key}: {:?}",
                    failures.get(*key)
                );
                assert!(analysis.exists(), "{key}: analysis");
                for side in [2048, 1024, 256] {
                    assert!(
                        renditions.join(format!("{side}.jpg")).exists(),
                        "{key}: {side}"
                    );
                }
                let warned = warnings(key);
                match outcome {
                    RendersWithWarning(text) => assert!(
                        warned.iter().any(|w| w.contains(text)),
                        "{key}: warning with {text:?}, got {warned:?}"
                    ),
                    _ => assert!(warned.is_empty(), "{key}: {warned:?}"),
                }
            }
        }
    }
    assert_eq!(
        failures.len(),
        BROKEN.iter().filter(|(_, o)| matches!(o, Fails(_))).count()
    );

    // Data that ends early says so: cut files, and the TIFFs whose strips lie past their end.
    for (key, says) in [
        ("crash_tiff_pillow.tif", "runs past the end of the file"),
        ("oom_tiff_pillow.tif", "runs past the end of the file"),
        ("truncated_image.png", "runs past the end of the file"),
        ("truncated_jpeg_10000B_sharp.jpg", "truncated"),
    ] {
        let message = failures[key]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{key}: {message}");
    }

    // The damaged Olympus photo keeps its EXIF facts and its full size.
    let text = std::fs::read_to_string(out.join("analysis/exif_corrupted_olympus_10mp.jpg.json"))
        .expect("analysis");
    let olympus: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(
        (olympus["width"].as_u64(), olympus["height"].as_u64()),
        (Some(3648), Some(2736))
    );
    assert_eq!(olympus["make"], "OLYMPUS IMAGING CORP.");
    assert_eq!(olympus["taken_at"], "2015-09-08T11:02:17");
}
