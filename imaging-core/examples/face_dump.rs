//! Prints `detect_faces`' boxes and confidences for every photo of the given folders (default:
//! faces, camera, formats, exif-orientation) at 2048 and 1024 px, the renditions the analysis
//! uses. A change meant to keep the detections (a faster cascade) is checked by comparing the
//! output of two builds byte for byte:
//!
//! `cargo run --release -p imaging-core --example face_dump > before.txt`, change, run again
//! into `after.txt`, `cmp before.txt after.txt`. Photos are found like the tests find them
//! (`PHOTO_SUITE_PHOTOS`); photos that do not decode are skipped.

use imaging_core::analysis::faces::{detect_faces, FACE_DETECTION_SIDE};
use imaging_core::{decode, render_renditions, Limits, RenditionOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut folders: Vec<String> = std::env::args().skip(1).collect();
    if folders.is_empty() {
        folders = ["faces", "camera", "formats", "exif-orientation"]
            .map(String::from)
            .into();
    }
    let options = RenditionOptions {
        sizes: vec![FACE_DETECTION_SIDE, 1024],
        analyze_pixels: false,
        ..RenditionOptions::default()
    };
    for folder in folders {
        for path in test_support::photo_paths(&folder) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let Ok(set) = render_renditions(&std::fs::read(&path)?, &options) else {
                continue;
            };
            for rendition in &set.renditions {
                let image = decode(&rendition.jpeg, &Limits::default(), None)?.image;
                let faces = detect_faces(&image);
                println!(
                    "{folder}/{name} {}x{}: {faces:?}",
                    image.width, image.height
                );
            }
        }
    }
    Ok(())
}
