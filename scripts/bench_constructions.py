#!/usr/bin/env python3
"""Scores vs distances, side by side (issue 11): for every data set in l1,
l2 and linf, and for raw-scale tables made here (one feature in the
thousands that varies by units, the others small; integer coordinates),
compile with `radius = max` under `construction = scores` and `distances`,
in float32 and float64, and print a Markdown table of the certified ratio,
width, depth, parameters and compile seconds.

Usage: python3 scripts/bench_constructions.py [--robmem target/release/robmem]
Standard library only; writes its specs and tables under a temporary folder.
"""
import argparse
import json
import os
import random
import subprocess
import tempfile


def raw_table(path, seed, n, d, labels=3):
    """One column in [1500, 1550) by units, the others integers 0..5 or
    reals below 10; rows equal to an earlier row of another label dropped."""
    rng = random.Random(seed)
    seen = {}
    rows = []
    while len(rows) < n:
        row = [1500 + rng.randrange(50)]
        row += [rng.randrange(6) if k % 2 else round(rng.uniform(0, 10), 2) for k in range(d - 1)]
        label = rng.randrange(labels)
        key = tuple(row)
        if seen.setdefault(key, label) != label:
            continue
        rows.append((row, label))
    with open(path, "w") as f:
        f.write(",".join(f"f{k}" for k in range(d)) + ",target\n")
        for row, label in rows:
            f.write(",".join(str(v) for v in row) + f",{label}\n")


def run(robmem, spec):
    out = subprocess.run([robmem, "compile", spec, "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        last = [l for l in out.stderr.splitlines() if l.strip()]
        return None, (last[0] if last else f"exit {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1]), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--robmem", default="target/release/robmem")
    args = ap.parse_args()
    robmem = os.path.abspath(args.robmem)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    work = tempfile.mkdtemp(prefix="robmem-constructions-")
    sets = [
        ("wine (examples, 178 x 5)", f'csv("{root}/examples/data/wine.csv", label = "target")'),
        ("blobs(300, 16, 4)", "blobs(300, 16, labels = 4, spread = 0.1)"),
    ]
    for name, seed, n, d in [("raw 178 x 13", 1, 178, 13), ("raw 569 x 30", 2, 569, 30),
                             ("raw 2000 x 8", 3, 2000, 8)]:
        path = os.path.join(work, f"raw{seed}.csv")
        raw_table(path, seed, n, d)
        sets.append((name, f'csv("{path}", label = "target")'))
    print("| data | norm | construction | f32 ratio | f64 ratio | width | depth | parameters | seconds (f32) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, source in sets:
        for norm in ["l1", "l2", "linf"]:
            for construction in ["scores", "distances"]:
                cells = {}
                for precision in ["f32", "f64"]:
                    spec = os.path.join(work, "s.rmem")
                    with open(spec, "w") as f:
                        f.write(f"dataset d = {source}\n"
                                f"network n {{ data = d  norm = {norm}  radius = max  "
                                f"construction = {construction}  precision = {precision} }}\n")
                    cells[precision] = run(robmem, spec)
                s32, e32 = cells["f32"]
                s64, e64 = cells["f64"]
                ratio = lambda s, e: f"{s['ratio']:.4f}" if s else f"fails ({e[:60]})"
                shape = s32 or s64
                secs = sum(s32["seconds"].values()) if s32 else float("nan")
                print(f"| {name} | {norm} | {construction} | {ratio(s32, e32)} | {ratio(s64, e64)} | "
                      + (f"{shape['width']} | {shape['depth']} | {shape['parameters']} | {secs:.2f} |"
                         if shape else "- | - | - | - |"))


if __name__ == "__main__":
    main()
