//! TSPLIB instances (Reinelt's TSPLIB 95 format): the standard yardstick the route ordering is measured against.
//!
//! Reads symmetric `TYPE : TSP` files with a `NODE_COORD_SECTION` and `EDGE_WEIGHT_TYPE` `EUC_2D` (Euclidean
//! distance rounded to the nearest integer) or `GEO` (TSPLIB's own great-circle formula: coordinates in
//! degrees.minutes, `PI = 3.141592`, `RRR = 6378.388` km, distances truncated after adding 1, exactly as in the
//! TSPLIB FAQ, so that tour lengths compare with the published optima). Any text gives either an instance or a
//! [`TsplibError`] naming the line; nothing panics.
//!
//! Must never import: I/O (the caller reads the file).

use crate::route::{Budget, Matrix, Method, RouteOptions, solve_with};
use thiserror::Error;

/// The most nodes an instance may have: its matrix then takes 72 MB.
pub const MAX_DIMENSION: usize = 3_000;

/// How distances are computed from coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightType {
    Euc2d,
    Geo,
}

/// A parsed instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub name: String,
    /// The COMMENT lines, joined by newlines; the published optimum is usually given here.
    pub comment: String,
    pub weight_type: WeightType,
    /// Node coordinates in file order (node `i + 1` of the file is index `i`).
    pub coords: Vec<(f64, f64)>,
}

/// Why a file is not an instance this module reads.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum TsplibError {
    #[error("line {line}: expected `KEY : value` or a section name, found {found:?}")]
    BadHeader { line: usize, found: String },
    #[error("line {line}: DIMENSION {value:?} is not a whole number from 1 to {MAX_DIMENSION}")]
    BadDimension { line: usize, value: String },
    #[error("line {line}: TYPE {value:?} is not supported (only symmetric TSP)")]
    UnsupportedType { line: usize, value: String },
    #[error("line {line}: EDGE_WEIGHT_TYPE {value:?} is not supported (only EUC_2D and GEO)")]
    UnsupportedWeightType { line: usize, value: String },
    #[error("line {line}: section {value:?} is not supported (only NODE_COORD_SECTION)")]
    UnsupportedSection { line: usize, value: String },
    #[error("line {line}: NODE_COORD_SECTION before DIMENSION")]
    MissingDimension { line: usize },
    #[error("line {line}: NODE_COORD_SECTION before EDGE_WEIGHT_TYPE")]
    MissingWeightType { line: usize },
    #[error("line {line}: expected `node x y` with finite numbers, found {found:?}")]
    BadCoordinate { line: usize, found: String },
    #[error("line {line}: node {node} is not between 1 and DIMENSION {dimension}")]
    NodeOutOfRange { line: usize, node: String, dimension: usize },
    #[error("line {line}: node {node} is given twice")]
    DuplicateNode { line: usize, node: usize },
    #[error("the file ends at line {line} with {found} of its {dimension} nodes")]
    MissingNodes { line: usize, found: usize, dimension: usize },
    #[error("no NODE_COORD_SECTION in the file")]
    NoCoordinates,
}

