//! Choosing a projection: the best one for a width budget
//! ([`best_for_width`]), the narrowest one for a radius
//! ([`smallest_m_for_radius`]), and resampling random maps until one works
//! ([`random_until`]).
//!
//! Every candidate is judged by its measured `sigma_max` (specs/construction.md
//! section 3), which costs one projected separation, O(N^2 m); the searches
//! keep the number of such evaluations logarithmic in m, and for p = 2 the
//! pca search needs one enumeration of close pairs instead
//! ([`super::close_set`]).

use super::close_set::{self, CloseSet, SearchMemory, Verdict};
use super::strategies::{identity, random, span, PcaBasis};
use super::{Projected, Projection, ProjectionError, Strategy};
use crate::analysis::separation::separation;
use crate::data::Dataset;
use crate::norm::Norm;
use crate::spec::ProjectionChoice;
use ndarray::{Array2, ArrayView1, Axis};

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
        crate::progress::message(&format!(
            "{} m = {}",
            projection.strategy.name(),
            projection.m()
        ));
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
/// Cost: an evaluation is a projected separation over all N points,
/// O(N^2 m). Most are skipped: a refuter (`Refuter`) proves failures from close
/// pairs (those of earlier failed evaluations, and for N >= 8192 those of a
/// 4096-point sample), and only maps it cannot refute are evaluated; the
/// decisions, and so the result, are the same as without it. For p = 2 the
/// doubling starts above the refuted m (`gallop_smallest`: same result,
/// since success is monotone there). `Auto` searches pca first and random
/// only below pca's m, where pca's close pairs usually refute every draw.
///
/// For p = 2 the pca search's probes consult one list of close pairs
/// ([`close_set`]) whenever the refuter rules out every m below 16 or more
/// and the list fits in memory: one enumeration, then one projection of the
/// chosen map; the result is the same.
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
    let memory = SearchMemory::new(data, norm);
    smallest_m_for_radius_with(data, norm, choice, sigma, seed, m_max, &memory, &|_| true)
}

