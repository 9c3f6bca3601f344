//! Decision regions: the compiled network evaluated on a grid over a plane
//! ([`Plane`]), each cell coloured by the label it predicts, with the data
//! points of the plane and the sections of their certified l_p balls.

use super::slice::{ball_section, Plane};
use super::{dark, finish, light, Figure, PlotError, FONT};
use crate::eval::evaluate;
use crate::ir::layers::LayerNetwork;
use ndarray::Array2;
use plotters::prelude::*;

/// How a network's outputs name a class.
#[derive(Clone, Debug, PartialEq)]
pub enum Readout {
    /// One output per class: the largest names it (a tie names none).
    Logits,
    /// One output, the label value: the nearest class value names it.
    Label(Vec<f64>),
}

impl Readout {
    /// The class `outputs` name, or `None` on a tie between logits (or
    /// an output that is not a number).
    pub fn class(&self, outputs: &[f64]) -> Option<usize> {
        let best = |scores: &mut dyn Iterator<Item = (usize, f64)>| {
            let mut best: Option<(usize, f64)> = None;
            let mut tie = false;
            for (i, s) in scores {
                if s.is_nan() {
                    return None;
                }
                match best {
                    Some((_, b)) if s == b => tie = true,
                    Some((_, b)) if s < b => {}
                    _ => {
                        best = Some((i, s));
                        tie = false;
                    }
                }
            }
            best.filter(|_| !tie).map(|(i, _)| i)
        };
        match self {
            Readout::Logits => best(&mut outputs.iter().copied().enumerate()),
            Readout::Label(values) => {
                let out = *outputs.first()?;
                best(&mut values.iter().map(|v| -(v - out).abs()).enumerate())
            }
        }
    }
}

/// The predicted class of every cell of a grid over a rectangle of a plane.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionMap {
    /// The plane.
    pub plane: Plane,
    /// The rectangle's extent along `u`.
    pub a: (f64, f64),
    /// The rectangle's extent along `v`.
    pub b: (f64, f64),
    /// Cells along `u`.
    pub columns: usize,
    /// Cells along `v`.
    pub rows: usize,
    /// Row-major (row 0 at the smallest b), the class predicted at each
    /// cell's centre (`None`: a tie).
    pub cells: Vec<Option<usize>>,
}

impl RegionMap {
    /// Evaluates `network` (in f64) at the centre of every cell of a
    /// `columns x rows` grid over `a x b` in `plane`.
    pub fn predict(
        network: &LayerNetwork,
        readout: &Readout,
        plane: Plane,
        (a, b): ((f64, f64), (f64, f64)),
        (columns, rows): (usize, usize),
    ) -> RegionMap {
        let mut map = RegionMap {
            plane,
            a,
            b,
            columns,
            rows,
            cells: Vec::with_capacity(columns * rows),
        };
        const BATCH: usize = 2048;
        let d = network.input_dim;
        let all: Vec<(usize, usize)> = (0..rows)
            .flat_map(|r| (0..columns).map(move |c| (c, r)))
            .collect();
        for chunk in all.chunks(BATCH) {
            let mut input = Array2::zeros((chunk.len(), d));
            for (i, &(c, r)) in chunk.iter().enumerate() {
                let (x, y) = map.centre(c, r);
                for (k, v) in map.plane.point(x, y).into_iter().enumerate() {
                    input[[i, k]] = v;
                }
            }
            let out = evaluate(network, input.view());
            for row in out.outer_iter() {
                map.cells.push(readout.class(&row.to_vec()));
            }
        }
        map
    }

    /// The plane coordinates of the centre of cell `(column, row)`.
    pub fn centre(&self, column: usize, row: usize) -> (f64, f64) {
        let step_a = (self.a.1 - self.a.0) / self.columns as f64;
        let step_b = (self.b.1 - self.b.0) / self.rows as f64;
        (
            self.a.0 + (column as f64 + 0.5) * step_a,
            self.b.0 + (row as f64 + 0.5) * step_b,
        )
    }

    /// The class predicted at cell `(column, row)`.
    pub fn class_at(&self, column: usize, row: usize) -> Option<usize> {
        self.cells[row * self.columns + column]
    }
}

/// A data point drawn on the picture, with its certified ball's section.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    /// Its plane coordinates.
    pub at: (f64, f64),
    /// Its class.
    pub class: usize,
    /// The outline of its ball's section, as offsets from `at`.
    pub ball: Vec<(f64, f64)>,
}

/// Everything a decision-region picture shows.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionPicture {
    /// The title.
    pub title: String,
    /// The regions.
    pub map: RegionMap,
    /// Each class's name, for the legend.
    pub class_names: Vec<String>,
    /// The data points in the plane.
    pub markers: Vec<Marker>,
    /// The caption.
    pub caption: String,
}

