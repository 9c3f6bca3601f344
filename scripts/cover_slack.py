#!/usr/bin/env python3
"""Can condensation (specs/construction.md section 5C) cover anything on the
data of scripts/bench.sh?  For a random sample of points i, the best cover
slack any other point p of i's label could have at radius r = 0.5 of the
limit (r = delta / 4, l2, in the full space, no projection):

    slack(i) = max over same-label p != i of
               min over other-label q of dist(x_i, bisector(p, q)) - r,

dist signed (positive on p's side): p's score beats q's on the whole ball
around x_i only if slack(i) >= 0, whatever the margin.

Usage: cover_slack.py X.npy Y.npy [SAMPLE] [SEED] [NEAR]

The minimum over q is first taken over the NEAR other-label points nearest
to x_i only: a minimum over fewer q is larger, so `upper` bounds slack(i)
from above (exact enough: the Gram-matrix distances are float64). For the
p attaining `upper`, the minimum over all q gives `lower` <= slack(i).
delta is the exact l2 separation (float64 Gram in blocks, the closest
candidate pairs recomputed directly). Prints one JSON object.
"""
import json
import sys
import time

import numpy as np


def separation(x, y, block=1024):
    """Exact smallest distance between points of different labels."""
    sq = np.einsum("ij,ij->i", x, x)
    pairs = []
    for s in range(0, len(x), block):
        g = sq[s:s + block, None] + sq[None, :] - 2.0 * x[s:s + block] @ x.T
        g[y[s:s + block, None] == y[None, :]] = np.inf
        k = np.unravel_index(np.argmin(g), g.shape)
        pairs.append((s + k[0], k[1]))
    # Each block's closest pair recomputed directly (the Gram matrix's
    # rounding is far below the gaps between candidates here).
    return min(float(np.linalg.norm(x[i] - x[j])) for i, j in pairs)


def main(argv):
    x = np.load(argv[1]).astype(np.float64)
    y = np.load(argv[2]).astype(np.int64)
    sample = int(argv[3]) if len(argv) > 3 else 500
    seed = int(argv[4]) if len(argv) > 4 else 1
    near = int(argv[5]) if len(argv) > 5 else 256
    started = time.time()
    delta = separation(x, y)
    t_delta = time.time() - started
    r = delta / 4.0
    sq = np.einsum("ij,ij->i", x, x)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x), size=sample, replace=False)
    uppers, lowers, selfs = [], [], []
    for i in picks:
        xi = x[i]
        same = np.flatnonzero(y == y[i])
        same = same[same != i]
        other = np.flatnonzero(y != y[i])
        d_other = np.sqrt(np.maximum(sq[other] + sq[i] - 2.0 * x[other] @ xi, 0.0))
        selfs.append(d_other.min() / 2.0 - r)
        q = other[np.argsort(d_other)[:near]]
        # value[p, q] = (<x_p - x_q, x_i> - (|x_p|^2 - |x_q|^2) / 2) / |x_p - x_q|
        a = x[same] @ xi
        b = x[q] @ xi
        pq = x[same] @ x[q].T
        norm = np.sqrt(np.maximum(sq[same, None] + sq[None, q] - 2.0 * pq, 1e-300))
        value = (a[:, None] - b[None, :] - (sq[same, None] - sq[None, q]) / 2.0) / norm
        worst = value.min(axis=1)
        k = int(np.argmax(worst))
        uppers.append(worst[k] - r)
        p = same[k]
        diff = x[p] - x[other]
        full = (diff @ xi - (sq[p] - sq[other]) / 2.0) / np.linalg.norm(diff, axis=1)
        lowers.append(full.min() - r)
    uppers, lowers, selfs = map(np.array, (uppers, lowers, selfs))
    q = [0.0, 0.5, 0.9, 0.99, 1.0]
    print(json.dumps({
        "points": len(x), "dim": x.shape[1], "labels": int(y.max() + 1),
        "delta": delta, "radius": r, "sample": sample, "near": near,
        "covered_possible": int((uppers >= 0).sum()),
        "upper_over_r_quantiles": dict(zip(map(str, q), np.quantile(uppers / r, q).round(4).tolist())),
        "lower_over_r_quantiles": dict(zip(map(str, q), np.quantile(lowers / r, q).round(4).tolist())),
        "self_over_r_quantiles": dict(zip(map(str, q), np.quantile(selfs / r, q).round(4).tolist())),
        "seconds_delta": round(t_delta, 1), "seconds": round(time.time() - started, 1),
    }))


if __name__ == "__main__":
    main(sys.argv)
