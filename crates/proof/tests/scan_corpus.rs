//! The scanner against its seeded robustness corpus, and against photos that are not photos.

use jx_proof::scan::corpus::{self, Category};
use jx_proof::scan::{ScanError, Strategy, decode_gray, decode_photo, load_gray};
use proptest::prelude::*;

/// Not the benchmark's seed: the bar below is checked on cases the strategies were not tuned on.
const SEED: u64 = 0x7E57_C0DE;
const PER_CATEGORY: u32 = 4;
/// Measured 46/48 (95.8 %) on this seed, plain rqrr 26/48; 96/96 on the benchmark's seed. The bar leaves room for two
/// cases to flip with a decoder upgrade without hiding a real regression (a lost pass or decoder costs far more).
const BEST_BAR: f64 = 0.90;

struct Tally {
    decoded: usize,
    wrong: Vec<String>,
    by_category: Vec<(Category, usize, usize)>,
    misses: Vec<String>,
}

fn tally(cases: &[(corpus::Case, image::GrayImage)], strategy: Strategy) -> Tally {
    let mut t = Tally {
        decoded: 0,
        wrong: Vec::new(),
        by_category: Category::ALL.iter().map(|&c| (c, 0, 0)).collect(),
        misses: Vec::new(),
    };
    for (case, gray) in cases {
        let texts = decode_gray(gray, strategy);
        for text in texts.iter().filter(|text| **text != case.expected) {
            t.wrong.push(format!("{}: read {text:?}", case.label));
        }
        let hit = texts.contains(&case.expected);
        if let Some(entry) = t.by_category.iter_mut().find(|(c, _, _)| *c == case.category) {
            entry.2 += 1;
            entry.1 += usize::from(hit);
        }
        if hit {
            t.decoded += 1;
        } else {
            t.misses.push(case.label.clone());
        }
    }
    t
}

#[test]
fn the_best_strategy_reads_the_seeded_corpus_better_than_plain_rqrr_and_never_reads_a_wrong_text() {
    let cases: Vec<_> = corpus::cases(SEED, PER_CATEGORY)
        .map(|case| {
            let gray = load_gray(&case.jpeg).expect("every corpus JPEG decodes");
            (case, gray)
        })
        .collect();
    assert_eq!(cases.len(), Category::ALL.len() * PER_CATEGORY as usize);
    let best = tally(&cases, Strategy::Best);
    let plain = tally(&cases, Strategy::PlainRqrr);
    let total = cases.len();
    eprintln!("category: best / plain rqrr");
    for ((c, b, n), (_, p, _)) in best.by_category.iter().zip(&plain.by_category) {
        eprintln!("  {:<14} {b}/{n}  {p}/{n}", c.name());
    }
    eprintln!("total: best {}/{total}, plain rqrr {}/{total}", best.decoded, plain.decoded);
    eprintln!("missed by best: {:#?}", best.misses);

    assert!(best.wrong.is_empty(), "best read wrong texts: {:#?}", best.wrong);
    assert!(plain.wrong.is_empty(), "plain rqrr read wrong texts: {:#?}", plain.wrong);
    let rate = best.decoded as f64 / total as f64;
    assert!(rate >= BEST_BAR, "best read {}/{total} ({rate:.2}), below the bar {BEST_BAR}", best.decoded);
    assert!(best.decoded >= plain.decoded, "best {} < plain rqrr {}", best.decoded, plain.decoded);
    for (category, decoded, n) in &best.by_category {
        assert_eq!(*n, PER_CATEGORY as usize, "{} is covered", category.name());
        assert!(*decoded * 2 > *n, "best reads most of {}: {decoded}/{n}", category.name());
    }
}

#[test]
fn a_corpus_photo_decodes_from_its_bytes() {
    let case = corpus::case(SEED, Category::TwelveMegapixel, 0);
    assert_eq!(case.width.max(case.height), 4000);
    assert_eq!(decode_photo(&case.jpeg), Ok(vec![case.expected.clone()]));
}

#[test]
fn a_png_photo_decodes_too() {
    let case = corpus::case(SEED, Category::Everyday, 1);
    let gray = load_gray(&case.jpeg).expect("corpus JPEG decodes");
    let mut png = Vec::new();
    gray.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).expect("PNG encodes");
    assert_eq!(decode_photo(&png), Ok(vec![case.expected]));
}

