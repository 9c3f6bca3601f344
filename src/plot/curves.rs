//! Line charts of one figure against another: the certified ratio against
//! the width (one curve per projection or construction) or against N, and
//! the width and depth against N. A theory curve may be drawn dashed, with
//! its source and status in the caption.

use super::{dark, finish, padded_range, Curve, Figure, PlotError, FONT};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// A curve from theory, drawn dashed in black.
#[derive(Clone, Debug, PartialEq)]
pub struct TheoryCurve {
    /// The curve.
    pub curve: Curve,
    /// Where it comes from and what is proven about it: appended to the
    /// caption (for instance "shape only: constant unconfirmed").
    pub source: String,
}

/// A line chart.
#[derive(Clone, Debug, PartialEq)]
pub struct LineChart {
    /// The title.
    pub title: String,
    /// The x axis' name.
    pub x_label: String,
    /// The y axis' name.
    pub y_label: String,
    /// The measured series, one colour each.
    pub curves: Vec<Curve>,
    /// An optional theory curve (dashed).
    pub theory: Option<TheoryCurve>,
    /// A logarithmic x axis (all x must then be positive).
    pub log_x: bool,
    /// What the series are and where they come from.
    pub caption: String,
}

/// What a point of a ratio chart is.
const RATIO_CAPTION: &str = "Each point is a compiled network; its ratio is the radius its \
                             certificate states divided by the limit delta_p / 2.";

/// The certified ratio (certified radius / limit) against the network's
/// width, one curve per projection or construction.
pub fn ratio_against_width(curves: Vec<Curve>, theory: Option<TheoryCurve>) -> LineChart {
    LineChart {
        title: "Certified ratio against width".into(),
        x_label: "width (largest hidden layer)".into(),
        y_label: "certified radius / limit".into(),
        curves,
        theory,
        log_x: false,
        caption: RATIO_CAPTION.into(),
    }
}

/// The certified ratio against the number of points N (log scale), one
/// curve per width budget or construction: the log-width claim made
/// visible.
pub fn ratio_against_points(curves: Vec<Curve>, theory: Option<TheoryCurve>) -> LineChart {
    LineChart {
        title: "Certified ratio against N".into(),
        x_label: "N (points, log scale)".into(),
        y_label: "certified radius / limit".into(),
        curves,
        theory,
        log_x: true,
        caption: RATIO_CAPTION.into(),
    }
}

/// The width and the depth of the compiled networks against N (log scale):
/// `curves` are width curves and depth curves, each named in its label.
pub fn size_against_points(curves: Vec<Curve>) -> LineChart {
    LineChart {
        title: "Width and depth against N".into(),
        x_label: "N (points, log scale)".into(),
        y_label: "layers or neurons".into(),
        curves,
        theory: None,
        log_x: true,
        caption: "Each point is a compiled network, as `robmem compile` reports it.".into(),
    }
}

/// The two curves of one set of networks for [`size_against_points`]:
/// width against N and depth against N.
pub fn width_and_depth(width: Vec<(f64, f64)>, depth: Vec<(f64, f64)>) -> Vec<Curve> {
    vec![
        Curve {
            label: "width (largest hidden layer)".into(),
            points: width,
        },
        Curve {
            label: "depth (affine layers)".into(),
            points: depth,
        },
    ]
}

/// Draws `chart` (640 x 420 pixels).
pub fn line_chart(chart: &LineChart) -> Result<Figure, PlotError> {
    let all = || {
        chart
            .curves
            .iter()
            .chain(chart.theory.iter().map(|t| &t.curve))
            .flat_map(|c| c.points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite() && (!chart.log_x || *x > 0.0))
    };
    let (y0, y1) = padded_range(all().map(|p| p.1), 0.08);
    let (y0, y1) = (y0.min(0.0), y1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        if chart.log_x {
            let (x0, x1) = padded_range(all().map(|p| p.0.ln()), 0.05);
            plot_on(&root, chart, (x0.exp()..x1.exp()).log_scale(), y0..y1)?;
        } else {
            let (x0, x1) = padded_range(all().map(|p| p.0), 0.05);
            plot_on(&root, chart, x0..x1, y0..y1)?;
        }
        root.present()?;
    }
    let mut caption = chart.caption.clone();
    if let Some(theory) = &chart.theory {
        caption = format!(
            "{caption} Dashed: {}. {}",
            theory.curve.label, theory.source
        );
    }
    Ok(finish(&chart.title, caption, svg))
}

/// Draws the axes of `chart` on `root` with the x axis `x` and its series.
fn plot_on<X>(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &LineChart,
    x: X,
    y: Range<f64>,
) -> Result<(), PlotError>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)?;
    let mut mesh = c.configure_mesh();
    if chart.log_x {
        // plotters' log axis draws a light line per minor step, which piles
        // up into a grey band near each power of ten: bold lines only.
        mesh.x_max_light_lines(0);
    }
    mesh.light_line_style(BLACK.mix(0.04))
        .x_label_formatter(&|x| tick(*x))
        .y_label_formatter(&|y| tick(*y))
        .x_desc(&chart.x_label)
        .y_desc(&chart.y_label)
        .draw()?;
    draw_series(&mut c, chart)
}

/// A tick label: integers without decimals, other values with at most four
/// significant digits.
fn tick(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
        let text = format!("{x:.digits$}");
        let text = text.trim_end_matches('0');
        text.trim_end_matches('.').to_string()
    }
}

/// Draws the curves, the theory curve and the legend on `c`.
fn draw_series<'a, X>(
    c: &mut ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<X, plotters::coord::types::RangedCoordf64>,
    >,
    chart: &LineChart,
) -> Result<(), PlotError>
where
    X: Ranged<ValueType = f64>,
{
    let keep = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!chart.log_x || x > 0.0);
    for (i, curve) in chart.curves.iter().enumerate() {
        let colour = dark(i);
        let points: Vec<(f64, f64)> = curve.points.iter().copied().filter(keep).collect();
        c.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(curve.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        c.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )?;
    }
    if let Some(theory) = &chart.theory {
        let points: Vec<(f64, f64)> = theory.curve.points.iter().copied().filter(keep).collect();
        c.draw_series(DashedLineSeries::new(points, 6, 4, BLACK.stroke_width(1)))?
            .label(theory.curve.label.as_str())
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(1)));
    }
    c.configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 13))
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::tick;

    #[test]
    fn tick_labels() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(0.5), "0.5");
        assert_eq!(tick(0.123456), "0.1235");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(-0.25), "-0.25");
    }
}
