//! The pictures of a report: per network, the decision regions (the data's
//! plane for 2-D data, otherwise a slice through the closest pair's first
//! point) and the histogram of the certified per-point margins; per spec,
//! the certified ratio against width and N and the size against N.

use crate::data::{Dataset, LabelValue};
use crate::ir::layers::LayerNetwork;
use crate::norm::Norm;
use crate::pipeline::Summary;
use crate::plot::curves::{
    line_chart, ratio_against_points, ratio_against_width, size_against_points,
};
use crate::plot::histogram::{histogram_chart, Histogram};
use crate::plot::regions::{equal_aspect, markers_in_plane, regions_chart, Readout, RegionMap, RegionPicture};
use crate::plot::slice::Plane;
use crate::plot::theory::egosi_rate_shape;
use crate::plot::{padded_range, Curve, Figure, PlotError};
use crate::spec::OutputKind;
use crate::verify::certificate::{Certificate, Semantics};

/// Multiply-adds the decision-region grid may spend: the grid has about
/// `GRID_WORK / parameters` cells, 32 x 32 to 160 x 160.
const GRID_WORK: f64 = 4e8;

/// Data sets with more points than this draw their points without balls.
const MAX_BALLS: usize = 400;

/// What a decision-region picture needs to know about a network.
pub struct RegionRequest<'a> {
    /// The network's name.
    pub name: &'a str,
    /// The compiled layers.
    pub network: &'a LayerNetwork,
    /// Its output kind.
    pub output: OutputKind,
    /// The data.
    pub data: &'a Dataset,
    /// The norm of the balls.
    pub norm: Norm,
    /// The certified radius (none with a single label).
    pub radius: Option<f64>,
    /// The point the slice goes through (higher-dimensional data).
    pub centre: usize,
}

/// The decision-region picture of `r`, or why there is none.
pub fn decision_regions(r: &RegionRequest<'_>) -> Result<Result<Figure, String>, PlotError> {
    let data = r.data;
    if data.classes.len() < 2 {
        return Ok(Err("one label: the network is a constant, no regions to draw".into()));
    }
    let readout = match r.output {
        OutputKind::Logits => Readout::Logits,
        OutputKind::Label => Readout::Label(
            data.classes
                .values
                .iter()
                .map(|v| match v {
                    LabelValue::Number(x) => *x,
                    LabelValue::Name(_) => f64::NAN,
                })
                .collect(),
        ),
    };
    let (plane, other) = match data.dim() {
        1 => return Ok(Err("1-D data: no plane to draw".into())),
        2 => (Plane::coordinates(), None),
        _ => match Plane::through_point(data, r.norm, r.centre) {
            Some((plane, other)) => (plane, Some(other)),
            None => return Ok(Err("no slice: the nearest point of another label coincides".into())),
        },
    };
    let all_points = other.is_none();
    let (a, b) = match other {
        None => {
            let projected: Vec<(f64, f64)> = data
                .points
                .outer_iter()
                .map(|x| plane.project(&x.to_vec()).0)
                .collect();
            let pad = r.radius.unwrap_or(0.0) * 1.3;
            let widen = |(lo, hi): (f64, f64)| (lo - pad, hi + pad);
            (
                widen(padded_range(projected.iter().map(|p| p.0), 0.06)),
                widen(padded_range(projected.iter().map(|p| p.1), 0.06)),
            )
        }
        Some(j) => {
            // The nearest point of another label sits at (d, 0).
            let d = plane.project(&data.points.row(j).to_vec()).0 .0;
            ((-0.9 * d, 1.9 * d), (-1.4 * d, 1.4 * d))
        }
    };
    let (a, b) = equal_aspect(a, b);
    let parameters = r.network.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum::<usize>();
    let side = ((GRID_WORK / parameters.max(1) as f64).sqrt() as usize).clamp(32, 160);
    let map = RegionMap::predict(r.network, &readout, plane, (a, b), (side, side));
    let size = (a.1 - a.0).max(b.1 - b.0);
    let radius = if data.len() <= MAX_BALLS { r.radius } else { None };
    let markers = markers_in_plane(
        &map.plane,
        data.points
            .outer_iter()
            .zip(&data.labels)
            .map(|(x, &l)| (x.to_vec(), l as usize)),
        r.norm,
        radius,
        size,
    );
    let balls = match (r.radius, radius) {
        (Some(s), Some(_)) => format!(
            "outlines: the section by the plane of each such point's {} ball of the certified \
             radius {} (inside it the certificate guarantees the point's label)",
            r.norm,
            crate::analysis::report::show(s)
        ),
        (Some(_), None) => format!("no balls: more than {MAX_BALLS} points"),
        _ => "no balls: no certified radius".into(),
    };
    let title = if all_points {
        format!("Decision regions of {}", r.name)
    } else {
        format!("Decision regions of {} (slice through point {})", r.name, r.centre)
    };
    let caption = format!(
        "Plane: {}. Colours: the label the compiled network predicts at the centre of each of \
         {side} x {side} cells (evaluated in f64: a picture of the function, not a proof; grey \
         where logits tie). Dots: the data points that lie in the plane{}; {balls}.",
        map.plane.description,
        if all_points { "" } else { " (the others are off the slice)" },
    );
    let picture = RegionPicture {
        title,
        map,
        class_names: data.classes.values.iter().map(|v| v.to_string()).collect(),
        markers,
        caption,
    };
    regions_chart(&picture).map(Ok)
}

