//! A handwritten signature as the pen drew it: strokes of points with times, stored compactly and drawn as SVG.
//!
//! Strokes, not a picture: they are a few hundred bytes instead of a PNG's tens of kilobytes, they keep the timing
//! (a signature drawn in 40 ms is not a person's), and they travel inside the signed event itself, so the device's
//! signature covers the resident's.
//!
//! Encoding (`JXS1`): the magic, then LEB128 varints — canvas width and height, the number of strokes, and for each
//! stroke its number of points followed by each point as zigzag deltas (x, y, milliseconds) from the previous point
//! (across strokes too). A typical signature of 300 points takes under 1 KB.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt::Write as _;

const MAGIC: &[u8; 4] = b"JXS1";
/// Limits that no real signature reaches, so a hostile blob cannot make a phone allocate without bound.
pub const MAX_STROKES: usize = 256;
pub const MAX_POINTS: usize = 20_000;
pub const MAX_SIDE: u32 = 4096;

/// One sample of the pen: canvas coordinates (CSS pixels of the signing pad) and milliseconds since the first
/// sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub x: u16,
    pub y: u16,
    pub t_ms: u32,
}

/// A signature: the pad's size and the strokes drawn on it, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Strokes {
    pub width: u16,
    pub height: u16,
    pub strokes: Vec<Vec<Point>>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StrokeError {
    #[error("not a signature (no JXS1 header)")]
    NotStrokes,
    #[error("the signature data ends early")]
    Truncated,
    #[error("the signature data has {0} bytes after its end")]
    TrailingBytes(usize),
    #[error("the signature has too many strokes or points")]
    TooBig,
    #[error("a point lies outside the {width}×{height} pad")]
    OutsidePad { width: u16, height: u16 },
    #[error("a point's time goes backwards")]
    TimeBackwards,
    #[error("the pad size is not usable")]
    BadPad,
}

impl Strokes {
    /// Number of points in all strokes.
    pub fn points(&self) -> usize {
        self.strokes.iter().map(Vec::len).sum()
    }

    /// Whether anything was drawn: at least one stroke with two points, or three points in all.
    pub fn is_blank(&self) -> bool {
        self.points() < 3 && self.strokes.iter().all(|s| s.len() < 2)
    }

    /// Time from the first point to the last.
    pub fn duration_ms(&self) -> u32 {
        let first = self.strokes.iter().flatten().next().map_or(0, |p| p.t_ms);
        let last = self.strokes.iter().flatten().last().map_or(0, |p| p.t_ms);
        last.saturating_sub(first)
    }

