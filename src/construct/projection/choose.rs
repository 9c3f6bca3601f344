//! Choosing a projection: the best one for a width budget
//! ([`best_for_width`]), the narrowest one for a radius
//! ([`smallest_m_for_radius`]), and resampling random maps until one works
//! ([`random_until`]).
//!
//! Every candidate is judged by its measured `sigma_max` (construction.md
//! section 3), which costs one projected separation, O(N^2 m); the searches
//! keep the number of such evaluations logarithmic in m.

use super::strategies::{identity, random, span, PcaBasis};
use super::{Projected, Projection, ProjectionError, Strategy};
use crate::data::Dataset;
use crate::norm::Norm;
use crate::spec::ProjectionChoice;

/// Random draws [`best_for_width`] tries when a radius is needed.
pub const DEFAULT_MAX_DRAWS: usize = 8;

/// Random draws per width in [`smallest_m_for_radius`] (each costs a
/// projected separation).
const SEARCH_DRAWS: usize = 4;

/// Candidates whose `sigma_max` differ by less than this relative amount are
/// tied (rounding alone separates, e.g., identity from span at p = 2).
const TIE_TOLERANCE: f64 = 1e-9;

/// A projection with its projected data and the radius it certifies.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The map.
    pub projection: Projection,
    /// The data under the map, with `delta'`.
    pub projected: Projected,
    /// `projection.sigma_max(&projected)`.
    pub sigma_max: f64,
}

impl Candidate {
    /// Projects the data and measures `sigma_max`.
    pub fn evaluate(projection: Projection, data: &Dataset) -> Candidate {
        let projected = projection.project(data);
        let sigma_max = projection.sigma_max(&projected);
        Candidate {
            projection,
            projected,
            sigma_max,
        }
    }

    /// Whether this candidate certifies radius `sigma`
    /// ([`Projection::certifies`]).
    pub fn certifies(&self, sigma: f64) -> bool {
        self.projection.certifies(&self.projected, sigma)
    }

    /// True when `self` should be preferred to `other`: a clearly larger
    /// `sigma_max`, or a tie (within a relative 1e-9) and a smaller m, or the
    /// same m and a simpler strategy (identity, span, pca, random).
    fn beats(&self, other: &Candidate) -> bool {
        let (a, b) = (self.sigma_max, other.sigma_max);
        let scale = a.abs().max(b.abs());
        let tied = a == b || (a - b).abs() <= TIE_TOLERANCE * scale;
        if !tied {
            return a > b;
        }
        (self.projection.m(), self.projection.strategy.simplicity())
            < (other.projection.m(), other.projection.strategy.simplicity())
    }
}

/// One strategy tried by [`best_for_width`], for reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Considered {
    /// The strategy.
    pub strategy: Strategy,
    /// Its projected dimension.
    pub m: usize,
    /// The radius it certifies.
    pub sigma_max: f64,
    /// Random draws tried (1 for deterministic strategies).
    pub draws: usize,
}

/// The result of [`best_for_width`]: the winner and everything tried.
#[derive(Clone, Debug)]
pub struct Choice {
    /// The candidate with the largest `sigma_max`.
    pub best: Candidate,
    /// Every strategy tried, in the order identity, span, pca, random.
    pub considered: Vec<Considered>,
}

/// Resamples random maps (draws 0, 1, ...) until one certifies `radius`
/// (`2 radius ||U||_{p->2} < delta'`); the projection's `draws` says how many
/// it took. Errors: m = 0 or m > d, or no draw in `max_draws` certified
/// ([`ProjectionError::NoCertifyingDraw`], with the best `sigma_max` seen).
pub fn random_until(
    data: &Dataset,
    m: usize,
    seed: u64,
    norm: Norm,
    radius: f64,
    max_draws: usize,
) -> Result<Candidate, ProjectionError> {
    let (best, tried) = random_best(data, m, seed, norm, Some(radius), max_draws)?;
    match best {
        Some(c) if c.certifies(radius) => Ok(c),
        other => Err(ProjectionError::NoCertifyingDraw {
            m,
            radius,
            draws: tried,
            best_sigma_max: other.map_or(0.0, |c| c.sigma_max),
        }),
    }
}

/// Tries draws 0.. of [`random`]: only draw 0 without a radius; with one,
/// until a draw certifies it or `max_draws` are spent. Returns the first
/// certifying draw, else the draw with the largest `sigma_max`, and the
/// number of draws tried.
fn random_best(
    data: &Dataset,
    m: usize,
    seed: u64,
    norm: Norm,
    radius: Option<f64>,
    max_draws: usize,
) -> Result<(Option<Candidate>, usize), ProjectionError> {
    let draws = if radius.is_some() { max_draws } else { 1 };
    let mut best: Option<Candidate> = None;
    for draw in 0..draws {
        let c = Candidate::evaluate(random(data, m, seed, draw as u64, norm)?, data);
        let done = radius.is_some_and(|r| c.certifies(r));
        if done || best.as_ref().is_none_or(|b| c.sigma_max > b.sigma_max) {
            best = Some(c);
        }
        if done {
            return Ok((best, draw + 1));
        }
    }
    Ok((best, draws))
}

