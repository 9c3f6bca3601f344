#!/usr/bin/env python3
"""Python baseline for robmem's exact l2 separation (scripts/bench.sh).

    baseline.py gen N D C SEED OUTDIR   write OUTDIR/x.npy (N x D float64) and
                                        OUTDIR/y.npy (N int64 labels in 0..C)
    baseline.py genclust N D C SEED OUTDIR
                                        the same, clustered data of intrinsic
                                        dimension 16 (scripts/bench_prune.sh)
    baseline.py sep X.npy Y.npy         exact l2 separation with scikit-learn
                                        and with NumPy; prints one JSON object
    baseline.py gemm                    the machine's float32 matrix-multiply
                                        rate with NumPy (GFLOP/s), as JSON

The separation delta is min ||x_i - x_j||_2 over pairs with different labels.
"Exact" means the value robmem reports: the distance of the minimising pair
recomputed in float64 as a left-to-right sum of squared differences and a
square root (robmem's `Norm::L2.distance`), ties to the smallest (i, j).

- scikit-learn, the way a user would: for each label c,
  `pairwise_distances_argmin_min(X[y == c], X[y != c])` (float64, the
  data's type), the pair with the smallest distance over all labels, its
  distance recomputed exactly. The Gram-trick distances sklearn uses are
  rounded, so near-ties could pick a different pair; the JSON says which
  pair was found and the script compares the value with robmem's.
- NumPy, blocked Gram matrix: centred float32 points, row blocks against all
  points, same-label pairs masked; every pair within a rigorous float32
  error bound of the smallest approximate value is recomputed exactly.
"""

import json
import sys
import time

import numpy as np


def generate(n, d, c, seed, outdir):
    """Blobs: centres uniform in [0,1]^d, points centre + 0.5 N(0, I)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.0, 1.0, size=(c, d))
    labels = rng.integers(0, c, size=n).astype(np.int64)
    x = centres[labels] + 0.5 * rng.standard_normal((n, d))
    np.save(f"{outdir}/x.npy", x)
    np.save(f"{outdir}/y.npy", labels)


def generate_clustered(n, d, c, seed, outdir):
    """Clustered, low intrinsic dimension: 3 c Gaussian clusters (unit
    spread around centres 3 N(0, I)) in a 16-dimensional latent space, one
    label per cluster (cluster mod c), mapped by a fixed random 16 x d
    matrix, plus 0.05 N(0, I) noise in all d coordinates."""
    rng = np.random.default_rng(seed)
    latent = 16
    clusters = rng.integers(0, 3 * c, size=n)
    centres = 3.0 * rng.standard_normal((3 * c, latent))
    mix = rng.standard_normal((latent, d)) / np.sqrt(latent)
    z = centres[clusters] + rng.standard_normal((n, latent))
    x = z @ mix + 0.05 * rng.standard_normal((n, d))
    np.save(f"{outdir}/x.npy", x)
    np.save(f"{outdir}/y.npy", (clusters % c).astype(np.int64))


def exact(x, i, j):
    """robmem's Norm::L2.distance: sequential sum of squares, then sqrt."""
    diff = x[i] - x[j]
    return float(np.sqrt(np.cumsum(diff * diff)[-1]))


def best_of(x, pairs):
    """The (value, i, j) minimum over candidate pairs, exactly."""
    best = None
    for i, j in pairs:
        i, j = (int(i), int(j)) if i < j else (int(j), int(i))
        cand = (exact(x, i, j), i, j)
        if best is None or cand < best:
            best = cand
    return best


def sep_sklearn(x, y):
    from sklearn.metrics import pairwise_distances_argmin_min

    t0 = time.perf_counter()
    best = None
    for c in np.unique(y):
        own = np.flatnonzero(y == c)
        other = np.flatnonzero(y != c)
        arg, dist = pairwise_distances_argmin_min(x[own], x[other])
        k = int(np.argmin(dist))
        cand = (float(dist[k]), int(own[k]), int(other[arg[k]]))
        if best is None or cand[0] < best[0]:
            best = cand
    value, i, j = best_of(x, [(best[1], best[2])])
    return time.perf_counter() - t0, value, (i, j)


def sep_numpy(x, y, block=1024):
    t0 = time.perf_counter()
    n, d = x.shape
    a = (x - x.mean(axis=0)).astype(np.float32)
    sq = np.einsum("ij,ij->i", a, a, dtype=np.float64)
    # Bound on |approximate - exact| squared distance for any pair: the f32
    # dot product (2 gamma_d s_i s_j) plus the rounding of the coordinates to
    # f32 (8 u s^2), with a margin; the true minimiser P has approx_P <=
    # exact_P + tol <= exact_Q + tol <= approx_Q + 2 tol for every Q.
    u = 2.0**-24
    smax2 = float(sq.max()) * (1 + 1e-6)
    tol = 1.1 * (2 * d * u / (1 - d * u) * smax2 + 8 * u * smax2) + 1e-300
    best_approx = np.inf
    kept_i, kept_j, kept_v = [], [], []
    for r0 in range(0, n, block):
        r1 = min(r0 + block, n)
        d2 = sq[r0:r1, None] + sq[None, :] - 2.0 * (a[r0:r1] @ a.T).astype(np.float64)
        d2[y[r0:r1, None] == y[None, :]] = np.inf
        best_approx = min(best_approx, float(d2.min()))
        rows, cols = np.nonzero(d2 <= best_approx + 2 * tol)
        kept_i.append(rows + r0)
        kept_j.append(cols)
        kept_v.append(d2[rows, cols])
    i = np.concatenate(kept_i)
    j = np.concatenate(kept_j)
    v = np.concatenate(kept_v)
    keep = v <= best_approx + 2 * tol
    value, bi, bj = best_of(x, zip(i[keep], j[keep]))
    return time.perf_counter() - t0, value, (bi, bj), int(keep.sum())


def gemm_rate(n=3072, k=784, repeat=5):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    a @ b  # warm up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n * n * k / best / 1e9


def main(argv):
    if argv[1] == "gen":
        generate(int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]), argv[6])
    elif argv[1] == "genclust":
        generate_clustered(int(argv[2]), int(argv[3]), int(argv[4]), int(argv[5]), argv[6])
    elif argv[1] == "sep":
        x = np.load(argv[2])
        y = np.load(argv[3])
        t_sk, v_sk, p_sk = sep_sklearn(x, y)
        t_np, v_np, p_np, kept = sep_numpy(x, y)
        counts = np.bincount(y)
        n = len(y)
        pairs = (n * n - int((counts.astype(np.int64) ** 2).sum())) // 2
        print(json.dumps({
            "points": n, "dim": x.shape[1],
            "sklearn_seconds": t_sk, "sklearn_delta": v_sk, "sklearn_pair": p_sk,
            "numpy_seconds": t_np, "numpy_delta": v_np, "numpy_pair": p_np,
            "numpy_candidates": kept,
            # Flops the exact l2 separation needs: one d-term dot product
            # (2 d flops) per differently-labelled unordered pair.
            "needed_gflop": 2.0 * x.shape[1] * pairs / 1e9,
        }))
    elif argv[1] == "gemm":
        print(json.dumps({"gemm_gflops": gemm_rate()}))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
