//! Pixel preparation for the scanner: resampling, smoothing, contrast and binarisation of luma images, each a plain
//! function from pixels to pixels (or to a black/white decision) that a decoding pass chains as it needs.
//!
//! Nothing here knows about QR codes; it must never import the decoders.

use image::GrayImage;

/// The integer factor that brings `img`'s long side to at most `max_long` (1 when it already fits).
pub(crate) fn factor_for(img: &GrayImage, max_long: u32) -> u32 {
    let long = img.width().max(img.height());
    long.div_ceil(max_long.max(1)).max(1)
}

/// Shrinks by an integer `factor`, each output pixel the mean of a `factor`×`factor` block: a box filter is the
/// cheapest anti-aliasing there is, and it averages sensor and JPEG noise down as it goes.
pub(crate) fn downscale(img: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return img.clone();
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let k = factor as usize;
    let (ow, oh) = ((w / k).max(1), (h / k).max(1));
    let src = img.as_raw();
    let mut out = vec![0u8; ow * oh];
    let mut sums = vec![0u32; ow];
    for oy in 0..oh {
        sums.fill(0);
        let rows = (oy * k)..((oy * k + k).min(h));
        let nrows = rows.len() as u32;
        for y in rows {
            let row = &src[y * w..y * w + w];
            for (ox, sum) in sums.iter_mut().enumerate() {
                let start = ox * k;
                let end = (start + k).min(w);
                *sum += row[start..end].iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        for (ox, &sum) in sums.iter().enumerate() {
            let start = ox * k;
            let ncols = ((start + k).min(w) - start) as u32;
            let n = (ncols * nrows).max(1);
            out[oy * ow + ox] = ((sum + n / 2) / n) as u8;
        }
    }
    GrayImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| img.clone())
}

/// A 3×3 box blur applied twice (close to a Gaussian of σ ≈ 1.15 px): it melts JPEG block edges and sensor speckle
/// that otherwise break the finder patterns' 1:1:3:1:1 runs into pieces.
pub(crate) fn blur(img: &GrayImage) -> GrayImage {
    let once = box3(img);
    box3(&once)
}

/// Unsharp masking, `p + 1.5·(p − blur(p))`, then the stretch: gives back some of the edge contrast that defocus
/// took from single modules, so the finder's 1:1:3:1:1 runs separate again.
pub(crate) fn sharpen(img: &GrayImage) -> GrayImage {
    let soft = blur(img);
    let px = img
        .as_raw()
        .iter()
        .zip(soft.as_raw())
        .map(|(&p, &b)| (f32::from(p) + 1.5 * (f32::from(p) - f32::from(b))).round().clamp(0.0, 255.0) as u8)
        .collect();
    let sharp = GrayImage::from_raw(img.width(), img.height(), px).unwrap_or_else(|| img.clone());
    stretch(&sharp)
}

fn box3(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w < 3 || h < 3 {
        return img.clone();
    }
    let src = img.as_raw();
    // Horizontal sums of three, edges clamped.
    let mut horiz = vec![0u16; w * h];
    for y in 0..h {
        let row = &src[y * w..y * w + w];
        let out = &mut horiz[y * w..y * w + w];
        for x in 0..w {
            let l = row[x.saturating_sub(1)];
            let r = row[(x + 1).min(w - 1)];
            out[x] = u16::from(l) + u16::from(row[x]) + u16::from(r);
        }
    }
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        let up = y.saturating_sub(1) * w;
        let mid = y * w;
        let down = (y + 1).min(h - 1) * w;
        for x in 0..w {
            let s = u32::from(horiz[up + x]) + u32::from(horiz[mid + x]) + u32::from(horiz[down + x]);
            out[mid + x] = ((s + 4) / 9) as u8;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| img.clone())
}

fn histogram(img: &GrayImage) -> [u64; 256] {
    let mut hist = [0u64; 256];
    for &p in img.as_raw() {
        hist[usize::from(p)] += 1;
    }
    hist
}

/// Stretches the 1st..99th percentile of the grey levels over the full range, then lifts the shadows with a gamma of
/// 0.7: a code photographed in dim light or through glare keeps its shape but loses the range that a threshold
/// relative to the local brightness (rqrr's, 95 % of a running mean) needs to tell dark from light.
pub(crate) fn stretch(img: &GrayImage) -> GrayImage {
    let hist = histogram(img);
    let total: u64 = hist.iter().sum();
    let percentile = |p: u64| -> usize {
        let target = total * p / 100;
        let mut acc = 0u64;
        for (level, &count) in hist.iter().enumerate() {
            acc += count;
            if acc > target {
                return level;
            }
        }
        255
    };
    let lo = percentile(1) as f64;
    let hi = (percentile(99) as f64).max(lo + 1.0);
    let mut lut = [0u8; 256];
    for (level, out) in lut.iter_mut().enumerate() {
        let t = ((level as f64 - lo) / (hi - lo)).clamp(0.0, 1.0);
        *out = (t.powf(0.7) * 255.0).round() as u8;
    }
    let px = img.as_raw().iter().map(|&p| lut[usize::from(p)]).collect();
    GrayImage::from_raw(img.width(), img.height(), px).unwrap_or_else(|| img.clone())
}

/// Otsu's global threshold: the grey level that best splits the histogram into two classes. Returns the level at
/// or below which a pixel is dark.
pub(crate) fn otsu_level(img: &GrayImage) -> u8 {
    let hist = histogram(img);
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 127;
    }
    let sum_all: f64 = hist.iter().enumerate().map(|(l, &c)| l as f64 * c as f64).sum();
    let (mut w0, mut sum0) = (0u64, 0f64);
    let (mut best, mut best_var) = (127u8, -1f64);
    for (level, &count) in hist.iter().enumerate() {
        w0 += count;
        if w0 == 0 {
            continue;
        }
        let w1 = total - w0;
        if w1 == 0 {
            break;
        }
        sum0 += level as f64 * count as f64;
        let m0 = sum0 / w0 as f64;
        let m1 = (sum_all - sum0) / w1 as f64;
        let between = w0 as f64 * w1 as f64 * (m0 - m1) * (m0 - m1);
        if between > best_var {
            best_var = between;
            best = level as u8;
        }
    }
    best
}

