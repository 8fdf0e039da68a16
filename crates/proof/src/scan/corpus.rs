//! A seeded robustness corpus of synthetic camera photos of our codes, for the scanner's tests and benchmark.
//!
//! Each case is a token (`JX1:` + base45, as the centre issues them) printed as a QR code at level M on a white
//! label, laid into a photo-sized frame over a background and put through what a phone camera does to it: scale,
//! rotation, perspective tilt, defocus blur, uneven light, low contrast, sensor noise, colour cast and JPEG
//! compression. Every case is a pure function of `(seed, category, index)`, with its own SplitMix64 stream, so a
//! failing case can be regenerated alone and the corpus never changes under a seed.
//!
//! Every case carries a little of every degradation (real photos are never clean); its [`Category`] pushes one of
//! them hard. It must never import the scanner: the corpus describes photos, not how to read them.

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use jx_core::ids::TaskId;
use jx_core::rng::SplitMix64;
use jx_core::time::Timestamp;
use jx_core::token::{TokenKind, TokenSigner};
use std::f64::consts::PI;

/// What a case stresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Only the mild, everyday degradations.
    Everyday,
    /// Modules of 1.8–3.0 px: the code small in the frame.
    Small,
    /// Any in-plane angle.
    Rotated,
    /// The label tilted 30–60° away from the camera, seen close up.
    Perspective,
    /// Defocus: a Gaussian blur of σ a quarter to 0.55 of a module.
    Blur,
    /// Sensor noise of σ 10–28 grey levels.
    Noise,
    /// Ink and paper 15–40 grey levels apart.
    LowContrast,
    /// A strong light gradient or a shadow edge across the code.
    UnevenLight,
    /// JPEG quality 30–45.
    LowQualityJpeg,
    /// Clutter behind the label: boxes, lines, print, chequered tiles, square icons.
    Busy,
    /// A full 12 MP frame (4000×3000) with the code a small part of it.
    TwelveMegapixel,
    /// Several degradations at once, each moderate.
    Combined,
}

impl Category {
    pub const ALL: [Category; 12] = [
        Category::Everyday,
        Category::Small,
        Category::Rotated,
        Category::Perspective,
        Category::Blur,
        Category::Noise,
        Category::LowContrast,
        Category::UnevenLight,
        Category::LowQualityJpeg,
        Category::Busy,
        Category::TwelveMegapixel,
        Category::Combined,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Everyday => "everyday",
            Category::Small => "small",
            Category::Rotated => "rotated",
            Category::Perspective => "perspective",
            Category::Blur => "blur",
            Category::Noise => "noise",
            Category::LowContrast => "low-contrast",
            Category::UnevenLight => "uneven-light",
            Category::LowQualityJpeg => "jpeg-q30-45",
            Category::Busy => "busy",
            Category::TwelveMegapixel => "12mp",
            Category::Combined => "combined",
        }
    }
}

/// One synthetic photo and the text its code holds.
#[derive(Clone, Debug)]
pub struct Case {
    /// Category, index and the scene's parameters, to name a failing case.
    pub label: String,
    pub category: Category,
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
    pub expected: String,
}

/// `per_category` cases of every category, index-major (all categories of index 0, then of index 1, …), generated
/// lazily so that a large corpus never sits in memory at once.
pub fn cases(seed: u64, per_category: u32) -> impl Iterator<Item = Case> {
    (0..per_category).flat_map(move |index| Category::ALL.into_iter().map(move |c| case(seed, c, index)))
}

/// The case `index` of `category` under `seed`.
pub fn case(seed: u64, category: Category, index: u32) -> Case {
    let stream = seed ^ (category as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(index) << 32);
    let mut rng = SplitMix64::new(stream);
    let expected = token(&mut rng);
    let scene = Scene::draw(&mut rng, category);
    let jpeg = scene.render(&mut rng, &expected);
    Case {
        label: format!("{}#{index} {}", category.name(), scene.describe()),
        category,
        width: scene.width,
        height: scene.height,
        jpeg,
        expected,
    }
}

fn token(rng: &mut SplitMix64) -> String {
    let signer = TokenSigner::from_secret(1, [7; 32]);
    let kind = if rng.chance(0.5) { TokenKind::PacketLabel } else { TokenKind::ResidentConfirmation };
    let ms = 1_780_000_000_000 + rng.below(10_000_000_000);
    let task = TaskId::v7(ms, rng.bytes::<10>());
    signer.issue(kind, task, Timestamp(ms as i64))
}

