//! The search behind [`super::solve`]: nearest neighbour, 2-opt and Or-opt over neighbour lists with a queue of
//! nodes still worth looking at, and iterated local search with local double-bridge kicks. Every move keeps the
//! ranks along the array non-decreasing (see the parent module), which is how the fixed start, the fixed end, the
//! open path's dummy node and the green block are respected.

use super::{Budget, Matrix, Method};
use crate::rng::SplitMix64;
use std::collections::VecDeque;

pub(super) const RANK_START: u8 = 0;
pub(super) const RANK_FIRST: u8 = 1;
pub(super) const RANK_OTHER: u8 = 2;
pub(super) const RANK_END: u8 = 3;
const RANK_DUMMY: u8 = 4;

/// How many nearest neighbours each node's moves look at.
const NEIGHBOURS: usize = 10;
/// The longest segment a kick moves.
const KICK_SEGMENT: usize = 30;
/// Improvements smaller than this are rounding, not improvements.
const EPS: f64 = 1e-9;
/// Fixed so that the same input gives the same tour.
const SEED: u64 = 0x6A78_726F_7574_6521;

/// The matrix the search works on: the caller's, plus the open path's dummy node.
pub(super) struct Problem {
    n: usize,
    real: usize,
    d: Vec<f64>,
    rank: Vec<u8>,
    neighbours: Vec<Vec<usize>>,
}

impl Problem {
    pub(super) fn new(dist: &Matrix, mut rank: Vec<u8>, open: bool) -> Self {
        let real = dist.len();
        let n = real + usize::from(open);
        let mut d = vec![0.0; n * n];
        for i in 0..real {
            for j in 0..real {
                d[i * n + j] = if i == j { 0.0 } else { dist.get(i, j) };
            }
        }
        if open {
            rank.push(RANK_DUMMY);
        }
        let k = NEIGHBOURS.min(real.saturating_sub(1));
        let neighbours = (0..n)
            .map(|i| {
                if i >= real {
                    return Vec::new();
                }
                let mut others: Vec<usize> = (0..real).filter(|&j| j != i).collect();
                others.sort_by(|&a, &b| d[i * n + a].total_cmp(&d[i * n + b]).then(a.cmp(&b)));
                others.truncate(k);
                others
            })
            .collect();
        Self { n, real, d, rank, neighbours }
    }

    #[inline]
    fn d(&self, a: usize, b: usize) -> f64 {
        self.d[a * self.n + b]
    }
}

/// Runs `method` and returns the order of the caller's nodes (without the dummy).
pub(super) fn run(p: &Problem, method: Method, budget: &Budget) -> Vec<usize> {
    let mut s = Search::new(p, nearest_neighbour(p));
    match method {
        Method::NearestNeighbour => {}
        Method::TwoOpt => s.local_search(false),
        Method::LocalSearch => s.local_search(true),
        Method::Iterated => {
            s.local_search(true);
            s.iterate(budget);
        }
    }
    s.seq.retain(|&v| v < p.real);
    s.seq
}

/// Nearest neighbour that takes the lowest rank still unvisited first, from the start if there is one, else from
/// the lowest-numbered node of the lowest rank.
fn nearest_neighbour(p: &Problem) -> Vec<usize> {
    let mut seq = Vec::with_capacity(p.n);
    let mut seen = vec![false; p.n];
    let mut at: Option<usize> = None;
    while seq.len() < p.n {
        let rank = (0..p.n).filter(|&v| !seen[v]).map(|v| p.rank[v]).min().unwrap_or(RANK_DUMMY);
        let pick = (0..p.n)
            .filter(|&v| !seen[v] && p.rank[v] == rank)
            .min_by(|&a, &b| match at {
                Some(u) => p.d(u, a).total_cmp(&p.d(u, b)).then(a.cmp(&b)),
                None => a.cmp(&b),
            })
            .unwrap_or(0);
        seen[pick] = true;
        seq.push(pick);
        at = Some(pick);
    }
    seq
}

struct Search<'p> {
    p: &'p Problem,
    seq: Vec<usize>,
    pos: Vec<usize>,
    queue: VecDeque<usize>,
    queued: Vec<bool>,
}

impl<'p> Search<'p> {
    fn new(p: &'p Problem, seq: Vec<usize>) -> Self {
        let mut pos = vec![0; p.n];
        for (i, &v) in seq.iter().enumerate() {
            pos[v] = i;
        }
        Self { p, seq, pos, queue: VecDeque::new(), queued: vec![false; p.n] }
    }

    fn length(&self) -> f64 {
        let n = self.seq.len();
        (0..n).map(|i| self.p.d(self.seq[i], self.seq[(i + 1) % n])).sum()
    }

