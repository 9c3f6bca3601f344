//! The plane a decision-region picture shows: the data's own plane for 2-D
//! data, or a 2-D slice through a data point's neighbourhood, and the
//! section of an l_p ball by such a plane.

use crate::data::Dataset;
use crate::norm::Norm;

/// The plane `origin + a u + b v`, with `u` and `v` orthonormal (in l_2).
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    /// The point at `(a, b) = (0, 0)`.
    pub origin: Vec<f64>,
    /// The first direction (the picture's x axis).
    pub u: Vec<f64>,
    /// The second direction (the picture's y axis).
    pub v: Vec<f64>,
    /// The x axis' name.
    pub u_name: String,
    /// The y axis' name.
    pub v_name: String,
    /// How the plane was chosen, for the caption.
    pub description: String,
}

impl Plane {
    /// The coordinate plane of 2-D data: `a = x0`, `b = x1`.
    pub fn coordinates() -> Plane {
        Plane {
            origin: vec![0.0, 0.0],
            u: vec![1.0, 0.0],
            v: vec![0.0, 1.0],
            u_name: "x0".into(),
            v_name: "x1".into(),
            description: "the data's own plane (2-D data)".into(),
        }
    }

    /// The slice through point `centre` of `data`: `u` points from it
    /// towards its nearest point of another label (in `norm`), `v` is the
    /// coordinate axis least aligned with `u`, made orthogonal to it. Returns
    /// the plane and that nearest point's index; `None` with fewer than two
    /// dimensions, a single label, or a nearest point equal to `centre`.
    pub fn through_point(data: &Dataset, norm: Norm, centre: usize) -> Option<(Plane, usize)> {
        let d = data.dim();
        if d < 2 {
            return None;
        }
        let x = data.points.row(centre).to_vec();
        let own = data.labels[centre];
        let (other, _) = (0..data.len())
            .filter(|&j| data.labels[j] != own)
            .map(|j| (j, norm.distance(&x, &data.points.row(j).to_vec())))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        let towards: Vec<f64> = data
            .points
            .row(other)
            .iter()
            .zip(&x)
            .map(|(y, x)| y - x)
            .collect();
        let u = unit(&towards)?;
        let k = (0..d)
            .min_by(|&a, &b| u[a].abs().total_cmp(&u[b].abs()))
            .expect("d >= 2");
        let mut axis = vec![0.0; d];
        axis[k] = 1.0;
        let dot: f64 = u[k];
        let v = unit(
            &axis
                .iter()
                .zip(&u)
                .map(|(e, u)| e - dot * u)
                .collect::<Vec<_>>(),
        )?;
        let plane = Plane {
            origin: x,
            u,
            v,
            u_name: format!("towards point {other}"),
            v_name: format!("axis x{k}, orthogonalised"),
            description: format!(
                "the slice through point {centre}: x axis the unit vector from point {centre} \
                 towards point {other}, its nearest point of another label in {norm}; y axis \
                 coordinate x{k} made orthogonal to it (both unit vectors in l2)"
            ),
        };
        Some((plane, other))
    }

    /// The point `origin + a u + b v`.
    pub fn point(&self, a: f64, b: f64) -> Vec<f64> {
        self.origin
            .iter()
            .zip(self.u.iter().zip(&self.v))
            .map(|(o, (u, v))| o + a * u + b * v)
            .collect()
    }

    /// The coordinates `(a, b)` of the orthogonal projection of `x` on the
    /// plane, and the l_2 distance from `x` to the plane.
    pub fn project(&self, x: &[f64]) -> ((f64, f64), f64) {
        let w: Vec<f64> = x.iter().zip(&self.origin).map(|(x, o)| x - o).collect();
        let a: f64 = w.iter().zip(&self.u).map(|(w, u)| w * u).sum();
        let b: f64 = w.iter().zip(&self.v).map(|(w, v)| w * v).sum();
        let rest: f64 = w
            .iter()
            .zip(self.u.iter().zip(&self.v))
            .map(|(w, (u, v))| (w - a * u - b * v).powi(2))
            .sum();
        ((a, b), rest.sqrt())
    }
}

/// `w / ||w||_2`, or `None` for a (nearly) zero vector.
fn unit(w: &[f64]) -> Option<Vec<f64>> {
    let n = w.iter().map(|x| x * x).sum::<f64>().sqrt();
    (n > 1e-300 && n.is_finite()).then(|| w.iter().map(|x| x / n).collect())
}

/// The outline of the section of the l_p ball of radius `radius` centred on
/// the plane by the plane, as offsets `(a, b)` from its centre, at `steps`
/// angles (the ray at angle t reaches `radius / ||cos t u + sin t v||_p`):
/// a circle in l2, a diamond in l1, a square in linf on the coordinate
/// plane, a superellipse for other p.
pub fn ball_section(norm: Norm, plane: &Plane, radius: f64, steps: usize) -> Vec<(f64, f64)> {
    (0..steps)
        .map(|i| {
            let t = std::f64::consts::TAU * i as f64 / steps as f64;
            let (c, s) = (t.cos(), t.sin());
            let w: Vec<f64> = plane
                .u
                .iter()
                .zip(&plane.v)
                .map(|(u, v)| c * u + s * v)
                .collect();
            let reach = radius / norm.length(&w);
            (reach * c, reach * s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{LabelValue, Provenance};
    use ndarray::array;

    fn data() -> Dataset {
        let labels = [0.0, 0.0, 1.0].map(LabelValue::Number);
        let points = array![[0.0, 0.0, 0.0], [0.0, 0.0, 5.0], [3.0, 4.0, 0.0]];
        Dataset::from_raw(
            points,
            &labels,
            Provenance::Generated {
                description: String::new(),
            },
        )
        .unwrap()
    }

    #[test]
    fn slice_points_to_the_nearest_other_label_and_is_orthonormal() {
        let (p, other) = Plane::through_point(&data(), Norm::L2, 1).unwrap();
        assert_eq!(other, 2);
        assert!(p.u_name.contains("point 2"));
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        assert!((dot(&p.u, &p.u) - 1.0).abs() < 1e-12);
        assert!((dot(&p.v, &p.v) - 1.0).abs() < 1e-12);
        assert!(dot(&p.u, &p.v).abs() < 1e-12);
        // Both ends of the slice lie in the plane.
        let ((a, b), off) = p.project(&[3.0, 4.0, 0.0]);
        assert!(off < 1e-12 && b.abs() < 1e-12);
        assert!((a - 50f64.sqrt()).abs() < 1e-12);
        let back = p.point(a, b);
        assert!(back
            .iter()
            .zip([3.0, 4.0, 0.0])
            .all(|(x, y)| (x - y).abs() < 1e-12));
    }

    #[test]
    fn sections_have_the_norms_shapes() {
        let plane = Plane::coordinates();
        let reach = |norm, i| {
            let (a, b): (f64, f64) = ball_section(norm, &plane, 2.0, 8)[i];
            a.hypot(b)
        };
        // Angle 0 (i = 0) and 45 degrees (i = 1).
        assert!((reach(Norm::L2, 1) - 2.0).abs() < 1e-12);
        assert!((reach(Norm::L1, 0) - 2.0).abs() < 1e-12);
        assert!((reach(Norm::L1, 1) - 2f64.sqrt()).abs() < 1e-12);
        assert!((reach(Norm::Linf, 1) - 2.0 * 2f64.sqrt()).abs() < 1e-12);
        let r4 = reach(Norm::Lp(4.0), 1);
        assert!(r4 > 2.0 && r4 < 2.0 * 2f64.sqrt());
    }
}
