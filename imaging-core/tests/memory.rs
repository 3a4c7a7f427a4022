//! Peak memory of decoding, measured on the process (`VmHWM`): this test binary holds one test
//! so that nothing else runs beside it.

mod common;

/// The corpus's 10-bit AVIF (20.6 MP, 4:4:4) decodes within 350 MB of peak memory. It peaked
/// at 546 MB when dav1d ran on every processor (frame threading keeps a frame of coefficients
/// besides the picture); on one processor it takes about 280 MB.
#[test]
#[cfg(target_os = "linux")]
fn a_20_mp_10_bit_avif_decodes_within_350_mb() {
    let bytes = std::fs::read(common::photos_dir().join("formats/avif_10bit_hdr_p3_nclx.avif"))
        .expect("the corpus's 10-bit AVIF");
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