fn uniform(rng: &mut SplitMix64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.unit()
}

#[derive(Clone, Copy, Debug)]
enum Light {
    /// Brightness falls linearly from 1 to `low` across the code, in direction `angle`.
    Gradient { low: f64, angle: f64 },
    /// A shadow edge through the code: `level` on one side, soft over `soft` px.
    Shadow { level: f64, angle: f64, offset: f64, soft: f64 },
}

/// Everything random about one photo.
#[derive(Clone, Debug)]
struct Scene {
    width: u32,
    height: u32,
    module_px: f64,
    rotation: f64,
    tilt_x: f64,
    tilt_y: f64,
    /// Camera distance in label sizes (smaller: stronger perspective).
    distance: f64,
    blur_sigma: f64,
    noise_sigma: f64,
    /// Grey level of ink and of paper under full light.
    dark: f64,
    light: f64,
    lighting: Light,
    quality: u8,
    clutter: u32,
    colour: Option<[f64; 3]>,
}

impl Scene {
    fn draw(rng: &mut SplitMix64, category: Category) -> Scene {
        const FRAMES: [(u32, u32); 5] = [(1600, 1200), (1200, 1600), (2048, 1536), (1920, 1080), (1080, 1920)];
        let (width, height) = *rng.pick(&FRAMES);
        let mut s = Scene {
            width,
            height,
            module_px: uniform(rng, 3.5, 7.0),
            rotation: uniform(rng, -12.0, 12.0).to_radians(),
            tilt_x: uniform(rng, -10.0, 10.0).to_radians(),
            tilt_y: uniform(rng, -10.0, 10.0).to_radians(),
            distance: uniform(rng, 3.0, 6.0),
            blur_sigma: uniform(rng, 0.3, 0.9),
            noise_sigma: uniform(rng, 1.5, 4.0),
            dark: uniform(rng, 25.0, 55.0),
            light: uniform(rng, 190.0, 235.0),
            lighting: Light::Gradient { low: uniform(rng, 0.8, 1.0), angle: uniform(rng, 0.0, 2.0 * PI) },
            quality: rng.range(70, 92) as u8,
            clutter: rng.range(3, 8) as u32,
            colour: rng.chance(0.3).then(|| [uniform(rng, 0.85, 1.1), 1.0, uniform(rng, 0.8, 1.1)]),
        };
        match category {
            Category::Everyday => {}
            Category::Small => s.module_px = uniform(rng, 1.8, 3.0),
            Category::Rotated => s.rotation = uniform(rng, 0.0, 2.0 * PI),
            Category::Perspective => {
                let tilt = uniform(rng, 30.0, 60.0).to_radians();
                let axis = uniform(rng, 0.0, 2.0 * PI);
                s.tilt_x = tilt * axis.cos();
                s.tilt_y = tilt * axis.sin();
                s.distance = uniform(rng, 1.3, 2.5);
                s.module_px = uniform(rng, 5.0, 8.0);
            }
            Category::Blur => s.blur_sigma = s.module_px * uniform(rng, 0.25, 0.55),
            Category::Noise => s.noise_sigma = uniform(rng, 10.0, 28.0),
            Category::LowContrast => {
                let mid = uniform(rng, 90.0, 170.0);
                let gap = uniform(rng, 15.0, 40.0);
                s.dark = mid - gap / 2.0;
                s.light = mid + gap / 2.0;
            }
            Category::UnevenLight => {
                let angle = uniform(rng, 0.0, 2.0 * PI);
                s.lighting = if rng.chance(0.5) {
                    Light::Gradient { low: uniform(rng, 0.15, 0.45), angle }
                } else {
                    Light::Shadow {
                        level: uniform(rng, 0.25, 0.55),
                        angle,
                        offset: uniform(rng, -0.3, 0.3),
                        soft: uniform(rng, 3.0, 40.0),
                    }
                };
            }
            Category::LowQualityJpeg => s.quality = rng.range(30, 45) as u8,
            Category::Busy => s.clutter = rng.range(60, 140) as u32,
            Category::TwelveMegapixel => {
                (s.width, s.height) = if rng.chance(0.7) { (4000, 3000) } else { (3000, 4000) };
                s.module_px = uniform(rng, 4.0, 8.0);
                s.clutter = rng.range(10, 40) as u32;
            }
            Category::Combined => {
                s.rotation = uniform(rng, 0.0, 2.0 * PI);
                let tilt = uniform(rng, 15.0, 30.0).to_radians();
                let axis = uniform(rng, 0.0, 2.0 * PI);
                s.tilt_x = tilt * axis.cos();
                s.tilt_y = tilt * axis.sin();
                s.distance = uniform(rng, 2.0, 3.5);
                s.module_px = uniform(rng, 4.0, 7.0);
                s.blur_sigma = s.module_px * uniform(rng, 0.1, 0.2);
                s.noise_sigma = uniform(rng, 5.0, 9.0);
                let mid = uniform(rng, 100.0, 150.0);
                let gap = uniform(rng, 60.0, 90.0);
                s.dark = mid - gap / 2.0;
                s.light = mid + gap / 2.0;
                s.lighting = Light::Gradient { low: uniform(rng, 0.5, 0.7), angle: uniform(rng, 0.0, 2.0 * PI) };
                s.quality = rng.range(50, 70) as u8;
                s.clutter = rng.range(20, 50) as u32;
            }
        }
        s
    }

