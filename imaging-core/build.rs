//! For the arm64 Lambda only (target aarch64-unknown-linux-gnu): links libheif with its HEIC
//! (libde265) and AVIF (dav1d) decoders statically, from the folder scripts/aarch64-deps.sh
//! fills and .cargo/config.toml names; libheif-sys's own probe is switched off for that target
//! there. Other targets link the system's libheif through libheif-sys, and this does nothing.

use std::env;
use std::path::Path;

fn main() {
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
