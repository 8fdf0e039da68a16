//! How close the route ordering comes to the optimum and how long it takes: every TSPLIB instance of the test data
//! under nearest neighbour alone, nearest neighbour + 2-opt, 2-opt + Or-opt, and the project's method under its
//! default kick budget and under a 20 ms budget; then the phone's case (re-ordering 30 remaining stops after a skip) and 100 random stops.
//!
//! Run: `cargo bench -p jx-core --bench route`

use jx_core::geo::LatLng;
use jx_core::ids::CompoundId;
use jx_core::rng::SplitMix64;
use jx_core::route::{Budget, Method, RouteOptions, RoutePlanOptions, Stop, reorder_remaining, solve_with};
use jx_core::tsplib::{Instance, tour_length};
use std::time::{Duration, Instant};

const INSTANCES: [&str; 6] = ["berlin52", "st70", "pr76", "kroA100", "XQF131", "qa194"];

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tsplib");
    println!("\n| instance | n | strategy | tour length | optimum | gap % | time ms |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    for name in INSTANCES {
        let text = std::fs::read_to_string(format!("{dir}/{name}.tsp")).expect("test data is in the repository");
        let instance = Instance::parse(&text).expect("parses");
        let optimum = instance.stated_optimum().expect("the comment states the optimum");
        let matrix = instance.matrix();
        let strategies = [
            ("nearest neighbour", Method::NearestNeighbour, None),
            ("NN + 2-opt", Method::TwoOpt, None),
            ("NN + 2-opt + Or-opt", Method::LocalSearch, None),
            ("ours, default 3 000 kicks", Method::Iterated, None),
            ("ours, 20 ms", Method::Iterated, Some(Duration::from_millis(20))),
        ];
        for (label, method, limit) in strategies {
            let started = Instant::now();
            let out_of_time = || limit.is_some_and(|l| started.elapsed() >= l);
            let kicks = if limit.is_some() { u32::MAX } else { Budget::DEFAULT_KICKS };
            let budget = Budget::kicks(kicks).until(&out_of_time);
            let tour = solve_with(&matrix, &RouteOptions { budget, ..RouteOptions::default() }, method);
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let length = tour_length(&instance, &tour.order);
            let gap = (length - optimum) as f64 / optimum as f64 * 100.0;
            println!("| {name} | {} | {label} | {length} | {optimum} | {gap:.2} | {ms:.2} |", instance.len());
        }
    }

    println!("\n| phone case | runs | median µs | p95 µs | walk m (median) |");
    println!("|---|---:|---:|---:|---:|");
    let mut rng = SplitMix64::new(2026);
    for (label, n, budget) in [
        ("30 remaining stops after a skip, default budget", 30, Budget::default()),
        ("100 random stops, default budget", 100, Budget::default()),
    ] {
        let (mut times, mut walks) = (vec![], vec![]);
        for _ in 0..50 {
            let home = LatLng::new(31.12, 121.45);
            let stops: Vec<Stop> = (0..n)
                .map(|i| Stop {
                    building: (CompoundId(1), i as u16),
                    position: home.offset_m(rng.unit() * 800.0, rng.unit() * 800.0),
                    tasks: vec![],
                    green: rng.chance(0.1),
                })
                .collect();
            let here = home.offset_m(rng.unit() * 800.0, rng.unit() * 800.0);
            let opts = RoutePlanOptions { return_home: false, green_first: true, budget };
            let started = Instant::now();
            let plan = reorder_remaining(here, home, &stops, &opts);
            times.push(started.elapsed().as_secs_f64() * 1e6);
            walks.push(plan.walk_m);
        }
        times.sort_by(f64::total_cmp);
        walks.sort_by(f64::total_cmp);
        let p95 = times[(times.len() * 95).div_ceil(100) - 1];
        println!(
            "| {label} | {} | {:.0} | {p95:.0} | {:.0} |",
            times.len(),
            times[times.len() / 2],
            walks[walks.len() / 2]
        );
    }
}
