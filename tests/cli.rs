//! End-to-end tests of the `photo-suite` CLI on the real photo corpus (`../shared/photos`).

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;
use test_support::{manifest, photos_dir, tree};

const SIZES: [u32; 3] = [2048, 1024, 256];

fn decode_rgb(bytes: &[u8]) -> image::RgbImage {
    image::load_from_memory(bytes)
        .expect("output decodes")
        .to_rgb8()
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn failures(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("failures.jsonl"))
        .expect("failures.jsonl is always written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// Mean absolute difference per channel between two same-size images.
fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    let out = scratch("orientation");
    let result = ingest(&photos_dir().join("exif-orientation"), &out);
    assert_eq!(
        result.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );

    for kind in ["Landscape", "Portrait"] {
        let expected_size = if kind == "Landscape" {
            (1800, 1200)
        } else {
            (1200, 1800)
        };
        let reference = decode_rgb(
            &std::fs::read(out.join(format!("renditions/{kind}_1.jpg/256.jpg")))
                .expect("reference"),
        );
        for n in 0..=8 {
            let key = format!("{kind}_{n}.jpg");
            let big = decode_rgb(
                &std::fs::read(out.join(format!("renditions/{key}/2048.jpg"))).expect("2048"),
            );
            assert_eq!(
                big.dimensions(),
                expected_size,
                "{key}: never upscaled, upright"
            );
            let small = decode_rgb(
                &std::fs::read(out.join(format!("renditions/{key}/256.jpg"))).expect("256"),
            );
            // The digit drawn on each file differs; the scene around it must be the same pixels.
            let diff = mean_abs_diff(&small, &reference);
            assert!(
                diff < 6.0,
                "{key} differs from the upright reference by {diff:.1}"
            );
            // A mirrored image would differ much more: the check can fail.
            let mirrored = image::imageops::flip_horizontal(&small);
            assert!(
                mean_abs_diff(&mirrored, &reference) > 3.0 * diff.max(2.0),
                "{key}: test has no power"
            );
            let analysis = read_json(&out.join(format!("analysis/{key}.json")));
            assert_eq!(analysis["width"], expected_size.0, "{key}");
            assert_eq!(analysis["height"], expected_size.1, "{key}");
            assert_eq!(analysis["orientation"], if n == 0 { 1 } else { n }, "{key}");
        }
    }
}

/// Ingests `folder`, then checks every photo against MANIFEST.tsv: rendition sizes, upright,
/// no metadata in outputs, and the EXIF facts in the analysis.
fn check_folder_against_manifest(folder: &str) {
    let out = scratch(&format!("manifest-{folder}"));
    let result = ingest(&photos_dir().join(folder), &out);
    let stderr = String::from_utf8_lossy(&result.stderr);
    // Every file of these folders is a photo we support: none may fail.
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(failures(&out).is_empty());
    for line in stderr.lines().filter(|l| l.contains("warning")) {
        // The only photo whose EXIF is damaged (a truncated IFD); its other facts are kept.
        assert!(
            line.contains("motorola_empty_gps.jpg"),
            "unexpected warning: {line}"
        );
    }

    let manifest = manifest();
    let rows: Vec<_> = manifest
        .values()
        .filter(|r| r.path.starts_with(&format!("{folder}/")))
        .collect();
    assert!(rows.len() >= 8, "manifest rows for {folder}");
    for row in rows {
        let key = &row.path[folder.len() + 1..];
        let (w, h) = row.upright().expect("the manifest gives its size");
        let analysis = read_json(&out.join(format!("analysis/{key}.json")));
        assert_eq!(
            (analysis["width"].as_u64(), analysis["height"].as_u64()),
            (Some(w.into()), Some(h.into())),
            "{key}"
        );

        for side in SIZES {
            let bytes =
                std::fs::read(out.join(format!("renditions/{key}/{side}.jpg"))).expect("rendition");
            let segments = jpeg_segments(&bytes);
            assert!(
                !segments
                    .iter()
                    .any(|(m, p)| *m == 0xE1 || (*m == 0xE2 && p.starts_with(b"ICC_PROFILE"))),
                "{key}/{side}: outputs carry no EXIF, GPS or ICC"
            );
            let sof = segments
                .iter()
                .find(|(m, _)| *m == 0xC0)
                .expect("baseline SOF");
            assert_eq!(sof.1[5], 3, "{key}/{side}: 3 components (sRGB colour)");
            assert_eq!(sof.1[7], 0x22, "{key}/{side}: 4:2:0 luma sampling");
            let image = decode_rgb(&bytes);
            assert_eq!(image.dimensions(), fit(w, h, side), "{key}/{side}");
        }

        for score in ["sharpness", "exposure", "noise", "overall"] {
            let v = analysis["quality"][score].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&v), "{key}: quality.{score} = {v}");
        }
        let colors = analysis["colors"].as_array().expect("colors");
        assert!(
            (1..=5).contains(&colors.len()),
            "{key}: {} colours",
            colors.len()
        );
        let total: f64 = colors
            .iter()
            .map(|c| c["weight"].as_f64().unwrap_or(0.0))
            .sum();
        assert!(
            (total - 1.0).abs() < 0.01,
            "{key}: colour weights sum to {total}"
        );

        let expect_str = |field: &str| analysis[field].as_str().map(str::to_string);
        match row.fact("EXIF Make/Model") {
            Some(camera) => {
                let ours = format!(
                    "{} {}",
                    expect_str("make").unwrap_or_default(),
                    expect_str("model").unwrap_or_default()
                );
                assert_eq!(ours.trim(), camera.trim(), "{key}: camera");
            }
            None => assert!(
                analysis["make"].is_null() && analysis["model"].is_null(),
                "{key}: no camera"
            ),
        }
        match row.fact("DateTimeOriginal") {
            Some(dt) => {
                let iso = dt.trim().replacen(':', "-", 2).replacen(' ', "T", 1);
                let ours = expect_str("taken_at").unwrap_or_default();
                assert!(ours.starts_with(&iso), "{key}: taken_at {ours} vs {iso}");
            }
            None => assert!(analysis["taken_at"].is_null(), "{key}: no capture time"),
        }
        let gps = row.fact("GPS").and_then(|g| {
            let (lat, lon) = g.split_once(',')?;
            Some((lat.parse::<f64>().ok()?, lon.parse::<f64>().ok()?))
        });
        match gps {
            Some((lat, lon)) => {
                let ours = &analysis["gps"];
                let (olat, olon) = (
                    ours["lat"].as_f64().expect("lat"),
                    ours["lon"].as_f64().expect("lon"),
                );
                assert!(
                    (olat - lat).abs() < 1e-4 && (olon - lon).abs() < 1e-4,
                    "{key}: gps {ours}"
                );
            }
            None => assert!(
                analysis["gps"].is_null(),
                "{key}: no GPS (0/0 and missing fixes are none)"
            ),
        }
    }
}

