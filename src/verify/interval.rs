//! Outward-rounded interval arithmetic on `f64`.
//!
//! Every operation here is computed in the default round-to-nearest mode and
//! then corrected with an error-free transformation: the exact rounding error
//! of a sum (TwoSum), a product or a quotient (one fused multiply-add) or a
//! square root (one fused multiply-add) tells on which side of the exact
//! real result the rounded value lies, and the value is moved one step with
//! [`f64::next_up`] / [`f64::next_down`] only when it lies on the wrong side.
//! The results are therefore the tightest (or one ulp from the tightest)
//! bounds, and rigorous as long as the FMA is exact; where it may not be
//! (products and quotients in the subnormal range, where the error term
//! itself can underflow) the result is moved one step regardless.
//!
//! Conventions for non-finite values: a finite computation that overflows
//! gives `+inf` as an upper bound and `f64::MAX` as a lower bound (and
//! symmetrically); a product with a zero factor is `0` even when the other
//! factor is infinite (an infinite interval end stands for "unbounded", and
//! `0 * x = 0` for every real `x`); a division by zero gives `+inf` as an
//! upper bound and `-inf` as a lower bound; undefined forms (`inf - inf`) give
//! `+inf` upwards and `-inf` downwards. [`Interval`] never holds a NaN.

/// Below this magnitude a product or quotient may have lost bits to
/// underflow (`2^-969`, the smallest normal number times `2^53`): the
/// error-free transformations are not trusted there.
const TINY: f64 = f64::MIN_POSITIVE * 9_007_199_254_740_992.0;

/// `s = fl(a + b)` and the exact error `e = (a + b) - s` (Knuth's TwoSum), for
/// finite `a`, `b` and a finite `s`.
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    (s, e)
}

/// The upper bound of a rounded `s` whose exact value lies `sign(err)` away
/// from it. `trusted` says whether a zero `err` means "exact"; a nonzero
/// `err` always has the right sign (rounding to nearest keeps signs).
fn step_up(s: f64, err: f64, trusted: bool) -> f64 {
    if err > 0.0 || (err == 0.0 && !trusted) {
        s.next_up()
    } else {
        s
    }
}

/// The upper bound for a nonzero exact product or quotient that rounded to
/// zero: zero itself when the exact value is negative.
fn underflow_up(negative: bool) -> f64 {
    if negative {
        0.0
    } else {
        0.0f64.next_up()
    }
}

/// The upper bound for a rounded `result` that is not finite: `+inf` for an
/// undefined form (NaN), `-f64::MAX` for an overflow of finite operands
/// towards `-inf` (the exact value is finite, so `-MAX` is above it), the
/// infinity itself otherwise; `None` for a finite `result`.
fn non_finite_up(result: f64, finite_operands: bool) -> Option<f64> {
    if result.is_nan() {
        Some(f64::INFINITY)
    } else if result.is_infinite() {
        Some(if finite_operands && result < 0.0 {
            -f64::MAX
        } else {
            result
        })
    } else {
        None
    }
}

/// A value `>= a + b` (exact real sum).
pub fn add_up(a: f64, b: f64) -> f64 {
    if let Some(bound) = non_finite_up(a + b, a.is_finite() && b.is_finite()) {
        return bound;
    }
    let (s, e) = two_sum(a, b);
    step_up(s, e, true)
}

/// A value `<= a + b` (exact real sum).
pub fn add_down(a: f64, b: f64) -> f64 {
    -add_up(-a, -b)
}

/// A value `>= a - b`.
pub fn sub_up(a: f64, b: f64) -> f64 {
    add_up(a, -b)
}

/// A value `<= a - b`.
pub fn sub_down(a: f64, b: f64) -> f64 {
    add_down(a, -b)
}

