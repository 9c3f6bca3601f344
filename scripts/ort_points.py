#!/usr/bin/env python3
"""onnxruntime on a compiled network at every data point and at probes on
the certified balls: the predicted label must be the point's label.

Usage: ort_points.py NET.onnx DATA.csv LABEL_COLUMN RADIUS [PROBES] [SEED]

The CSV's other columns are the inputs, in order. Probes: PROBES points per
data point at l2 distance 0.999 RADIUS in uniformly random directions (the
certificate claims every point of the closed ball). The output `logits`
is read by argmax, `label` by rounding to the nearest integer. Prints one
JSON object; exits 1 on any disagreement.
"""
import csv
import json
import sys

import numpy as np
import onnxruntime as ort


def main(argv):
    path, data, column, radius = argv[1], argv[2], argv[3], float(argv[4])
    probes = int(argv[5]) if len(argv) > 5 else 20
    seed = int(argv[6]) if len(argv) > 6 else 1
    with open(data) as f:
        rows = list(csv.DictReader(f))
    inputs = [c for c in rows[0] if c != column]
    x = np.array([[float(r[c]) for c in inputs] for r in rows])
    y = np.array([int(r[column]) for r in rows])
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = sess.get_inputs()[0]
    out = sess.get_outputs()[0].name
    dtype = np.float64 if "double" in feed.type else np.float32

    def predict(points):
        got = sess.run([out], {feed.name: points.astype(dtype)})[0]
        if out == "logits":
            return got.argmax(axis=1)
        return np.rint(got[:, 0]).astype(np.int64)

    wrong_points = int((predict(x) != y).sum())
    rng = np.random.default_rng(seed)
    wrong_probes = 0
    for _ in range(probes):
        u = rng.standard_normal(x.shape)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        wrong_probes += int((predict(x + 0.999 * radius * u) != y).sum())
    print(json.dumps({
        "onnx": path, "output": out, "points": len(x), "probes": probes * len(x),
        "wrong_points": wrong_points, "wrong_probes": wrong_probes,
        "onnxruntime": ort.__version__,
    }))
    return 0 if wrong_points == 0 and wrong_probes == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