    fn succ(&self, v: usize) -> usize {
        self.seq[(self.pos[v] + 1) % self.seq.len()]
    }

    fn pred(&self, v: usize) -> usize {
        let n = self.seq.len();
        self.seq[(self.pos[v] + n - 1) % n]
    }

    fn rank_at(&self, i: usize) -> u8 {
        self.p.rank[self.seq[i]]
    }

    fn push(&mut self, v: usize) {
        if !self.queued[v] {
            self.queued[v] = true;
            self.queue.push_back(v);
        }
    }

    fn reindex(&mut self, from: usize, to: usize) {
        for i in from..=to {
            self.pos[self.seq[i]] = i;
        }
    }

    fn local_search(&mut self, or_opt: bool) {
        if self.seq.len() < 4 {
            return;
        }
        for i in 0..self.seq.len() {
            self.push(self.seq[i]);
        }
        self.drain(or_opt);
    }

    fn drain(&mut self, or_opt: bool) {
        while let Some(a) = self.queue.pop_front() {
            self.queued[a] = false;
            if !self.two_opt_from(a) && or_opt {
                self.or_opt_from(a);
            }
        }
    }

    /// The first improving 2-opt move that adds an edge from `a` to one of its neighbours.
    fn two_opt_from(&mut self, a: usize) -> bool {
        let p = self.p;
        for forward in [true, false] {
            let b = if forward { self.succ(a) } else { self.pred(a) };
            let dab = p.d(a, b);
            for &c in &p.neighbours[a] {
                let dac = p.d(a, c);
                if dac >= dab - EPS {
                    break;
                }
                let e = if forward { self.succ(c) } else { self.pred(c) };
                if c == b || e == a {
                    continue;
                }
                if dab + p.d(c, e) - dac - p.d(b, e) <= EPS {
                    continue;
                }
                // The removed edges, each named by the array position of its first node.
                let (x, y) = if forward { (self.pos[a], self.pos[c]) } else { (self.pos[b], self.pos[e]) };
                if self.reverse_between(x.min(y), x.max(y)) {
                    for v in [a, b, c, e] {
                        self.push(v);
                    }
                    return true;
                }
            }
        }
        false
    }

    /// Replaces the edges leaving positions `x < y` by reversing what lies between them, if that keeps the ranks.
    fn reverse_between(&mut self, x: usize, y: usize) -> bool {
        let n = self.seq.len();
        let (from, to) = if self.rank_at(x + 1) == self.rank_at(y) {
            (x + 1, y)
        } else if y == n - 1 && self.rank_at(0) == self.rank_at(x) {
            (0, x)
        } else {
            return false;
        };
        self.seq[from..=to].reverse();
        self.reindex(from, to);
        true
    }

    /// The first improving move of a run of one to three nodes that starts or ends at `a` to a gap next to one of
    /// the run's ends' neighbours, either way round.
    fn or_opt_from(&mut self, a: usize) -> bool {
        let p = self.p;
        let n = self.seq.len();
        let i = self.pos[a];
        for len in 1..=3usize {
            if len + 2 > n {
                break;
            }
            let runs = [(i + len <= n).then(|| (i, i + len - 1)), (len > 1 && i + 1 >= len).then(|| (i + 1 - len, i))];
            for (si, sj) in runs.into_iter().flatten() {
                let (s1, s2) = (self.seq[si], self.seq[sj]);
                let r = p.rank[s1];
                if r != p.rank[s2] || !(r == RANK_FIRST || r == RANK_OTHER) {
                    continue;
                }
                let before = self.seq[(si + n - 1) % n];
                let after = self.seq[(sj + 1) % n];
                let cut = p.d(before, s1) + p.d(s2, after) - p.d(before, after);
                if cut <= EPS {
                    continue;
                }
                let inside = |v: usize, pos: &[usize]| (si..=sj).contains(&pos[v]);
                for (end, other) in [(s1, s2), (s2, s1)] {
                    for &c in &p.neighbours[end] {
                        if p.d(end, c) >= cut - EPS {
                            break;
                        }
                        if inside(c, &self.pos) {
                            continue;
                        }
                        for (x, y) in [(c, self.succ(c)), (self.pred(c), c)] {
                            if inside(x, &self.pos) || inside(y, &self.pos) {
                                continue;
                            }
                            // `end` goes next to `c`: after `x` if `c` is `x`, before `y` if `c` is `y`.
                            let (first, last) = if c == x { (end, other) } else { (other, end) };
                            let add = p.d(x, first) + p.d(last, y) - p.d(x, y);
                            if cut - add <= EPS {
                                continue;
                            }
                            if self.move_run(si, sj, self.pos[x], first != s1, r) {
                                for v in [before, after, s1, s2, x, y] {
                                    self.push(v);
                                }
                                return true;
                            }
                        }
                    }
                }
            }
        }
        false
    }

