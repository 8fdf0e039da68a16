//! A staff member's evening as stops: their tasks grouped one stop per building, the walk from their home building
//! ordered by [`super::solve`], and the same again from wherever they stand after skipping a stop.
//!
//! Walking distance is the haversine distance between building entrances ([`LatLng::distance_m`]). Across a town a
//! projection would agree to within centimetres, but haversine needs no projection set up around the route and is
//! exactly what the phone computes when it re-orders the rest of an evening, so the centre's plan and the phone's
//! re-plan measure the same metres. Straight lines understate the walk along paths; they order the stops well,
//! which is all they are used for.

use super::{Budget, Matrix, RouteOptions, solve};
use crate::geo::LatLng;
use crate::ids::{CompoundId, TaskId};
use crate::model::{Address, Compound};
use serde::{Deserialize, Serialize};

/// One building to visit and the tasks to do there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// The compound and building number.
    pub building: (CompoundId, u16),
    /// The building's entrance.
    pub position: LatLng,
    pub tasks: Vec<TaskId>,
    /// Whether any task here is for a green-channel resident (elderly, disabled, pregnant).
    pub green: bool,
}

/// How to plan an evening.
#[derive(Clone, Debug)]
pub struct RoutePlanOptions<'a> {
    /// Whether the walk ends back at home (counted in `walk_m`) or at the last stop.
    pub return_home: bool,
    /// Whether stops with a green-channel task come before all others.
    pub green_first: bool,
    pub budget: Budget<'a>,
}

impl Default for RoutePlanOptions<'static> {
    fn default() -> Self {
        Self { return_home: false, green_first: true, budget: Budget::default() }
    }
}

/// The order to walk the stops in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoutePlan {
    /// Indices into the stops given, in walking order.
    pub order: Vec<usize>,
    /// Metres walked from the start through every stop (and home again if asked), in straight lines.
    pub walk_m: f64,
}

/// Orders `stops` for a walk that starts at `home`.
pub fn plan_route(home: LatLng, stops: &[Stop], opts: &RoutePlanOptions) -> RoutePlan {
    plan(home, stops, opts.return_home.then_some(Finish::Start), opts)
}

/// Re-orders what is left of an evening from where the staff member stands now (`current`), after a skip or a
/// detour. With `return_home` the walk ends at `home`; otherwise `home` is not used.
pub fn reorder_remaining(current: LatLng, home: LatLng, remaining: &[Stop], opts: &RoutePlanOptions) -> RoutePlan {
    plan(current, remaining, opts.return_home.then_some(Finish::At(home)), opts)
}

enum Finish {
    Start,
    At(LatLng),
}

fn plan(start: LatLng, stops: &[Stop], finish: Option<Finish>, opts: &RoutePlanOptions) -> RoutePlan {
    let mut points = Vec::with_capacity(stops.len() + 2);
    points.push(start);
    points.extend(stops.iter().map(|s| s.position));
    let end = match finish {
        Some(Finish::At(p)) => {
            points.push(p);
            Some(points.len() - 1)
        }
        _ => None,
    };
    let matrix = Matrix::from_fn(points.len(), |i, j| points[i].distance_m(points[j]));
    let first = if opts.green_first {
        stops.iter().enumerate().filter(|(_, s)| s.green).map(|(i, _)| i + 1).collect()
    } else {
        Vec::new()
    };
    let route = RouteOptions {
        start: Some(0),
        end,
        return_to_start: matches!(finish, Some(Finish::Start)),
        first,
        budget: opts.budget,
    };
    let tour = solve(&matrix, &route);
    let order = tour.order.iter().filter(|&&v| v >= 1 && v <= stops.len()).map(|v| v - 1).collect();
    RoutePlan { order, walk_m: tour.length }
}

/// Tasks grouped into stops, and the tasks whose building is not known.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct GroupedStops {
    pub stops: Vec<Stop>,
    /// Tasks whose compound or building is not among the compounds given: they cannot be placed on a route.
    pub unplaced: Vec<TaskId>,
}