impl Instance {
    /// Parses TSPLIB text.
    pub fn parse(text: &str) -> Result<Self, TsplibError> {
        let (mut name, mut comments) = (String::new(), Vec::<String>::new());
        let (mut dimension, mut weight_type) = (None::<usize>, None::<WeightType>);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim()));
        while let Some((line, raw)) = lines.next() {
            if raw.is_empty() {
                continue;
            }
            let (key, value) = match raw.split_once(':') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => (raw, ""),
            };
            match key.to_ascii_uppercase().as_str() {
                "NAME" => name = value.to_string(),
                "COMMENT" => comments.push(value.to_string()),
                "TYPE" => {
                    if !value.eq_ignore_ascii_case("TSP") {
                        return Err(TsplibError::UnsupportedType { line, value: value.into() });
                    }
                }
                "DIMENSION" => {
                    let n = value.parse::<usize>().ok().filter(|n| (1..=MAX_DIMENSION).contains(n));
                    dimension = Some(n.ok_or_else(|| TsplibError::BadDimension { line, value: value.into() })?);
                }
                "EDGE_WEIGHT_TYPE" => {
                    weight_type = Some(match value.to_ascii_uppercase().as_str() {
                        "EUC_2D" => WeightType::Euc2d,
                        "GEO" => WeightType::Geo,
                        _ => return Err(TsplibError::UnsupportedWeightType { line, value: value.into() }),
                    })
                }
                // Header keys that do not change how a symmetric coordinate instance is read.
                "CAPACITY" | "DISPLAY_DATA_TYPE" | "NODE_COORD_TYPE" => {}
                "NODE_COORD_SECTION" => {
                    let dimension = dimension.ok_or(TsplibError::MissingDimension { line })?;
                    let weight_type = weight_type.ok_or(TsplibError::MissingWeightType { line })?;
                    let coords = read_coords(&mut lines, dimension, line)?;
                    return Ok(Instance { name, comment: comments.join("\n"), weight_type, coords });
                }
                "EOF" => break,
                k if k.ends_with("_SECTION") => {
                    return Err(TsplibError::UnsupportedSection { line, value: key.into() });
                }
                _ if raw.contains(':') => {} // other headers (e.g. EDGE_WEIGHT_FORMAT) are not needed without a section
                _ => return Err(TsplibError::BadHeader { line, found: clip(raw) }),
            }
        }
        Err(TsplibError::NoCoordinates)
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.coords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.coords.is_empty()
    }

    /// The distance between nodes `i` and `j` (0-based) in TSPLIB's own integer units.
    pub fn distance(&self, i: usize, j: usize) -> i64 {
        if i == j {
            return 0;
        }
        let (a, b) = (self.coords[i], self.coords[j]);
        match self.weight_type {
            WeightType::Euc2d => ((a.0 - b.0).hypot(a.1 - b.1) + 0.5) as i64,
            WeightType::Geo => geo_distance(a, b),
        }
    }

    /// The integer distance matrix, as the route solver takes it.
    pub fn matrix(&self) -> Matrix {
        Matrix::from_fn(self.len(), |i, j| self.distance(i, j) as f64)
    }

    /// The optimum stated in the comment as "optimal tour length N" (as in the project's test data), if any.
    pub fn stated_optimum(&self) -> Option<i64> {
        let lower = self.comment.to_ascii_lowercase();
        let at = lower.find("optimal tour length")? + "optimal tour length".len();
        let digits: String =
            lower[at..].trim_start_matches([' ', ':', '=']).chars().take_while(|c| c.is_ascii_digit()).collect();
        digits.parse().ok()
    }
}

/// TSPLIB's GEO conversion: `ddd.mm` (degrees, then minutes as the first two decimals) to radians, with TSPLIB's PI.
fn geo_radians(x: f64) -> f64 {
    // TSPLIB's published optima are computed with this truncated PI, not the true one.
    #[allow(clippy::approx_constant)]
    const PI: f64 = 3.141592;
    let deg = x.trunc();
    let min = x - deg;
    PI * (deg + 5.0 * min / 3.0) / 180.0
}

/// TSPLIB's GEO distance (`x` is latitude, `y` longitude), in whole kilometres as TSPLIB truncates them.
fn geo_distance(a: (f64, f64), b: (f64, f64)) -> i64 {
    const RRR: f64 = 6378.388;
    let (lat_a, lng_a) = (geo_radians(a.0), geo_radians(a.1));
    let (lat_b, lng_b) = (geo_radians(b.0), geo_radians(b.1));
    let q1 = (lng_a - lng_b).cos();
    let q2 = (lat_a - lat_b).cos();
    let q3 = (lat_a + lat_b).cos();
    let c = (0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3)).clamp(-1.0, 1.0);
    (RRR * c.acos() + 1.0) as i64
}

fn read_coords<'t>(
    lines: &mut impl Iterator<Item = (usize, &'t str)>,
    dimension: usize,
    header_line: usize,
) -> Result<Vec<(f64, f64)>, TsplibError> {
    let mut coords: Vec<Option<(f64, f64)>> = vec![None; dimension];
    let (mut found, mut last) = (0, header_line);
    for (line, raw) in lines {
        last = line;
        if raw.is_empty() {
            continue;
        }
        if found == dimension || raw.eq_ignore_ascii_case("EOF") {
            break;
        }
        let bad = || TsplibError::BadCoordinate { line, found: clip(raw) };
        let mut fields = raw.split_whitespace();
        let (Some(node), Some(x), Some(y), None) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
            return Err(bad());
        };
        let index = node.parse::<usize>().ok().filter(|k| (1..=dimension).contains(k));
        let index = index.ok_or_else(|| TsplibError::NodeOutOfRange { line, node: clip(node), dimension })?;
        let (x, y) = (x.parse::<f64>().map_err(|_| bad())?, y.parse::<f64>().map_err(|_| bad())?);
        if !(x.is_finite() && y.is_finite()) {
            return Err(bad());
        }
        let slot = &mut coords[index - 1];
        if slot.is_some() {
            return Err(TsplibError::DuplicateNode { line, node: index });
        }
        *slot = Some((x, y));
        found += 1;
    }
    if found < dimension {
        return Err(TsplibError::MissingNodes { line: last, found, dimension });
    }
    Ok(coords.into_iter().flatten().collect())
}

