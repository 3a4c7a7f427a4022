//! Prints, for every photo of the given folders of the corpus (default: faces, camera), what
//! `ingest` makes of it with the default options: the analysis document as JSON and the
//! SHA-256 of each rendition, one line a photo (a photo that fails: its error kind).
//!
//! The arm64 Lambda runs code that the development machine does not (NEON instead of AVX2 in
//! the resizer, the face cascade and the codecs): `scripts/arm64-analysis.sh` runs this example
//! built for aarch64 under qemu and for the machine itself, and compares the two outputs byte
//! for byte. Photos are found like the tests find them (`PHOTO_SUITE_PHOTOS`).

use imaging_core::{render_renditions, sha256_hex, RenditionOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut folders: Vec<String> = std::env::args().skip(1).collect();
    if folders.is_empty() {
        folders = ["faces", "camera"].map(String::from).into();
    }
    let options = RenditionOptions::default();
    for folder in folders {
        for path in test_support::photo_paths(&folder) {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            match render_renditions(&std::fs::read(&path)?, &options) {
                Ok(set) => {
                    let renditions: Vec<String> = set
                        .renditions
                        .iter()
                        .map(|r| format!("{}:{}", r.max_side, sha256_hex(&r.jpeg)))
                        .collect();
                    println!(
                        "{folder}/{name} {} {}",
                        serde_json::to_string(&set.info)?,
                        renditions.join(" ")
                    );
                }
                Err(e) => println!("{folder}/{name} failed: {}", e.kind()),
            }
        }
    }
    Ok(())
}
