//! Photo normalising, end to end over generated inputs (no fixture files: every photo is drawn here, seeded).

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use jx_core::bytes::Sha256;
use jx_proof::photo::{PhotoError, PhotoOptions, normalise};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------------------------
// Generators

/// SplitMix64: a tiny seeded generator, enough for noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 30];
const BLUE: [u8; 3] = [30, 40, 200];

/// A `width`×`height` photo whose stored top-left quadrant is red, top-right green, bottom half blue, with noise
/// so it is not trivially compressible.
fn quadrants(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    RgbImage::from_fn(width, height, |x, y| {
        let base = match (x < width / 2, y < height / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            _ => BLUE,
        };
        let n = rng.next();
        image::Rgb([0, 1, 2].map(|c| (i32::from(base[c]) + ((n >> (c * 8)) & 15) as i32 - 8).clamp(0, 255) as u8))
    })
}

fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .expect("encode test JPEG");
    out
}

const GPS_LATITUDE: [(u32, u32); 3] = [(31, 1), (14, 1), (2_718_281, 100_000)];
const GPS_LONGITUDE: [(u32, u32); 3] = [(121, 1), (28, 1), (3_141_592, 100_000)];

fn rationals(values: [(u32, u32); 3]) -> Vec<u8> {
    values.iter().flat_map(|(n, d)| [n.to_le_bytes(), d.to_le_bytes()].concat()).collect()
}

/// A little-endian TIFF block: IFD0 with Orientation and a GPS IFD pointer; a GPS IFD with latitude/longitude.
fn exif_tiff(orientation: u16) -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    const SHORT: u16 = 3;
    const LONG: u16 = 4;
    const ASCII: u16 = 2;
    const RATIONAL: u16 = 5;
    let gps_ifd: u32 = 8 + 2 + 2 * 12 + 4; // 38
    let lat_data = gps_ifd + 2 + 4 * 12 + 4; // 92
    let lon_data = lat_data + 24;

    let mut t = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    t.extend_from_slice(&2u16.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(&mut t, 0x0112, SHORT, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, gps_ifd);
    t.extend_from_slice(&4u16.to_le_bytes());
    entry(&mut t, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, RATIONAL, 3, lat_data.to_le_bytes());
    entry(&mut t, 0x0003, ASCII, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, RATIONAL, 3, lon_data.to_le_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(t.len() as u32, lat_data);
    t.extend_from_slice(&rationals(GPS_LATITUDE));
    t.extend_from_slice(&rationals(GPS_LONGITUDE));
    t
}

/// Splices an APP1 Exif segment right after SOI, as cameras write it.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let payload = [b"Exif\0\0".as_slice(), &exif_tiff(orientation)].concat();
    let len = u16::try_from(payload.len() + 2).expect("small segment");
    [&jpeg[..2], &[0xFF, 0xE1], &len.to_be_bytes(), &payload, &jpeg[2..]].concat()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory(jpeg).expect("output decodes").into_rgb8()
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Colour {
    Red,
    Green,
    Blue,
}

fn colour_at(img: &RgbImage, fx: u32, fy: u32) -> Colour {
    // fx, fy in quarters: 1 = left/top quadrant centre, 3 = right/bottom quadrant centre.
    let p = img.get_pixel(img.width() * fx / 4, img.height() * fy / 4).0;
    if p[0] > 150 && p[1] < 100 {
        Colour::Red
    } else if p[1] > 150 && p[0] < 100 {
        Colour::Green
    } else if p[2] > 150 {
        Colour::Blue
    } else {
        panic!("unexpected colour {p:?}")
    }
}

/// The colours at the display's four quadrant centres: [top-left, top-right, bottom-left, bottom-right].
fn corners(img: &RgbImage) -> [Colour; 4] {
    [colour_at(img, 1, 1), colour_at(img, 3, 1), colour_at(img, 1, 3), colour_at(img, 3, 3)]
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

// ---------------------------------------------------------------------------------------------------------------
// The 12 MP camera photo

#[test]
fn camera_photo_is_oriented_downscaled_stripped_and_addressed() {
    let original = with_exif(&encode_jpeg(&quadrants(4000, 3000, 1), 90), 6);
    assert!(contains(&original, b"Exif") && contains(&original, &rationals(GPS_LATITUDE)));

    let out = normalise(&original, &PhotoOptions::default()).expect("normalise");

    // Orientation 6 = rotate 90° clockwise: the 4000×3000 landscape frame is a portrait photo.
    assert_eq!((out.width, out.height), (1200, 1600));
    let img = decode(&out.jpeg);
    assert_eq!(img.dimensions(), (1200, 1600));
    assert_eq!(corners(&img), [Colour::Blue, Colour::Red, Colour::Blue, Colour::Green]);

    // No metadata survives: no Exif segment, no GPS values, no XMP, no APP1 at all.
    for bytes in [&out.jpeg, &out.thumb] {
        assert!(!contains(bytes, b"Exif"));
        assert!(!contains(bytes, b"http://ns.adobe.com/xap"));
        assert!(!contains(bytes, &rationals(GPS_LATITUDE)));
        assert!(!contains(bytes, &rationals(GPS_LONGITUDE)));
        assert!(!contains(bytes, &[0xFF, 0xE1]), "an APP1 segment is present");
        let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
        decoder.decode().expect("decodes");
        assert_eq!(decoder.exif_data(), None);
        assert!(exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)).is_err());
    }

    // The thumbnail is the same picture, 320 on the long side.
    let thumb = decode(&out.thumb);
    assert_eq!(thumb.dimensions(), (240, 320));
    assert_eq!(corners(&thumb), corners(&img));

    assert_eq!(out.sha256, Sha256::of(&out.jpeg));
    assert_eq!(out.thumb_sha256, Sha256::of(&out.thumb));
    assert!(out.jpeg.len() < original.len() / 3, "{} vs {}", out.jpeg.len(), original.len());

    // Deterministic: the same input gives the same bytes, hence the same address.
    let again = normalise(&original, &PhotoOptions::default()).expect("normalise again");
    assert_eq!(again, out);

    // Truncated half-way: an error, not a panic and not a silently grey half photo.
    let cut = &original[..original.len() / 2];
    assert_eq!(normalise(cut, &PhotoOptions::default()), Err(PhotoError::Truncated));
}