/// At most 60 characters of a line, for an error message.
fn clip(s: &str) -> String {
    s.chars().take(60).collect()
}

/// The length of the closed tour `order` (0-based nodes) in the instance's integer distances.
pub fn tour_length(instance: &Instance, order: &[usize]) -> i64 {
    let n = order.len();
    (0..n).map(|i| instance.distance(order[i], order[(i + 1) % n])).fold(0i64, i64::saturating_add)
}

/// An instance ordered by the project's method.
#[derive(Clone, Debug, PartialEq)]
pub struct Solved {
    pub name: String,
    pub comment: String,
    /// The closed tour, 0-based (add 1 for TSPLIB's node numbers).
    pub tour: Vec<usize>,
    /// Its length in TSPLIB's integer distances.
    pub length: i64,
    /// The optimum stated in the comment, if any.
    pub optimum: Option<i64>,
}

/// Parses `text` and orders its nodes as a closed tour with `method` under `budget`: what `jx-centre route FILE.tsp`
/// prints.
pub fn solve_tsplib(text: &str, method: Method, budget: Budget) -> Result<Solved, TsplibError> {
    let instance = Instance::parse(text)?;
    let tour = solve_with(&instance.matrix(), &RouteOptions { budget, ..RouteOptions::default() }, method);
    let length = tour_length(&instance, &tour.order);
    let optimum = instance.stated_optimum();
    Ok(Solved { name: instance.name, comment: instance.comment, tour: tour.order, length, optimum })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = "NAME : square\nCOMMENT : a unit square; optimal tour length 40\nTYPE : TSP\n\
        DIMENSION : 4\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 10 10\n3 10 0\n4 0 10\nEOF\n";

    #[test]
    fn a_small_euclidean_instance_reads_and_solves() {
        let i = Instance::parse(SQUARE).expect("parses");
        assert_eq!(i.name, "square");
        assert_eq!(i.len(), 4);
        assert_eq!(i.distance(0, 1), 14);
        assert_eq!(i.stated_optimum(), Some(40));
        let s = solve_tsplib(SQUARE, Method::Iterated, Budget::default()).expect("solves");
        assert_eq!(s.length, 40);
        assert_eq!(s.optimum, Some(40));
    }

    #[test]
    fn geo_distances_follow_tsplib() {
        // 31.14 reads as 31°14', 121.28 as 121°28'. One degree of latitude apart on the same meridian:
        // RRR * (PI / 180) = 111.3246... km, truncated after adding one = 112.
        let text = "NAME: g\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: GEO\nNODE_COORD_SECTION\n\
            1 31.00 121.00\n2 32.00 121.00\n3 31.30 121.00\n";
        let i = Instance::parse(text).expect("parses");
        assert_eq!(i.weight_type, WeightType::Geo);
        assert_eq!(i.distance(0, 1), 112);
        // 31.30 is 31°30', half a degree: 55.662... + 1 = 56.
        assert_eq!(i.distance(0, 2), 56);
        assert_eq!(i.distance(2, 2), 0);
    }

    #[test]
    fn malformed_files_say_which_line() {
        let cases: [(&str, TsplibError); 6] = [
            ("NAME: x\nDIMENSION: -3\n", TsplibError::BadDimension { line: 2, value: "-3".into() }),
            ("NAME: x\nTYPE: ATSP\n", TsplibError::UnsupportedType { line: 2, value: "ATSP".into() }),
            ("DIMENSION: 2\nNODE_COORD_SECTION\n1 0 0\n", TsplibError::MissingWeightType { line: 2 }),
            ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n1 2 2\n", {
                TsplibError::DuplicateNode { line: 5, node: 1 }
            }),
            ("DIMENSION: 2\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 zero\n", {
                TsplibError::BadCoordinate { line: 4, found: "1 0 zero".into() }
            }),
            ("DIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n", {
                TsplibError::MissingNodes { line: 6, found: 2, dimension: 3 }
            }),
        ];
        for (text, want) in cases {
            assert_eq!(Instance::parse(text), Err(want), "{text:?}");
        }
        assert_eq!(
            Instance::parse("hello world"),
            Err(TsplibError::BadHeader { line: 1, found: "hello world".into() })
        );
        assert_eq!(Instance::parse(""), Err(TsplibError::NoCoordinates));
    }
}
