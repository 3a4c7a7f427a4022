//! Colour management: whatever the source space, outputs are sRGB.

use crate::pixels::RgbImage;
use lcms2::{CIExyY, CIExyYTRIPLE, Intent, PixelFormat, Pod, Profile, ToneCurve, Transform};

/// How the source pixels' colours are described.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SourceColor {
    /// Assumed sRGB (no profile, or an sRGB one).
    Srgb,
    /// An embedded ICC profile.
    Icc(Vec<u8>),
    /// Display P3 primaries signalled by CICP/nclx (HEIF/AVIF without ICC).
    DisplayP3,
}

/// Profile descriptions that need no conversion.
fn is_srgb(profile: &Profile) -> bool {
    let desc = profile
        .info(lcms2::InfoType::Description, lcms2::Locale::none())
        .unwrap_or_default()
        .to_ascii_lowercase();
    desc.contains("srgb") || desc.contains("iec61966-2.1") || desc.contains("iec 61966-2-1")
}

fn display_p3() -> Result<Profile, String> {
    let white = CIExyY {
        x: 0.3127,
        y: 0.3290,
        Y: 1.0,
    };
    let primaries = CIExyYTRIPLE {
        Red: CIExyY {
            x: 0.680,
            y: 0.320,
            Y: 1.0,
        },
        Green: CIExyY {
            x: 0.265,
            y: 0.690,
            Y: 1.0,
        },
        Blue: CIExyY {
            x: 0.150,
            y: 0.060,
            Y: 1.0,
        },
    };
    // The sRGB transfer curve, as Display P3 uses.
    let curve =
        ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045])
            .map_err(|e| e.to_string())?;
    Profile::new_rgb(&white, &primaries, &[&curve, &curve, &curve]).map_err(|e| e.to_string())
}

/// An lcms2 error as one line of a warning: `what`, then lcms2's text, its lines joined.
fn lcms_error(what: &str, e: &lcms2::Error) -> String {
    let text = e.to_string();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    format!("{what}: {}", lines.join("; "))
}

/// A transform from pixels of `format` in `profile` to 8-bit sRGB (perceptual intent).
fn to_srgb<T: Copy + Pod>(
    profile: &Profile,
    format: PixelFormat,
) -> Result<Transform<T, [u8; 3]>, String> {
    Transform::new(
        profile,
        format,
        &Profile::new_srgb(),
        PixelFormat::RGB_8,
        Intent::Perceptual,
    )
    .map_err(|e| lcms_error("cannot convert to sRGB", &e))
}

/// Converts RGB pixels in place to sRGB. A grey profile applies to pixels that are all grey
/// (a monochrome HEIF, which libheif decodes to RGB). An unreadable profile, or one that does
/// not fit the pixels, is an `Err` (a warning for the caller): the pixels are then left as
/// they are, which is what viewers do.
pub(crate) fn rgb_to_srgb(image: &mut RgbImage, source: &SourceColor) -> Result<(), String> {
    let profile = match source {
        SourceColor::Srgb => return Ok(()),
        SourceColor::DisplayP3 => display_p3()?,
        SourceColor::Icc(icc) => {
            let profile =
                Profile::new_icc(icc).map_err(|e| lcms_error("unreadable ICC profile", &e))?;
            let grey = |p: &[u8]| p[0] == p[1] && p[1] == p[2];
            match profile.color_space() {
                lcms2::ColorSpaceSignature::RgbData if is_srgb(&profile) => return Ok(()),
                lcms2::ColorSpaceSignature::RgbData => profile,
                lcms2::ColorSpaceSignature::GrayData if image.pixels.chunks_exact(3).all(grey) => {
                    let gray: Vec<u8> = image.pixels.iter().step_by(3).copied().collect();
                    let (converted, warning) =
                        gray_to_srgb(image.width, image.height, &gray, Some(icc));
                    *image = converted;
                    return warning.map_or(Ok(()), Err);
                }
                _ => return Err("ICC profile of an RGB image is not an RGB profile".to_string()),
            }
        }
    };
    let transform = to_srgb::<[u8; 3]>(&profile, PixelFormat::RGB_8)?;
    let (pixels, _) = image.pixels.as_chunks_mut::<3>();
    transform.transform_in_place(pixels);
    Ok(())
}

