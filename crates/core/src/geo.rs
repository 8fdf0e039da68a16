//! Positions on the ground. Everything here is WGS-84, what a phone's GNSS reports; conversions to the offset
//! systems of Chinese map services (GCJ-02, BD-09) happen explicitly at the edges that talk to them.
//!
//! Distances between points are haversine (great circle): at a town's scale it is within centimetres of the
//! ellipsoid and needs no set-up, and the phone computes exactly what the centre does. Geometry against a shape —
//! is a point in a compound, how far is it from one — is done in a local metric projection centred on the point
//! (equirectangular: metres east and north), where the `geo` crate's planar algorithms apply; over a few hundred
//! metres its error is far below a phone's GNSS accuracy.

use serde::{Deserialize, Serialize};

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 position in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatLng {
    pub lat: f64,
    pub lng: f64,
}

impl LatLng {
    pub const fn new(lat: f64, lng: f64) -> Self {
        Self { lat, lng }
    }

    /// Great-circle distance in metres (haversine). At a town's scale this is within centimetres of the
    /// ellipsoidal distance, and it needs no projection set-up.
    pub fn distance_m(self, other: LatLng) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dp = p2 - p1;
        let dl = (other.lng - self.lng).to_radians();
        let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }

    /// The point `east_m` metres east and `north_m` metres north of this one (small offsets only).
    pub fn offset_m(self, east_m: f64, north_m: f64) -> LatLng {
        let dlat = north_m / EARTH_RADIUS_M;
        let dlng = east_m / (EARTH_RADIUS_M * self.lat.to_radians().cos());
        LatLng::new(self.lat + dlat.to_degrees(), self.lng + dlng.to_degrees())
    }
}

/// A closed ring of positions (first point not repeated), e.g. a compound's boundary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Polygon(pub Vec<LatLng>);

impl Polygon {
    /// Whether `p` lies inside the ring (even-odd rule, treating degrees as planar: exact enough for a compound a
    /// few hundred metres across).
    pub fn contains(&self, p: LatLng) -> bool {
        let pts = &self.0;
        if pts.len() < 3 {
            return false;
        }
        let mut inside = false;
        let mut j = pts.len() - 1;
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[j]);
            if (a.lat > p.lat) != (b.lat > p.lat) {
                let x = (b.lng - a.lng) * (p.lat - a.lat) / (b.lat - a.lat) + a.lng;
                if p.lng < x {
                    inside = !inside;
                }
            }
            j = i;
        }
        inside
    }

    /// The mean of the ring's vertices: a label position, not a true centroid.
    pub fn centre(&self) -> Option<LatLng> {
        let n = self.0.len();
        if n == 0 {
            return None;
        }
        let (lat, lng) = self.0.iter().fold((0.0, 0.0), |(a, b), p| (a + p.lat, b + p.lng));
        Some(LatLng::new(lat / n as f64, lng / n as f64))
    }
}

/// `p` in metres east and north of `origin` (local equirectangular projection; small distances only).
fn local(origin: LatLng, p: LatLng) -> geo::Coord<f64> {
    let north = (p.lat - origin.lat).to_radians() * EARTH_RADIUS_M;
    let east = (p.lng - origin.lng).to_radians() * EARTH_RADIUS_M * origin.lat.to_radians().cos();
    geo::coord! { x: east, y: north }
}

impl Polygon {
    fn projected(&self, origin: LatLng) -> geo::Polygon<f64> {
        geo::Polygon::new(geo::LineString::from(self.0.iter().map(|&q| local(origin, q)).collect::<Vec<_>>()), vec![])
    }

    /// Metres from `p` to the ring: 0 inside or on it, else to the nearest edge.
    pub fn distance_m(&self, p: LatLng) -> f64 {
        use geo::{Distance, Euclidean};
        if self.0.len() < 3 {
            return self.0.iter().map(|q| q.distance_m(p)).fold(f64::INFINITY, f64::min);
        }
        if self.contains(p) {
            return 0.0;
        }
        Euclidean.distance(&geo::Point::from(local(p, p)), &self.projected(p))
    }
}

/// Where a position falls in the town.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// The compound the position is inside, if any.
    pub inside: Option<crate::ids::CompoundId>,
    /// The nearest compound and the distance to its boundary (0 inside).
    pub nearest: Option<(crate::ids::CompoundId, f64)>,
    /// The nearest building of the nearest compound and the distance to it.
    pub building: Option<(u16, f64)>,
}

/// Places `p` among `compounds`: the compound it is in (or the nearest one) and that compound's nearest building.
pub fn place(compounds: &[crate::model::Compound], p: LatLng) -> Placement {
    let nearest = compounds
        .iter()
        .map(|c| (c, c.boundary.distance_m(p)))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    let inside = nearest.filter(|(_, d)| *d == 0.0).map(|(c, _)| c.id);
    let building = nearest.and_then(|(c, _)| {
        c.buildings
            .iter()
            .map(|b| (b.number, b.position.distance_m(p)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
    });
    Placement { inside, nearest: nearest.map(|(c, d)| (c.id, d)), building }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_to_a_compound_is_zero_inside_and_to_the_edge_outside() {
        let o = LatLng::new(31.12, 121.45);
        let sq = Polygon(vec![o, o.offset_m(100.0, 0.0), o.offset_m(100.0, 100.0), o.offset_m(0.0, 100.0)]);
        assert_eq!(sq.distance_m(o.offset_m(50.0, 50.0)), 0.0);
        let d = sq.distance_m(o.offset_m(150.0, 50.0));
        assert!((d - 50.0).abs() < 0.1, "{d}");
        let corner = sq.distance_m(o.offset_m(130.0, 140.0));
        assert!((corner - 50.0).abs() < 0.1, "{corner}");
    }

    #[test]
    fn every_demo_building_is_placed_in_its_own_compound_at_itself() {
        let town = crate::demo::demo_town();
        for c in &town.compounds {
            for b in &c.buildings {
                let at = place(&town.compounds, b.position);
                assert_eq!(at.inside, Some(c.id), "building {} of {}", b.number, c.id);
                assert_eq!(at.building.map(|(n, _)| n), Some(b.number));
            }
        }
        let far = town.compounds[0].boundary.centre().expect("centre").offset_m(5_000.0, 0.0);
        let at = place(&town.compounds, far);
        assert_eq!(at.inside, None);
        assert!(at.nearest.is_some_and(|(_, d)| d > 1_000.0));
    }

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = LatLng::new(31.0, 121.45).distance_m(LatLng::new(32.0, 121.45));
        assert!((d - 111_195.0).abs() < 50.0, "{d}");
    }

    #[test]
    fn offsets_come_back_as_distances() {
        let a = LatLng::new(31.12, 121.45);
        let b = a.offset_m(300.0, 400.0);
        assert!((a.distance_m(b) - 500.0).abs() < 0.5);
    }

    #[test]
    fn point_in_polygon_inside_outside_and_degenerate() {
        let o = LatLng::new(31.12, 121.45);
        let sq = Polygon(vec![o, o.offset_m(100.0, 0.0), o.offset_m(100.0, 100.0), o.offset_m(0.0, 100.0)]);
        assert!(sq.contains(o.offset_m(50.0, 50.0)));
        assert!(!sq.contains(o.offset_m(150.0, 50.0)));
        assert!(!Polygon(vec![o, o]).contains(o));
    }
}
