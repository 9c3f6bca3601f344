//! The pictures of a report: per network, the decision regions (the data's
//! plane for 2-D data, otherwise a slice through the closest pair's first
//! point) and the histogram of the certified per-point margins; per spec,
//! the certified ratio against width and N and the size against N.

use crate::data::{Dataset, LabelValue};
use crate::ir::layers::LayerNetwork;
use crate::norm::Norm;
use crate::pipeline::Summary;
use crate::plot::curves::{
    line_chart, ratio_against_points, ratio_against_width, size_against_points, width_and_depth,
};
use crate::plot::histogram::{histogram_chart, Histogram};
use crate::plot::regions::{
    equal_aspect, markers_in_plane, regions_chart, Readout, RegionMap, RegionPicture,
};
use crate::plot::slice::Plane;
use crate::plot::theory::rate_shape_beside;
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
        return Ok(Err(
            "one label: the network is a constant, no regions to draw".into(),
        ));
    }
    let readout = match r.output {
        OutputKind::Logits => Readout::Logits,
        // A named label's value is its class index (specs/certificate.md section 2).
        OutputKind::Label => Readout::Label(
            data.classes
                .values
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    LabelValue::Number(x) => *x,
                    LabelValue::Name(_) => i as f64,
                })
                .collect(),
        ),
    };
    let (plane, other) = match data.dim() {
        1 => return Ok(Err("1-D data: no plane to draw".into())),
        2 => (Plane::coordinates(), None),
        _ => match Plane::through_point(data, r.norm, r.centre) {
            Some((plane, other)) => (plane, Some(other)),
            None => {
                return Ok(Err(
                    "no slice: the nearest point of another label coincides".into(),
                ))
            }
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
    let parameters = r
        .network
        .layers
        .iter()
        .map(|l| l.weight.len() + l.bias.len())
        .sum::<usize>();
    let side = ((GRID_WORK / parameters.max(1) as f64).sqrt() as usize).clamp(32, 160);
    let map = RegionMap::predict(r.network, &readout, plane, (a, b), (side, side));
    let size = (a.1 - a.0).max(b.1 - b.0);
    let radius = if data.len() <= MAX_BALLS {
        r.radius
    } else {
        None
    };
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
        format!(
            "Decision regions of {} (slice through point {})",
            r.name, r.centre
        )
    };
    let caption = format!(
        "Plane: {}. Colours: the label the compiled network predicts at the centre of each of \
         {side} x {side} cells (evaluated in f64: a picture of the function, not a proof; grey \
         where logits tie). Dots: the data points that lie in the plane{}; {balls}.",
        map.plane.description,
        if all_points {
            ""
        } else {
            " (the others are off the slice)"
        },
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
/// claimed, else float64, else real arithmetic), or why there is none.
pub fn margin_histogram(name: &str, c: &Certificate) -> Result<Result<Figure, String>, PlotError> {
    let preferred = [Semantics::Float32, Semantics::Float64, Semantics::Real];
    let Some(semantics) = preferred.into_iter().find(|s| c.semantics.contains(s)) else {
        return Ok(Err("the certificate claims no arithmetic".into()));
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

/// The pictures comparing the networks of a spec (`networks`: each one's
/// data set name and summary, two or more): the certified ratio against
/// width (one curve per data set and construction, with the shape of the
/// theory's rate when every network has the same data) and against N (one
/// curve per construction), and width and depth against N.
pub fn overview(networks: &[(String, Summary)]) -> Result<Vec<Figure>, PlotError> {
    let curves = |key: &dyn Fn(&str, &Summary) -> String, x: &dyn Fn(&Summary) -> f64| {
        let mut keys: Vec<String> = networks.iter().map(|(d, s)| key(d, s)).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .map(|k| {
                let mut points: Vec<(f64, f64)> = networks
                    .iter()
                    .filter(|(d, s)| key(d, s) == k)
                    .filter_map(|(_, s)| Some((x(s), s.ratio?)))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Curve { label: k, points }
            })
            .collect::<Vec<Curve>>()
    };
    let by_width = curves(
        &|d, s| format!("data {d}, construction {}", s.construction),
        &|s| s.width as f64,
    );
    let by_points = curves(&|_, s| format!("construction {}", s.construction), &|s| {
        s.points as f64
    });
    // The rate is stated for l2, at one N and d.
    let same_data = networks.windows(2).all(|w| w[0].0 == w[1].0)
        && networks.iter().all(|(_, s)| s.norm == "l2");
    let theory = same_data
        .then(|| rate_shape_beside(&by_width, networks[0].1.points, networks[0].1.dim))
        .flatten();
    let sorted = |f: &dyn Fn(&Summary) -> f64| {
        let mut v: Vec<(f64, f64)> = networks
            .iter()
            .map(|(_, s)| (s.points as f64, f(s)))
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v
    };
    let width = sorted(&|s| s.width as f64);
    let depth = sorted(&|s| s.depth as f64);
    Ok(vec![
        line_chart(&ratio_against_width(by_width, theory))?,
        line_chart(&ratio_against_points(by_points, None))?,
        line_chart(&size_against_points(width_and_depth(width, depth)))?,
    ])
}
