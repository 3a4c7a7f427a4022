//! Helpers shared by the end-to-end tests: running the CLI and reading what it wrote (the photo
//! corpus and its manifest come from the `test-support` crate).

#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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
