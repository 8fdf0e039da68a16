//! The route ordering against exact optima: Held–Karp on small random instances with every combination of the
//! constraints, and the published optima of the TSPLIB instances in `tests/data/tsplib/`.

use jx_core::rng::SplitMix64;
use jx_core::route::{Budget, Matrix, Method, RouteOptions, solve, solve_with};
use jx_core::tsplib::{Instance, TsplibError, solve_tsplib, tour_length};
use proptest::prelude::*;

/// The exact optimum by Held–Karp dynamic programming over subsets, under the same rules as the solver: ranks
/// (start 0, green 1, other 2, end 3) never decrease along the tour. `n` up to 12.
fn held_karp(d: &Matrix, opts: &RouteOptions) -> f64 {
    let n = d.len();
    let mut rank = vec![2u8; n];
    opts.first.iter().for_each(|&g| rank[g] = 1);
    opts.end.iter().for_each(|&e| rank[e] = 3);
    opts.start.iter().for_each(|&s| rank[s] = 0);
    let lowest = rank.iter().copied().min().unwrap_or(0);
    // A closed tour has to come back to where it began, so each possible first node is its own run; an open path
    // may begin at any node of the lowest rank, so one run seeds them all.
    let runs: Vec<Vec<usize>> = match (opts.return_to_start, opts.start) {
        (_, Some(s)) => vec![vec![s]],
        (true, None) if lowest == 2 => vec![vec![0]],
        (true, None) => (0..n).filter(|&v| rank[v] == lowest).map(|v| vec![v]).collect(),
        (false, None) => vec![(0..n).filter(|&v| rank[v] == lowest).collect()],
    };
    let full = (1usize << n) - 1;
    let mut best = f64::INFINITY;
    for seeds in runs {
        let mut dp = vec![f64::INFINITY; (1 << n) * n];
        for &s in &seeds {
            dp[(1 << s) * n + s] = 0.0;
        }
        for set in 1..=full {
            let lowest_left = (0..n).filter(|&v| set & (1 << v) == 0).map(|v| rank[v]).min().unwrap_or(9);
            for j in 0..n {
                let here = dp[set * n + j];
                if !here.is_finite() {
                    continue;
                }
                for k in 0..n {
                    if set & (1 << k) == 0 && rank[k] == lowest_left {
                        let next = &mut dp[(set | 1 << k) * n + k];
                        *next = next.min(here + d.get(j, k));
                    }
                }
            }
        }
        for j in 0..n {
            let back = if opts.return_to_start && seeds.len() == 1 { d.get(j, seeds[0]) } else { 0.0 };
            best = best.min(dp[full * n + j] + back);
        }
    }
    best
}

fn random_points(seed: u64, n: usize) -> Matrix {
    let mut rng = SplitMix64::new(seed);
    let pts: Vec<(f64, f64)> = (0..n).map(|_| (rng.unit() * 1000.0, rng.unit() * 1000.0)).collect();
    Matrix::from_fn(n, |i, j| (pts[i].0 - pts[j].0).hypot(pts[i].1 - pts[j].1))
}

/// Options drawn from `choice`'s bits: closed or open, start or not, end or not, up to three green nodes.
fn constraints(n: usize, choice: u64) -> RouteOptions<'static> {
    let mut rng = SplitMix64::new(choice);
    let start = (choice & 1 == 1).then(|| rng.below(n as u64) as usize);
    let closed = choice & 2 == 2;
    let end = (!closed && choice & 4 == 4).then(|| rng.below(n as u64) as usize).filter(|&e| Some(e) != start);
    let greens = (choice >> 3) % 4;
    let mut first = vec![];
    for _ in 0..greens {
        let g = rng.below(n as u64) as usize;
        if Some(g) != start && Some(g) != end && !first.contains(&g) {
            first.push(g);
        }
    }
    RouteOptions { start, end, return_to_start: closed, first, budget: Budget::kicks(300) }
}

fn check_constraints(tour: &[usize], n: usize, opts: &RouteOptions) {
    let mut sorted = tour.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "not a permutation: {tour:?}");
    let skip = usize::from(opts.start.is_some());
    if let Some(s) = opts.start {
        assert_eq!(tour[0], s, "does not start at the start: {tour:?}");
    }
    if let Some(e) = opts.end {
        assert_eq!(tour[n - 1], e, "does not end at the end: {tour:?}");
    }
    let mut front = tour[skip..skip + opts.first.len()].to_vec();
    front.sort_unstable();
    let mut want = opts.first.clone();
    want.sort_unstable();
    assert_eq!(front, want, "green nodes are not first: {tour:?}, {:?}", opts.first);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn small_tours_keep_every_constraint_beat_nearest_neighbour_and_are_optimal(
        n in 1usize..=10, seed in any::<u64>(), choice in any::<u64>(),
    ) {
        let d = random_points(seed, n);
        let opts = constraints(n, choice);
        let tour = solve(&d, &opts);
        check_constraints(&tour.order, n, &opts);
        let nn = solve_with(&d, &opts, Method::NearestNeighbour);
        prop_assert!(tour.length <= nn.length + 1e-6, "{} > nearest neighbour {}", tour.length, nn.length);
        let best = held_karp(&d, &opts);
        prop_assert!(tour.length <= best + 1e-6, "{} > optimum {best} with {opts:?}", tour.length);
    }
}