// ---------------------------------------------------------------------------------------------------------------
// Orientation

#[test]
fn every_exif_orientation_lands_the_corners_where_a_viewer_shows_them() {
    use Colour::*;
    // Stored: red top-left, green top-right, blue bottom. Expected display: [TL, TR, BL, BR].
    let expected: [(u16, [Colour; 4]); 8] = [
        (1, [Red, Green, Blue, Blue]),
        (2, [Green, Red, Blue, Blue]),
        (3, [Blue, Blue, Green, Red]),
        (4, [Blue, Blue, Red, Green]),
        (5, [Red, Blue, Green, Blue]),
        (6, [Blue, Red, Blue, Green]),
        (7, [Blue, Green, Blue, Red]),
        (8, [Green, Blue, Red, Blue]),
    ];
    let plain = encode_jpeg(&quadrants(480, 320, 2), 90);
    let opts = PhotoOptions { max_side: 240, thumb_side: 60, ..PhotoOptions::default() };
    for (orientation, want) in expected {
        let out = normalise(&with_exif(&plain, orientation), &opts).expect("normalise");
        let dims = if orientation >= 5 { (160, 240) } else { (240, 160) };
        assert_eq!((out.width, out.height), dims, "orientation {orientation}");
        assert_eq!(corners(&decode(&out.jpeg)), want, "orientation {orientation}");
        assert_eq!(corners(&decode(&out.thumb)), want, "thumbnail, orientation {orientation}");
    }
}

#[test]
fn a_malformed_exif_block_counts_as_upright() {
    let plain = encode_jpeg(&quadrants(200, 100, 3), 90);
    let mut tiff = exif_tiff(6);
    tiff[4] = 0xF0; // IFD0 offset points far outside the block
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let len = u16::try_from(payload.len() + 2).expect("small");
    let bytes = [&plain[..2], &[0xFF, 0xE1], &len.to_be_bytes(), &payload, &plain[2..]].concat();
    let out = normalise(&bytes, &PhotoOptions::default()).expect("normalise");
    assert_eq!((out.width, out.height), (200, 100));
}

// ---------------------------------------------------------------------------------------------------------------
// Other inputs