    /// Checks what [`Strokes::decode`] checks, for strokes built in memory.
    pub fn validate(&self) -> Result<(), StrokeError> {
        if self.width == 0 || self.height == 0 || u32::from(self.width.max(self.height)) > MAX_SIDE {
            return Err(StrokeError::BadPad);
        }
        if self.strokes.len() > MAX_STROKES || self.points() > MAX_POINTS {
            return Err(StrokeError::TooBig);
        }
        let mut t = 0;
        for p in self.strokes.iter().flatten() {
            if p.x > self.width || p.y > self.height {
                return Err(StrokeError::OutsidePad { width: self.width, height: self.height });
            }
            if p.t_ms < t {
                return Err(StrokeError::TimeBackwards);
            }
            t = p.t_ms;
        }
        Ok(())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.points() * 3);
        out.extend_from_slice(MAGIC);
        put(&mut out, u64::from(self.width));
        put(&mut out, u64::from(self.height));
        put(&mut out, self.strokes.len() as u64);
        let (mut px, mut py, mut pt) = (0i64, 0i64, 0i64);
        for s in &self.strokes {
            put(&mut out, s.len() as u64);
            for p in s {
                let (x, y, t) = (i64::from(p.x), i64::from(p.y), i64::from(p.t_ms));
                put(&mut out, zigzag(x - px));
                put(&mut out, zigzag(y - py));
                put(&mut out, zigzag(t - pt));
                (px, py, pt) = (x, y, t);
            }
        }
        out
    }

    /// Parses and validates an encoding. Never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Strokes, StrokeError> {
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(StrokeError::NotStrokes)?;
        let mut r = Reader(rest);
        let width = u16::try_from(r.next()?).map_err(|_| StrokeError::BadPad)?;
        let height = u16::try_from(r.next()?).map_err(|_| StrokeError::BadPad)?;
        let count = usize::try_from(r.next()?).map_err(|_| StrokeError::TooBig)?;
        if count > MAX_STROKES {
            return Err(StrokeError::TooBig);
        }
        let mut strokes = Vec::with_capacity(count);
        let (mut px, mut py, mut pt) = (0i64, 0i64, 0i64);
        let mut total = 0usize;
        for _ in 0..count {
            let n = usize::try_from(r.next()?).map_err(|_| StrokeError::TooBig)?;
            total = total.saturating_add(n);
            if total > MAX_POINTS {
                return Err(StrokeError::TooBig);
            }
            let mut stroke = Vec::with_capacity(n);
            for _ in 0..n {
                px = px.saturating_add(unzigzag(r.next()?));
                py = py.saturating_add(unzigzag(r.next()?));
                pt = pt.saturating_add(unzigzag(r.next()?));
                let outside = StrokeError::OutsidePad { width, height };
                stroke.push(Point {
                    x: u16::try_from(px).map_err(|_| outside.clone())?,
                    y: u16::try_from(py).map_err(|_| outside)?,
                    t_ms: u32::try_from(pt).map_err(|_| StrokeError::TimeBackwards)?,
                });
            }
            strokes.push(stroke);
        }
        if !r.0.is_empty() {
            return Err(StrokeError::TrailingBytes(r.0.len()));
        }
        let s = Strokes { width, height, strokes };
        s.validate()?;
        Ok(s)
    }

    /// The signature drawn as an SVG document, black ink on white, one path per stroke (a single point is a dot).
    pub fn to_svg(&self) -> String {
        let (w, h) = (self.width.max(1), self.height.max(1));
        let ink = (f32::from(w.min(h)) / 80.0).max(1.5);
        let mut svg = format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}"><rect width="{w}" height="{h}" fill="#fff"/><g fill="none" stroke="#000" stroke-width="{ink:.1}" stroke-linecap="round" stroke-linejoin="round">"##
        );
        for s in &self.strokes {
            let Some(first) = s.first() else { continue };
            let _ = write!(svg, r#"<path d="M{},{}"#, first.x, first.y);
            if s.len() == 1 {
                svg.push_str("h0");
            }
            for p in &s[1..] {
                let _ = write!(svg, " L{},{}", p.x, p.y);
            }
            svg.push_str(r#""/>"#);
        }
        svg.push_str("</g></svg>");
        svg
    }
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn next(&mut self) -> Result<u64, StrokeError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or(StrokeError::Truncated)?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(StrokeError::TooBig)
    }
}

/// In an event: the compact bytes (hex in JSON, raw in postcard).
impl Serialize for Strokes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let bytes = self.encode();
        if s.is_human_readable() { s.serialize_str(&hex::encode(bytes)) } else { s.serialize_bytes(&bytes) }
    }
}

impl<'de> Deserialize<'de> for Strokes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strokes, D::Error> {
        use serde::de::Error;
        let bytes = if d.is_human_readable() {
            let text = String::deserialize(d)?;
            hex::decode(text).map_err(D::Error::custom)?
        } else {
            ByteBuf::deserialize(d)?.0
        };
        Strokes::decode(&bytes).map_err(D::Error::custom)
    }
}

/// Owned bytes through serde's `deserialize_byte_buf` (postcard hands them over without a sequence of u8s).
struct ByteBuf(Vec<u8>);

