//! The signing pad: the resident signs with a finger; the strokes (points with times) go to the engine, which
//! checks them and keeps them inside the signed event.

use crate::i18n::{Lang, Msg, tr};
use dioxus::prelude::*;
use jx_core::strokes::{Point, Strokes};

/// The pad's size in CSS pixels; points are kept in these coordinates.
const W: f64 = 320.0;
const H: f64 = 180.0;

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// The strokes drawn so far, as the engine takes them: clamped to the pad, times from the first point.
pub fn to_strokes(drawn: &[Vec<(f64, f64, f64)>]) -> Strokes {
    let t0 = drawn.iter().flatten().map(|p| p.2).fold(f64::INFINITY, f64::min);
    let clamp = |v: f64, max: f64| v.clamp(0.0, max - 1.0).round() as u16;
    Strokes {
        width: W as u16,
        height: H as u16,
        strokes: drawn
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.iter()
                    .map(|&(x, y, t)| Point { x: clamp(x, W), y: clamp(y, H), t_ms: (t - t0).max(0.0) as u32 })
                    .collect()
            })
            .collect(),
    }
}

#[component]
pub fn SignaturePad(on_done: EventHandler<Strokes>, disabled: bool) -> Element {
    let lang = use_context::<Signal<Lang>>();
    let mut drawn = use_signal(Vec::<Vec<(f64, f64, f64)>>::new);
    let mut pen = use_signal(|| false);
    let l = lang();
    let lines: Vec<String> = drawn
        .read()
        .iter()
        .map(|s| s.iter().map(|(x, y, _)| format!("{x:.0},{y:.0}")).collect::<Vec<_>>().join(" "))
        .collect();
    let empty = drawn.read().iter().all(|s| s.len() < 2);
    rsx! {
        div { class: "signature",
            svg {
                class: "pad",
                "data-testid": "signature-pad",
                width: "{W}",
                height: "{H}",
                view_box: "0 0 {W} {H}",
                onpointerdown: move |e: PointerEvent| {
                    let p = e.element_coordinates();
                    pen.set(true);
                    drawn.write().push(vec![(p.x, p.y, now_ms())]);
                },
                onpointermove: move |e: PointerEvent| {
                    if pen() {
                        let p = e.element_coordinates();
                        if let Some(s) = drawn.write().last_mut() {
                            s.push((p.x, p.y, now_ms()));
                        }
                    }
                },
                onpointerup: move |_| pen.set(false),
                onpointerleave: move |_| pen.set(false),
                text { x: "12", y: "24", class: "pad-hint", {tr(l, Msg::SignHere)} }
                for (i, pts) in lines.iter().enumerate() {
                    polyline { key: "{i}", points: "{pts}", fill: "none", stroke: "currentColor", stroke_width: "3" }
                }
            }
            div { class: "actions",
                button { class: "secondary", onclick: move |_| drawn.write().clear(), {tr(l, Msg::ClearSignature)} }
                button {
                    class: "primary",
                    "data-testid": "signature-done",
                    disabled: disabled || empty,
                    onclick: move |_| on_done.call(to_strokes(&drawn.read())),
                    {tr(l, Msg::SignatureDone)}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_points_become_valid_strokes_on_the_pad() {
        let drawn = vec![vec![(-5.0, 10.0, 1000.0), (400.0, 300.0, 1016.0)], vec![], vec![(20.0, 20.0, 1100.0)]];
        let s = to_strokes(&drawn);
        assert_eq!(s.strokes.len(), 2, "empty strokes dropped");
        assert_eq!(s.strokes[0][0], Point { x: 0, y: 10, t_ms: 0 });
        assert_eq!(s.strokes[0][1], Point { x: 319, y: 179, t_ms: 16 }, "clamped to the pad");
        assert_eq!(s.validate(), Ok(()));
        assert!(!s.is_blank());
    }
}
