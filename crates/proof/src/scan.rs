//! Reading QR codes out of camera photos: the phone photographs a packet label or a resident's slip and this module
//! returns the texts of the codes in the frame.
//!
//! It owns the photo's first checks ([`decode_photo`]: format, size, truncation, before a pixel is decoded), the
//! decoding strategies ([`Strategy`]: which scales, pixel preparations and decoders run, in which order) and the
//! seeded robustness corpus the tests and the benchmark measure them on ([`corpus`]). Two decoders are used: rxing
//! (a port of ZXing: hybrid block binariser, finder search tolerant of blur and small modules) first, because it
//! measured best by far, and rqrr (quirc's algorithm) as the second opinion that still reads steep perspective.
//!
//! Pure computation over bytes in memory. It must never import the token rules: what a decoded text *means* (a
//! `JX1:` token, its signature) is `jx_core::token`'s business; the scanner only prefers texts with that prefix
//! when deciding it may stop early.

pub mod corpus;
mod load;
mod prep;

pub use load::load_gray;

use image::GrayImage;

/// The largest photo accepted, in pixels. A 12 MP phone photo is a quarter of it; anything bigger is a decompression
/// bomb or not a photo.
pub const MAX_PIXELS: u64 = 50_000_000;

/// The prefix of our own codes; a pass that finds one ends the search.
const OUR_PREFIX: &str = "JX1:";

/// Why a photo could not be searched for codes at all. A photo that was read but holds no readable code is not an
/// error: [`decode_photo`] returns an empty list for it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    #[error("the photo is empty (0 bytes)")]
    Empty,
    #[error("these bytes are not a photo (neither JPEG nor PNG)")]
    NotAnImage,
    #[error("{0} photos cannot be scanned; take the photo as JPEG or PNG")]
    UnsupportedFormat(String),
    #[error("the photo is cut off before its end; it was not saved or sent completely")]
    Truncated,
    #[error("the photo is damaged and cannot be decoded: {0}")]
    Corrupt(String),
    #[error("the photo is {width}×{height} pixels, more than the {max_mp} megapixels the scanner accepts", max_mp = MAX_PIXELS / 1_000_000)]
    TooLarge { width: u32, height: u32 },
}

/// Decodes a JPEG or PNG photo of any size up to [`MAX_PIXELS`] and returns every distinct QR text found with
/// [`Strategy::Best`], in the order found. An empty list means the photo was fine but no code could be read.
///
/// EXIF orientation is not applied: a QR code reads the same at any rotation.
pub fn decode_photo(bytes: &[u8]) -> Result<Vec<String>, ScanError> {
    let gray = load_gray(bytes)?;
    Ok(decode_gray(&gray, Strategy::Best))
}

/// How a decoding pass scales the image before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// Long side at most this many pixels (box-averaged by an integer factor).
    AtMost(u32),
    Full,
}

/// What a pass does to the pixels before the decoder sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prep {
    None,
    Blur,
    Stretch,
    Sharpen,
}

/// Which decoder, with which binarisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decoder {
    /// rqrr with its own row-wise running-mean threshold.
    Rqrr,
    /// rqrr on a bitmap thresholded against the local 2-D window mean.
    RqrrAdaptive,
    /// rqrr on a bitmap thresholded at Otsu's global level.
    RqrrOtsu,
    /// rxing (ZXing's hybrid binariser and finder search), trying harder.
    Rxing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pass {
    scale: Scale,
    prep: Prep,
    decoder: Decoder,
}

const fn pass(scale: Scale, prep: Prep, decoder: Decoder) -> Pass {
    Pass { scale, prep, decoder }
}

const COARSE: Scale = Scale::AtMost(1280);
const MID: Scale = Scale::AtMost(2200);
const FULL: Scale = Scale::Full;