#[test]
fn png_and_grayscale_jpeg_inputs_work() {
    let img = quadrants(2000, 1000, 4);
    let mut png = Vec::new();
    PngEncoder::new(&mut png)
        .write_image(img.as_raw(), img.width(), img.height(), ExtendedColorType::Rgb8)
        .expect("encode PNG");
    let out = normalise(&png, &PhotoOptions::default()).expect("normalise PNG");
    assert_eq!((out.width, out.height), (1600, 800));
    assert_eq!(corners(&decode(&out.jpeg)), [Colour::Red, Colour::Green, Colour::Blue, Colour::Blue]);
    assert_eq!(decode(&out.thumb).dimensions(), (320, 160));

    let gray = image::DynamicImage::ImageRgb8(quadrants(900, 700, 5)).into_luma8();
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode(gray.as_raw(), 900, 700, ExtendedColorType::L8)
        .expect("encode grey JPEG");
    let out = normalise(&jpeg, &PhotoOptions { max_side: 600, ..PhotoOptions::default() }).expect("grey");
    assert_eq!((out.width, out.height), (600, 467));
    assert_eq!(decode(&out.jpeg).dimensions(), (600, 467));
}

#[test]
fn empty_heic_and_unknown_formats_are_refused_clearly() {
    let opts = PhotoOptions::default();
    assert_eq!(normalise(&[], &opts), Err(PhotoError::Empty));

    let heic = [b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".as_slice(), &[0u8; 64]].concat();
    let err = normalise(&heic, &opts).expect_err("HEIC");
    assert_eq!(err, PhotoError::Heic);
    assert!(err.to_string().contains("JPEG") && err.to_string().contains("Most Compatible"), "{err}");

    let mut rng = Rng(7);
    let garbage: Vec<u8> = (0..4096).map(|_| rng.next() as u8 | 1).collect();
    assert!(matches!(normalise(&garbage, &opts), Err(PhotoError::Unsupported(_))));
    let webp = b"RIFF\x10\0\0\0WEBPVP8 ".to_vec();
    assert_eq!(normalise(&webp, &opts), Err(PhotoError::Unsupported("WebP".into())));
    assert_eq!(normalise(b"GIF89a\x01\0\x01\0", &opts), Err(PhotoError::Unsupported("GIF".into())));
    assert_eq!(normalise(&[0xFF, 0xD8], &opts), Err(PhotoError::Truncated));
}

#[test]
fn headers_declaring_huge_images_are_refused_before_decoding() {
    let opts = PhotoOptions::default();

    // JPEG: patch the SOF0 frame header of a small photo to 60000×60000 (3.6 GP, ~10 GB of RGB).
    let mut jpeg = encode_jpeg(&quadrants(64, 48, 8), 90);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0");
    jpeg[sof + 5..sof + 7].copy_from_slice(&60000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60000u16.to_be_bytes());
    let started = std::time::Instant::now();
    assert_eq!(
        normalise(&jpeg, &opts),
        Err(PhotoError::TooLarge { width: 60000, height: 60000, max_pixels: opts.max_pixels })
    );

    // PNG: patch IHDR (and its CRC, which the decoder checks).
    let img = quadrants(64, 48, 9);
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(img.as_raw(), 64, 48, ExtendedColorType::Rgb8).expect("encode PNG");
    png[16..20].copy_from_slice(&60000u32.to_be_bytes());
    png[20..24].copy_from_slice(&60000u32.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    assert_eq!(
        normalise(&png, &opts),
        Err(PhotoError::TooLarge { width: 60000, height: 60000, max_pixels: opts.max_pixels })
    );
    // Refused from the header: no 10 GB buffer was filled (that would take seconds, or abort the process).
    assert!(started.elapsed().as_millis() < 500, "{:?}", started.elapsed());

    // Just over the limit with a small limit: the guard is the pixel count, not a fixed size.
    let small = encode_jpeg(&quadrants(100, 100, 10), 90);
    assert_eq!(
        normalise(&small, &PhotoOptions { max_pixels: 9_999, ..opts }),
        Err(PhotoError::TooLarge { width: 100, height: 100, max_pixels: 9_999 })
    );
}

#[test]
fn truncated_and_corrupt_small_files_give_errors() {
    let opts = PhotoOptions::default();
    let jpeg = with_exif(&encode_jpeg(&quadrants(300, 200, 11), 90), 3);
    for cut in [3, 20, 100, jpeg.len() / 2, jpeg.len() - 2] {
        let err = normalise(&jpeg[..cut], &opts).expect_err("cut JPEG");
        assert!(matches!(err, PhotoError::Truncated | PhotoError::Corrupt(_)), "cut at {cut}: {err:?}");
    }
    assert_eq!(normalise(&jpeg[..jpeg.len() / 2], &opts), Err(PhotoError::Truncated));

    let img = quadrants(300, 200, 12);
    let mut png = Vec::new();
    PngEncoder::new(&mut png).write_image(img.as_raw(), 300, 200, ExtendedColorType::Rgb8).expect("encode PNG");
    assert_eq!(normalise(&png[..png.len() / 2], &opts), Err(PhotoError::Truncated));
    let mut broken = png.clone();
    broken[40] ^= 0xFF; // inside the IDAT data: the CRC no longer matches
    assert!(matches!(normalise(&broken, &opts), Err(PhotoError::Corrupt(_) | PhotoError::Truncated)));
}

// ---------------------------------------------------------------------------------------------------------------
// Never panics

fn small_valid_jpeg() -> Vec<u8> {
    with_exif(&encode_jpeg(&quadrants(96, 64, 13), 85), 6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = normalise(&bytes, &PhotoOptions::default());
    }

    #[test]
    fn arbitrary_bytes_behind_a_jpeg_or_png_signature_never_panic(
        png in any::<bool>(),
        tail in proptest::collection::vec(any::<u8>(), 0..4096),
    ) {
        let head: &[u8] = if png { b"\x89PNG\r\n\x1a\n" } else { &[0xFF, 0xD8, 0xFF] };
        let _ = normalise(&[head, &tail].concat(), &PhotoOptions::default());
    }

    #[test]
    fn damaged_jpegs_never_panic(
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..12),
    ) {
        let mut jpeg = small_valid_jpeg();
        let len = ((jpeg.len() as f64) * cut) as usize;
        jpeg.truncate(len.max(1));
        for (at, bit) in flips {
            let i = at.index(jpeg.len());
            jpeg[i] ^= 1 << bit;
        }
        let opts = PhotoOptions { max_side: 48, thumb_side: 16, ..PhotoOptions::default() };
        if let Ok(out) = normalise(&jpeg, &opts) {
            prop_assert_eq!(out.sha256, Sha256::of(&out.jpeg));
            prop_assert!(out.width.max(out.height) <= 48);
        }
    }
}

#[test]
fn inspect_takes_whole_images_and_refuses_bombs_truncations_and_impostors() {
    let jpeg = jx_proof::photo::sample_jpeg(7, 320, 240);
    let seen = jx_proof::photo::inspect(&jpeg, 16_000_000).expect("a whole JPEG");
    assert_eq!((seen.mime, seen.width, seen.height), ("image/jpeg", 320, 240));
    assert_ne!(jpeg, jx_proof::photo::sample_jpeg(8, 320, 240), "each seed its own photo");
    // Cut short, anywhere past the header.
    for cut in [jpeg.len() / 2, jpeg.len() - 2] {
        assert!(jx_proof::photo::inspect(&jpeg[..cut], 16_000_000).is_err(), "cut at {cut}");
    }
    // HTML behind a JPEG signature.
    let html = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"<html><script>alert(1)</script></html>"].concat();
    assert!(jx_proof::photo::inspect(&html, 16_000_000).is_err());
    // A header that claims more pixels than allowed is refused before decoding.
    assert!(matches!(
        jx_proof::photo::inspect(&jpeg, 1_000),
        Err(PhotoError::TooLarge { width: 320, height: 240, max_pixels: 1_000 })
    ));
    // A real PNG is taken; a WebP is not one of ours.
    let mut png = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::from_pixel(40, 30, image::Rgb([9, 9, 9])))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    assert_eq!(jx_proof::photo::inspect(&png, 16_000_000).map(|i| i.mime), Ok("image/png"));
    assert!(jx_proof::photo::inspect(b"RIFF\0\0\0\0WEBPVP8 ", 16_000_000).is_err());
}