/// Dark where a pixel is darker than the mean of the square window around it by more than a small margin: the
/// threshold follows shadows and light gradients in two dimensions, where rqrr's own threshold only follows each
/// row. The window is about a twentieth of the long side, several modules of any code worth finding.
pub(crate) fn adaptive_mean(img: &GrayImage) -> Vec<bool> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let src = img.as_raw();
    let radius = (w.max(h) / 40).clamp(7, 127);
    // Integral image with wrapping sums: a window's sum (at most 255 × 255² < 2³²) comes out exact from wrapped
    // differences, so 32 bits do for any image size.
    let stride = w + 1;
    let mut integral = vec![0u32; stride * (h + 1)];
    for y in 0..h {
        let mut row_sum = 0u32;
        for x in 0..w {
            row_sum = row_sum.wrapping_add(u32::from(src[y * w + x]));
            integral[(y + 1) * stride + x + 1] = integral[y * stride + x + 1].wrapping_add(row_sum);
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        let y0 = y.saturating_sub(radius);
        let y1 = (y + radius + 1).min(h);
        for x in 0..w {
            let x0 = x.saturating_sub(radius);
            let x1 = (x + radius + 1).min(w);
            let sum = integral[y1 * stride + x1]
                .wrapping_sub(integral[y0 * stride + x1])
                .wrapping_sub(integral[y1 * stride + x0])
                .wrapping_add(integral[y0 * stride + x0]);
            let n = ((x1 - x0) * (y1 - y0)) as u32;
            let p = u32::from(src[y * w + x]);
            // Dark if p < mean − max(2, mean/16), computed without division: p·n + margin·n < sum.
            let margin_n = (sum / 16).max(2 * n);
            out[y * w + x] = p * n + margin_n < sum;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]))
    }

    #[test]
    fn downscale_by_two_averages_blocks() {
        let img = GrayImage::from_raw(2, 2, vec![0, 100, 200, 100]).expect("2x2 buffer");
        let small = downscale(&img, 2);
        assert_eq!(small.dimensions(), (1, 1));
        assert_eq!(small.get_pixel(0, 0).0[0], 100);
    }

    #[test]
    fn factor_brings_the_long_side_under_the_limit() {
        let img = GrayImage::new(4000, 3000);
        let k = factor_for(&img, 1200);
        assert!(4000 / k <= 1200);
        assert_eq!(factor_for(&GrayImage::new(800, 600), 1200), 1);
    }

    #[test]
    fn otsu_splits_a_two_level_image_between_the_levels() {
        let img = GrayImage::from_fn(10, 10, |x, _| image::Luma([if x < 5 { 40 } else { 200 }]));
        let t = otsu_level(&img);
        assert!((40..200).contains(&t), "threshold {t}");
    }

    #[test]
    fn adaptive_mean_marks_a_dark_square_on_a_gradient() {
        let img = GrayImage::from_fn(200, 200, |x, y| {
            let base = 60 + (x / 2) as u8;
            let dark = (96..104).contains(&x) && (96..104).contains(&y);
            image::Luma([if dark { base / 2 } else { base }])
        });
        let bits = adaptive_mean(&img);
        assert!(bits[100 * 200 + 100], "centre of the dark square is dark");
        assert!(!bits[20 * 200 + 20], "flat background is light");
    }

    #[test]
    fn blur_and_stretch_keep_the_size() {
        let img = ramp(37, 23);
        assert_eq!(blur(&img).dimensions(), (37, 23));
        let s = stretch(&img);
        assert_eq!(s.dimensions(), (37, 23));
        assert_eq!(s.as_raw().iter().max().copied(), Some(255));
    }
}
