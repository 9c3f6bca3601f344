//! Curves from theory, for drawing beside measured ones (specs/construction.md
//! section 2). They are guidance only, never the basis of a certificate.

use super::curves::TheoryCurve;
use super::Curve;

/// The shape of the l_2 rate Egosi, Yehudai and Shamir report at width k,
/// `rho >= c sqrt((k - 6) / d) N^(-2 / (k - 6))` (specs/construction.md
/// section 2), at the widths `widths` (those at or below 6 are left out),
/// drawn as a ratio to the limit (`2 rho`, since rho is measured against
/// delta and the limit is delta / 2) and scaled so that its largest value
/// is `top`: the constant c is unconfirmed, so only the shape is shown.
pub fn egosi_rate_shape(points: usize, dim: usize, widths: &[f64], top: f64) -> TheoryCurve {
    let n = points.max(2) as f64;
    let d = dim.max(1) as f64;
    let raw: Vec<(f64, f64)> = widths
        .iter()
        .filter(|&&k| k > 6.0)
        .map(|&k| (k, ((k - 6.0) / d).sqrt() * n.powf(-2.0 / (k - 6.0))))
        .collect();
    let peak = raw.iter().map(|p| p.1).fold(0.0, f64::max);
    let scale = if peak > 0.0 { top / peak } else { 0.0 };
    TheoryCurve {
        curve: Curve {
            label: format!("theory: sqrt((k-6)/d) N^(-2/(k-6)), N = {points}, d = {dim}"),
            points: raw.into_iter().map(|(k, r)| (k, r * scale)).collect(),
        },
        source: "Source: Egosi, Yehudai and Shamir, \"Logarithmic Width Suffices for Robust \
                 Memorization\" (COLT 2025), the l_2 rate at width k as specs/construction.md \
                 section 2 states it. Shape only: the constant c is unconfirmed, so the curve is \
                 scaled to the largest measured ratio; it is a lower bound on what some network \
                 of width k reaches, not a claim about these networks."
            .into(),
    }
}

/// [`egosi_rate_shape`] over the range of widths the measured `curves`
/// span (x = width, y = certified ratio), scaled to their largest ratio;
/// `None` when fewer than two of its widths are above 6.
pub fn rate_shape_beside(curves: &[Curve], points: usize, dim: usize) -> Option<TheoryCurve> {
    let widths = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    let (lo, hi) = super::padded_range(widths, 0.0);
    let top = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .fold(0.0, f64::max);
    let grid: Vec<f64> = (0..=60).map(|i| lo + (hi - lo) * i as f64 / 60.0).collect();
    Some(egosi_rate_shape(points, dim, &grid, top)).filter(|t| t.curve.points.len() >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_shape_rises_with_width_and_is_scaled_to_top() {
        let t = egosi_rate_shape(1000, 10, &[4.0, 10.0, 20.0, 40.0, 80.0], 0.8);
        let ys: Vec<f64> = t.curve.points.iter().map(|p| p.1).collect();
        assert_eq!(t.curve.points.len(), 4, "widths at or below 6 are left out");
        assert!(ys.windows(2).all(|w| w[0] < w[1]), "{ys:?}");
        assert!((ys[3] - 0.8).abs() < 1e-12);
        // The unscaled ratio between two widths is the formula's.
        let f = |k: f64| ((k - 6.0) / 10.0f64).sqrt() * 1000f64.powf(-2.0 / (k - 6.0));
        assert!((ys[0] / ys[1] - f(10.0) / f(20.0)).abs() < 1e-12);
    }
}
