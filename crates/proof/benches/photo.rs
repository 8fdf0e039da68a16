//! Photo normalising vs the naive pipeline, on generated 12 MP camera-like JPEGs.
//!
//! `cargo bench -p jx-proof --bench photo`
//!
//! - naive: `image::load_from_memory` (the in-memory `image::open`), `resize` of the full-size image to 1600 on the
//!   long side, JPEG encode; then a 320 thumbnail resized from the full image, JPEG encode. Same filter
//!   (Catmull-Rom) and quality as ours.
//! - ours: [`jx_proof::photo::normalise`] (DCT-scaled decode, 8-bit resampler, orientation, thumbnail from the
//!   downscaled photo, SHA-256 of both).
//!
//! Time is the median of several in-process runs. Peak memory is the peak RSS (`VmHWM`) of a child process (this
//! binary re-executed with `JX_PHOTO_BENCH_CHILD` set) that reads one photo from stdin and runs one pipeline once;
//! the child also reports its RSS peak just before running the pipeline (runtime + the input bytes), so the
//! pipeline's own share is visible. A quality sweep backing the `PhotoOptions::quality` default follows.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, RgbImage};
use jx_proof::photo::{PhotoOptions, normalise};

const CHILD_ENV: &str = "JX_PHOTO_BENCH_CHILD";
const PHOTOS: u64 = 4;
const RUNS: usize = 3;
const WIDTH: u32 = 4000;
const HEIGHT: u32 = 3000;

fn main() {
    if let Ok(which) = std::env::var(CHILD_ENV) {
        child(&which);
        return;
    }
    let opts = PhotoOptions::default();

    let started = Instant::now();
    let photos: Vec<Vec<u8>> = (0..PHOTOS).map(camera_photo).collect();
    println!(
        "generated {PHOTOS} camera-like {WIDTH}x{HEIGHT} JPEGs (q90, EXIF orientation) in {:.1} s: {} bytes",
        started.elapsed().as_secs_f64(),
        photos.iter().map(|p| p.len().to_string()).collect::<Vec<_>>().join(", ")
    );
    println!(
        "quality {}, max side {}, thumb side {}, filter Catmull-Rom\n",
        opts.quality, opts.max_side, opts.thumb_side
    );

    println!(
        "{:<7} {:>9} | {:>9} {:>9} {:>10} | {:>9} {:>9} {:>10} | {:>7} {:>7}",
        "photo",
        "in bytes",
        "naive ms",
        "naive MiB",
        "naive out",
        "ours ms",
        "ours MiB",
        "ours out",
        "t ratio",
        "m ratio"
    );
    let mut rows = Vec::new();
    for (i, photo) in photos.iter().enumerate() {
        let naive_ms = median_ms(|| {
            naive(photo, &opts);
        });
        let ours_ms = median_ms(|| {
            normalise(photo, &opts).expect("normalise");
        });
        let naive_mem = measure_in_child("naive", photo);
        let ours_mem = measure_in_child("ours", photo);
        println!(
            "{:<7} {:>9} | {:>9.1} {:>9.1} {:>10} | {:>9.1} {:>9.1} {:>10} | {:>7.2} {:>7.2}",
            format!("#{i}"),
            photo.len(),
            naive_ms,
            naive_mem.peak_mib,
            naive_mem.out_bytes,
            ours_ms,
            ours_mem.peak_mib,
            ours_mem.out_bytes,
            ours_ms / naive_ms,
            ours_mem.peak_mib / naive_mem.peak_mib,
        );
        rows.push(Row { naive_ms, naive: naive_mem, ours_ms, ours: ours_mem });
    }
    let med = |f: &dyn Fn(&Row) -> f64| median(rows.iter().map(f).collect());
    let (nt, nm, no) = (med(&|r| r.naive_ms), med(&|r| r.naive.peak_mib), med(&|r| r.naive.out_bytes as f64));
    let (ot, om, oo) = (med(&|r| r.ours_ms), med(&|r| r.ours.peak_mib), med(&|r| r.ours.out_bytes as f64));
    println!(
        "{:<7} {:>9} | {:>9.1} {:>9.1} {:>10.0} | {:>9.1} {:>9.1} {:>10.0} | {:>7.2} {:>7.2}",
        "median",
        "",
        nt,
        nm,
        no,
        ot,
        om,
        oo,
        ot / nt,
        om / nm
    );
    let base = median(rows.iter().flat_map(|r| [r.naive.baseline_mib, r.ours.baseline_mib]).collect());
    println!(
        "(MiB = peak RSS of a child processing one photo, of which ~{base:.1} MiB is runtime + input bytes; \
         out = photo + thumbnail bytes; ratio = ours / naive)\n"
    );

    fidelity(&photos[0], &opts);
    quality_sweep(&photos, &opts);
    println!("\ntotal bench time {:.1} s", started.elapsed().as_secs_f64());
}