#[test]
fn camera_photos_render_with_their_exif_facts() {
    check_folder_against_manifest("camera");
}

#[test]
fn every_format_renders_with_its_exif_facts() {
    check_folder_against_manifest("formats");
}

/// Mean colourfulness (max - min channel) of an image.
fn chroma(image: &image::RgbImage) -> f64 {
    let total: u64 = image
        .pixels()
        .map(|p| u64::from(p.0.iter().max().unwrap_or(&0) - p.0.iter().min().unwrap_or(&0)))
        .sum();
    total as f64 / (image.width() * image.height()) as f64
}

#[test]
fn wide_gamut_photos_are_converted_to_srgb() {
    let input = scratch("wide-gamut-in");
    let out = scratch("wide-gamut-out");
    for name in [
        "jpeg_icc_adobergb_canon.jpg",
        "jpeg_icc_displayp3_nikon.jpg",
    ] {
        std::fs::copy(photos_dir().join("formats").join(name), input.join(name)).expect("copy");
    }
    assert_eq!(ingest(&input, &out).status.code(), Some(0));
    for name in [
        "jpeg_icc_adobergb_canon.jpg",
        "jpeg_icc_displayp3_nikon.jpg",
    ] {
        let ours = decode_rgb(
            &std::fs::read(out.join(format!("renditions/{name}/256.jpg"))).expect("rendition"),
        );
        // The same pixels read as if they were sRGB (no colour management) look duller: a wider
        // gamut's values mean more saturated colours once converted.
        let naive = image::open(photos_dir().join("formats").join(name))
            .expect("decode original")
            .to_rgb8();
        let naive = image::imageops::resize(
            &naive,
            ours.width(),
            ours.height(),
            image::imageops::FilterType::Lanczos3,
        );
        let (c_ours, c_naive) = (chroma(&ours), chroma(&naive));
        assert!(
            c_ours > c_naive * 1.03,
            "{name}: chroma {c_ours:.1} vs unmanaged {c_naive:.1}"
        );
    }
}