/// A value `>= a * b` (exact real product; `0 * inf = 0`).
pub fn mul_up(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 {
        return 0.0;
    }
    let p = a * b;
    if let Some(bound) = non_finite_up(p, a.is_finite() && b.is_finite()) {
        return bound;
    }
    if p == 0.0 {
        return underflow_up((a < 0.0) != (b < 0.0));
    }
    let e = a.mul_add(b, -p);
    step_up(p, e, p.abs() >= TINY)
}

/// A value `<= a * b` (exact real product; `0 * inf = 0`).
pub fn mul_down(a: f64, b: f64) -> f64 {
    -mul_up(-a, b)
}

/// A value `>= a / b` (exact real quotient); `+inf` when `b == 0`.
pub fn div_up(a: f64, b: f64) -> f64 {
    if b == 0.0 || b.is_nan() || a.is_nan() {
        return f64::INFINITY;
    }
    let q = a / b;
    // inf / inf is undefined; a finite a overflows only by a finite b.
    if let Some(bound) = non_finite_up(q, a.is_finite()) {
        return bound;
    }
    if b.is_infinite() || a == 0.0 {
        return q; // finite / inf and 0 / b are exactly 0 (as a limit for inf)
    }
    if q == 0.0 {
        return underflow_up((a < 0.0) != (b < 0.0));
    }
    // r = a - q b exactly (when nothing underflows); a / b - q = r / b.
    let r = (-q).mul_add(b, a);
    let above = if b > 0.0 { r } else { -r };
    step_up(q, above, q.abs() >= TINY && a.abs() >= TINY)
}

/// A value `<= a / b` (exact real quotient); `-inf` when `b == 0`.
pub fn div_down(a: f64, b: f64) -> f64 {
    -div_up(-a, b)
}

/// `Ok((s, r))` with `s = fl(sqrt(a))` and `r = a - s^2` (exact for `a`
/// above the underflow range: `sqrt(a) > s` iff `r > 0`), or `Err(exact)`
/// for `a` whose square root needs no rounding step (0, +inf) or does not
/// exist (NaN for `a < 0`).
fn sqrt_residual(a: f64) -> Result<(f64, f64), f64> {
    if a.is_nan() || a < 0.0 {
        return Err(f64::NAN);
    }
    let s = a.sqrt();
    if a == 0.0 || a.is_infinite() {
        return Err(s);
    }
    Ok((s, (-s).mul_add(s, a)))
}

/// A value `>= sqrt(a)`; NaN for `a < 0` (no real result).
pub fn sqrt_up(a: f64) -> f64 {
    match sqrt_residual(a) {
        Ok((s, r)) => step_up(s, r, a >= TINY),
        Err(exact) => exact,
    }
}

/// A value `<= sqrt(a)` (and `>= 0`); NaN for `a < 0`.
pub fn sqrt_down(a: f64) -> f64 {
    match sqrt_residual(a) {
        Ok((s, r)) if a < TINY || r < 0.0 => s.next_down().max(0.0),
        Ok((s, _)) => s,
        Err(exact) => exact,
    }
}

/// An upper bound of `n u / (1 - n u)`, the constant `gamma_n` in
/// `|fl(x_1 + ... + x_n) - (x_1 + ... + x_n)| <= gamma_n (|x_1| + ... + |x_n|)`
/// for unit roundoff `u` (Higham, Accuracy and Stability, Lemma 3.1);
/// `+inf` when `n u >= 1`.
pub fn gamma(n: usize, unit: f64) -> f64 {
    // `n as f64` rounds to nearest above 2^53: step up to stay an upper bound.
    let count = n as f64;
    let count = if count as u128 >= n as u128 {
        count
    } else {
        count.next_up()
    };
    let nu = mul_up(count, unit);
    let denominator = sub_down(1.0, nu);
    if denominator <= 0.0 || denominator.is_nan() {
        return f64::INFINITY;
    }
    div_up(nu, denominator)
}

/// A closed interval `[lo, hi]` of reals, `lo <= hi`, ends possibly infinite,
/// never NaN.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