    fn describe(&self) -> String {
        format!(
            "{}x{} module {:.1}px rot {:.0}° tilt {:.0}°/{:.0}° blur σ{:.1} noise σ{:.1} ink/paper {:.0}/{:.0} {} q{} clutter {}{}",
            self.width,
            self.height,
            self.module_px,
            self.rotation.to_degrees(),
            self.tilt_x.to_degrees(),
            self.tilt_y.to_degrees(),
            self.blur_sigma,
            self.noise_sigma,
            self.dark,
            self.light,
            match self.lighting {
                Light::Gradient { low, .. } => format!("gradient→{low:.2}"),
                Light::Shadow { level, soft, .. } => format!("shadow {level:.2} soft {soft:.0}px"),
            },
            self.quality,
            self.clutter,
            if self.colour.is_some() { " colour" } else { "" },
        )
    }

    fn render(&self, rng: &mut SplitMix64, text: &str) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        // Reflectance, 0 (black) ..= 255 (white paper), before light and noise.
        let mut refl = vec![0u8; w * h];
        background(rng, &mut refl, w, h, self.clutter);
        let region = self.lay_label(rng, &mut refl, text);
        if self.blur_sigma >= 0.3 {
            gaussian_blur(&mut refl, w, h, region, self.blur_sigma);
        }
        self.expose(rng, &refl, region)
    }

    /// Draws the label (white paper, 4-module quiet zone and 0–2 more, the code) through a perspective projection
    /// and returns the bounding box it covers, `(x0, y0, x1, y1)`.
    fn lay_label(&self, rng: &mut SplitMix64, refl: &mut [u8], text: &str) -> (usize, usize, usize, usize) {
        let (w, h) = (self.width as usize, self.height as usize);
        let code = match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
            Ok(code) => code,
            // A token always fits; an empty box keeps the corpus total even if one day it does not.
            Err(_) => return (0, 0, 0, 0),
        };
        let n = code.width();
        let modules = code.to_colors();
        let margin = 4.0 + rng.below(3) as f64;
        let paper = n as f64 + 2.0 * margin;
        let side = paper * self.module_px;
        let ink = uniform(rng, 0.02, 0.08) * 255.0;
        let white = uniform(rng, 0.88, 0.97) * 255.0;

        let (sr, cr) = self.rotation.sin_cos();
        let (sx, cx) = self.tilt_x.sin_cos();
        let (sy, cy) = self.tilt_y.sin_cos();
        let d = self.distance * side;
        let project = |s: f64, t: f64| -> (f64, f64) {
            let (x, y) = ((s - 0.5) * side, (t - 0.5) * side);
            let (x, y) = (x * cr - y * sr, x * sr + y * cr);
            let (y, z) = (y * cx, y * sx);
            let (x, z) = (x * cy + z * sy, -x * sy + z * cy);
            (x * d / (d + z), y * d / (d + z))
        };
        let corners = [project(0.0, 0.0), project(1.0, 0.0), project(1.0, 1.0), project(0.0, 1.0)];
        let min_x = corners.iter().map(|c| c.0).fold(f64::INFINITY, f64::min);
        let max_x = corners.iter().map(|c| c.0).fold(f64::NEG_INFINITY, f64::max);
        let min_y = corners.iter().map(|c| c.1).fold(f64::INFINITY, f64::min);
        let max_y = corners.iter().map(|c| c.1).fold(f64::NEG_INFINITY, f64::max);
        let place = |lo: f64, hi: f64, size: f64, rng: &mut SplitMix64| {
            let (a, b) = (24.0 - lo, size - 24.0 - hi);
            if a < b { uniform(rng, a, b) } else { size / 2.0 }
        };
        let ox = place(min_x, max_x, w as f64, rng);
        let oy = place(min_y, max_y, h as f64, rng);
        let quad = corners.map(|(x, y)| (x + ox, y + oy));
        let Some(to_paper) = Homography::square_to_quad(quad).and_then(|m| m.inverse()) else {
            return (0, 0, 0, 0);
        };
        let x0 = ((min_x + ox).floor().max(0.0) as usize).min(w);
        let x1 = ((max_x + ox).ceil().max(0.0) as usize + 1).min(w);
        let y0 = ((min_y + oy).floor().max(0.0) as usize).min(h);
        let y1 = ((max_y + oy).ceil().max(0.0) as usize + 1).min(h);
        const SUB: [f64; 2] = [0.25, 0.75];
        for y in y0..y1 {
            for x in x0..x1 {
                let bg = f64::from(refl[y * w + x]);
                let mut acc = 0.0;
                for sy in SUB {
                    for sx in SUB {
                        let (s, t) = to_paper.map(x as f64 + sx, y as f64 + sy);
                        acc += if !(0.0..1.0).contains(&s) || !(0.0..1.0).contains(&t) {
                            bg
                        } else {
                            let (u, v) = (s * paper - margin, t * paper - margin);
                            let inside = u >= 0.0 && v >= 0.0 && (u as usize) < n && (v as usize) < n;
                            if inside && modules[v as usize * n + u as usize] == qrcode::Color::Dark {
                                ink
                            } else {
                                white
                            }
                        };
                    }
                }
                refl[y * w + x] = (acc / 4.0).round() as u8;
            }
        }
        (x0, y0, x1, y1)
    }

    /// Light, ink/paper levels, noise and colour cast, then JPEG.
    fn expose(&self, rng: &mut SplitMix64, refl: &[u8], region: (usize, usize, usize, usize)) -> Vec<u8> {
        let (w, h) = (self.width as usize, self.height as usize);
        let (cx, cy) = ((region.0 + region.2) as f64 / 2.0, (region.1 + region.3) as f64 / 2.0);
        let extent = ((region.2 - region.0).max(region.3 - region.1) as f64).max(1.0);
        let light_at = |x: f64, y: f64| -> f64 {
            match self.lighting {
                Light::Gradient { low, angle } => {
                    let t = ((x - cx) * angle.cos() + (y - cy) * angle.sin()) / extent + 0.5;
                    1.0 - (1.0 - low) * t.clamp(0.0, 1.0)
                }
                Light::Shadow { level, angle, offset, soft } => {
                    let dist = (x - cx) * angle.cos() + (y - cy) * angle.sin() - offset * extent;
                    let t = (dist / soft).clamp(-1.0, 1.0) * 0.5 + 0.5;
                    level + (1.0 - level) * t
                }
            }
        };
        let lut: Vec<f64> =
            (0..256).map(|r| self.dark + (self.light - self.dark) * (r as f64 - 10.0) / 235.0).collect();
        // Irwin–Hall of eight bytes: close to Gaussian, one random draw a pixel.
        let mut noise = || -> f64 {
            let v = rng.next_u64().to_le_bytes();
            (v.iter().map(|&b| f64::from(b)).sum::<f64>() - 1020.0) / 209.0
        };
        let channels = if self.colour.is_some() { 3 } else { 1 };
        let gains = self.colour.unwrap_or([1.0; 3]);
        let mut out = vec![0u8; w * h * channels];
        for y in 0..h {
            // The light changes slowly: evaluate it every 8 px and interpolate nothing (steps are far below noise).
            let mut light = 1.0;
            for x in 0..w {
                if x % 8 == 0 {
                    light = light_at(x as f64, y as f64);
                }
                let v = lut[usize::from(refl[y * w + x])] * light + self.noise_sigma * noise();
                for (c, gain) in gains.iter().enumerate().take(channels) {
                    out[(y * w + x) * channels + c] = (v * gain).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        let colour = if channels == 3 { ExtendedColorType::Rgb8 } else { ExtendedColorType::L8 };
        let mut jpeg = Vec::new();
        // Encoding into memory cannot fail for a buffer of the stated size; an empty case would fail its test loudly.
        let _ = JpegEncoder::new_with_quality(&mut jpeg, self.quality).encode(&out, self.width, self.height, colour);
        jpeg
    }
}

/// A desk or wall: a base tone, then `clutter` shapes of random kinds.
fn background(rng: &mut SplitMix64, refl: &mut [u8], w: usize, h: usize, clutter: u32) {
    let base = rng.range(60, 200) as u8;
    refl.fill(base);
    for _ in 0..clutter {
        let tone = rng.range(10, 245) as u8;
        let x = rng.below(w as u64) as usize;
        let y = rng.below(h as u64) as usize;
        match rng.below(6) {
            0 | 1 => {
                let rw = rng.range(20, (w / 3) as u64) as usize;
                let rh = rng.range(20, (h / 3) as u64) as usize;
                fill_rect(refl, w, h, x, y, rw, rh, tone);
            }
            2 => {
                // A printed text block: rows of glyph-sized bars.
                let glyph = rng.range(8, 28) as usize;
                let rows = rng.range(2, 10) as usize;
                let cols = rng.range(8, 40) as usize;
                let ink = rng.range(5, 60) as u8;
                for r in 0..rows {
                    let mut gx = x;
                    for _ in 0..cols {
                        let gw = glyph * rng.range(4, 9) as usize / 10;
                        if rng.chance(0.85) {
                            fill_rect(refl, w, h, gx, y + r * glyph * 3 / 2, gw, glyph, ink);
                        }
                        gx += gw + glyph / 4 + 1;
                    }
                }
            }
            3 => {
                // A chequered tile or fabric patch.
                let cell = rng.range(4, 20) as usize;
                let cells = rng.range(4, 16) as usize;
                let other = rng.range(10, 245) as u8;
                for j in 0..cells {
                    for i in 0..cells {
                        let t = if (i + j) % 2 == 0 { tone } else { other };
                        fill_rect(refl, w, h, x + i * cell, y + j * cell, cell, cell, t);
                    }
                }
            }
            4 => {
                // A square icon that looks like a finder pattern from afar.
                let unit = rng.range(3, 12) as usize;
                fill_rect(refl, w, h, x, y, 7 * unit, 7 * unit, 20);
                fill_rect(refl, w, h, x + unit, y + unit, 5 * unit, 5 * unit, 230);
                fill_rect(refl, w, h, x + 2 * unit, y + 2 * unit, 3 * unit, 3 * unit, 20);
            }
            _ => {
                // A straight line (cable, table edge) at any angle.
                let len = rng.range(50, (w.max(h) / 2) as u64) as f64;
                let angle = uniform(rng, 0.0, PI);
                let thick = rng.range(2, 12) as usize;
                let steps = len as usize;
                for k in 0..steps {
                    let px = x as f64 + k as f64 * angle.cos();
                    let py = y as f64 + k as f64 * angle.sin();
                    if px >= 0.0 && py >= 0.0 {
                        fill_rect(refl, w, h, px as usize, py as usize, thick, thick, tone);
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fill_rect(refl: &mut [u8], w: usize, h: usize, x: usize, y: usize, rw: usize, rh: usize, tone: u8) {
    let (x1, y1) = ((x + rw).min(w), (y + rh).min(h));
    for row in y.min(h)..y1 {
        refl[row * w + x.min(w)..row * w + x1].fill(tone);
    }
}

/// Separable Gaussian blur of σ px over `region` grown by 3σ (defocus matters where the code is; blurring the whole
/// 12 MP frame would only slow the corpus down).
fn gaussian_blur(refl: &mut [u8], w: usize, h: usize, region: (usize, usize, usize, usize), sigma: f64) {
    let r = (3.0 * sigma).ceil() as usize;
    let kernel: Vec<f64> =
        (0..=2 * r).map(|i| (-((i as f64 - r as f64).powi(2)) / (2.0 * sigma * sigma)).exp()).collect();
    let total: f64 = kernel.iter().sum();
    let kernel: Vec<f64> = kernel.iter().map(|k| k / total).collect();
    let (x0, y0) = (region.0.saturating_sub(2 * r), region.1.saturating_sub(2 * r));
    let (x1, y1) = ((region.2 + 2 * r).min(w), (region.3 + 2 * r).min(h));
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let (rw, rh) = (x1 - x0, y1 - y0);
    let mut tmp = vec![0f64; rw * rh];
    for y in 0..rh {
        for x in 0..rw {
            let mut acc = 0.0;
            for (k, weight) in kernel.iter().enumerate() {
                let sx = (x0 + x + k).saturating_sub(r).min(w - 1);
                acc += weight * f64::from(refl[(y0 + y) * w + sx]);
            }
            tmp[y * rw + x] = acc;
        }
    }
    for y in 0..rh {
        for x in 0..rw {
            let mut acc = 0.0;
            for (k, weight) in kernel.iter().enumerate() {
                let sy = (y + k).saturating_sub(r).min(rh - 1);
                acc += weight * tmp[sy * rw + x];
            }
            refl[(y0 + y) * w + x0 + x] = acc.round().clamp(0.0, 255.0) as u8;
        }
    }
}

/// A plane projective map, `(x, y) ↦ ((a x + b y + c) / (g x + h y + 1), (d x + e y + f) / (g x + h y + 1))`.
#[derive(Clone, Copy, Debug)]
struct Homography([f64; 9]);

impl Homography {
    /// The map from the unit square (corners (0,0), (1,0), (1,1), (0,1)) to `quad` (Heckbert, 1989).
    fn square_to_quad(q: [(f64, f64); 4]) -> Option<Homography> {
        let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = q;
        let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
        let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
        let det = dx1 * dy2 - dx2 * dy1;
        if det.abs() < 1e-12 {
            return None;
        }
        let g = (dx3 * dy2 - dx2 * dy3) / det;
        let hh = (dx1 * dy3 - dx3 * dy1) / det;
        Some(Homography([x1 - x0 + g * x1, x3 - x0 + hh * x3, x0, y1 - y0 + g * y1, y3 - y0 + hh * y3, y0, g, hh, 1.0]))
    }

    fn inverse(self) -> Option<Homography> {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let co = [
            e * i - f * h,
            c * h - b * i,
            b * f - c * e,
            f * g - d * i,
            a * i - c * g,
            c * d - a * f,
            d * h - e * g,
            b * g - a * h,
            a * e - b * d,
        ];
        let det = a * co[0] + b * co[3] + c * co[6];
        if det.abs() < 1e-12 {
            return None;
        }
        Some(Homography(co.map(|v| v / det)))
    }

    fn map(&self, x: f64, y: f64) -> (f64, f64) {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let z = g * x + h * y + i;
        ((a * x + b * y + c) / z, (d * x + e * y + f) / z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_homography_maps_the_square_onto_its_quad_and_back() {
        let quad = [(10.0, 20.0), (110.0, 30.0), (120.0, 140.0), (5.0, 120.0)];
        let m = Homography::square_to_quad(quad).expect("a proper quad");
        let inv = m.inverse().expect("invertible");
        for (i, &(s, t)) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].iter().enumerate() {
            let (x, y) = m.map(s, t);
            assert!((x - quad[i].0).abs() < 1e-9 && (y - quad[i].1).abs() < 1e-9, "corner {i}: {x},{y}");
            let (s2, t2) = inv.map(x, y);
            assert!((s2 - s).abs() < 1e-9 && (t2 - t).abs() < 1e-9);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_case() {
        let a = case(3, Category::Noise, 1);
        let b = case(3, Category::Noise, 1);
        assert_eq!(a.jpeg, b.jpeg);
        assert_eq!(a.expected, b.expected);
        assert!(a.expected.starts_with("JX1:"));
        assert_ne!(case(4, Category::Noise, 1).expected, a.expected);
    }
}