#[test]
fn a_second_run_writes_byte_identical_outputs() {
    let input = scratch("idem-in");
    std::fs::create_dir_all(input.join("nested/deeper")).expect("mkdir");
    for (from, to) in [
        ("exif-orientation/Portrait_6.jpg", "nested/deeper/p6.jpg"),
        ("formats/heic_iphone7.heic", "phone photo.heic"),
        ("formats/png_alpha_cutout_car.png", "nested/car.png"),
        ("broken/truncated_image.png", "broken.png"),
    ] {
        std::fs::copy(photos_dir().join(from), input.join(to)).expect("copy");
    }
    std::fs::write(input.join(".DS_Store"), b"hidden files are skipped").expect("write");
    let (first, second) = (scratch("idem-1"), scratch("idem-2"));
    assert_eq!(ingest(&input, &first).status.code(), Some(2));
    assert_eq!(ingest(&input, &second).status.code(), Some(2));
    assert_eq!(
        ingest(&input, &second).status.code(),
        Some(2),
        "re-run over its own outputs"
    );
    let (a, b) = (tree(&first), tree(&second));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a == b, "outputs differ between runs");
    for key in ["nested/deeper/p6.jpg", "phone photo.heic", "nested/car.png"] {
        for side in SIZES {
            assert!(
                a.contains_key(Path::new(&format!("renditions/{key}/{side}.jpg"))),
                "{key}/{side}"
            );
        }
    }
    assert!(!a.keys().any(|k| k.to_string_lossy().contains("DS_Store")));
    assert_eq!(failures(&first).len(), 1);
    assert_eq!(failures(&first)[0]["key"], "broken.png");
}

#[test]
fn a_photo_that_turns_bad_loses_its_old_outputs() {
    let input = scratch("turns-bad-in");
    let out = scratch("turns-bad-out");
    std::fs::copy(photos_dir().join("faces/hopper.jpg"), input.join("a.jpg")).expect("copy");
    assert_eq!(ingest(&input, &out).status.code(), Some(0));
    assert!(out.join("renditions/a.jpg/256.jpg").exists());
    std::fs::copy(
        photos_dir().join("broken/truncated_jpeg_10000B_sharp.jpg"),
        input.join("a.jpg"),
    )
    .expect("copy");
    assert_eq!(ingest(&input, &out).status.code(), Some(2));
    assert!(!out.join("renditions/a.jpg").exists() && !out.join("analysis/a.jpg.json").exists());

    // A photo that became a broken link loses its outputs too.
    #[cfg(unix)]
    {
        std::fs::copy(photos_dir().join("faces/hopper.jpg"), input.join("b.jpg")).expect("copy");
        assert_eq!(
            ingest(&input, &out).status.code(),
            Some(2),
            "a.jpg still fails"
        );
        assert!(out.join("analysis/b.jpg.json").exists());
        std::fs::remove_file(input.join("b.jpg")).expect("remove");
        std::os::unix::fs::symlink(input.join("gone.jpg"), input.join("b.jpg")).expect("link");
        assert_eq!(ingest(&input, &out).status.code(), Some(2));
        assert!(
            !out.join("renditions/b.jpg").exists() && !out.join("analysis/b.jpg.json").exists()
        );
    }
}

#[test]
fn usage_errors_exit_with_1_and_help_with_0() {
    // 2 means "a photo failed": a mistyped command must not look like one.
    for args in [&["ingest", "--no-such-flag"][..], &["no-such-command"], &[]] {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
        let result = photo_suite(&args);
        assert_eq!(result.status.code(), Some(1), "{args:?}");
        assert!(
            !result.stderr.is_empty(),
            "{args:?}: the error is explained"
        );
    }
    // Options out of range are usage errors too, named, before any photo is read.
    let input = scratch("usage-in");
    std::fs::copy(photos_dir().join("faces/hopper.jpg"), input.join("a.jpg")).expect("copy");
    let out = scratch("usage-out").join("out");
    for (flag, value) in [
        ("--sizes", "0"),
        ("--sizes", "2048,0"),
        ("--threads", "0"),
        ("--max-pixels", "0"),
        ("--max-side", "0"),
        ("--max-bytes", "0"),
    ] {
        let args = [
            "ingest".as_ref(),
            input.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            flag.as_ref(),
            value.as_ref(),
        ];
        let result = photo_suite(&args);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(1), "{flag} {value}: {stderr}");
        assert!(stderr.contains(&format!("for '{flag}")), "{stderr}");
        assert!(!out.exists(), "{flag} {value}: nothing written");
    }
    let help = photo_suite(&["--help".as_ref()]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Usage"));
    let version = photo_suite(&["--version".as_ref()]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("photo-suite "));
}