/// The naive pipeline; returns the photo and thumbnail JPEGs.
fn naive(bytes: &[u8], opts: &PhotoOptions) -> (Vec<u8>, Vec<u8>) {
    let full = image::load_from_memory(bytes).expect("decode");
    let photo = full.resize(opts.max_side, opts.max_side, FilterType::CatmullRom);
    let thumb = full.resize(opts.thumb_side, opts.thumb_side, FilterType::CatmullRom);
    (encode(&photo, opts.quality), encode(&thumb, opts.quality))
}

fn encode(img: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_with_encoder(JpegEncoder::new_with_quality(&mut out, quality)).expect("encode");
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn median_ms(mut f: impl FnMut()) -> f64 {
    median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------------------------------
// Peak memory, in a child process

struct Row {
    naive_ms: f64,
    naive: Child,
    ours_ms: f64,
    ours: Child,
}

struct Child {
    peak_mib: f64,
    baseline_mib: f64,
    out_bytes: usize,
}

fn measure_in_child(which: &str, photo: &[u8]) -> Child {
    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .env(CHILD_ENV, format!("{which}:{}", photo.len()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn child");
    child.stdin.take().expect("stdin").write_all(photo).expect("write photo to child");
    let out = child.wait_with_output().expect("child output");
    assert!(out.status.success(), "child {which} failed");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let fields: Vec<f64> = text.split_whitespace().map(|f| f.parse().expect("number")).collect();
    Child { peak_mib: fields[0] / 1024.0, baseline_mib: fields[1] / 1024.0, out_bytes: fields[2] as usize }
}

/// Child side: read the photo (length announced in the env, so the buffer is allocated once), note the RSS peak,
/// run one pipeline once, print "peak_kib baseline_kib out_bytes".
fn child(which: &str) {
    let (which, len) = which.split_once(':').expect("which:len");
    let mut photo = Vec::with_capacity(len.parse().expect("length"));
    std::io::stdin().read_to_end(&mut photo).expect("read photo");
    let baseline = vm_hwm_kib();
    let opts = PhotoOptions::default();
    let out_bytes = match which {
        "naive" => {
            let (p, t) = naive(&photo, &opts);
            p.len() + t.len()
        }
        _ => {
            let n = normalise(&photo, &opts).expect("normalise");
            n.jpeg.len() + n.thumb.len()
        }
    };
    println!("{} {} {}", vm_hwm_kib(), baseline, out_bytes);
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1).and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------------------------
// Quality sweep

fn quality_sweep(photos: &[Vec<u8>], opts: &PhotoOptions) {
    println!("quality sweep (ours, 1600 px photo only; PSNR of the decoded output against a q100 encoding):");
    println!("{:>7} {:>14} {:>10}", "quality", "bytes/photo", "PSNR dB");
    let reference: Vec<RgbImage> = photos
        .iter()
        .map(|p| decode(&normalise(p, &PhotoOptions { quality: 100, ..*opts }).expect("q100").jpeg))
        .collect();
    for quality in [60, 70, 75, 80, 85, 90, 95] {
        let (mut bytes, mut psnr) = (0.0, 0.0);
        for (photo, reference) in photos.iter().zip(&reference) {
            let out = normalise(photo, &PhotoOptions { quality, ..*opts }).expect("normalise");
            bytes += out.jpeg.len() as f64;
            psnr += psnr_db(&decode(&out.jpeg), reference);
        }
        let n = photos.len() as f64;
        println!("{:>7} {:>14.0} {:>10.2}", quality, bytes / n, psnr / n);
    }
}

/// How close each pipeline's 1600 px output is to a careful downscale (Lanczos3 from the full-resolution pixels,
/// no JPEG round trip). Photo #0 has orientation 1, so the naive output (which ignores orientation) lines up.
fn fidelity(photo: &[u8], opts: &PhotoOptions) {
    let full = image::load_from_memory(photo).expect("decode");
    let reference = full.resize(opts.max_side, opts.max_side, FilterType::Lanczos3).into_rgb8();
    let naive_out = decode(&naive(photo, opts).0);
    let ours = |quality| decode(&normalise(photo, &PhotoOptions { quality, ..*opts }).expect("normalise").jpeg);
    println!("fidelity of the 1600 px photo vs a Lanczos3 downscale of the full-resolution pixels (photo #0, PSNR):");
    println!(
        "  naive q{q}: {:.2} dB   ours q{q}: {:.2} dB   ours q100: {:.2} dB\n",
        psnr_db(&naive_out, &reference),
        psnr_db(&ours(opts.quality), &reference),
        psnr_db(&ours(100), &reference),
        q = opts.quality,
    );
}

fn decode(jpeg: &[u8]) -> RgbImage {
    image::load_from_memory(jpeg).expect("decode").into_rgb8()
}

fn psnr_db(a: &RgbImage, b: &RgbImage) -> f64 {
    let sum: f64 = a.as_raw().iter().zip(b.as_raw()).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    let mse = sum / a.as_raw().len() as f64;
    10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10()
}

// ---------------------------------------------------------------------------------------------------------------
// Camera-like test photos

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
}

/// A seeded 12 MP scene: sky-to-ground gradient, soft texture, boxes (parcels), discs, dark "text" strokes on
/// labels, and per-pixel sensor noise; encoded at q90 with an EXIF orientation like a phone camera's.
fn camera_photo(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed * 7919 + 1);
    let mut img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let fy = y as f32 / HEIGHT as f32;
        let fx = x as f32 / WIDTH as f32;
        let texture = ((fx * 37.0 + seed as f32).sin() * (fy * 23.0).cos() * 18.0)
            + value_noise(x, y, 97, seed) * 40.0
            + value_noise(x, y, 23, seed + 1) * 24.0
            + value_noise(x, y, 6, seed + 2) * 16.0;
        let base = if fy < 0.45 {
            [120.0 + 80.0 * fy, 160.0 + 60.0 * fy, 230.0 - 40.0 * fy]
        } else {
            [110.0 + 40.0 * fx, 95.0 + 30.0 * fy, 70.0 + 20.0 * fx]
        };
        image::Rgb(base.map(|c| (c + texture).clamp(0.0, 255.0) as u8))
    });
    // Parcels with labels and "text".
    for _ in 0..14 {
        let (w, h) = (200 + rng.below(700), 150 + rng.below(500));
        let (x0, y0) = (rng.below(WIDTH - w), HEIGHT / 3 + rng.below(HEIGHT * 2 / 3 - h));
        let colour = [150 + rng.below(60), 110 + rng.below(40), 60 + rng.below(40)].map(|c| c as u8);
        fill(&mut img, x0, y0, w, h, colour);
        let (lw, lh) = (w / 2, h / 3);
        let (lx, ly) = (x0 + w / 8, y0 + h / 6);
        fill(&mut img, lx, ly, lw, lh, [240, 240, 235]);
        let mut ty = ly + 8;
        while ty + 14 < ly + lh {
            let mut tx = lx + 8;
            while tx + 10 < lx + lw {
                let glyph = 4 + rng.below(10);
                if rng.below(5) > 0 {
                    fill(&mut img, tx, ty, glyph.min(lx + lw - tx), 3 + rng.below(9), [20, 20, 25]);
                }
                tx += glyph + 3;
            }
            ty += 18;
        }
    }
    // Discs (a face, a lamp, a ball...).
    for _ in 0..6 {
        let r = 40 + rng.below(200);
        let (cx, cy) = (r + rng.below(WIDTH - 2 * r), r + rng.below(HEIGHT - 2 * r));
        let colour = [rng.below(256), rng.below(256), rng.below(256)].map(|c| c as u8);
        for y in cy - r..cy + r {
            for x in cx - r..cx + r {
                let (dx, dy) = (x as i64 - cx as i64, y as i64 - cy as i64);
                if dx * dx + dy * dy < (r * r) as i64 {
                    img.put_pixel(x, y, image::Rgb(colour));
                }
            }
        }
    }
    // Sensor noise: mostly luma, a little chroma.
    for p in img.pixels_mut() {
        let n = rng.next();
        let luma = ((n & 15) as i32 + ((n >> 4) & 15) as i32) - 15;
        for c in 0..3 {
            let chroma = ((n >> (8 + 8 * c)) & 7) as i32 - 3;
            p.0[c] = (i32::from(p.0[c]) + luma + chroma).clamp(0, 255) as u8;
        }
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode(img.as_raw(), WIDTH, HEIGHT, ExtendedColorType::Rgb8)
        .expect("encode camera photo");
    with_orientation(&jpeg, [1u16, 6, 8, 3][(seed % 4) as usize])
}

/// Smooth random field in -0.5..0.5 with features about `cell` pixels across (bilinear value noise).
fn value_noise(x: u32, y: u32, cell: u32, seed: u64) -> f32 {
    let hash = |gx: u32, gy: u32| {
        let v = Rng(seed ^ (u64::from(gx) << 32 | u64::from(gy)).wrapping_mul(0x2545_F491_4F6C_DD1D)).next();
        (v >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let (gx, gy) = (x / cell, y / cell);
    let (tx, ty) = ((x % cell) as f32 / cell as f32, (y % cell) as f32 / cell as f32);
    let top = hash(gx, gy) * (1.0 - tx) + hash(gx + 1, gy) * tx;
    let bottom = hash(gx, gy + 1) * (1.0 - tx) + hash(gx + 1, gy + 1) * tx;
    top * (1.0 - ty) + bottom * ty
}

fn fill(img: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, colour: [u8; 3]) {
    for y in y0..(y0 + h).min(HEIGHT) {
        for x in x0..(x0 + w).min(WIDTH) {
            img.put_pixel(x, y, image::Rgb(colour));
        }
    }
}

/// APP1 Exif with just IFD0 Orientation, spliced after SOI.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&orientation.to_le_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let payload = [b"Exif\0\0".as_slice(), &tiff].concat();
    let len = u16::try_from(payload.len() + 2).expect("small segment");
    [&jpeg[..2], &[0xFF, 0xE1], &len.to_be_bytes(), &payload, &jpeg[2..]].concat()
}
