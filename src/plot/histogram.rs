//! A histogram of per-point figures: the certified margins of a
//! certificate.

use super::{dark, finish, padded_range, Figure, PlotError, FONT};
use plotters::prelude::*;

/// A histogram to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// The title.
    pub title: String,
    /// The x axis' name (what the values are).
    pub x_label: String,
    /// The values, one per point.
    pub values: Vec<f64>,
    /// The caption.
    pub caption: String,
}

/// The bins of `values`: `(lower edge, upper edge, count)`, about
/// `sqrt(N)` of them (5 to 40), equal widths, from 0 when no value is
/// negative (so that the distance of the values from 0 shows); the largest
/// value falls in the last bin. Non-finite values are left out.
pub fn bins(values: &[f64]) -> Vec<(f64, f64, usize)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let k = ((finite.len() as f64).sqrt().ceil() as usize).clamp(5, 40);
    let (lo, hi) = padded_range(finite.iter().copied(), 0.0);
    let lo = if lo >= 0.0 && hi > 0.0 { 0.0 } else { lo };
    let step = (hi - lo) / k as f64;
    let mut counts = vec![0; k];
    for v in finite {
        let i = (((v - lo) / step).floor() as usize).min(k - 1);
        counts[i] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, n)| (lo + i as f64 * step, lo + (i + 1) as f64 * step, n))
        .collect()
}

/// Draws `h` (640 x 420 pixels).
pub fn histogram_chart(h: &Histogram) -> Result<Figure, PlotError> {
    let bins = bins(&h.values);
    let x0 = bins.first().map_or(0.0, |b| b.0);
    let x1 = bins.last().map_or(1.0, |b| b.1);
    let top = bins.iter().map(|b| b.2).max().unwrap_or(0).max(1) as f64 * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut c = ChartBuilder::on(&root)
            .caption(&h.title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, 0.0..top)?;
        c.configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .y_labels((top as usize).clamp(2, 10))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_desc(&h.x_label)
            .y_desc("points")
            .draw()?;
        c.draw_series(bins.iter().filter(|b| b.2 > 0).map(|&(lo, hi, n)| {
            Rectangle::new([(lo, 0.0), (hi, n as f64)], dark(0).mix(0.75).filled())
        }))?;
        root.present()?;
    }
    Ok(finish(&h.title, h.caption.clone(), svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_count_every_value_once() {
        let values: Vec<f64> = (0..100).map(|i| -5.0 + i as f64 / 10.0).collect();
        let b = bins(&values);
        assert_eq!(b.len(), 10);
        assert_eq!(b.iter().map(|b| b.2).sum::<usize>(), 100);
        assert_eq!(b[0].0, -5.0);
        assert!((b[9].1 - 4.9).abs() < 1e-12);
        assert!(b.iter().all(|b| b.2 == 10), "{b:?}");
    }

    #[test]
    fn positive_values_are_binned_from_zero() {
        let b = bins(&[0.9999, 0.99991, 0.99992, 0.99995]);
        assert_eq!(b[0].0, 0.0);
        assert_eq!(b.iter().map(|b| b.2).sum::<usize>(), 4);
        assert_eq!(b.last().unwrap().2, 4);
    }
}