impl Interval {
    /// The degenerate interval `[x, x]`.
    ///
    /// # Panics
    /// If `x` is NaN.
    pub fn point(x: f64) -> Self {
        Self::new(x, x)
    }

    /// The interval `[lo, hi]`.
    ///
    /// # Panics
    /// If an end is NaN or `lo > hi`.
    pub fn new(lo: f64, hi: f64) -> Self {
        assert!(lo <= hi, "not an interval: [{lo}, {hi}]");
        Interval { lo, hi }
    }

    /// `[-inf, +inf]`.
    pub fn entire() -> Self {
        Interval {
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        }
    }

    /// Builds from directed-rounded ends; a NaN end (from `inf - inf`) becomes
    /// unbounded on its side.
    fn from_ends(lo: f64, hi: f64) -> Self {
        let lo = if lo.is_nan() { f64::NEG_INFINITY } else { lo };
        let hi = if hi.is_nan() { f64::INFINITY } else { hi };
        Interval { lo, hi }
    }

    /// `{a + b}` over both intervals, rounded outwards (also `a + b`).
    #[allow(clippy::should_implement_trait)] // also implemented, as `+`
    pub fn add(self, other: Interval) -> Interval {
        Self::from_ends(add_down(self.lo, other.lo), add_up(self.hi, other.hi))
    }

    /// `{a - b}` over both intervals, rounded outwards (also `a - b`).
    #[allow(clippy::should_implement_trait)] // also implemented, as `-`
    pub fn sub(self, other: Interval) -> Interval {
        Self::from_ends(sub_down(self.lo, other.hi), sub_up(self.hi, other.lo))
    }

    /// `{c a}` over the interval, rounded outwards (`0 * inf = 0`).
    pub fn scale(self, c: f64) -> Interval {
        if c >= 0.0 {
            Self::from_ends(mul_down(self.lo, c), mul_up(self.hi, c))
        } else {
            Self::from_ends(mul_down(self.hi, c), mul_up(self.lo, c))
        }
    }

    /// `{max(a, 0)}` over the interval (exact).
    pub fn relu(self) -> Interval {
        Interval {
            lo: self.lo.max(0.0),
            hi: self.hi.max(0.0),
        }
    }

    /// Whether `x` lies in the interval.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// An upper bound of `hi - lo`.
    pub fn width(&self) -> f64 {
        sub_up(self.hi, self.lo)
    }

    /// The midpoint, rounded to nearest (not a bound: for picking points).
    pub fn mid(&self) -> f64 {
        if self.lo.is_finite() && self.hi.is_finite() {
            self.lo / 2.0 + self.hi / 2.0
        } else if self.lo == self.hi {
            self.lo
        } else {
            0.0f64.clamp(self.lo, self.hi)
        }
    }

    /// The smallest interval holding both.
    pub fn hull(self, other: Interval) -> Interval {
        Interval {
            lo: self.lo.min(other.lo),
            hi: self.hi.max(other.hi),
        }
    }
}

impl std::ops::Add for Interval {
    type Output = Interval;

    fn add(self, other: Interval) -> Interval {
        Interval::add(self, other)
    }
}

impl std::ops::Sub for Interval {
    type Output = Interval;

    fn sub(self, other: Interval) -> Interval {
        Interval::sub(self, other)
    }
}

