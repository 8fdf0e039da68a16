//! QR decoding strategies side by side on a seeded corpus of synthetic camera photos.
//!
//! `cargo bench -p jx-proof --bench scan` (`JX_SCAN_BENCH_PER_CATEGORY`, default 16, cases of each of the 12
//! categories; `JX_SCAN_BENCH_SEED` to change the corpus; `JX_SCAN_BENCH_ONLY=best,plain rqrr` to run a subset).
//!
//! Every strategy sees the same decoded luma images; the time is the strategy's own (JPEG decoding, the same for
//! all, is reported once). A case counts as decoded only when the expected text is among the texts returned; any
//! other text returned is counted as wrong.

use jx_proof::scan::corpus::{self, Category};
use jx_proof::scan::{Strategy, decode_gray, load_gray};
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct Row {
    strategy: Strategy,
    decoded: usize,
    wrong: usize,
    median_ms: f64,
    p95_ms: f64,
    by_category: Vec<usize>,
    misses: Vec<String>,
}

fn main() {
    let per_category: u32 = std::env::var("JX_SCAN_BENCH_PER_CATEGORY").ok().and_then(|v| v.parse().ok()).unwrap_or(16);
    let seed: u64 = std::env::var("JX_SCAN_BENCH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5CA7_2026);
    let only: Option<Vec<String>> =
        std::env::var("JX_SCAN_BENCH_ONLY").ok().map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let strategies: Vec<Strategy> = Strategy::ALL
        .into_iter()
        .filter(|s| only.as_ref().is_none_or(|names| names.iter().any(|n| n == s.name())))
        .collect();

    let started = Instant::now();
    let mut images = Vec::new();
    let mut decode_ms = Vec::new();
    let mut megapixels = 0.0;
    for case in corpus::cases(seed, per_category) {
        let t = Instant::now();
        let gray = load_gray(&case.jpeg).expect("the corpus's JPEGs decode");
        decode_ms.push(t.elapsed().as_secs_f64() * 1e3);
        megapixels += f64::from(case.width) * f64::from(case.height) / 1e6;
        images.push((case, gray));
    }
    decode_ms.sort_by(f64::total_cmp);
    println!(
        "corpus: seed {seed:#x}, {} images ({per_category} per category × {} categories), {:.0} MP in all, generated in {:.1} s",
        images.len(),
        Category::ALL.len(),
        megapixels,
        started.elapsed().as_secs_f64()
    );
    println!(
        "JPEG decode to luma (common to all strategies): median {:.1} ms, p95 {:.1} ms",
        percentile(&decode_ms, 0.5),
        percentile(&decode_ms, 0.95)
    );

    let mut rows = Vec::new();
    for &strategy in &strategies {
        let mut times = Vec::new();
        let (mut decoded, mut wrong) = (0, 0);
        let mut by_category = vec![0; Category::ALL.len()];
        let mut misses = Vec::new();
        for (case, gray) in &images {
            let t = Instant::now();
            let texts = decode_gray(gray, strategy);
            times.push(t.elapsed().as_secs_f64() * 1e3);
            wrong += texts.iter().filter(|t| **t != case.expected).count();
            if texts.contains(&case.expected) {
                decoded += 1;
                if let Some(i) = Category::ALL.iter().position(|c| *c == case.category) {
                    by_category[i] += 1;
                }
            } else {
                misses.push(case.label.clone());
            }
        }
        times.sort_by(f64::total_cmp);
        rows.push(Row {
            strategy,
            decoded,
            wrong,
            median_ms: percentile(&times, 0.5),
            p95_ms: percentile(&times, 0.95),
            by_category,
            misses,
        });
        eprintln!("  {} done ({:.0} s so far)", strategy.name(), started.elapsed().as_secs_f64());
    }

    let total = images.len();
    let base = rows.iter().find(|r| r.strategy == Strategy::PlainRqrr).map(|r| (r.decoded, r.median_ms, r.p95_ms));
    println!();
    println!(
        "| strategy | decoded / total (rate) | wrong | median ms | p95 ms | rate vs plain | median vs plain | p95 vs plain |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rows {
        let rate = r.decoded as f64 / total.max(1) as f64;
        let (vs_rate, vs_med, vs_p95) = match base {
            Some((d, m, p)) => (
                format!("{:+} cases", r.decoded as i64 - d as i64),
                format!("×{:.2}", r.median_ms / m.max(1e-9)),
                format!("×{:.2}", r.p95_ms / p.max(1e-9)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "| {} | {}/{} ({:.1} %) | {} | {:.1} | {:.1} | {} | {} | {} |",
            r.strategy.name(),
            r.decoded,
            total,
            rate * 100.0,
            r.wrong,
            r.median_ms,
            r.p95_ms,
            vs_rate,
            vs_med,
            vs_p95
        );
    }

    println!();
    print!("| category |");
    for r in &rows {
        print!(" {} |", r.strategy.name());
    }
    println!();
    print!("|---|");
    for _ in &rows {
        print!("---|");
    }
    println!();
    for (i, c) in Category::ALL.iter().enumerate() {
        print!("| {} |", c.name());
        for r in &rows {
            print!(" {}/{} |", r.by_category[i], per_category);
        }
        println!();
    }
    if std::env::var("JX_SCAN_BENCH_MISSES").is_ok() {
        for r in &rows {
            println!("\nmissed by {}:", r.strategy.name());
            for m in &r.misses {
                println!("  {m}");
            }
        }
    }
    println!("\ntotal bench time {:.1} s", started.elapsed().as_secs_f64());
}
