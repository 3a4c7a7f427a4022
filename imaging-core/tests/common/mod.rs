//! Helpers shared by imaging-core's corpus tests: where the photo corpus is, and its files.

#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

/// The shared corpus: `$PHOTO_SUITE_PHOTOS`, or `../shared/photos` from the repository root.
pub fn photos_dir() -> PathBuf {
    std::env::var_os("PHOTO_SUITE_PHOTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/photos"))
        })
}

/// The corpus folders of good photos (every one but `broken/`).
pub const GOOD_FOLDERS: [&str; 4] = ["camera", "faces", "exif-orientation", "formats"];

/// The files of one corpus folder, sorted by name; a missing or empty folder fails the test.
pub fn photo_paths(folder: &str) -> Vec<PathBuf> {
    let dir = photos_dir().join(folder);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no photos in {}", dir.display());
    paths
}

/// The photos of one corpus folder with their bytes, by file name, sorted by name.
pub fn photos_in(folder: &str) -> Vec<(String, Vec<u8>)> {
    photo_paths(folder)
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            (name, bytes)
        })
        .collect()
}