/// A way of searching a photo for codes: a list of passes run in order until one finds one of our codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The baseline: rqrr once on the full-resolution image.
    PlainRqrr,
    /// rqrr on a box-downscaled image (long side ≤ 1280), then ≤ 2200, then full scale.
    Pyramid,
    /// The pyramid with a 2-D local-mean threshold instead of rqrr's row-wise one.
    Adaptive,
    /// The pyramid with Otsu's global threshold.
    Otsu,
    /// The pyramid on a contrast-stretched, gamma-lifted image.
    Stretch,
    /// The pyramid on a blurred image (against JPEG blocks and sensor noise).
    Blur,
    /// rxing alone: downscaled, then ≤ 2200 px, then full scale.
    Rxing,
    /// rxing's pyramid on a contrast-stretched, gamma-lifted image.
    RxingStretch,
    /// rxing's pyramid on an unsharp-masked, stretched image (against defocus).
    RxingSharpen,
    /// The recommended cascade, cheapest and likeliest first, each later pass there for cases the earlier ones
    /// miss (`cargo bench -p jx-proof --bench scan` measures it): rxing on the stretched coarse image reads most
    /// photos in a few milliseconds; rqrr on the same scale reads steep perspective rxing gives up on; unsharp
    /// masking rescues defocus; then the mid and full scales for codes too small for the coarse one.
    Best,
}

impl Strategy {
    /// Every strategy, the baseline first, for benchmarks and tests.
    pub const ALL: [Strategy; 10] = [
        Strategy::PlainRqrr,
        Strategy::Pyramid,
        Strategy::Adaptive,
        Strategy::Otsu,
        Strategy::Stretch,
        Strategy::Blur,
        Strategy::Rxing,
        Strategy::RxingStretch,
        Strategy::RxingSharpen,
        Strategy::Best,
    ];

    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::PlainRqrr => "plain rqrr",
            Strategy::Pyramid => "pyramid",
            Strategy::Adaptive => "adaptive",
            Strategy::Otsu => "otsu",
            Strategy::Stretch => "stretch",
            Strategy::Blur => "blur",
            Strategy::Rxing => "rxing",
            Strategy::RxingStretch => "rxing+stretch",
            Strategy::RxingSharpen => "rxing+sharpen",
            Strategy::Best => "best",
        }
    }

    fn passes(self) -> &'static [Pass] {
        match self {
            Strategy::PlainRqrr => PLAIN,
            Strategy::Pyramid => PYRAMID,
            Strategy::Adaptive => ADAPTIVE,
            Strategy::Otsu => OTSU,
            Strategy::Stretch => STRETCH,
            Strategy::Blur => BLUR,
            Strategy::Rxing => RXING,
            Strategy::RxingStretch => RXING_STRETCH,
            Strategy::RxingSharpen => RXING_SHARPEN,
            Strategy::Best => BEST,
        }
    }
}

use Decoder::{Rqrr, RqrrAdaptive, RqrrOtsu, Rxing};
const RAW: Prep = Prep::None;
const PLAIN: &[Pass] = &[pass(FULL, RAW, Rqrr)];
const PYRAMID: &[Pass] = &[pass(COARSE, RAW, Rqrr), pass(MID, RAW, Rqrr), pass(FULL, RAW, Rqrr)];
const ADAPTIVE: &[Pass] =
    &[pass(COARSE, RAW, RqrrAdaptive), pass(MID, RAW, RqrrAdaptive), pass(FULL, RAW, RqrrAdaptive)];
const OTSU: &[Pass] = &[pass(COARSE, RAW, RqrrOtsu), pass(MID, RAW, RqrrOtsu), pass(FULL, RAW, RqrrOtsu)];
const STRETCH: &[Pass] =
    &[pass(COARSE, Prep::Stretch, Rqrr), pass(MID, Prep::Stretch, Rqrr), pass(FULL, Prep::Stretch, Rqrr)];
const BLUR: &[Pass] = &[pass(COARSE, Prep::Blur, Rqrr), pass(MID, Prep::Blur, Rqrr), pass(FULL, Prep::Blur, Rqrr)];
const RXING: &[Pass] = &[pass(COARSE, RAW, Rxing), pass(MID, RAW, Rxing), pass(FULL, RAW, Rxing)];
const RXING_STRETCH: &[Pass] =
    &[pass(COARSE, Prep::Stretch, Rxing), pass(MID, Prep::Stretch, Rxing), pass(FULL, Prep::Stretch, Rxing)];
const RXING_SHARPEN: &[Pass] =
    &[pass(COARSE, Prep::Sharpen, Rxing), pass(MID, Prep::Sharpen, Rxing), pass(FULL, Prep::Sharpen, Rxing)];
const BEST: &[Pass] = &[
    pass(COARSE, Prep::Stretch, Rxing),
    pass(COARSE, RAW, Rqrr),
    pass(COARSE, Prep::Sharpen, Rxing),
    pass(MID, Prep::Stretch, Rxing),
    pass(MID, RAW, RqrrAdaptive),
    pass(MID, Prep::Sharpen, Rxing),
    pass(FULL, Prep::Stretch, Rxing),
    pass(FULL, RAW, Rqrr),
];