/// The markers of the points of `points` (with their classes) that lie in
/// `plane` (within `1e-9` of the picture's size), each with the section of
/// the l_p ball of radius `radius` (none when `radius` is not finite).
pub fn markers_in_plane(
    plane: &Plane,
    points: impl IntoIterator<Item = (Vec<f64>, usize)>,
    norm: crate::norm::Norm,
    radius: Option<f64>,
    size: f64,
) -> Vec<Marker> {
    let ball = match radius.filter(|r| r.is_finite() && *r > 0.0) {
        Some(r) => ball_section(norm, plane, r, 720),
        None => Vec::new(),
    };
    points
        .into_iter()
        .filter_map(|(x, class)| {
            let (at, off) = plane.project(&x);
            (off <= 1e-9 * size).then(|| Marker {
                at,
                class,
                ball: ball.clone(),
            })
        })
        .collect()
}

/// The colour of cells where the logits tie.
pub const TIE: RGBColor = RGBColor(200, 200, 200);

/// Draws `picture` (about 600 x 600 pixels, one unit the same length on
/// both axes).
pub fn regions_chart(picture: &RegionPicture) -> Result<Figure, PlotError> {
    let map = &picture.map;
    let (width, height) = (600u32, 600u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(&picture.title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(map.a.0..map.a.1, map.b.0..map.b.1)?;
        c.configure_mesh()
            .disable_mesh()
            .x_desc(&map.plane.u_name)
            .y_desc(&map.plane.v_name)
            .draw()?;
        let mut rects = Vec::new();
        let corner = |column: usize, row: usize| {
            let (x, y) = map.centre(column, row);
            let half_a = 0.5 * (map.a.1 - map.a.0) / map.columns as f64;
            let half_b = 0.5 * (map.b.1 - map.b.0) / map.rows as f64;
            (x - half_a, y - half_b)
        };
        for row in 0..map.rows {
            let mut start = 0;
            for column in 1..=map.columns {
                if column == map.columns || map.class_at(column, row) != map.class_at(start, row) {
                    let colour = map.class_at(start, row).map_or(TIE, light);
                    let lo = corner(start, row);
                    let hi = corner(column, row + 1);
                    rects.push(Rectangle::new([lo, hi], colour.filled()));
                    start = column;
                }
            }
        }
        c.draw_series(rects)?;
        for m in &picture.markers {
            if m.ball.is_empty() {
                continue;
            }
            let mut outline: Vec<(f64, f64)> = m
                .ball
                .iter()
                .map(|(x, y)| (m.at.0 + x, m.at.1 + y))
                .collect();
            outline.push(outline[0]);
            c.draw_series(std::iter::once(PathElement::new(
                outline,
                dark(m.class).stroke_width(2),
            )))?;
        }
        c.draw_series(
            picture
                .markers
                .iter()
                .map(|m| Circle::new(m.at, 4, dark(m.class).filled())),
        )?;
        for (i, name) in picture.class_names.iter().enumerate() {
            c.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(format!("label {name}"))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], light(i).filled())
                });
        }
        c.configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        root.present()?;
    }
    Ok(finish(&picture.title, picture.caption.clone(), svg))
}

/// `a x b` widened (about its centre) so that one unit has the same length
/// on both axes of [`regions_chart`]'s plotting area.
pub fn equal_aspect(a: (f64, f64), b: (f64, f64)) -> ((f64, f64), (f64, f64)) {
    // The plotting area of regions_chart: 600 wide less 2 x 12 margin and
    // the 56-pixel y-label area; 600 high less the margins, the 40-pixel
    // x-label area and the title (about 18 + 12 pixels).
    let (w, h) = (600.0 - 24.0 - 56.0, 600.0 - 24.0 - 40.0 - 30.0);
    let (sa, sb) = (a.1 - a.0, b.1 - b.0);
    if sa / w > sb / h {
        let extra = 0.5 * (sa * h / w - sb);
        (a, (b.0 - extra, b.1 + extra))
    } else {
        let extra = 0.5 * (sb * w / h - sa);
        ((a.0 - extra, a.1 + extra), b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readouts() {
        assert_eq!(Readout::Logits.class(&[0.0, 2.0, 1.0]), Some(1));
        assert_eq!(Readout::Logits.class(&[2.0, 2.0, 1.0]), None);
        assert_eq!(Readout::Logits.class(&[f64::NAN, 2.0]), None);
        let label = Readout::Label(vec![-1.0, 3.0, 10.0]);
        assert_eq!(label.class(&[2.2]), Some(1));
        assert_eq!(label.class(&[-7.0]), Some(0));
        assert_eq!(label.class(&[1.0]), None);
    }

    #[test]
    fn equal_aspect_keeps_the_centre_and_widens_one_axis() {
        let (a, b) = equal_aspect((0.0, 10.0), (0.0, 1.0));
        assert_eq!(a, (0.0, 10.0));
        assert!(((b.0 + b.1) / 2.0 - 0.5).abs() < 1e-12);
        let (w, h) = (520.0, 506.0);
        assert!(((a.1 - a.0) / w - (b.1 - b.0) / h).abs() < 1e-12);
    }
}