/// Converts grey pixels to sRGB, through the profile when it is a grey one, or as equal R, G
/// and B through an RGB one (a grey image tagged with its editor's RGB working space).
pub(crate) fn gray_to_srgb(
    width: u32,
    height: u32,
    gray: &[u8],
    icc: Option<&[u8]>,
) -> (RgbImage, Option<String>) {
    let Some(icc) = icc else {
        return (RgbImage::from_gray(width, height, gray), None);
    };
    let converted = Profile::new_icc(icc)
        .map_err(|e| lcms_error("unreadable ICC profile", &e))
        .and_then(|profile| match profile.color_space() {
            lcms2::ColorSpaceSignature::GrayData => {
                let transform = to_srgb::<u8>(&profile, PixelFormat::GRAY_8)?;
                let mut out = vec![[0u8; 3]; gray.len()];
                transform.transform_pixels(gray, &mut out);
                Ok(RgbImage {
                    width,
                    height,
                    pixels: out.into_flattened(),
                })
            }
            lcms2::ColorSpaceSignature::RgbData => {
                let mut image = RgbImage::from_gray(width, height, gray);
                rgb_to_srgb(&mut image, &SourceColor::Icc(icc.to_vec())).map(|()| image)
            }
            _ => Err("ICC profile of a grey image is neither a grey nor an RGB profile".into()),
        });
    match converted {
        Ok(image) => (image, None),
        Err(warning) => (RgbImage::from_gray(width, height, gray), Some(warning)),
    }
}

/// Converts CMYK pixels to sRGB: through the embedded profile when there is one, otherwise by
/// the naive formula. `inverted` is Adobe's convention (APP14), where 0 means full ink.
pub(crate) fn cmyk_to_srgb(
    width: u32,
    height: u32,
    cmyk: &[u8],
    icc: Option<&[u8]>,
    inverted: bool,
) -> (RgbImage, Option<String>) {
    let mut warning = None;
    if let Some(icc) = icc {
        let transform = Profile::new_icc(icc)
            .map_err(|e| lcms_error("unreadable ICC profile", &e))
            .and_then(|profile| {
                if profile.color_space() != lcms2::ColorSpaceSignature::CmykData {
                    return Err("ICC profile of a CMYK image is not a CMYK profile".to_string());
                }
                let format = if inverted {
                    PixelFormat::CMYK_8_REV
                } else {
                    PixelFormat::CMYK_8
                };
                to_srgb::<[u8; 4]>(&profile, format)
            });
        match transform {
            Ok(transform) => {
                let (src, _) = cmyk.as_chunks::<4>();
                let mut out = vec![[0u8; 3]; src.len()];
                transform.transform_pixels(src, &mut out);
                let image = RgbImage {
                    width,
                    height,
                    pixels: out.into_flattened(),
                };
                return (image, None);
            }
            Err(e) => warning = Some(e),
        }
    }
    let pixels = cmyk
        .chunks_exact(4)
        .flat_map(|p| {
            let ink = |v: u8| if inverted { 255 - v } else { v };
            let k = 255 - u32::from(ink(p[3]));
            let channel = |v: u8| ((255 - u32::from(ink(v))) * k / 255) as u8;
            [channel(p[0]), channel(p[1]), channel(p[2])]
        })
        .collect();
    (
        RgbImage {
            width,
            height,
            pixels,
        },
        warning,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn naive_cmyk_without_ink_is_white_and_full_black_is_black() {
        let (img, _) = cmyk_to_srgb(2, 1, &[0, 0, 0, 0, 0, 0, 0, 255], None, false);
        assert_eq!(img.pixels, vec![255, 255, 255, 0, 0, 0]);
        let (inverted, _) = cmyk_to_srgb(1, 1, &[255, 255, 255, 255], None, true);
        assert_eq!(inverted.pixels, vec![255, 255, 255]);
    }

    #[test]
    fn display_p3_red_is_out_of_srgb_gamut_and_clips_to_pure_red() {
        let mut img = RgbImage::from_raw(2, 1, vec![255, 0, 0, 128, 128, 128]).expect("size");
        rgb_to_srgb(&mut img, &SourceColor::DisplayP3).expect("convert");
        assert_eq!(&img.pixels[..3], &[255, 0, 0]);
        // Grey stays grey: both spaces share white point and transfer curve.
        let grey = &img.pixels[3..];
        assert!(grey.iter().all(|&c| c.abs_diff(128) <= 1), "{grey:?}");
    }

    #[test]
    fn srgb_profile_is_left_alone() {
        let srgb = Profile::new_srgb().icc().expect("serialise");
        let mut img = RgbImage::from_raw(1, 1, vec![1, 2, 3]).expect("size");
        rgb_to_srgb(&mut img, &SourceColor::Icc(srgb)).expect("convert");
        assert_eq!(img.pixels, vec![1, 2, 3]);
    }
}
