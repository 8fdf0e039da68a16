//! Route ordering: in which order a member of staff walks to the buildings of their evening, as a travelling-salesman
//! problem over a distance matrix.
//!
//! [`solve`] orders the nodes of any symmetric [`Matrix`]: a fixed start or none, a closed tour or an open path
//! (optionally with a fixed last node), and a set of nodes that must come before all others (the green channel:
//! elderly, disabled and pregnant residents), ordered jointly with the rest. The domain layer in [`stops`] turns a
//! staff member's tasks into one stop per building and plans the walk in metres.
//!
//! # Method
//!
//! Nearest neighbour builds a first tour; 2-opt and Or-opt (moving a run of one to three stops elsewhere, either way
//! round), both driven by ten-nearest-neighbour lists and a queue of "don't-look bits", bring it to a local optimum;
//! then iterated local search kicks it with a local double bridge (two adjacent short segments swapped, a move
//! 2-opt and Or-opt cannot undo in one step), repairs only around the kick, and keeps the result when it is no
//! longer than the best. Neighbour lists and the local kick keep each round proportional to the damage done, not to
//! the size of the tour, so a 100-stop instance gets thousands of rounds in a few milliseconds; that is what takes it
//! from the 2–5 % of a plain local optimum to within 1 % of the optimum.
//!
//! # Constraints, and how every move respects them
//!
//! The tour is kept as an array that is read cyclically, and every node carries a rank: the fixed start 0, green
//! nodes 1, the others 2, a fixed last node 3. An open path gets one extra dummy node of rank 4 at the end of the
//! array, zero distance from everything, so that an open path is the closed tour through the dummy (the "dummy
//! node trick"). A valid tour is one whose ranks never decrease along the array; a move is applied only if it keeps
//! that true (a 2-opt reversal only inside one rank, an Or-opt segment only of one rank and only into a gap between
//! ranks that admit it, a kick only inside one rank's block). So the fixed nodes never move, the green nodes stay in
//! front, and the junctions between the blocks are still optimised.
//!
//! # Time
//!
//! Nothing here reads a clock (this crate runs on the phone, in wasm): a [`Budget`] caps the number of kicks and may
//! carry a `should_stop` callback that the caller backs with its own clock. With a kick budget alone the result is
//! a pure function of the input.
//!
//! Must never import: I/O, clocks, threads.

mod search;
pub mod stops;

pub use stops::{GroupedStops, RoutePlan, RoutePlanOptions, Stop, group_into_stops, plan_route, reorder_remaining};

use std::fmt;

/// A square matrix of distances, row-major. Must be symmetric with zeros on the diagonal for the result to mean
/// anything; nothing else is assumed (no triangle inequality).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    n: usize,
    d: Vec<f64>,
}

impl Matrix {
    /// The `n`×`n` matrix whose entry `(i, j)` is `f(i, j)`.
    pub fn from_fn(n: usize, mut f: impl FnMut(usize, usize) -> f64) -> Self {
        let mut d = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                d.push(f(i, j));
            }
        }
        Self { n, d }
    }

    /// How many nodes the matrix is over.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The distance from `i` to `j`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.d[i * self.n + j]
    }
}

/// How long the search may go on. The local search always runs to its local optimum (it is fast and polynomial);
/// the budget limits the kicks of the iterated local search after it.
///
/// On a native build back `should_stop` with a clock:
///
/// ```
/// # use jx_core::route::{Budget, Matrix, RouteOptions, solve};
/// # let matrix = Matrix::from_fn(5, |i, j| (i as f64 - j as f64).abs());
/// let started = std::time::Instant::now();
/// let out_of_time = || started.elapsed() >= std::time::Duration::from_millis(20);
/// let opts = RouteOptions { budget: Budget::kicks(u32::MAX).until(&out_of_time), ..RouteOptions::default() };
/// let tour = solve(&matrix, &opts);
/// # assert_eq!(tour.order.len(), 5);
/// ```
#[derive(Clone, Copy)]
pub struct Budget<'a> {
    /// The most kicks (perturbation and repair rounds) to try.
    pub max_kicks: u32,
    /// Asked before every kick; `true` ends the search with the best tour found so far.
    pub should_stop: Option<&'a dyn Fn() -> bool>,
}

impl Budget<'static> {
    /// Kicks a default search tries: enough for the optimum or within a fraction of a percent on the routes an
    /// evening has (up to a hundred stops), about a millisecond per thousand kicks at 30 stops on a laptop.
    pub const DEFAULT_KICKS: u32 = 3_000;

    /// At most `max_kicks` kicks, no callback: the result depends on the input alone.
    pub const fn kicks(max_kicks: u32) -> Self {
        Self { max_kicks, should_stop: None }
    }

    /// Local search only, no kicks.
    pub const fn local_only() -> Self {
        Self::kicks(0)
    }
}

impl<'a> Budget<'a> {
    /// The same budget, also ended as soon as `should_stop` returns `true`.
    pub fn until(self, should_stop: &'a dyn Fn() -> bool) -> Budget<'a> {
        Budget { max_kicks: self.max_kicks, should_stop: Some(should_stop) }
    }

    fn out(&self) -> bool {
        self.should_stop.is_some_and(|stop| stop())
    }
}

impl Default for Budget<'static> {
    fn default() -> Self {
        Self::kicks(Self::DEFAULT_KICKS)
    }
}

impl fmt::Debug for Budget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Budget")
            .field("max_kicks", &self.max_kicks)
            .field("should_stop", &self.should_stop.map(|_| "callback"))
            .finish()
    }
}