/// [`smallest_m_for_radius`], reusing (and filling) `memory`: the PCA basis,
/// and a close-pair list that also decides a later search at a radius up
/// to [`close_set::HEADROOM`] larger. A memory made for other data or
/// another norm is ignored.
///
/// A candidate that certifies `sigma` counts as a success only when
/// `accept` accepts it too (the planner's check that its network is
/// certified in the arithmetic); the search still assumes success is
/// monotone in m, and every candidate it returns was accepted.
#[allow(clippy::too_many_arguments)]
pub fn smallest_m_for_radius_with(
    data: &Dataset,
    norm: Norm,
    choice: ProjectionChoice,
    sigma: f64,
    seed: u64,
    m_max: usize,
    memory: &SearchMemory<'_>,
    accept: &dyn Fn(&Candidate) -> bool,
) -> Option<Candidate> {
    let own;
    let memory = if memory.is_for(data, norm) {
        memory
    } else {
        own = SearchMemory::new(data, norm);
        &own
    };
    let d = data.dim();
    let limit = m_max.min(d);
    // One refuter for the whole search: close pairs found while searching
    // pca also refute random maps.
    let mut refuter = Refuter::new(data, sigma, accept);
    let search = |limit: usize, probe: &mut dyn FnMut(usize, bool) -> Probe| {
        if norm == Norm::L2 {
            gallop_smallest(limit, probe)
        } else {
            search_smallest(limit, |m| match probe(m, true) {
                Probe::Certified(c) => Some(*c),
                _ => None,
            })
        }
    };
    let pca_search = |limit: usize, refuter: &mut Refuter<'_>| {
        let basis = memory.basis();
        if norm == Norm::L2 {
            make_close_set(data, sigma, limit, refuter, memory);
        }
        let list = memory.close_set_for(sigma);
        search(limit, &mut |m, full| match basis.projection(m, norm) {
            Ok(p) => match &list {
                Some(list) => listed_probe(list, data, basis, p, sigma, full, refuter),
                None => refuter.probe(p, full),
            },
            Err(_) => Probe::Failed,
        })
    };
    let random_search = |limit: usize, refuter: &mut Refuter<'_>| {
        // Draws 0..SEARCH_DRAWS in order; the first that certifies wins, as
        // in `random_best`. Refuted only when every draw is.
        search(limit, &mut |m, full| {
            let mut outcome = Probe::Refuted;
            for draw in 0..SEARCH_DRAWS as u64 {
                let Ok(p) = random(data, m, seed, draw, norm) else {
                    return Probe::Failed;
                };
                match refuter.probe(p, full) {
                    Probe::Refuted => {}
                    Probe::Failed => outcome = Probe::Failed,
                    open_or_certified => return open_or_certified,
                }
            }
            outcome
        })
    };
    let identity_eval = || {
        (d <= m_max)
            .then(|| Candidate::evaluate(identity(data, norm), data))
            .filter(|c| c.certifies(sigma) && accept(c))
    };
    let span_eval = |limit: usize| {
        span(data, norm)
            .ok()
            .filter(|p| p.m() <= limit)
            .map(|p| Candidate::evaluate(p, data))
            .filter(|c| c.certifies(sigma) && accept(c))
    };
    match choice {
        ProjectionChoice::Identity => identity_eval(),
        ProjectionChoice::Span => span_eval(m_max),
        ProjectionChoice::Pca => pca_search(limit, &mut refuter),
        ProjectionChoice::Random => random_search(limit, &mut refuter),
        ProjectionChoice::Auto => {
            let mut best = pca_search(limit, &mut refuter);
            let below = best.as_ref().map_or(limit, |c| c.projection.m() - 1);
            if let Some(c) = random_search(below, &mut refuter) {
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

/// Makes, unless `memory` already holds one for `sigma`, the [`CloseSet`]
/// of the l_2 pca maps at the first m the refuter cannot rule out (every
/// smaller m fails), when that m is at least [`close_set::MIN_M`] and the
/// list fits ([`CloseSet::enumerate`]); the search's probes then consult it
/// (`listed_probe`).
fn make_close_set(
    data: &Dataset,
    sigma: f64,
    limit: usize,
    refuter: &mut Refuter<'_>,
    memory: &SearchMemory<'_>,
) {
    if memory.close_set_for(sigma).is_some() {
        return;
    }
    let basis = memory.basis();
    let map = |m: usize| basis.projection(m, Norm::L2).ok();
    let lo = refuted_prefix(0, limit, &mut |m, _| match map(m) {
        Some(p) => refuter.probe(p, false),
        None => Probe::Failed,
    });
    let m_low = lo + 1;
    if m_low > limit || m_low < close_set::MIN_M {
        return;
    }
    let Some(projection) = map(m_low) else {
        return;
    };
    let projected = projection.transform(data.points.view());
    let cutoff = CloseSet::cutoff(close_set::threshold(&projection, sigma));
    if let Some(set) = CloseSet::enumerate(data, &projection, &projected, sigma, cutoff) {
        memory.remember(set);
    }
}

/// A probe of the search over m that consults a close-pair list first: an
/// m below its `m_low`, or one a listed pair fails, is refuted (the pair
/// goes to `refuter`, for random maps); one the list certifies is open, or,
/// on a full probe, certified with the list's candidate; one the list
/// cannot decide is probed by `refuter` as without a list.
fn listed_probe(
    (set, listed): &(CloseSet, close_set::ListedPoints),
    data: &Dataset,
    basis: &PcaBasis,
    projection: Projection,
    sigma: f64,
    full: bool,
    refuter: &mut Refuter<'_>,
) -> Probe {
    if projection.m() < set.m_low {
        return Probe::Refuted;
    }
    match set.verdict(data, basis, &projection, sigma, listed) {
        Verdict::Fails(pair) => {
            refuter.remember(pair);
            Probe::Refuted
        }
        Verdict::Certifies if !full => Probe::Open,
        Verdict::Certifies => {
            let candidate = set.candidate(projection, data);
            if candidate.certifies(sigma) && (refuter.accept)(&candidate) {
                Probe::Certified(Box::new(candidate))
            } else {
                Probe::Failed
            }
        }
        Verdict::Unknown => refuter.probe(projection, full),
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

/// What a probe of the search over m learnt about one m.
enum Probe {
    /// Known without an evaluation (a close pair, or a close-pair list)
    /// that no map at this m certifies the radius.
    Refuted,
    /// Not refuted, and not evaluated (a cheap probe).
    Open,
    /// Evaluated: no map at this m certifies the radius.
    Failed,
    /// Evaluated: this map certifies the radius (boxed: a candidate holds
    /// the projected data).
    Certified(Box<Candidate>),
}

/// Smallest m in 1..=`limit` for which `probe(m, true)` certifies, assuming
/// success is monotone in m (as for p = 2 and nested maps); the same answer
/// as [`search_smallest`] under that assumption, with fewer full
/// evaluations when refutations are available.
///
/// Every m up to `lo` is known to fail. Each round first raises `lo` over
/// the m that cheap probes (`probe(m, false)`) refute — refutation is
/// monotone too: a pair close under the first m rows of a nested map is
/// close under fewer rows — by galloping (lo + 1, lo + 2, lo + 4, ...) and
/// bisection; then evaluates fully at `lo + step` (step 1, doubling after
/// each failure) until a success, and bisects between the last failure and
/// the first success. Starting right above the refuted m is the point: the
/// first full evaluation often succeeds, and a failure's closest pair
/// usually refutes the m right above it.
fn gallop_smallest(limit: usize, probe: &mut dyn FnMut(usize, bool) -> Probe) -> Option<Candidate> {
    let mut lo = 0;
    let mut found: Option<(usize, Candidate)> = None;
    let mut step = 1;
    loop {
        let top = found.as_ref().map_or(limit, |(m, _)| m - 1);
        lo = refuted_prefix(lo, top, probe);
        if lo >= top {
            return found.map(|(_, c)| c);
        }
        let m = match &found {
            None => (lo + step).min(top),
            Some((hi, _)) => lo + (hi - lo) / 2,
        };
        match probe(m, true) {
            Probe::Certified(c) => found = Some((m, *c)),
            _ => {
                lo = m;
                step *= 2;
            }
        }
    }
}

/// The largest m in `lo..=top` such that cheap probes refute every m in
/// `lo + 1..=m` (assuming refutation is monotone in m): galloping from
/// `lo + 1`, then bisection.
fn refuted_prefix(lo: usize, top: usize, probe: &mut dyn FnMut(usize, bool) -> Probe) -> usize {
    let refuted = |m: usize, probe: &mut dyn FnMut(usize, bool) -> Probe| {
        matches!(probe(m, false), Probe::Refuted)
    };
    // refuted up to `known`; `open` is the smallest m known not refuted.
    let (mut known, mut open) = (lo, top + 1);
    let mut step = 1;
    while known < top {
        let m = (known + step).min(top);
        if !refuted(m, probe) {
            open = m;
            break;
        }
        known = m;
        step *= 2;
    }
    while open - known > 1 {
        let mid = known + (open - known) / 2;
        if refuted(mid, probe) {
            known = mid;
        } else {
            open = mid;
        }
    }
    known
}

/// Data sets with at least this many points get a [`Refuter`] sample.
const SAMPLE_MIN_POINTS: usize = 8192;

/// Points in a [`Refuter`] sample.
const SAMPLE_POINTS: usize = 4096;

/// Relative slack of [`Refuter`]'s comparisons: far above the rounding of a
/// projected distance computed two ways (about `(d + 2) eps`), far below
/// any margin that matters to the search.
const REFUTE_SLACK: f64 = 1e-9;

/// Proves, without a projected separation over all N points, that a map
/// cannot certify radius `sigma`: if some differently-labelled pair (i, j)
/// has `||U x_i - U x_j||_2 <= 2 sigma ||U||_{p->2}` (with a relative slack
/// of 1e-9 for rounding), then `delta' <= 2 sigma ||U||_{p->2}` and
/// [`Projection::certifies`] is false. Refutations are only ever used to
/// skip evaluations that would fail, so a search with a refuter takes the
/// same decisions, and returns the same candidate, as one without: only
/// faster. It never certifies anything.
///
/// Two sources of close pairs:
/// - the closest pair of every evaluation that failed (distances under the
///   nested maps of pca and random grow with m, and a pair that is close
///   under one map is often close under another);
/// - for N >= [`SAMPLE_MIN_POINTS`], the separation of a fixed sample of
///   [`SAMPLE_POINTS`] points (every (N / 4096)-th), about (4096 / N)^2 of
///   the cost of the full separation: it refutes maps far below the answer,
///   where close pairs are plentiful.
struct Refuter<'a> {
    data: &'a Dataset,
    sigma: f64,
    /// What a certifying candidate must also pass (see
    /// [`smallest_m_for_radius_with`]).
    accept: &'a dyn Fn(&Candidate) -> bool,
    /// Known close pairs (data indices), oldest first.
    pairs: Vec<(usize, usize)>,
    /// The sample's row indices, points and labels.
    sample: Option<(Vec<usize>, Array2<f64>, Vec<u32>)>,
}

impl<'a> Refuter<'a> {
    /// A refuter for radius `sigma` with no known pairs, whose full probes
    /// certify only candidates `accept` accepts.
    fn new(data: &'a Dataset, sigma: f64, accept: &'a dyn Fn(&Candidate) -> bool) -> Self {
        let n = data.len();
        let sample = (n >= SAMPLE_MIN_POINTS).then(|| {
            let step = n.div_ceil(SAMPLE_POINTS);
            let rows: Vec<usize> = (0..n).step_by(step).collect();
            let points = data.points.select(Axis(0), &rows);
            let labels = rows.iter().map(|&i| data.labels[i]).collect();
            (rows, points, labels)
        });
        Refuter {
            data,
            sigma,
            accept,
            pairs: Vec::new(),
            sample,
        }
    }

    /// Refutes `projection` if it can; otherwise, with `full`, evaluates
    /// it (one projected separation over all points) and keeps the closest
    /// pair of a failed evaluation; without `full`, answers [`Probe::Open`].
    fn probe(&mut self, projection: Projection, full: bool) -> Probe {
        if self.refutes(&projection) {
            return Probe::Refuted;
        }
        if !full {
            return Probe::Open;
        }
        let candidate = Candidate::evaluate(projection, self.data);
        if candidate.certifies(self.sigma) && (self.accept)(&candidate) {
            return Probe::Certified(Box::new(candidate));
        }
        if let Some(pair) = candidate.projected.pair {
            self.remember(pair);
        }
        Probe::Failed
    }

    fn remember(&mut self, pair: (usize, usize)) {
        if !self.pairs.contains(&pair) {
            self.pairs.push(pair);
        }
    }

    /// True when a known pair, or the sample, proves that `projection`
    /// does not certify `sigma`.
    fn refutes(&mut self, projection: &Projection) -> bool {
        let threshold = 2.0 * self.sigma * projection.norm_bound;
        if !(threshold.is_finite() && threshold > 0.0) {
            return false;
        }
        // Rounding of U (x - mu) scales with ||U||_F ||x - mu||_2.
        let frobenius = projection.matrix.iter().map(|x| x * x).sum::<f64>().sqrt();
        let centred_norm = |x: ArrayView1<f64>| {
            (&x - &projection.centre)
                .iter()
                .map(|v| v * v)
                .sum::<f64>()
                .sqrt()
        };
        let points = &self.data.points;
        let close = |distance: f64, i: usize, j: usize| {
            let slack = REFUTE_SLACK
                * (distance
                    + frobenius * (centred_norm(points.row(i)) + centred_norm(points.row(j))));
            distance * (1.0 + REFUTE_SLACK) + slack <= threshold
        };
        let refuted = self.pairs.iter().any(|&(i, j)| {
            let difference = &points.row(i) - &points.row(j);
            let projected = projection.matrix.dot(&difference);
            close(projected.dot(&projected).sqrt(), i, j)
        });
        if refuted {
            return true;
        }
        let Some((rows, sample, labels)) = &self.sample else {
            return false;
        };
        let z = projection.transform(sample.view());
        let found = separation(z.view(), labels, Norm::L2);
        match found.pair {
            Some((a, b)) if close(found.delta, rows[a], rows[b]) => {
                let pair = (rows[a], rows[b]);
                self.remember(pair);
                true
            }
            _ => false,
        }
    }
}
