//! The town drawn from its own geometry as SVG: compound boundaries, buildings, and routes or assignments on top.
//! No tile server, nothing fetched but the town itself, so it works on the centre's own network.

use dioxus::prelude::*;
use jx_core::geo::LatLng;
use jx_core::model::Compound;
use jx_core::wire::TownMap;
use jx_core::{CompoundId, StaffId};

/// The map's width in SVG units; the height follows the town's shape.
const W: f64 = 1000.0;
const PAD: f64 = 24.0;

/// Lat/lng → SVG coordinates for one town (equirectangular, fine at a town's scale).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    min_lat: f64,
    max_lat: f64,
    min_lng: f64,
    kx: f64,
    scale: f64,
    pub height: f64,
}

impl Projection {
    pub fn of(town: &TownMap) -> Option<Projection> {
        let pts =
            town.compounds.iter().flat_map(|c| c.boundary.0.iter().chain(c.buildings.iter().map(|b| &b.position)));
        let (mut min_lat, mut max_lat, mut min_lng, mut max_lng) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in pts {
            min_lat = min_lat.min(p.lat);
            max_lat = max_lat.max(p.lat);
            min_lng = min_lng.min(p.lng);
            max_lng = max_lng.max(p.lng);
        }
        if min_lat > max_lat {
            return None;
        }
        let kx = ((min_lat + max_lat) / 2.0).to_radians().cos();
        let w = ((max_lng - min_lng) * kx).max(1e-9);
        let h = (max_lat - min_lat).max(1e-9);
        let scale = (W - 2.0 * PAD) / w;
        Some(Projection { min_lat, max_lat, min_lng, kx, scale, height: h * scale + 2.0 * PAD })
    }

    pub fn xy(&self, p: LatLng) -> (f64, f64) {
        let _ = self.min_lat;
        (PAD + (p.lng - self.min_lng) * self.kx * self.scale, PAD + (self.max_lat - p.lat) * self.scale)
    }

    fn points(&self, pts: &[LatLng]) -> String {
        pts.iter()
            .map(|p| {
                let (x, y) = self.xy(*p);
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A colour per staff member, the same everywhere on the desk.
pub fn colour(staff: StaffId) -> String {
    let hue = (staff.0.wrapping_mul(137)) % 360;
    format!("hsl({hue} 70% 45%)")
}

fn centroid(c: &Compound) -> Option<LatLng> {
    let n = c.boundary.0.len();
    if n == 0 {
        return None;
    }
    let (lat, lng) = c.boundary.0.iter().fold((0.0, 0.0), |(a, b), p| (a + p.lat, b + p.lng));
    Some(LatLng { lat: lat / n as f64, lng: lng / n as f64 })
}

/// A dot on the map: a building coloured by whoever has work there.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub compound: CompoundId,
    pub building: u16,
    pub staff: Option<StaffId>,
    pub count: u32,
}

/// A line on the map: one staff member's walk.
#[derive(Clone, Debug, PartialEq)]
pub struct Walk {
    pub staff: StaffId,
    pub points: Vec<LatLng>,
}

#[component]
pub fn TownSvg(
    town: TownMap,
    selected: Option<CompoundId>,
    marks: Vec<Mark>,
    walks: Vec<Walk>,
    on_compound: EventHandler<CompoundId>,
) -> Element {
    let Some(proj) = Projection::of(&town) else {
        return rsx! {};
    };
    let h = proj.height;
    rsx! {
        svg {
            class: "town-map",
            "data-testid": "map",
            view_box: "0 0 {W} {h:.0}",
            role: "img",
            for c in town.compounds.clone() {
                g {
                    key: "{c.id.0}",
                    class: if selected == Some(c.id) { "compound on" } else { "compound" },
                    "data-compound": "{c.id.0}",
                    onclick: move |_| on_compound.call(c.id),
                    polygon { points: proj.points(&c.boundary.0) }
                    for b in c.buildings.clone() {
                        {
                            let (x, y) = proj.xy(b.position);
                            rsx! { circle { key: "{b.number}", class: "building", cx: "{x:.1}", cy: "{y:.1}", r: "3" } }
                        }
                    }
                    if let Some(ctr) = centroid(&c) {
                        {
                            let (x, y) = proj.xy(ctr);
                            rsx! { text { class: "compound-name", x: "{x:.1}", y: "{y:.1}", {c.name.clone()} } }
                        }
                    }
                }
            }
            for w in walks.clone() {
                polyline {
                    class: "walk",
                    "data-staff": "{w.staff.0}",
                    stroke: colour(w.staff),
                    points: proj.points(&w.points),
                }
            }
            for m in marks.clone() {
                if let Some(pos) = town.compounds.iter().find(|c| c.id == m.compound).and_then(|c| c.building(m.building)).map(|b| b.position) {
                    {
                        let (x, y) = proj.xy(pos);
                        let fill = m.staff.map(colour).unwrap_or_else(|| "#888".into());
                        let r = 4.0 + f64::from(m.count.min(9));
                        rsx! {
                            circle {
                                class: "mark",
                                "data-staff": m.staff.map(|s| s.0.to_string()).unwrap_or_default(),
                                cx: "{x:.1}", cy: "{y:.1}", r: "{r:.0}", fill,
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jx_core::demo::demo_town;

    #[test]
    fn the_demo_town_fits_the_map_north_up() {
        let town = TownMap { compounds: demo_town().compounds };
        let p = Projection::of(&town).expect("a town with boundaries");
        for c in &town.compounds {
            for q in &c.boundary.0 {
                let (x, y) = p.xy(*q);
                assert!((PAD - 1e-6..=W - PAD + 1e-6).contains(&x), "x {x} outside the map");
                assert!((PAD - 1e-6..=p.height - PAD + 1e-6).contains(&y), "y {y} outside the map");
            }
        }
        let a = LatLng { lat: 31.10, lng: 121.40 };
        let north = LatLng { lat: 31.11, ..a };
        let east = LatLng { lng: 121.41, ..a };
        assert!(p.xy(north).1 < p.xy(a).1, "north is up");
        assert!(p.xy(east).0 > p.xy(a).0, "east is right");
        assert!(Projection::of(&TownMap { compounds: vec![] }).is_none());
        assert_ne!(colour(StaffId(1)), colour(StaffId(2)));
    }
}