    /// Moves the run at `si..=sj` (all of rank `r`) into the gap after position `k`, reversed or not, if the ranks
    /// on both sides of the gap admit it.
    fn move_run(&mut self, si: usize, sj: usize, k: usize, reversed: bool, r: u8) -> bool {
        let n = self.seq.len();
        let len = sj - si + 1;
        let (x, y) = (self.rank_at(k), self.rank_at((k + 1) % n));
        // The gap after the last position is also the gap before the first: the run goes at either end.
        let after = if k + 1 < n {
            if !(x <= r && r <= y) {
                return false;
            }
            Some(k)
        } else if x <= r {
            Some(k)
        } else if r <= y {
            None
        } else {
            return false;
        };
        let (from, to, at) = match after {
            Some(t) if t > sj => {
                self.seq[si..=t].rotate_left(len);
                (si, t, t + 1 - len)
            }
            Some(t) => {
                self.seq[t + 1..=sj].rotate_right(len);
                (t + 1, sj, t + 1)
            }
            None => {
                self.seq[..=sj].rotate_right(len);
                (0, sj, 0)
            }
        };
        if reversed {
            self.seq[at..at + len].reverse();
        }
        self.reindex(from, to);
        true
    }

    /// Iterated local search: kick, repair around the kick, keep the result if it is no longer than the best.
    fn iterate(&mut self, budget: &Budget) {
        let n = self.seq.len();
        // The blocks a kick may shuffle: runs of one movable rank, at least two long. Ranks never decrease along the
        // array and each rank's count is fixed, so the blocks never move.
        let mut blocks = vec![];
        let mut i = 0;
        while i < n {
            let r = self.rank_at(i);
            let mut j = i;
            while j + 1 < n && self.rank_at(j + 1) == r {
                j += 1;
            }
            if (r == RANK_FIRST || r == RANK_OTHER) && j > i {
                blocks.push((i, j));
            }
            i = j + 1;
        }
        let movable: usize = blocks.iter().map(|(a, b)| b - a + 1).sum();
        if movable < 3 {
            return;
        }
        let mut rng = SplitMix64::new(SEED);
        let mut best = self.seq.clone();
        let mut best_len = self.length();
        for _ in 0..budget.max_kicks {
            if budget.out() {
                break;
            }
            // Now and then two kicks at once: a green block and the rest may each need a change that only pays
            // together with the other.
            for _ in 0..1 + usize::from(rng.below(8) == 0) {
                let mut pick = rng.below(movable as u64) as usize;
                let &(lo, hi) = blocks
                    .iter()
                    .find(|(a, b)| {
                        let size = b - a + 1;
                        let here = pick < size;
                        if !here {
                            pick -= size;
                        }
                        here
                    })
                    .unwrap_or(&blocks[0]);
                self.kick(lo, hi, &mut rng);
            }
            self.drain(true);
            let len = self.length();
            if len <= best_len + EPS {
                best_len = best_len.min(len);
                best.copy_from_slice(&self.seq);
            } else {
                self.seq.copy_from_slice(&best);
                self.reindex(0, n - 1);
            }
        }
        self.seq.copy_from_slice(&best);
        self.reindex(0, n - 1);
    }

    /// A local double bridge inside `lo..=hi`: two adjacent short segments swap places.
    fn kick(&mut self, lo: usize, hi: usize, rng: &mut SplitMix64) {
        let n = self.seq.len();
        let size = hi - lo + 1;
        let l1 = 1 + rng.below(KICK_SEGMENT.min(size - 1) as u64) as usize;
        let l2 = 1 + rng.below(KICK_SEGMENT.min(size - l1) as u64) as usize;
        let from = lo + rng.below((size - l1 - l2 + 1) as u64) as usize;
        let to = from + l1 + l2 - 1;
        self.seq[from..=to].rotate_left(l1);
        self.reindex(from, to);
        // The repair looks at the six ends in a random order: first-improvement from a fixed order tends to undo the
        // kick the same way every time.
        let mut ends = [from + n - 1, from, from + l2 - 1, from + l2, to, to + 1].map(|i| self.seq[i % n]);
        for k in (1..ends.len()).rev() {
            ends.swap(k, rng.below(k as u64 + 1) as usize);
        }
        for v in ends {
            self.push(v);
        }
    }
}
