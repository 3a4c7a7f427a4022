//! Build steps of imaging-core:
//!
//! 1. Embeds the SeetaFace frontal face model that the `rustface` crate ships in its registry
//!    package (`model/seeta_fd_frontal_v1.0.bin`, BSD-2-Clause like the crate). rustface has no
//!    API that hands out its own model bytes, so the build asks cargo where the resolved
//!    rustface package lives and copies the file into `OUT_DIR`; `analysis::faces` then embeds
//!    it with `include_bytes!`. The model is not downloaded: the file comes with the crate
//!    cargo already fetched (cargo metadata may fetch the workspace's other locked packages on
//!    a fresh machine: see `rustface_dir`).
//! 2. For the arm64 Lambda only (target aarch64-unknown-linux-gnu): links libheif with its HEIC
//!    (libde265) and AVIF (dav1d) decoders statically, from the folder scripts/aarch64-deps.sh
//!    fills and .cargo/config.toml names; libheif-sys's own probe is switched off for that
//!    target there. Other targets link the system's libheif through libheif-sys.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    copy_face_model();
    link_aarch64_static();
}

const MODEL_IN_CRATE: &str = "model/seeta_fd_frontal_v1.0.bin";

/// Copies the face model into `OUT_DIR` (step 1).
fn copy_face_model() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let source = rustface_dir().join(MODEL_IN_CRATE);
    println!("cargo:rerun-if-changed={}", source.display());
    std::fs::copy(&source, out.join("seeta_fd_frontal_v1.0.bin"))
        .unwrap_or_else(|e| panic!("copying the face model {}: {e}", source.display()));
}

/// The folder of the rustface package this build resolved, from `cargo metadata`.
fn rustface_dir() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("manifest dir"))
        .join("Cargo.toml");
    // Only this build's target platform: packages of other platforms may not be downloaded.
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    let metadata = |offline: bool| {
        let mut command = Command::new(&cargo);
        command.args(["metadata", "--format-version", "1"]);
        if offline {
            command.arg("--offline");
        }
        command
            .args(["--filter-platform", &target, "--manifest-path"])
            .arg(&manifest)
            .output()
            .expect("running cargo metadata")
    };
    // Offline first: nothing is fetched when every package is at hand. But cargo metadata
    // describes the whole workspace, and a build of one package (`./run` builds only the CLI)
    // fetches only that package's dependencies: on a fresh machine the others (the benches'
    // criterion and its dependencies) are missing, and cargo fetches them, as the locked
    // packages any other build of the workspace would fetch.
    let output = match metadata(true) {
        output if output.status.success() => output,
        _ => metadata(false),
    };
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let rustface = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "rustface")
        .expect("rustface is a dependency of imaging-core");
    let manifest_path = rustface["manifest_path"]
        .as_str()
        .expect("rustface has a manifest path");
    PathBuf::from(manifest_path)
        .parent()
        .expect("a manifest lies in its package folder")
        .to_path_buf()
}

/// Links the static aarch64 libheif, libde265 and dav1d (step 2); nothing on other targets.
fn link_aarch64_static() {
    println!("cargo:rerun-if-env-changed=PHOTO_SUITE_AARCH64_DEPS");
    if env::var("TARGET").as_deref() != Ok("aarch64-unknown-linux-gnu") {
        return;
    }
    let Some(prefix) = env::var_os("PHOTO_SUITE_AARCH64_DEPS") else {
        panic!("PHOTO_SUITE_AARCH64_DEPS is not set (see .cargo/config.toml)");
    };
    let lib = Path::new(&prefix).join("lib");
    let heif = lib.join("libheif.a");
    if !heif.exists() {
        panic!(
            "{} is missing: run scripts/aarch64-deps.sh first (it builds libheif, libde265 \
             and dav1d for aarch64)",
            heif.display()
        );
    }
    println!("cargo:rerun-if-changed={}", heif.display());
    println!("cargo:rustc-link-search=native={}", lib.display());
    // Not bundled into this rlib: linked after every crate, in this order (libheif first).
    for name in ["heif", "de265", "dav1d"] {
        println!("cargo:rustc-link-lib=static:-bundle={name}");
    }
    // libheif is C++; zig, the linker cargo-lambda uses, links its own libc++ for this.
    println!("cargo:rustc-link-lib=stdc++");
}