/// An interval that holds `sum_k weights[k] * x_k + bias` for every choice of
/// `x_k` in `xs[k]` (exact real arithmetic).
///
/// Each product's ends and each partial sum are rounded outwards with the
/// directed operations above, so the bound is rigorous and at most a few ulps
/// per term wider than the exact range.
///
/// # Panics
/// If `weights` and `xs` have different lengths.
pub fn dot(weights: &[f64], xs: &[Interval], bias: f64) -> Interval {
    assert_eq!(weights.len(), xs.len(), "dot: length mismatch");
    let mut lo = bias;
    let mut hi = bias;
    for (&w, x) in weights.iter().zip(xs) {
        if w == 0.0 {
            continue;
        }
        let (a, b) = if w > 0.0 { (x.lo, x.hi) } else { (x.hi, x.lo) };
        lo = add_down(lo, mul_down(w, a));
        hi = add_up(hi, mul_up(w, b));
    }
    Interval::from_ends(lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `x * 2^scale` as an integer, when it is one (exact).
    fn fixed(x: f64, scale: i32) -> i128 {
        let y = x * 2f64.powi(scale);
        assert!(y.is_finite() && y.fract() == 0.0 && y.abs() < 2f64.powi(126));
        y as i128
    }

    /// Whether `bound >= exact / 2^scale` (exactly).
    fn at_least(bound: f64, exact: i128, scale: i32) -> bool {
        let y = (bound * 2f64.powi(scale)).floor();
        y >= 2f64.powi(126) || (y > -2f64.powi(126) && y as i128 >= exact)
    }

    /// Whether `bound <= exact / 2^scale` (exactly).
    fn at_most(bound: f64, exact: i128, scale: i32) -> bool {
        let y = (bound * 2f64.powi(scale)).ceil();
        y <= -2f64.powi(126) || (y < 2f64.powi(126) && y as i128 <= exact)
    }

    /// A float `m 2^e` with a 53-bit (or shorter) mantissa.
    fn float(m: i64, e: i32) -> f64 {
        (m as f64) * 2f64.powi(e)
    }

    #[test]
    fn addition_rounds_outwards() {
        // 1 + 2^-60 is not representable: nearest is 1.
        let t = 2f64.powi(-60);
        assert_eq!(add_down(1.0, t), 1.0);
        assert_eq!(add_up(1.0, t), 1.0f64.next_up());
        assert_eq!(add_up(1.0, -t), 1.0);
        assert_eq!(add_down(1.0, -t), 1.0f64.next_down());
        // Exact sums (and exact cancellation) are not widened.
        assert_eq!(add_up(0.5, 0.25), 0.75);
        assert_eq!(add_down(1e300, -1e300), 0.0);
        assert_eq!(add_up(1e300, -1e300), 0.0);
        // 0.1 + 0.2 rounds up to 0.30000000000000004: the lower bound is below it.
        assert!(add_down(0.1, 0.2) < 0.1 + 0.2);
        assert_eq!(add_up(0.1, 0.2), 0.1 + 0.2);
        // Huge and tiny.
        assert_eq!(add_up(f64::MAX, f64::MAX), f64::INFINITY);
        assert_eq!(add_down(f64::MAX, f64::MAX), f64::MAX);
        assert_eq!(add_up(-f64::MAX, -f64::MAX), -f64::MAX);
        assert_eq!(add_up(1e300, 5e-324), 1e300f64.next_up());
        assert_eq!(add_up(5e-324, 5e-324), 1e-323);
        // Infinities.
        assert_eq!(add_up(f64::INFINITY, 1.0), f64::INFINITY);
        assert_eq!(add_up(f64::INFINITY, f64::NEG_INFINITY), f64::INFINITY);
        assert_eq!(
            add_down(f64::INFINITY, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert_eq!(sub_up(1.0, t), 1.0);
        assert_eq!(sub_down(1.0, t), 1.0f64.next_down());
    }

    #[test]
    fn multiplication_rounds_outwards() {
        // 0.1 * 3 = 0.30000000000000004 in round-to-nearest, above the real product.
        let p = 0.1 * 3.0;
        assert!(mul_down(0.1, 3.0) <= p && mul_up(0.1, 3.0) >= p);
        assert_eq!(mul_up(1.5, 2.0), 3.0);
        assert_eq!(mul_down(1.5, 2.0), 3.0);
        let a = 1.0 + 2f64.powi(-30);
        // a^2 = 1 + 2^-29 + 2^-60: rounded to 1 + 2^-29, truly above it.
        assert_eq!(mul_down(a, a), 1.0 + 2f64.powi(-29));
        assert_eq!(mul_up(a, a), (1.0 + 2f64.powi(-29)).next_up());
        assert_eq!(mul_up(-a, a), -(1.0 + 2f64.powi(-29)));
        // Zero and infinities.
        assert_eq!(mul_up(0.0, f64::INFINITY), 0.0);
        assert_eq!(mul_down(f64::NEG_INFINITY, 0.0), 0.0);
        assert_eq!(mul_up(2.0, f64::INFINITY), f64::INFINITY);
        assert_eq!(mul_up(f64::MAX, -2.0), -f64::MAX);
        assert_eq!(mul_down(f64::MAX, -2.0), f64::NEG_INFINITY);
        // Underflow: a positive product that rounds to zero.
        assert!(mul_up(1e-200, 1e-200) > 0.0);
        assert_eq!(mul_down(1e-200, 1e-200), 0.0);
        assert!(mul_down(-1e-200, 1e-200) < 0.0);
    }

    #[test]
    fn division_and_square_root_round_outwards() {
        assert!(div_down(1.0, 3.0) < div_up(1.0, 3.0));
        assert_eq!(div_up(1.0, 3.0), (1.0f64 / 3.0).next_up().max(1.0 / 3.0));
        assert!(3.0 * div_down(1.0, 3.0) <= 1.0);
        assert_eq!(div_up(6.0, 3.0), 2.0);
        assert_eq!(div_down(-6.0, 3.0), -2.0);
        assert_eq!(div_up(1.0, 0.0), f64::INFINITY);
        assert_eq!(div_down(1.0, 0.0), f64::NEG_INFINITY);
        assert_eq!(div_up(1.0, f64::INFINITY), 0.0);
        assert_eq!(div_up(f64::INFINITY, f64::INFINITY), f64::INFINITY);
        assert_eq!(div_down(f64::INFINITY, f64::INFINITY), f64::NEG_INFINITY);
        assert!(div_up(1e-300, 1e300) > 0.0);
        assert_eq!(div_down(1e-300, 1e300), 0.0);
        assert_eq!(div_up(f64::MAX, 0.5), f64::INFINITY);
        assert_eq!(div_down(f64::MAX, 0.5), f64::MAX);

        assert_eq!(sqrt_up(4.0), 2.0);
        assert_eq!(sqrt_down(4.0), 2.0);
        let (lo, hi) = (sqrt_down(2.0), sqrt_up(2.0));
        assert!(lo < hi && hi == lo.next_up());
        assert!(mul_up(lo, lo) <= 2.0 || mul_down(lo, lo) < 2.0);
        assert_eq!(sqrt_up(0.0), 0.0);
        assert_eq!(sqrt_up(f64::INFINITY), f64::INFINITY);
        assert!(sqrt_up(-1.0).is_nan());
        assert!(sqrt_down(5e-324) >= 0.0 && sqrt_up(5e-324) >= 5e-324f64.sqrt());
    }

    #[test]
    fn gamma_bounds_n_u_over_one_minus_n_u() {
        let u = 2f64.powi(-24);
        let g = gamma(10, u);
        let exact_ish = 10.0 * u / (1.0 - 10.0 * u);
        assert!(g >= exact_ish && g <= exact_ish * (1.0 + 1e-12));
        assert_eq!(gamma(0, u), 0.0);
        assert_eq!(gamma(1 << 24, u), f64::INFINITY);
        assert!(gamma(1 << 23, u) >= 1.0);
        assert!(gamma(usize::MAX, 2f64.powi(-53)).is_infinite());
    }

    #[test]
    fn interval_operations() {
        let a = Interval::new(-1.0, 2.0);
        let b = Interval::point(0.5);
        assert_eq!(a.add(b), Interval::new(-0.5, 2.5));
        assert_eq!(a + b, a.add(b));
        assert_eq!(a - b, a.sub(b));
        assert_eq!(a.sub(b), Interval::new(-1.5, 1.5));
        assert_eq!(b.sub(a), Interval::new(-1.5, 1.5));
        assert_eq!(a.scale(-2.0), Interval::new(-4.0, 2.0));
        assert_eq!(a.relu(), Interval::new(0.0, 2.0));
        assert_eq!(Interval::new(-3.0, -1.0).relu(), Interval::point(0.0));
        assert!(a.contains(0.0) && a.contains(2.0) && !a.contains(2.0f64.next_up()));
        assert_eq!(a.width(), 3.0);
        assert_eq!(Interval::entire().scale(0.0), Interval::point(0.0));
        let u = Interval::entire().add(Interval::point(1.0));
        assert_eq!(u, Interval::entire());
        // 0.1 + 0.2 does not hold 0.1 + 0.2 exactly: the ends straddle it.
        let s = Interval::point(0.1).add(Interval::point(0.2));
        assert!(s.lo < s.hi && s.contains(0.1 + 0.2));
        assert_eq!(
            dot(&[1.0, -1.0], &[a, Interval::new(0.0, 1.0)], 0.5),
            Interval::new(-1.5, 2.5)
        );
        assert_eq!(dot(&[], &[], 3.0), Interval::point(3.0));
    }

    #[test]
    fn dot_with_cancellation_stays_rigorous() {
        // 1e16 + 1 - 1e16 = 1 exactly; naive left-to-right float gives 0.
        let xs = [1e16, 1.0, -1e16].map(Interval::point);
        let r = dot(&[1.0, 1.0, 1.0], &xs, 0.0);
        assert!(r.contains(1.0), "{r:?}");
        let naive = 1e16 + 1.0 - 1e16;
        assert_ne!(naive, 1.0);
    }

    proptest! {
        #[test]
        fn sums_and_products_enclose_the_exact_value(
            ma in -(1i64 << 53) + 1..(1i64 << 53), ea in -70i32..-53,
            mb in -(1i64 << 53) + 1..(1i64 << 53), eb in -70i32..-53,
        ) {
            // Values m 2^e, e + 53 in [-17, 0]: the exact sum at scale 2^70 fits i128.
            let (a, b) = (float(ma, ea), float(mb, eb));
            let exact = fixed(a, 70) + fixed(b, 70);
            prop_assert!(at_least(add_up(a, b), exact, 70));
            prop_assert!(at_most(add_down(a, b), exact, 70));
            prop_assert!(add_up(a, b) <= (a + b).next_up() && add_down(a, b) >= (a + b).next_down());
            prop_assert!(at_least(sub_up(a, b), fixed(a, 70) - fixed(b, 70), 70));
            prop_assert!(at_most(sub_down(a, b), fixed(a, 70) - fixed(b, 70), 70));
        }

        #[test]
        fn products_quotients_and_roots_enclose_the_exact_value(
            ma in -(1i64 << 53) + 1..(1i64 << 53), ea in -63i32..-53,
            mb in 1i64..(1i64 << 53), eb in -63i32..-53, flip in any::<bool>(),
        ) {
            let a = float(ma, ea);
            let b = if flip { -float(mb, eb) } else { float(mb, eb) };
            // Exact product at scale 2^126: |m_a m_b| < 2^106 times 2^(e_a + e_b + 126) <= 2^20.
            let exact = (i128::from(ma) * i128::from(if flip { -mb } else { mb }))
                << (ea + eb + 126);
            prop_assert!(at_least(mul_up(a, b), exact, 126));
            prop_assert!(at_most(mul_down(a, b), exact, 126));
            // Quotient q: q >= a / b iff q b >= a (b > 0), compared exactly.
            let (qu, qd) = (div_up(a, b), div_down(a, b));
            prop_assert!(qd <= qu && qu <= (a / b).next_up() && qd >= (a / b).next_down());
            let (lo, hi) = if b > 0.0 { (qd, qu) } else { (qu, qd) };
            let mb = if flip { -mb } else { mb };
            for (q, above) in [(hi, true), (lo, false)] {
                let (mq, eq) = decompose(q);
                let order = compare(i128::from(mq) * i128::from(mb), eq + eb, i128::from(ma), ea);
                prop_assert!(if above { order.is_ge() } else { order.is_le() }, "{q} {a} {b}");
            }
            // Square roots of |a|: s^2 against |a|, compared exactly.
            let x = a.abs();
            if x > 0.0 {
                for (s, above) in [(sqrt_up(x), true), (sqrt_down(x), false)] {
                    let (ms, es) = decompose(s);
                    let order = compare(i128::from(ms) * i128::from(ms), 2 * es, i128::from(ma.abs()), ea);
                    prop_assert!(if above { order.is_ge() } else { order.is_le() }, "{s} {x}");
                }
            }
        }

        #[test]
        fn dot_encloses_the_exact_value(
            terms in proptest::collection::vec(
                (-(1i64 << 40)..(1i64 << 40), -(1i64 << 40)..(1i64 << 40), 0i64..(1i64 << 30)),
                0..12,
            ),
            bias in -(1i64 << 40)..(1i64 << 40),
        ) {
            // Weights, points and bias on the grid 2^-20 with up to 41 bits;
            // products on the grid 2^-40 with up to 81 bits: the floats round,
            // the i128 reference does not.
            let weights: Vec<f64> = terms.iter().map(|t| float(t.0, -20)).collect();
            let points: Vec<i64> = terms.iter().map(|t| t.1).collect();
            let boxes: Vec<Interval> = terms
                .iter()
                .map(|t| Interval::new(float(t.1 - t.2, -20), float(t.1 + t.2, -20)))
                .collect();
            let mut exact = i128::from(bias) << 20;
            for (t, &x) in terms.iter().zip(&points) {
                exact += i128::from(t.0) * i128::from(x);
            }
            let r = dot(&weights, &boxes, float(bias, -20));
            prop_assert!(at_least(r.hi, exact, 40) && at_most(r.lo, exact, 40), "{r:?}");
            let xs: Vec<Interval> = points.iter().map(|&x| Interval::point(float(x, -20))).collect();
            let p = dot(&weights, &xs, float(bias, -20));
            prop_assert!(at_least(p.hi, exact, 40) && at_most(p.lo, exact, 40), "{p:?}");
            // Tight: a few ulps per term of the largest partial magnitude.
            let scale: f64 = weights.iter().zip(&xs).map(|(w, x)| (w * x.lo).abs()).sum::<f64>()
                + float(bias, -20).abs();
            prop_assert!(p.width() <= 8.0 * (terms.len() as f64 + 1.0) * f64::EPSILON * scale);
        }
    }

    /// The order of `m1 2^e1` and `m2 2^e2`, exactly (both shifted to the
    /// smaller exponent; the shift must not overflow).
    fn compare(m1: i128, e1: i32, m2: i128, e2: i32) -> std::cmp::Ordering {
        let shift = |m: i128, by: i32| {
            let by = u32::try_from(by).expect("non-negative");
            assert!(m.unsigned_abs().leading_zeros() > by + 1, "shift overflows");
            m << by
        };
        let e = e1.min(e2);
        shift(m1, e1 - e).cmp(&shift(m2, e2 - e))
    }

    /// `x = m 2^e` with an integer `m` (53 bits at most), for finite `x`.
    fn decompose(x: f64) -> (i64, i32) {
        if x == 0.0 {
            return (0, 0);
        }
        let bits = x.to_bits();
        let sign = if bits >> 63 == 1 { -1 } else { 1 };
        let exponent = ((bits >> 52) & 0x7ff) as i32;
        let fraction = (bits & ((1 << 52) - 1)) as i64;
        let (m, e) = if exponent == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), exponent - 1075)
        };
        (sign * m, e)
    }
}