#[test]
fn a_photo_without_a_code_is_an_empty_list_not_an_error() {
    let img = image::GrayImage::from_fn(640, 480, |x, y| image::Luma([((x / 40 + y / 40) % 2 * 180 + 40) as u8]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode(img.as_raw(), 640, 480, image::ExtendedColorType::L8)
        .expect("JPEG encodes");
    assert_eq!(decode_photo(&jpeg), Ok(vec![]));
}

#[test]
fn zero_bytes_are_an_empty_photo() {
    assert_eq!(decode_photo(&[]), Err(ScanError::Empty));
}

#[test]
fn garbage_is_not_an_image() {
    assert_eq!(decode_photo(b"hello, this is certainly not a photo of anything"), Err(ScanError::NotAnImage));
}

#[test]
fn a_truncated_jpeg_is_reported_as_cut_off() {
    let case = corpus::case(SEED, Category::Everyday, 0);
    for cut in [case.jpeg.len() / 2, case.jpeg.len() - 2, 700] {
        assert_eq!(decode_photo(&case.jpeg[..cut]), Err(ScanError::Truncated), "cut at {cut}");
    }
}

#[test]
fn heic_is_named_as_unsupported() {
    let mut heic = vec![0, 0, 0, 0x18];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heicmiaf");
    heic.extend_from_slice(&[0u8; 64]);
    assert_eq!(decode_photo(&heic), Err(ScanError::UnsupportedFormat("HEIC".into())));
}

#[test]
fn a_gif_is_unsupported_not_garbage() {
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    assert!(matches!(decode_photo(gif), Err(ScanError::UnsupportedFormat(name)) if name == "GIF"));
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // A tiny IDAT that could never fill such an image, then IEND.
    let mut idat = b"IDAT".to_vec();
    idat.extend_from_slice(&[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    png.extend_from_slice(&8u32.to_be_bytes());
    png.extend_from_slice(&idat);
    png.extend_from_slice(&crc32(&idat).to_be_bytes());
    png.extend_from_slice(&0u32.to_be_bytes());
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    png
}

#[test]
fn a_png_claiming_ten_gigapixels_is_refused_before_decoding() {
    assert_eq!(
        decode_photo(&png_claiming(100_000, 100_000)),
        Err(ScanError::TooLarge { width: 100_000, height: 100_000 })
    );
}

#[test]
fn a_png_whose_pixels_are_missing_is_an_error_not_a_panic() {
    let err = decode_photo(&png_claiming(300, 200)).expect_err("no pixel data");
    assert!(matches!(err, ScanError::Truncated | ScanError::Corrupt(_)), "{err:?}");
}

/// A small valid photo of a code, to mutate.
fn small_code_jpeg() -> Vec<u8> {
    let code = qrcode::QrCode::with_error_correction_level(b"JX1:TEST", qrcode::EcLevel::M).expect("fits");
    let n = code.width() as u32;
    let colors = code.to_colors();
    let scale = 4;
    let side = (n + 8) * scale;
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        let (u, v) = ((x / scale) as i64 - 4, (y / scale) as i64 - 4);
        let dark = u >= 0
            && v >= 0
            && u < i64::from(n)
            && v < i64::from(n)
            && colors[(v as usize) * n as usize + u as usize] == qrcode::Color::Dark;
        image::Luma([if dark { 20 } else { 235 }])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(img.as_raw(), side, side, image::ExtendedColorType::L8)
        .expect("JPEG encodes");
    jpeg
}

#[test]
fn the_mutation_seed_photo_reads() {
    assert_eq!(decode_photo(&small_code_jpeg()), Ok(vec!["JX1:TEST".to_string()]));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn decode_photo_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        // Random bytes are (almost) never an image, and never one holding a code.
        if let Ok(texts) = decode_photo(&bytes) {
            prop_assert!(texts.is_empty(), "read {texts:?} from random bytes");
        }
    }

    #[test]
    fn decode_photo_never_panics_on_a_damaged_jpeg(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut jpeg = small_code_jpeg();
        let len = jpeg.len();
        for (at, byte) in flips {
            jpeg[at % len] = byte;
        }
        jpeg.truncate(len - cut % (len / 2));
        // An error, nothing, or the code's own text: error correction never lets damage turn into another text.
        if let Ok(texts) = decode_photo(&jpeg) {
            prop_assert!(texts.iter().all(|t| t == "JX1:TEST"), "read {texts:?}");
        }
    }
}