#[test]
fn analyze_prints_the_upright_facts_as_json() {
    let file = photos_dir().join("faces/curie_portrait_orientation6.jpg");
    let result = photo_suite(&["analyze".as_ref(), file.as_os_str()]);
    assert_eq!(result.status.code(), Some(0));
    let json: Value = serde_json::from_slice(&result.stdout).expect("JSON on stdout");
    assert_eq!(json["width"], 840);
    assert_eq!(json["height"], 700);
    assert_eq!(json["orientation"], 6);
    assert_eq!(json["format"], "jpeg");
    assert!(json["gps"].is_null());

    let html = photos_dir().join("broken/not_an_image_html.jpg");
    let result = photo_suite(&["analyze".as_ref(), html.as_os_str()]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("unsupported"));
    assert!(result.stdout.is_empty());

    // A folder (or a FIFO, which would block the read) is not a file to analyse.
    let folder = photos_dir().join("faces");
    let result = photo_suite(&["analyze".as_ref(), folder.as_os_str()]);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("not a file"));
    let fifo = scratch("analyze-fifo").join("pipe.jpg");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let result = photo_suite(&["analyze".as_ref(), fifo.as_os_str()]);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("not a file"));

    // The extension is checked against the bytes, as `ingest` checks it.
    let png = photos_dir().join("broken/png_data_with_jpg_extension.jpg");
    let result = photo_suite(&["analyze".as_ref(), png.as_os_str()]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("format_mismatch"));
    assert!(result.stdout.is_empty());
}

/// What a folder from a phone or a file manager also holds: links, sidecars and videos, odd
/// names. Links are followed, sidecars and videos counted and passed over, and what cannot be
/// read or named is a failure in failures.jsonl, never passed over in silence.
#[test]
#[cfg(unix)]
fn links_sidecars_and_odd_names_are_followed_skipped_or_reported() {
    use std::os::unix::ffi::OsStrExt;
    let input = scratch("odd-names-in");
    let out = scratch("odd-names-out");
    let hopper = photos_dir().join("faces/hopper.jpg");
    std::os::unix::fs::symlink(&hopper, input.join("link.jpg")).expect("link");
    std::os::unix::fs::symlink(photos_dir().join("exif-orientation"), input.join("folder"))
        .expect("folder link");
    std::os::unix::fs::symlink(input.join("missing.jpg"), input.join("broken.jpg")).expect("link");
    std::os::unix::fs::symlink(&input, input.join("folder-loop")).expect("link");
    let not_utf8 = std::ffi::OsStr::from_bytes(b"bad\xff\xfe.jpg");
    std::fs::copy(&hopper, input.join(not_utf8)).expect("copy");
    for sidecar in ["link.jpg.json", "IMG_0001.MOV", "notes.txt"] {
        std::fs::write(input.join(sidecar), b"not a photo").expect("sidecar");
    }
    std::fs::write(input.join("esc\u{1b}[2J.jpg"), b"not a photo either").expect("write");
    // A real folder and a link to it named before it: listed once, under its real name.
    std::fs::create_dir(input.join("real")).expect("folder");
    std::fs::copy(&hopper, input.join("real/h.jpg")).expect("copy");
    std::os::unix::fs::symlink(input.join("real"), input.join("alias")).expect("link");
    let made = std::process::Command::new("mkfifo")
        .arg(input.join("pipe.jpg"))
        .status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");

    let result = ingest(&input, &out);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no raw escape reaches the terminal: {stderr}"
    );
    assert!(stderr.contains("esc\\u{1b}[2J.jpg"), "{stderr}");
    assert!(stderr.contains("3 skipped (not photos)"), "{stderr}");
    // hopper through the link and in real/, and the 18 photos of exif-orientation through the
    // folder link (the link back to the input folder is not listed again).
    assert!(stderr.contains("20 photos processed, 4 failed"), "{stderr}");
    assert!(out.join("analysis/real/h.jpg.json").is_file());
    assert!(
        !out.join("analysis/alias").exists(),
        "the folder is listed once"
    );
    assert!(out.join("analysis/link.jpg.json").is_file());
    assert!(out.join("analysis/folder/Landscape_1.jpg.json").is_file());
    let failed: Vec<(String, String)> = failures(&out)
        .iter()
        .map(|f| {
            (
                f["key"].as_str().unwrap_or_default().into(),
                f["kind"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (
                "bad\u{fffd}\u{fffd}.jpg".to_string(),
                "invalid_key".to_string()
            ),
            ("broken.jpg".into(), "input".into()),
            ("esc\u{1b}[2J.jpg".into(), "unsupported".into()),
            ("pipe.jpg".into(), "input".into()),
        ]
    );
}

/// A write the output folder refuses for good (a folder where the analysis goes) fails that
/// photo alone, with nothing of it left, and the run completes.
#[test]
fn an_output_the_folder_cannot_take_fails_that_photo_alone() {
    let input = scratch("refused-output-in");
    let out = scratch("refused-output-out");
    let hopper = photos_dir().join("faces/hopper.jpg");
    std::fs::copy(&hopper, input.join("a.jpg")).expect("copy");
    std::fs::copy(&hopper, input.join("b.jpg")).expect("copy");
    std::fs::create_dir_all(out.join("analysis/a.jpg.json")).expect("a folder in the way");
    let result = ingest(&input, &out);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("1 photo processed, 1 failed"), "{stderr}");
    let failed = failures(&out);
    assert_eq!(failed.len(), 1);
    assert_eq!(
        (failed[0]["key"].as_str(), failed[0]["kind"].as_str()),
        (Some("a.jpg"), Some("output"))
    );
    assert!(
        !out.join("renditions/a.jpg").exists(),
        "its renditions are removed"
    );
    assert!(
        out.join("analysis/b.jpg.json").is_file(),
        "the other photo is done"
    );
    assert!(out.join("report.html").is_file(), "the run completes");
}

