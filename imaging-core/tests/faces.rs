//! Face detection on the real photo corpus: each photo is rendered by the rendition job at
//! [`FACE_DETECTION_SIDE`], its stored JPEG decoded back and searched. (The pipeline searches
//! the rendition's pixels before the JPEG encoding; a face at the edge of detection can come
//! and go between the two, as Obama on the White House photo.)
//!
//! Counts are compared per photo: found = min(detected, true), false = max(0, detected - true).

use imaging_core::analysis::faces::{detect_faces, Face, FACE_DETECTION_SIDE};
use imaging_core::{decode, render_renditions, Limits, RenditionOptions, RgbImage};
use test_support::{photo_paths, photos_dir, true_faces, GOOD_FOLDERS};

/// The FACE_DETECTION_SIDE rendition as stored (JPEG), decoded back.
fn detection_rendition(bytes: &[u8]) -> RgbImage {
    let options = RenditionOptions {
        sizes: vec![FACE_DETECTION_SIDE],
        ..RenditionOptions::default()
    };
    let set = render_renditions(bytes, &options).expect("renders");
    let rendition = set.renditions.first().expect("one rendition");
    decode(&rendition.jpeg, &Limits::default(), None)
        .expect("rendition decodes")
        .image
}

fn assert_well_formed(name: &str, image: &RgbImage, faces: &[Face]) {
    let whole = imaging_core::analysis::geometry::Rect {
        x: 0,
        y: 0,
        width: image.width,
        height: image.height,
    };
    for face in faces {
        assert!(
            face.width > 0 && face.height > 0 && whole.contains(&face.rect()),
            "{name}: {face:?} is not inside {}x{}",
            image.width,
            image.height
        );
        assert!(
            face.confidence > 0.0 && face.confidence < 1.0,
            "{name}: {face:?}"
        );
    }
    assert!(
        faces.windows(2).all(|w| w[0].confidence >= w[1].confidence),
        "{name}: not sorted by confidence: {faces:?}"
    );
}

#[test]
fn finds_nine_faces_in_ten_with_at_most_one_false_detection_over_the_corpus() {
    let mut report = Vec::new();
    let truths = true_faces();
    let (mut found, mut expected, mut false_detections) = (0, 0, 0);
    let mut seen = Vec::new();
    for folder in GOOD_FOLDERS {
        for path in photo_paths(folder) {
            let file = path.file_name().expect("file name").to_string_lossy();
            let name = format!("{folder}/{file}");
            let truth = *truths
                .get(&name)
                .unwrap_or_else(|| panic!("{name} has no true face count"));
            seen.push(name.clone());
            let bytes = std::fs::read(&path).expect("reads");
            let image = detection_rendition(&bytes);
            let faces = detect_faces(&image);
            assert_well_formed(&name, &image, &faces);
            if folder == "faces" {
                found += faces.len().min(truth);
                expected += truth;
            }
            let false_here = faces.len().saturating_sub(truth);
            false_detections += false_here;
            report.push(format!(
                "{name}: {} detected, {truth} true, {false_here} false",
                faces.len()
            ));
        }
    }
    let unseen: Vec<&String> = truths
        .keys()
        .filter(|k| GOOD_FOLDERS.iter().any(|f| k.starts_with(&format!("{f}/"))))
        .filter(|k| !seen.contains(k))
        .collect();
    assert!(
        unseen.is_empty(),
        "counted but not in the corpus: {unseen:?}"
    );
    println!("{}", report.join("\n"));
    println!(
        "faces/: found {found} of {expected}; false detections over the corpus: {false_detections}"
    );
    assert!(
        found * 10 >= expected * 9,
        "found {found} of {expected} faces\n{}",
        report.join("\n")
    );
    assert!(
        false_detections <= 1,
        "{false_detections} false detections\n{}",
        report.join("\n")
    );
}

#[test]
fn every_solvay_face_is_a_separate_box_of_a_plausible_size() {
    let path = photos_dir().join("faces/solvay_conference_1927.jpg");
    let image = detection_rendition(&std::fs::read(&path).expect("reads"));
    let faces = detect_faces(&image);
    // Faces there are 2.5% to 4.5% of the 2048-px width.
    for face in &faces {
        assert!((45..=100).contains(&face.width), "{face:?}");
    }
    for (i, a) in faces.iter().enumerate() {
        for b in &faces[i + 1..] {
            assert!(a.rect().iou(&b.rect()) < 0.2, "{a:?} overlaps {b:?}");
        }
    }
}

#[test]
fn a_face_serialises_with_the_public_field_names() {
    let face = Face {
        x: 1,
        y: 2,
        width: 3,
        height: 4,
        confidence: 0.5,
    };
    let json = serde_json::to_value(face).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({"x": 1, "y": 2, "width": 3, "height": 4, "confidence": 0.5})
    );
    let back: Face = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, face);
}
