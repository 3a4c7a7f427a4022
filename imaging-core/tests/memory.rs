//! Memory of decoding: the peak measured on the process (`VmHWM`), which is why this test
//! binary holds no other test that decodes, and the estimate checked before decoding.

/// The corpus's 10-bit AVIF (3681x5594, 4:4:4, Display P3).
fn ten_bit_avif() -> Vec<u8> {
    std::fs::read(test_support::photos_dir().join("formats/avif_10bit_hdr_p3_nclx.avif"))
        .expect("the corpus's 10-bit AVIF")
}

/// The corpus's 10-bit AVIF (20.6 MP, 4:4:4) decodes within 350 MB of peak memory. This test
/// measured 528 MB when dav1d ran on both processors here (frame threading keeps a frame of
/// coefficients besides the picture); `photo-suite analyze` now peaks at 277 MB on it.
#[test]
#[cfg(target_os = "linux")]
fn a_20_mp_10_bit_avif_decodes_within_350_mb() {
    let bytes = ten_bit_avif();
    let before = imaging_core::peak_resident_bytes().expect("Linux tells the peak");
    let decoded =
        imaging_core::decode(&bytes, &imaging_core::Limits::default(), None).expect("decodes");
    assert_eq!(
        (decoded.image.width, decoded.image.height),
        (3681, 5594),
        "the whole image"
    );
    let peak = imaging_core::peak_resident_bytes().expect("Linux tells the peak");
    assert!(
        peak < 350 << 20,
        "peak {} MB (from {} MB before the decode)",
        peak >> 20,
        before >> 20
    );
}

/// A HEIF/AVIF whose decode would take more than the limits allow is refused from its header:
/// the same 10-bit AVIF under a 40 MP pixel limit, whose pixels it passes (20.6 MP) but whose
/// allocation bound (8 bytes a pixel of the limit and 16 MiB: 321 MiB) its estimate (18 bytes
/// a pixel: 353 MiB) does not.
#[test]
fn a_10_bit_avif_over_the_allocation_bound_is_refused_before_decoding() {
    let bytes = ten_bit_avif();
    let limits = imaging_core::Limits {
        max_pixels: 40_000_000,
        ..imaging_core::Limits::default()
    };
    let e = imaging_core::decode(&bytes, &limits, None).expect_err("refused");
    assert_eq!(e.kind(), "limits", "{e}");
    assert!(
        e.to_string()
            .contains("a 3681x5594 10-bit avif takes about 353 MiB to decode, over 321 MiB"),
        "{e}"
    );
}