#[test]
fn across_many_instances_of_twelve_nodes_the_gap_to_held_karp_stays_tiny() {
    let (mut optimal, mut worst, cases) = (0, 0.0f64, 60);
    for seed in 0..cases {
        let d = random_points(seed, 12);
        let opts = constraints(12, seed * 7_919);
        let tour = solve(&d, &opts);
        check_constraints(&tour.order, 12, &opts);
        let best = held_karp(&d, &opts);
        let gap = (tour.length - best) / best;
        worst = worst.max(gap);
        optimal += usize::from(gap < 1e-9);
    }
    println!("12 nodes: {optimal}/{cases} optimal, worst gap {:.3} %", worst * 100.0);
    assert!(optimal >= cases as usize * 95 / 100, "only {optimal} of {cases} optimal");
    assert!(worst < 0.01, "worst gap {:.3} %", worst * 100.0);
}

fn instance(name: &str) -> (Instance, i64) {
    let path = format!("{}/tests/data/tsplib/{name}.tsp", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("the TSPLIB test data is in the repository");
    let instance = Instance::parse(&text).expect("parses");
    let optimum = instance.stated_optimum().expect("the comment states the optimum");
    (instance, optimum)
}

/// The instance's tour under a kick budget (deterministic, so the bar below holds on any machine at any speed).
fn gap_percent(name: &str, kicks: u32) -> f64 {
    let (inst, optimum) = instance(name);
    let tour = solve(&inst.matrix(), &RouteOptions { budget: Budget::kicks(kicks), ..RouteOptions::default() });
    let length = tour_length(&inst, &tour.order);
    assert_eq!(tour.length as i64, length);
    let gap = (length - optimum) as f64 / optimum as f64 * 100.0;
    println!("{name}: {length} against {optimum}, {gap:.2} %");
    gap
}

#[test]
fn tsplib_instances_up_to_a_hundred_cities_come_within_one_percent_of_the_optimum() {
    for name in ["berlin52", "st70", "pr76", "kroA100"] {
        let gap = gap_percent(name, 3_000);
        assert!((0.0..=1.0).contains(&gap), "{name}: {gap:.2} %");
    }
}

#[test]
fn larger_tsplib_instances_come_within_two_percent() {
    for name in ["XQF131", "qa194"] {
        let gap = gap_percent(name, 3_000);
        assert!((0.0..=2.0).contains(&gap), "{name}: {gap:.2} %");
    }
}

#[test]
fn every_stated_optimum_matches_the_readme_table() {
    let readme = std::fs::read_to_string(format!("{}/tests/data/tsplib/README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("the README is next to the data");
    for name in ["berlin52", "st70", "pr76", "kroA100", "XQF131", "qa194"] {
        let (inst, optimum) = instance(name);
        assert_eq!(inst.name, name);
        let row = readme.lines().find(|l| l.starts_with(&format!("| {name} |"))).expect("a row per instance");
        assert!(row.contains(&format!("| {optimum} |")), "{row}");
    }
}

#[test]
fn solve_tsplib_gives_the_cli_everything_it_prints() {
    let text = std::fs::read_to_string(format!("{}/tests/data/tsplib/berlin52.tsp", env!("CARGO_MANIFEST_DIR")))
        .expect("test data");
    let s = solve_tsplib(&text, Method::Iterated, Budget::kicks(2_000)).expect("solves");
    assert_eq!((s.name.as_str(), s.optimum, s.tour.len()), ("berlin52", Some(7542), 52));
    assert!(s.length >= 7542 && s.length <= 7542 * 101 / 100, "{}", s.length);
    assert!(matches!(
        solve_tsplib("NAME: x\nTYPE: ATSP\n", Method::Iterated, Budget::default()),
        Err(TsplibError::UnsupportedType { .. })
    ));
}

#[test]
fn the_same_input_gives_the_same_tour() {
    let d = random_points(5, 60);
    let opts = RouteOptions { start: Some(3), first: vec![7, 8], return_to_start: false, ..RouteOptions::default() };
    assert_eq!(solve(&d, &opts), solve(&d, &opts));
}

proptest! {
    #[test]
    fn tsplib_parsing_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = Instance::parse(&text);
    }

    #[test]
    fn tsplib_parsing_never_panics_on_mangled_instances(
        n in 1usize..6,
        junk in proptest::collection::vec("(NAME|DIMENSION|EOF|NODE_COORD_SECTION|EDGE_WEIGHT_TYPE|GEO|EUC_2D|:| |\n|-?[0-9]{1,4}(\\.[0-9]+)?|1e999|NaN)", 0..40),
    ) {
        let mut text = format!("NAME: t\nTYPE: TSP\nDIMENSION: {n}\nEDGE_WEIGHT_TYPE: GEO\nNODE_COORD_SECTION\n");
        text.push_str(&junk.join(" "));
        if let Ok(inst) = Instance::parse(&text) {
            let order: Vec<usize> = (0..inst.len()).collect();
            let _ = tour_length(&inst, &order);
            let _ = solve_tsplib(&text, Method::Iterated, Budget::kicks(10));
        }
    }
}