/// The projection certifying the largest radius at projected dimension
/// (width budget) `m`, among the strategies that apply there:
/// identity when m >= d; span when N - 1 < d and its rank is <= m; pca and
/// random when m <= d. Random uses draw 0, or, with `radius_needed`, up to
/// [`DEFAULT_MAX_DRAWS`] draws until one certifies it (else the best draw).
/// Ties (within a relative 1e-9) go to the smaller m, then to the simpler
/// strategy (identity, span, pca, random).
///
/// Cost: one projected separation per strategy tried (more for random with
/// `radius_needed`). Errors: m = 0.
pub fn best_for_width(
    data: &Dataset,
    norm: Norm,
    m: usize,
    seed: u64,
    radius_needed: Option<f64>,
) -> Result<Choice, ProjectionError> {
    if m == 0 {
        return Err(ProjectionError::ZeroWidth);
    }
    let d = data.dim();
    let mut tried: Vec<(Candidate, usize)> = Vec::new();
    if m >= d {
        tried.push((Candidate::evaluate(identity(data, norm), data), 1));
    }
    if let Ok(p) = span(data, norm) {
        if p.m() <= m {
            tried.push((Candidate::evaluate(p, data), 1));
        }
    }
    if m <= d {
        let basis = PcaBasis::new(data);
        tried.push((Candidate::evaluate(basis.projection(m, norm)?, data), 1));
        let (best, draws) = random_best(data, m, seed, norm, radius_needed, DEFAULT_MAX_DRAWS)?;
        tried.push((best.expect("at least one draw"), draws));
    }
    let considered = tried
        .iter()
        .map(|(c, draws)| Considered {
            strategy: c.projection.strategy,
            m: c.projection.m(),
            sigma_max: c.sigma_max,
            draws: *draws,
        })
        .collect();
    let best = tried
        .into_iter()
        .map(|(c, _)| c)
        .reduce(|best, c| if c.beats(&best) { c } else { best })
        .expect("m >= 1 admits identity or pca");
    Ok(Choice { best, considered })
}

/// The smallest projected dimension m <= `m_max` whose map certifies radius
/// `sigma` (`2 sigma ||U||_{p->2} < delta'`), for the strategy `choice`
/// (`Auto`: the smallest m over all strategies, ties to the simpler one).
///
/// Identity and span have a single m (d and the data's rank). For pca and
/// random the search doubles m (1, 2, 4, ...) until a map certifies, then
/// bisects between the last failure and the first success: O(log m)
/// evaluations. It is a search heuristic: `sigma_max(m)` is nondecreasing in
/// m for p = 2 (the maps are nested, so `delta'` can only grow, and the
/// bound stays 1), but not always for other p. The result is always
/// verified (it certifies `sigma`); it may not be the absolute smallest m
/// when `sigma_max(m)` is not monotone. Random tries up to 4 draws per m.
///
/// Returns `None` when no m <= `m_max` certifies `sigma` (or the strategy
/// does not apply, e.g. span with N - 1 >= d).
pub fn smallest_m_for_radius(
    data: &Dataset,
    norm: Norm,
    choice: ProjectionChoice,
    sigma: f64,
    seed: u64,
    m_max: usize,
) -> Option<Candidate> {
    let d = data.dim();
    let limit = m_max.min(d);
    let pca_search = |limit: usize| {
        let basis = PcaBasis::new(data);
        search_smallest(limit, |m| {
            let c = Candidate::evaluate(basis.projection(m, norm).ok()?, data);
            c.certifies(sigma).then_some(c)
        })
    };
    let random_search = |limit: usize| {
        search_smallest(limit, |m| {
            random_best(data, m, seed, norm, Some(sigma), SEARCH_DRAWS)
                .ok()?
                .0
                .filter(|c| c.certifies(sigma))
        })
    };
    let identity_eval = || {
        (d <= m_max)
            .then(|| Candidate::evaluate(identity(data, norm), data))
            .filter(|c| c.certifies(sigma))
    };
    let span_eval = |limit: usize| {
        span(data, norm)
            .ok()
            .filter(|p| p.m() <= limit)
            .map(|p| Candidate::evaluate(p, data))
            .filter(|c| c.certifies(sigma))
    };
    match choice {
        ProjectionChoice::Identity => identity_eval(),
        ProjectionChoice::Span => span_eval(m_max),
        ProjectionChoice::Pca => pca_search(limit),
        ProjectionChoice::Random => random_search(limit),
        ProjectionChoice::Auto => {
            let mut best = pca_search(limit);
            let below = best.as_ref().map_or(limit, |c| c.projection.m() - 1);
            if let Some(c) = random_search(below) {
                best = Some(c);
            }
            // Span and identity win ties at equal m (simpler).
            let up_to = best.as_ref().map_or(m_max, |c| c.projection.m());
            if let Some(c) = span_eval(up_to) {
                best = Some(c);
            }
            let up_to = best.as_ref().map_or(m_max, |c| c.projection.m());
            if d <= up_to {
                if let Some(c) = identity_eval() {
                    best = Some(c);
                }
            }
            best
        }
    }
}

/// Smallest m in 1..=`limit` for which `eval` succeeds, assuming success is
/// monotone in m: doubling, then bisection between the last failure and the
/// first success. Every returned candidate came from a successful `eval`.
fn search_smallest(
    limit: usize,
    mut eval: impl FnMut(usize) -> Option<Candidate>,
) -> Option<Candidate> {
    if limit == 0 {
        return None;
    }
    let mut failed = 0; // largest m known to fail (0: none tried)
    let mut m = 1;
    let mut found = loop {
        if let Some(c) = eval(m) {
            break c;
        }
        failed = m;
        if m == limit {
            return None;
        }
        m = (2 * m).min(limit);
    };
    let mut succeeded = m;
    while succeeded - failed > 1 {
        let mid = failed + (succeeded - failed) / 2;
        match eval(mid) {
            Some(c) => {
                succeeded = mid;
                found = c;
            }
            None => failed = mid,
        }
    }
    Some(found)
}