/// Two photos whose outputs cannot both sit in a folder (photo `a`'s `analysis/a.json` is a
/// file, photo `a.json/b.jpg` needs a folder of that name): the later by key is refused,
/// before anything is written, so the outcome does not depend on which is written first.
#[test]
fn photos_whose_outputs_clash_in_a_folder_are_refused_in_key_order() {
    let input = scratch("clash-in");
    std::fs::create_dir(input.join("a.json")).expect("folder");
    let hopper = photos_dir().join("faces/hopper.jpg");
    std::fs::copy(&hopper, input.join("a")).expect("copy");
    std::fs::copy(&hopper, input.join("a.json/b.jpg")).expect("copy");
    for run in 0..3 {
        let out = scratch(&format!("clash-out-{run}"));
        let result = ingest(&input, &out);
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        let failed = failures(&out);
        assert_eq!(failed.len(), 1, "{stderr}");
        assert_eq!(failed[0]["key"], "a.json/b.jpg");
        assert_eq!(failed[0]["kind"], "invalid_key");
        let message = failed[0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("beside analysis/a.json, an output of a"),
            "{message}"
        );
        assert!(
            out.join("analysis/a.json").is_file() && out.join("renditions/a/256.jpg").is_file()
        );
    }
}

#[test]
fn the_input_folder_cannot_be_its_own_output() {
    let input = scratch("own-output");
    std::fs::copy(photos_dir().join("faces/hopper.jpg"), input.join("a.jpg")).expect("copy");
    let result = ingest(&input, &input);
    assert_eq!(result.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&result.stderr).contains("is the input folder"));
    assert!(!input.join("events.jsonl").exists(), "nothing written");
}

#[test]
fn the_analysis_does_not_depend_on_the_rendition_sizes_asked_for() {
    let input = scratch("analysis-sizes-in");
    std::fs::copy(
        photos_dir().join("faces/obama_official_portrait.jpg"),
        input.join("obama.jpg"),
    )
    .expect("copy photo");
    let out = scratch("analysis-sizes-out");
    let result = photo_suite(&[
        "ingest".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--sizes".as_ref(),
        "300".as_ref(),
    ]);
    assert_eq!(result.status.code(), Some(0));
    assert!(out.join("renditions/obama.jpg/300.jpg").is_file());
    assert!(!out.join("renditions/obama.jpg/1024.jpg").exists());
    let ingested = read_json(&out.join("analysis/obama.jpg.json"));

    let analyzed = photo_suite(&["analyze".as_ref(), input.join("obama.jpg").as_os_str()]);
    assert_eq!(analyzed.status.code(), Some(0));
    let analyzed: Value = serde_json::from_slice(&analyzed.stdout).expect("JSON on stdout");
    assert_eq!(ingested, analyzed);
    let signature = analyzed["signature"].as_str().unwrap_or_default();
    assert_eq!(signature.len(), 48, "{signature}");
    assert!(signature
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
}

#[test]
fn limits_are_configurable_and_checked_before_decoding() {
    let file = photos_dir().join("faces/craft_beer_24mp.jpg");
    let result = photo_suite(&[
        "analyze".as_ref(),
        file.as_os_str(),
        "--max-pixels".as_ref(),
        "20000000".as_ref(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("limits") && stderr.contains("6000x4000"),
        "{stderr}"
    );
    let result = photo_suite(&[
        "analyze".as_ref(),
        file.as_os_str(),
        "--max-bytes".as_ref(),
        "1000".as_ref(),
    ]);
    assert_eq!(
        result.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}
