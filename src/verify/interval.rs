//! TEMPORARY stand-in for the rounding helpers (replaced on merge).

/// Upper bound of a + b.
pub fn add_up(a: f64, b: f64) -> f64 {
    (a + b).next_up()
}
/// Lower bound of a + b.
pub fn add_down(a: f64, b: f64) -> f64 {
    (a + b).next_down()
}
/// Upper bound of a * b.
pub fn mul_up(a: f64, b: f64) -> f64 {
    (a * b).next_up()
}
/// Lower bound of a * b.
pub fn mul_down(a: f64, b: f64) -> f64 {
    (a * b).next_down()
}
/// Upper bound of sqrt(a).
pub fn sqrt_up(a: f64) -> f64 {
    a.max(0.0).sqrt().next_up()
}
/// Lower bound of sqrt(a).
pub fn sqrt_down(a: f64) -> f64 {
    a.max(0.0).sqrt().next_down().max(0.0)
}
/// Upper bound of a / b.
pub fn div_up(a: f64, b: f64) -> f64 {
    (a / b).next_up()
}
/// Lower bound of a / b.
pub fn div_down(a: f64, b: f64) -> f64 {
    (a / b).next_down()
}
/// Upper bound of n u / (1 - n u).
pub fn gamma(n: usize, unit: f64) -> f64 {
    let nu = mul_up(n as f64, unit);
    div_up(nu, (1.0 - nu).next_down())
}
