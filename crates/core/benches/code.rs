//! What one guess at a resident's 6-digit code costs at the default hash cost, and so what trying all of them from a
//! stolen phone's database costs, printed as a table next to a plain SHA-256 baseline measured in the same run.
//!
//! Run: `cargo bench -p jx-core --bench code`

use jx_core::bytes::Sha256;
use jx_core::code::{DEFAULT_M_KIB, DEFAULT_T, check_code, hash_code};
use std::time::Instant;

fn main() {
    let h = hash_code("482913", [7; 16], DEFAULT_M_KIB, DEFAULT_T).expect("hashes");
    let n = 20;
    let t = Instant::now();
    for i in 0..n {
        assert!(!check_code(&format!("{:06}", i), &h));
    }
    let per = t.elapsed().as_secs_f64() / n as f64;
    let m = 200_000;
    let t = Instant::now();
    let mut x = 0u8;
    for i in 0..m {
        x ^= Sha256::of(format!("{:06}", i).as_bytes()).0[0];
    }
    let sha = t.elapsed().as_secs_f64() / m as f64;
    println!("\n| hash | one guess | all 1,000,000 codes on one core |");
    println!("|---|---:|---:|");
    println!("| Argon2id 19 MiB × 2 (ours) | {:.1} ms | {:.1} h |", per * 1e3, per * 1e6 / 3600.0);
    println!("| plain SHA-256 (baseline) | {:.2} µs | {:.1} s |", sha * 1e6, sha * 1e6);
    println!("\nratio, same run: {:.0}× slower per guess (checksum {x})", per / sha);
}