/// What the tour must look like.
#[derive(Clone, Debug)]
pub struct RouteOptions<'a> {
    /// The node the tour starts from (the staff member's home building, or where they stand now).
    pub start: Option<usize>,
    /// The node the path must end at (before the return to the start, on a closed tour).
    pub end: Option<usize>,
    /// A closed tour (back to the first node) or an open path.
    pub return_to_start: bool,
    /// Nodes that must come before all others, after the start (the green channel); their order among themselves
    /// is optimised together with the rest. A node that is also `start` or `end` keeps that role instead.
    pub first: Vec<usize>,
    pub budget: Budget<'a>,
}

impl Default for RouteOptions<'static> {
    fn default() -> Self {
        Self { start: None, end: None, return_to_start: true, first: Vec::new(), budget: Budget::default() }
    }
}

/// An order of the matrix's nodes and its length.
#[derive(Clone, Debug, PartialEq)]
pub struct Tour {
    /// Every node once, in walking order, starting with the start node if there is one.
    pub order: Vec<usize>,
    /// The sum of the walked edges: with the edge back to the first node on a closed tour, without on a path.
    pub length: f64,
}

/// How much work to put into a tour: each method starts from the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Nearest neighbour alone (the baseline).
    NearestNeighbour,
    /// Nearest neighbour, then 2-opt to a local optimum.
    TwoOpt,
    /// Nearest neighbour, then 2-opt and Or-opt to a local optimum.
    LocalSearch,
    /// [`Method::LocalSearch`], then iterated local search within the budget: the project's method.
    Iterated,
}

/// Orders the nodes of `dist` with the project's method ([`Method::Iterated`]).
///
/// Panics if `start`, `end` or a node of `first` is not a node of the matrix (a caller's bug, not data).
pub fn solve(dist: &Matrix, opts: &RouteOptions) -> Tour {
    solve_with(dist, opts, Method::Iterated)
}

/// Orders the nodes of `dist` with the given method.
pub fn solve_with(dist: &Matrix, opts: &RouteOptions, method: Method) -> Tour {
    let n = dist.len();
    for node in opts.start.iter().chain(opts.end.iter()).chain(opts.first.iter()) {
        assert!(*node < n, "node {node} is not one of the {n} nodes of the matrix");
    }
    let mut rank = vec![search::RANK_OTHER; n];
    for &g in &opts.first {
        rank[g] = search::RANK_FIRST;
    }
    if let Some(e) = opts.end {
        rank[e] = search::RANK_END;
    }
    if let Some(s) = opts.start {
        rank[s] = search::RANK_START;
    }
    let problem = search::Problem::new(dist, rank, !opts.return_to_start);
    let order = search::run(&problem, method, &opts.budget);
    let length = tour_length(dist, &order, opts.return_to_start);
    Tour { order, length }
}

/// The length of walking `order` over `dist`, back to the first node if `closed`.
pub fn tour_length(dist: &Matrix, order: &[usize], closed: bool) -> f64 {
    let path: f64 = order.windows(2).map(|w| dist.get(w[0], w[1])).sum();
    match (closed, order.first(), order.last()) {
        (true, Some(&a), Some(&z)) if order.len() > 1 => path + dist.get(z, a),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: usize) -> Matrix {
        Matrix::from_fn(n, |i, j| (i as f64 - j as f64).abs())
    }

    #[test]
    fn tiny_matrices_give_trivial_tours() {
        for n in 0..4 {
            let t = solve(&line(n), &RouteOptions::default());
            let mut sorted = t.order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn an_open_path_on_a_line_walks_it_end_to_end() {
        let mut rev: Vec<usize> = (0..12).collect();
        rev.reverse();
        let m = Matrix::from_fn(12, |i, j| (rev[i] as f64 - rev[j] as f64).abs());
        let t = solve(&m, &RouteOptions { return_to_start: false, ..RouteOptions::default() });
        assert_eq!(t.length, 11.0);
        let from_middle =
            solve(&m, &RouteOptions { start: Some(6), return_to_start: false, ..RouteOptions::default() });
        assert_eq!(from_middle.order[0], 6);
        // From the middle: walk to the nearer end (5 away) and then all the way to the far end (11).
        assert_eq!(from_middle.length, 16.0);
    }

    #[test]
    fn green_nodes_come_first_even_when_far() {
        let m = line(10);
        let opts = RouteOptions { start: Some(0), first: vec![9], return_to_start: false, ..RouteOptions::default() };
        let t = solve(&m, &opts);
        assert_eq!(&t.order[..2], &[0, 9]);
        assert_eq!(t.length, 9.0 + 8.0);
    }

    #[test]
    fn a_fixed_end_is_last() {
        let m = line(10);
        let opts = RouteOptions { start: Some(5), end: Some(4), return_to_start: false, ..RouteOptions::default() };
        let t = solve(&m, &opts);
        assert_eq!(t.order.first(), Some(&5));
        assert_eq!(t.order.last(), Some(&4));
    }

    #[test]
    fn the_budget_callback_is_asked() {
        let asked = std::cell::Cell::new(0);
        let stop = || {
            asked.set(asked.get() + 1);
            asked.get() > 3
        };
        let m = Matrix::from_fn(20, |i, j| ((i * 7 % 20) as f64 - (j * 7 % 20) as f64).abs());
        let t = solve(&m, &RouteOptions { budget: Budget::kicks(1_000).until(&stop), ..RouteOptions::default() });
        assert_eq!(t.order.len(), 20);
        assert_eq!(asked.get(), 4);
    }
}