impl<'de> Deserialize<'de> for ByteBuf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ByteBuf, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ByteBuf;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("signature bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v.to_vec()))
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<ByteBuf, E> {
                Ok(ByteBuf(v))
            }
        }
        d.deserialize_byte_buf(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plausible signature: a few strokes of a wavy line, sampled every 16 ms as a touch screen does.
    pub fn sample() -> Strokes {
        let mut strokes = Vec::new();
        let mut t = 0;
        for s in 0..4u16 {
            let mut stroke = Vec::new();
            for i in 0..75u16 {
                let x = 20 + s * 70 + i;
                let y = (100.0 + 40.0 * (f32::from(i) / 8.0).sin()) as u16;
                stroke.push(Point { x, y, t_ms: t });
                t += 16;
            }
            t += 200;
            strokes.push(stroke);
        }
        Strokes { width: 360, height: 200, strokes }
    }

    #[test]
    fn a_signature_round_trips_in_under_a_kilobyte() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(s.points(), 300);
        assert!(bytes.len() < 1024, "{} bytes", bytes.len());
        assert_eq!(Strokes::decode(&bytes), Ok(s.clone()));
        assert_eq!(s.duration_ms(), 299 * 16 + 3 * 200);
        assert!(!s.is_blank());
    }

    #[test]
    fn it_travels_in_json_and_postcard() {
        let s = sample();
        let json = serde_json::to_string(&s).expect("json");
        assert_eq!(serde_json::from_str::<Strokes>(&json).expect("back"), s);
        let pc = postcard::to_allocvec(&s).expect("postcard");
        assert!(pc.len() < s.encode().len() + 3);
        assert_eq!(postcard::from_bytes::<Strokes>(&pc).expect("back"), s);
    }

    #[test]
    fn svg_has_a_path_per_stroke_inside_the_pad() {
        let svg = sample().to_svg();
        assert_eq!(svg.matches("<path").count(), 4);
        assert!(svg.contains(r#"viewBox="0 0 360 200""#));
        let dot = Strokes { width: 10, height: 10, strokes: vec![vec![Point { x: 1, y: 2, t_ms: 0 }]] };
        assert!(dot.to_svg().contains("M1,2h0"));
        assert!(dot.is_blank());
    }

    #[test]
    fn each_kind_of_bad_data_has_its_error() {
        let good = sample().encode();
        assert_eq!(Strokes::decode(b"PNG"), Err(StrokeError::NotStrokes));
        assert_eq!(Strokes::decode(&good[..good.len() - 1]), Err(StrokeError::Truncated));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(Strokes::decode(&long), Err(StrokeError::TrailingBytes(1)));
        let outside = Strokes { width: 10, height: 10, strokes: vec![vec![Point { x: 11, y: 0, t_ms: 0 }]] };
        assert_eq!(Strokes::decode(&outside.encode()), Err(StrokeError::OutsidePad { width: 10, height: 10 }));
        let back = Strokes {
            width: 10,
            height: 10,
            strokes: vec![vec![Point { x: 1, y: 1, t_ms: 5 }, Point { x: 2, y: 2, t_ms: 4 }]],
        };
        assert_eq!(Strokes::decode(&back.encode()), Err(StrokeError::TimeBackwards));
        let mut huge = MAGIC.to_vec();
        put(&mut huge, 100);
        put(&mut huge, 100);
        put(&mut huge, 1_000_000);
        assert_eq!(Strokes::decode(&huge), Err(StrokeError::TooBig));
    }

    fn arb_strokes() -> impl Strategy<Value = Strokes> {
        (1u16..2000, 1u16..2000).prop_flat_map(|(w, h)| {
            let point = (0..=w, 0..=h, 0u32..500);
            prop::collection::vec(prop::collection::vec(point, 0..40), 0..8).prop_map(move |strokes| {
                let mut t = 0;
                let strokes = strokes
                    .into_iter()
                    .map(|s| {
                        s.into_iter()
                            .map(|(x, y, dt)| {
                                t += dt;
                                Point { x, y, t_ms: t }
                            })
                            .collect()
                    })
                    .collect();
                Strokes { width: w, height: h, strokes }
            })
        })
    }

    proptest! {
        #[test]
        fn any_valid_signature_round_trips(s in arb_strokes()) {
            prop_assert_eq!(Strokes::decode(&s.encode()), Ok(s));
        }

        #[test]
        fn decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = Strokes::decode(&bytes);
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&bytes);
            if let Ok(s) = Strokes::decode(&framed) {
                prop_assert!(s.validate().is_ok());
            }
        }
    }
}
