//! Pictures as SVG text: charts of figures against each other
//! ([`curves`]), decision regions with certified balls ([`regions`]) and
//! per-point certified margins ([`histogram`]).
//!
//! Every function takes plain data (no dependence on how the figures were
//! computed) and returns a [`Figure`]: the SVG text, drawn with plotters'
//! SVG backend (no fonts or system libraries are read: text is left to the
//! viewer), with the title as the SVG's `<title>` and the caption to print
//! beside it. [`png`] rasterises a figure, with a font embedded in robmem.

pub mod curves;
pub mod histogram;
pub mod png;
pub mod regions;
pub mod slice;
pub mod theory;

use plotters::drawing::DrawingAreaErrorKind;
use plotters::style::RGBColor;

/// A picture: its SVG text, title and caption.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The title, drawn at the top and stored as the SVG's `<title>`.
    pub title: String,
    /// What the picture shows and where its figures come from (plain text).
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// A named series of `(x, y)` points, drawn as a line with markers.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The legend entry.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A drawing failed (a backend error; with the SVG backend writing into a
/// string, only a defect of robmem).
#[derive(Debug, thiserror::Error)]
#[error("cannot draw the picture: {0}")]
pub struct PlotError(pub String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for PlotError {
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        PlotError(e.to_string())
    }
}

/// The font family of every text.
pub(crate) const FONT: &str = "sans-serif";

/// Dark series colours (colour-blind safe, Okabe and Ito), cycled.
pub(crate) const DARK: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// The colour of series or class `i`.
pub fn dark(i: usize) -> RGBColor {
    DARK[i % DARK.len()]
}

/// The light tint of series or class `i` (three parts white, one part colour).
pub fn light(i: usize) -> RGBColor {
    let RGBColor(r, g, b) = dark(i);
    let tint = |c: u8| ((3 * 255 + c as u16) / 4) as u8;
    RGBColor(tint(r), tint(g), tint(b))
}

/// A finished figure: `svg` with `<title>` inserted after its opening tag.
pub(crate) fn finish(title: &str, caption: String, svg: String) -> Figure {
    let svg = match svg
        .find("<svg")
        .and_then(|s| svg[s..].find('>').map(|e| s + e + 1))
    {
        Some(end) => format!(
            "{}\n<title>{}</title>{}",
            &svg[..end],
            escape_xml(title),
            &svg[end..]
        ),
        None => svg,
    };
    Figure {
        title: title.to_string(),
        caption,
        svg,
    }
}

/// `text` with the five XML special characters escaped.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The range `[lo, hi]` of `values` widened by `pad` of its length on each
/// side (a unit range around the value when all are equal, `[0, 1]` when
/// there are none).
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let half = 0.5 * lo.abs().max(1.0);
        return (lo - half, hi + half);
    }
    (lo - pad * span, hi + pad * span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_adds_an_escaped_title() {
        let f = finish("a <b>", String::new(), "<svg width=\"1\">\n</svg>".into());
        assert_eq!(
            f.svg,
            "<svg width=\"1\">\n<title>a &lt;b&gt;</title>\n</svg>"
        );
    }

    #[test]
    fn padded_ranges() {
        assert_eq!(padded_range([1.0, 3.0], 0.5), (0.0, 4.0));
        assert_eq!(padded_range([2.0, 2.0], 0.1), (1.0, 3.0));
        assert_eq!(padded_range([], 0.1), (0.0, 1.0));
        assert_eq!(padded_range([f64::NAN, 1.0, 2.0], 0.0), (1.0, 2.0));
    }
}
