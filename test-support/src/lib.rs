//! What the tests, examples and benches of photo-suite share: where the photo corpus is
//! (one variable, `PHOTO_SUITE_PHOTOS`, that defaults to `../shared/photos` from the repository
//! root), its files, its `MANIFEST.tsv`, the true face counts, and the fuzz regression inputs.
//!
//! Test code: a missing or unreadable file panics with its path, which fails the test that
//! asked for it.

#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository root (this crate's parent folder).
fn repository() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The shared corpus: `$PHOTO_SUITE_PHOTOS`, or `../shared/photos` from the repository root.
pub fn photos_dir() -> PathBuf {
    std::env::var_os("PHOTO_SUITE_PHOTOS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository().join("../shared/photos"))
}

/// The corpus folders of good photos (every one but `broken/`).
pub const GOOD_FOLDERS: [&str; 4] = ["camera", "faces", "exif-orientation", "formats"];

/// The files of one corpus folder, sorted by name; a missing or empty folder panics.
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
            let name = file_name(&p);
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {name}: {e}"));
            (name, bytes)
        })
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

/// One row of `MANIFEST.tsv`: the file, its stored size and the notes, which state facts as
/// `KEY=value` (up to the next `;`).
#[derive(Debug, Clone)]
pub struct ManifestRow {
    /// Path within the corpus, as `folder/name`.
    pub path: String,
    /// Width and height as stored (before EXIF orientation); `None` where the manifest gives
    /// none (files of `broken/` that have no readable size, the licence texts).
    pub size: Option<(u32, u32)>,
    /// The notes column.
    pub notes: String,
}

impl ManifestRow {
    /// The value after `KEY=` in the notes, up to the next `;`, trimmed.
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

    /// Upright width and height, where the size is known.
    pub fn upright(&self) -> Option<(u32, u32)> {
        let (width, height) = self.size?;
        Some(if self.orientation() >= 5 {
            (height, width)
        } else {
            (width, height)
        })
    }

    /// The face count the notes state as `FACES=N` (the photos of `faces/`).
    pub fn faces(&self) -> Option<usize> {
        let rest = self.notes.split("FACES=").nth(1)?;
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    }
}

/// `MANIFEST.tsv`, by path. Columns: path, four of provenance, width, height, bytes, notes.
/// Fields are trimmed and blank lines skipped; a row without notes, or a path listed twice,
/// panics.
pub fn manifest() -> BTreeMap<String, ManifestRow> {
    let file = photos_dir().join("MANIFEST.tsv");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
    let mut rows = BTreeMap::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
        let (Some(path), Some(notes)) = (cols.first(), cols.get(8)) else {
            panic!("{}: malformed row {line:?}", file.display())
        };
        let number = |i: usize| cols.get(i).and_then(|c| c.parse().ok());
        let row = ManifestRow {
            path: path.to_string(),
            size: number(5).zip(number(6)),
            notes: notes.to_string(),
        };
        assert!(
            rows.insert(row.path.clone(), row).is_none(),
            "{}: {path} is listed twice",
            file.display()
        );
    }
    rows
}

/// The true number of real faces of every photo it knows: those of `faces/` from the `FACES=N`
/// notes of `MANIFEST.tsv`, the others from `benches/eval/true_faces.tsv` (counted by eye,
/// shared with the evaluation; its header says what counts as a face). Panics when a photo of
/// `faces/` has no count, or the table names a photo twice or one that is not in the corpus.
pub fn true_faces() -> BTreeMap<String, usize> {
    let manifest = manifest();
    let mut counts = BTreeMap::new();
    for row in manifest.values().filter(|r| r.path.starts_with("faces/")) {
        let faces = row
            .faces()
            .unwrap_or_else(|| panic!("MANIFEST.tsv: {} has no FACES=N", row.path));
        counts.insert(row.path.clone(), faces);
    }
    let table = repository().join("benches/eval/true_faces.tsv");
    let text = std::fs::read_to_string(&table)
        .unwrap_or_else(|e| panic!("reading {}: {e}", table.display()));
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("photo\t") && !l.trim().is_empty());
    for line in lines {
        let mut fields = line.split('\t').map(str::trim);
        let (photo, faces) = (fields.next().unwrap_or_default(), fields.next());
        let faces: usize = faces
            .and_then(|f| f.parse().ok())
            .unwrap_or_else(|| panic!("{}: no face count in {line:?}", table.display()));
        assert!(
            manifest.contains_key(photo),
            "{}: {photo} is not in the corpus",
            table.display()
        );
        assert!(
            counts.insert(photo.to_string(), faces).is_none(),
            "{}: {photo} is counted twice",
            table.display()
        );
    }
    counts
}

/// The inputs kept for one fuzz target under `fuzz/regressions/<target>/`, by file name. Each
/// file must be pinned to an outcome by the test that replays them: panics unless the folder
/// holds exactly the files named in `pinned`.
pub fn fuzz_regressions(target: &str, pinned: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let dir = repository().join("fuzz/regressions").join(target);
    let files: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (file_name(&path), bytes)
        })
        .collect();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    let mut pinned = pinned.to_vec();
    pinned.sort_unstable();
    assert_eq!(
        names,
        pinned,
        "every file of {} is pinned to an outcome, and every pinned file is there",
        dir.display()
    );
    files
}

/// Every file under `dir`, recursively, by path relative to `dir`, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|e| panic!("reading {}: {e}", folder.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
                let relative = path.strip_prefix(dir).expect("under dir").to_path_buf();
                files.insert(relative, bytes);
            }
        }
    }
    files
}