/// Groups `(task, address, green)` items into one stop per building, stops in the order their first task came, the
/// tasks of a stop in the order given.
pub fn group_into_stops(tasks: &[(TaskId, Address, bool)], compounds: &[Compound]) -> GroupedStops {
    let mut out = GroupedStops::default();
    for (task, address, green) in tasks {
        let key = (address.compound, address.building);
        if let Some(stop) = out.stops.iter_mut().find(|s| s.building == key) {
            stop.tasks.push(*task);
            stop.green |= green;
            continue;
        }
        let building = compounds.iter().find(|c| c.id == address.compound).and_then(|c| c.building(address.building));
        match building {
            Some(b) => out.stops.push(Stop { building: key, position: b.position, tasks: vec![*task], green: *green }),
            None => out.unplaced.push(*task),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stop(home: LatLng, east: f64, north: f64, green: bool, n: u16) -> Stop {
        Stop { building: (CompoundId(1), n), position: home.offset_m(east, north), tasks: vec![], green }
    }

    #[test]
    fn a_row_of_buildings_is_walked_in_order_and_a_green_one_first() {
        let home = LatLng::new(31.2, 121.45);
        let stops: Vec<Stop> = [300.0, 100.0, 400.0, 200.0]
            .iter()
            .enumerate()
            .map(|(i, &e)| stop(home, e, 0.0, i == 2, i as u16))
            .collect();
        let plain = plan_route(home, &stops, &RoutePlanOptions { green_first: false, ..RoutePlanOptions::default() });
        assert_eq!(plain.order, vec![1, 3, 0, 2]);
        assert!((plain.walk_m - 400.0).abs() < 0.5, "{}", plain.walk_m);
        let green = plan_route(home, &stops, &RoutePlanOptions::default());
        assert_eq!(green.order, vec![2, 0, 3, 1]);
        assert!((green.walk_m - 700.0).abs() < 0.5, "{}", green.walk_m);
        let back = plan_route(home, &stops, &RoutePlanOptions { return_home: true, ..RoutePlanOptions::default() });
        assert_eq!(back.order[0], 2);
        assert!((back.walk_m - 800.0).abs() < 0.5, "{}", back.walk_m);
    }

    #[test]
    fn after_a_skip_the_rest_is_ordered_from_where_the_staff_member_stands() {
        let home = LatLng::new(31.2, 121.45);
        let stops: Vec<Stop> = [100.0, 200.0, 300.0].iter().map(|&e| stop(home, e, 0.0, false, e as u16)).collect();
        let here = home.offset_m(350.0, 0.0);
        let plan = reorder_remaining(here, home, &stops, &RoutePlanOptions::default());
        assert_eq!(plan.order, vec![2, 1, 0]);
        let back = reorder_remaining(
            here,
            home,
            &stops,
            &RoutePlanOptions { return_home: true, ..RoutePlanOptions::default() },
        );
        assert_eq!(back.order, vec![2, 1, 0]);
        assert!((back.walk_m - 350.0).abs() < 0.5, "{}", back.walk_m);
    }

    #[test]
    fn tasks_in_the_same_building_share_a_stop() {
        let town = crate::demo::demo_town();
        let c = &town.compounds[0];
        let at = |b: u16| Address { compound: c.id, building: b, unit: 1, room: "101".into() };
        let id = |k: u8| TaskId::v7(1_700_000_000_000, [k; 10]);
        let b0 = c.buildings[0].number;
        let b1 = c.buildings[1].number;
        let tasks = vec![
            (id(1), at(b0), false),
            (id(2), at(b1), false),
            (id(3), at(b0), true),
            (id(4), Address { compound: CompoundId(9_999), ..at(b0) }, false),
        ];
        let g = group_into_stops(&tasks, &town.compounds);
        assert_eq!(g.stops.len(), 2);
        assert_eq!(g.stops[0].tasks, vec![id(1), id(3)]);
        assert!(g.stops[0].green && !g.stops[1].green);
        assert_eq!(g.unplaced, vec![id(4)]);
    }
}
