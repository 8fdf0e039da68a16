//! A photo's bytes into luma pixels, refusing before any pixel is decoded what is not a complete JPEG or PNG of a
//! sane size: the checks behind [`super::ScanError`].

use super::{MAX_PIXELS, ScanError};
use image::{GrayImage, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Reads a photo into luma pixels, refusing what is not a complete JPEG or PNG of a sane size.
pub fn load_gray(bytes: &[u8]) -> Result<GrayImage, ScanError> {
    if bytes.is_empty() {
        return Err(ScanError::Empty);
    }
    if let Some(brand) = isobmff_brand(bytes) {
        return Err(ScanError::UnsupportedFormat(brand));
    }
    let format = image::guess_format(bytes).map_err(|_| ScanError::NotAnImage)?;
    match format {
        ImageFormat::Jpeg | ImageFormat::Png => {}
        other => return Err(ScanError::UnsupportedFormat(format!("{other:?}").to_uppercase())),
    }
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|e| classify(e, format))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ScanError::TooLarge { width, height });
    }
    if format == ImageFormat::Jpeg && !jpeg_reaches_its_end(bytes) {
        // The JPEG decoder pads a cut-off scan with grey and reports success; a cut-off photo must be re-sent.
        return Err(ScanError::Truncated);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(width);
    limits.max_image_height = Some(height);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| classify(e, format))?;
    Ok(img.into_luma8())
}

fn classify(e: ImageError, format: ImageFormat) -> ScanError {
    match e {
        ImageError::Limits(_) => ScanError::Corrupt("it declares more pixels than it holds".into()),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => ScanError::Truncated,
        ImageError::Unsupported(u) => ScanError::UnsupportedFormat(format!("{format:?} ({u})")),
        other => ScanError::Corrupt(other.to_string()),
    }
}

/// HEIC, HEIF and AVIF (what iPhones and many Android phones save by default) are ISO-BMFF files: `ftyp` at byte
/// 4, then the brand. Naming them tells the user what to change.
fn isobmff_brand(bytes: &[u8]) -> Option<String> {
    if bytes.len() < 12 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let brand = String::from_utf8_lossy(&bytes[8..12]).to_string();
    let name = match brand.as_str() {
        "heic" | "heix" | "hevc" | "hevx" | "heim" | "heis" => "HEIC",
        "mif1" | "msf1" => "HEIF",
        "avif" | "avis" => "AVIF",
        _ => "ISO media (video?)",
    };
    Some(name.to_string())
}

/// Walks the JPEG's segments and entropy-coded scans to its end-of-image marker; false when the bytes run out first.
/// Segments are skipped by their lengths, so an EXIF thumbnail's own markers are never mistaken for the photo's.
fn jpeg_reaches_its_end(bytes: &[u8]) -> bool {
    let n = bytes.len();
    let mut i = 2; // after SOI
    loop {
        // Fill bytes before a marker.
        while i < n && bytes[i] == 0xFF && i + 1 < n && bytes[i + 1] == 0xFF {
            i += 1;
        }
        if i + 1 >= n || bytes[i] != 0xFF {
            return false;
        }
        let marker = bytes[i + 1];
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD8 => i += 2,
            _ => {
                if i + 3 >= n {
                    return false;
                }
                let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
                if len < 2 || i + 2 + len > n {
                    return false;
                }
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a restart.
                    loop {
                        if i + 1 >= n {
                            return false;
                        }
                        if bytes[i] == 0xFF {
                            let next = bytes[i + 1];
                            if next != 0x00 && next != 0xFF && !(0xD0..=0xD7).contains(&next) {
                                break;
                            }
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jpeg_cut_in_half_does_not_reach_its_end() {
        let img = GrayImage::from_fn(64, 48, |x, y| image::Luma([((x ^ y) * 4) as u8]));
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
            .encode(img.as_raw(), 64, 48, image::ExtendedColorType::L8)
            .expect("encode a small JPEG");
        assert!(jpeg_reaches_its_end(&jpeg));
        assert!(!jpeg_reaches_its_end(&jpeg[..jpeg.len() / 2]));
        assert!(!jpeg_reaches_its_end(&jpeg[..jpeg.len() - 1]));
    }
}
