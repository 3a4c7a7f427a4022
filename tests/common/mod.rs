//! Helpers shared by the end-to-end tests: the photo corpus, its manifest, and running the CLI.

#![allow(dead_code)] // each test binary uses its own subset

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus: `$PHOTO_SUITE_PHOTOS`, or `../shared/photos` from the repository root.
pub fn photos() -> PathBuf {
    std::env::var_os("PHOTO_SUITE_PHOTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/photos"))
}

/// A fresh, empty folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs `photo-suite` with `args`.
pub fn photo_suite(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_photo-suite"))
        .args(args)
        .output()
        .expect("run photo-suite")
}

/// Runs `photo-suite ingest INPUT --out OUT`.
pub fn ingest(input: &Path, out: &Path) -> Output {
    photo_suite(&[
        "ingest".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ])
}

/// One row of MANIFEST.tsv, with the facts the notes state.
#[derive(Debug, Clone)]
pub struct ManifestRow {
    pub path: String,
    pub width: u32,
    pub height: u32,
    pub notes: String,
}

impl ManifestRow {
    /// The value after `KEY=` in the notes, up to the next `;`.
    pub fn fact(&self, key: &str) -> Option<&str> {
        let start = self.notes.find(&format!("{key}="))? + key.len() + 1;
        let rest = &self.notes[start..];
        Some(rest[..rest.find(';').unwrap_or(rest.len())].trim())
    }

    /// The EXIF orientation the manifest states (1 when absent or invalid).
    pub fn orientation(&self) -> u32 {
        self.fact("Orientation")
            .and_then(|v| v.parse().ok())
            .filter(|v| (1..=8).contains(v))
            .unwrap_or(1)
    }

    /// Upright width and height.
    pub fn upright(&self) -> (u32, u32) {
        if self.orientation() >= 5 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

/// MANIFEST.tsv, by path.
pub fn manifest() -> BTreeMap<String, ManifestRow> {
    let text = std::fs::read_to_string(photos().join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let row = ManifestRow {
                path: cols.first()?.to_string(),
                width: cols.get(5)?.parse().ok()?,
                height: cols.get(6)?.parse().ok()?,
                notes: cols.get(8)?.to_string(),
            };
            Some((row.path.clone(), row))
        })
        .collect()
}

/// The size that fits within `max_side`, never upscaled (what the renditions promise).
pub fn fit(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max_side {
        return (width, height);
    }
    let scale =
        |v: u32| (((v as u64 * max_side as u64) + long as u64 / 2) / long as u64).max(1) as u32;
    (scale(width), scale(height))
}

/// The JPEG marker segments before the scan: (marker, payload).
pub fn jpeg_segments(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        if marker == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        out.push((marker, bytes[pos + 4..pos + 2 + len].to_vec()));
        pos += 2 + len;
    }
    out
}

/// Every file under `dir`, relative path to bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_path_buf();
                out.insert(rel, std::fs::read(&path).expect("read file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}