/// The histogram of the certificate's per-point margins (in float32 when
/// claimed, else the first claimed arithmetic), or why there is none.
pub fn margin_histogram(name: &str, c: &Certificate) -> Result<Result<Figure, String>, PlotError> {
    let semantics = if c.semantics.contains(&Semantics::Float32) {
        Semantics::Float32
    } else {
        match c.semantics.first() {
            Some(s) => *s,
            None => return Ok(Err("the certificate claims no arithmetic".into())),
        }
    };
    let margins = c.points.margin.get(&semantics).filter(|m| !m.is_empty());
    let (values, x_label, what) = match (margins, c.points.distance.get(&semantics), c.output.tolerance) {
        (Some(m), _, _) => (
            m.clone(),
            "certified logit margin",
            "a lower bound on out[label] - max of the other outputs over the point's whole ball",
        ),
        (None, Some(dist), Some(tol)) => (
            dist.iter().map(|d| tol - d).collect(),
            "tolerance - certified output distance",
            "the label tolerance less the certified upper bound on |out - label value| over the point's whole ball",
        ),
        _ => return Ok(Err("the certificate states no per-point margin".into())),
    };
    let h = Histogram {
        title: format!("Certified margins of {name} ({})", semantics.name()),
        x_label: x_label.into(),
        caption: format!(
            "Per data point, {what}, in {} arithmetic at radius {}, as the certificate states it \
             (computed by the independent checker from the weights: a sound bound, not the exact \
             minimum over the ball). Every value is positive: the label holds on every ball.",
            semantics.name(),
            crate::analysis::report::show(c.radius)
        ),
        values,
    };
    histogram_chart(&h).map(Ok)
}

/// The pictures comparing the networks of a spec (`summaries`, two or
/// more): certified ratio against width and against N, one curve per
/// construction, and width and depth against N.
pub fn overview(summaries: &[Summary]) -> Result<Vec<Figure>, PlotError> {
    let mut constructions: Vec<&str> = summaries.iter().map(|s| s.construction.as_str()).collect();
    constructions.dedup();
    constructions.sort();
    constructions.dedup();
    let curves = |x: &dyn Fn(&Summary) -> f64| -> Vec<Curve> {
        constructions
            .iter()
            .map(|&c| {
                let mut points: Vec<(f64, f64)> = summaries
                    .iter()
                    .filter(|s| s.construction == c)
                    .filter_map(|s| Some((x(s), s.ratio?)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Curve {
                    label: format!("construction {c}"),
                    points,
                }
            })
            .collect()
    };
    let by_width = curves(&|s| s.width as f64);
    let same_data = summaries
        .windows(2)
        .all(|w| w[0].points == w[1].points && w[0].dim == w[1].dim);
    let theory = same_data.then(|| {
        let widths: Vec<f64> = by_width.iter().flat_map(|c| c.points.iter().map(|p| p.0)).collect();
        let (lo, hi) = padded_range(widths.iter().copied(), 0.0);
        let top = by_width
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.1))
            .fold(0.0, f64::max);
        let grid: Vec<f64> = (0..=60).map(|i| lo + (hi - lo) * i as f64 / 60.0).collect();
        egosi_rate_shape(summaries[0].points, summaries[0].dim, &grid, top)
    });
    let theory = theory.filter(|t| t.curve.points.len() >= 2);
    let sort = |mut v: Vec<(f64, f64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let width = sort(summaries.iter().map(|s| (s.points as f64, s.width as f64)).collect());
    let depth = sort(summaries.iter().map(|s| (s.points as f64, s.depth as f64)).collect());
    Ok(vec![
        line_chart(&ratio_against_width(by_width, theory))?,
        line_chart(&ratio_against_points(curves(&|s| s.points as f64), None))?,
        line_chart(&size_against_points(width, depth))?,
    ])
}