/// Searches a luma image with `strategy` and returns every distinct text found, in the order found.
///
/// Passes run in order. A pass that finds a `JX1:` text ends the search; texts of other codes are kept and the
/// search goes on, so a shop's payment code beside our label never hides the label.
pub fn decode_gray(img: &GrayImage, strategy: Strategy) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    if img.width() == 0 || img.height() == 0 {
        return found;
    }
    let mut scaled: Vec<(u32, GrayImage)> = Vec::new();
    let mut done: Vec<(u32, Prep, Decoder)> = Vec::new();
    for p in strategy.passes() {
        let factor = match p.scale {
            Scale::AtMost(long) => prep::factor_for(img, long),
            Scale::Full => 1,
        };
        // A small photo is already at the coarse scale: the same pass at the same factor would find nothing new.
        if done.contains(&(factor, p.prep, p.decoder)) {
            continue;
        }
        done.push((factor, p.prep, p.decoder));
        let base: &GrayImage = if factor == 1 {
            img
        } else {
            if !scaled.iter().any(|(f, _)| *f == factor) {
                scaled.push((factor, prep::downscale(img, factor)));
            }
            match scaled.iter().find(|(f, _)| *f == factor) {
                Some((_, s)) => s,
                None => img,
            }
        };
        let prepared;
        let pixels = match p.prep {
            Prep::None => base,
            Prep::Blur => {
                prepared = prep::blur(base);
                &prepared
            }
            Prep::Stretch => {
                prepared = prep::stretch(base);
                &prepared
            }
            Prep::Sharpen => {
                prepared = prep::sharpen(base);
                &prepared
            }
        };
        for text in run_decoder(pixels, p.decoder) {
            if !found.contains(&text) {
                found.push(text);
            }
        }
        if found.iter().any(|t| t.starts_with(OUR_PREFIX)) {
            break;
        }
    }
    found
}

/// Every text rqrr reads in a prepared image (its buffer type is not nameable outside rqrr, hence a macro).
macro_rules! rqrr_texts {
    ($prepared:expr) => {{
        let mut prepared = $prepared;
        prepared.detect_grids().into_iter().filter_map(|grid| grid.decode().ok()).map(|(_, text)| text).collect()
    }};
}

fn run_decoder(img: &GrayImage, decoder: Decoder) -> Vec<String> {
    // Both decoders have panicked on odd pixels in past releases; a bad photo must cost a failed pass, never the app.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match decoder {
        Decoder::Rqrr => {
            let (w, h) = (img.width() as usize, img.height() as usize);
            let px = img.as_raw();
            rqrr_texts!(rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| px[y * w + x]))
        }
        Decoder::RqrrAdaptive => {
            let (w, h) = (img.width() as usize, img.height() as usize);
            let dark = prep::adaptive_mean(img);
            rqrr_texts!(rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| dark[y * w + x]))
        }
        Decoder::RqrrOtsu => {
            let (w, h) = (img.width() as usize, img.height() as usize);
            let level = prep::otsu_level(img);
            let px = img.as_raw();
            rqrr_texts!(rqrr::PreparedImage::prepare_from_bitmap(w, h, |x, y| px[y * w + x] <= level))
        }
        Decoder::Rxing => rxing_texts(img),
    }))
    .unwrap_or_default()
}

fn rxing_texts(img: &GrayImage) -> Vec<String> {
    let mut hints = rxing::DecodeHints::default()
        .with(rxing::DecodeHintValue::TryHarder(true))
        .with(rxing::DecodeHintValue::AlsoInverted(false));
    rxing::helpers::detect_in_luma_slice_with_hints(
        img.as_raw(),
        img.width(),
        img.height(),
        Some(rxing::BarcodeFormat::QR_CODE),
        &mut hints,
    )
    .map(|r| vec![r.getText().to_string()])
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heic_is_named_as_such() {
        let mut bytes = vec![0, 0, 0, 24];
        bytes.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        assert_eq!(load_gray(&bytes), Err(ScanError::UnsupportedFormat("HEIC".into())));
    }

    #[test]
    fn an_empty_image_has_no_codes() {
        assert!(decode_gray(&GrayImage::new(0, 0), Strategy::Best).is_empty());
        assert!(decode_gray(&GrayImage::new(50, 50), Strategy::Best).is_empty());
    }
}
