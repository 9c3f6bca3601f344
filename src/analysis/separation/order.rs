//! Points regrouped by class, so that a scan visits only pairs with
//! different labels: the pairs (i, j) with i in class c and j in a later
//! class, which are contiguous in the regrouped order.

/// The class-sorted order of a labelled point set.
pub(crate) struct ClassOrder {
    /// `original[k]` is the original index of the point at sorted position k.
    pub original: Vec<usize>,
    /// `later[k]`: the first sorted position whose class is larger than the
    /// class of position k (so the partners of k are `later[k]..n`).
    pub later: Vec<usize>,
}

impl ClassOrder {
    /// Sorts point indices by label (stable, so ties keep their order).
    pub fn new(labels: &[u32]) -> ClassOrder {
        let n = labels.len();
        let mut original: Vec<usize> = (0..n).collect();
        original.sort_by_key(|&i| labels[i]);
        let mut later = vec![n; n];
        let mut end = n;
        for k in (0..n).rev() {
            if k + 1 < n && labels[original[k]] != labels[original[k + 1]] {
                end = k + 1;
            }
            later[k] = end;
        }
        ClassOrder { original, later }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.original.len()
    }

    /// The original pair (i, j) with i < j for sorted positions a and b.
    pub fn pair(&self, a: usize, b: usize) -> (usize, usize) {
        let (i, j) = (self.original[a], self.original[b]);
        (i.min(j), i.max(j))
    }
}
