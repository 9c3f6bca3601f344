#!/usr/bin/env python3
"""The l_inf coordinate selection (issue 11, item 2): for wide data sets,
compile `norm = linf` under `construction = auto` and `distances` at
`radius = max` and a fixed radius, write the ONNX file, and print a Markdown
table of the construction, the map and its K, the certified ratio, width,
depth, parameters, ONNX size and wall seconds of `robmem compile`.

Usage: python3 scripts/bench_selection.py [--robmem target/release/robmem]
       [--sets raw64,digits,mnist2000] [--radii max,0.5]
Standard library only; writes its specs, tables and ONNX files under a
temporary folder (removed per run).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time


def raw64(path, seed=1, n=300, d=64, labels=3):
    """One column in [1000, 1040) by units, 63 reals in [0, 10] (two
    decimals), three labels; rows equal to an earlier row dropped."""
    rng = random.Random(seed)
    seen = set()
    with open(path, "w") as f:
        f.write(",".join(f"f{k}" for k in range(d)) + ",target\n")
        rows = 0
        while rows < n:
            row = [1000 + rng.randrange(40)] + [round(rng.uniform(0, 10), 2) for _ in range(d - 1)]
            if tuple(row) in seen:
                continue
            seen.add(tuple(row))
            f.write(",".join(str(v) for v in row) + f",{rng.randrange(labels)}\n")
            rows += 1


SETS = {
    "raw64": ("raw 300 x 64", None),
    "digits": ("blobs 1797 x 64 (digits shape)",
               "blobs(points = 1797, dim = 64, labels = 10, spread = 0.5, seed = 1)"),
    "mnist2000": ("blobs 2000 x 784 (MNIST shape, subsample)",
                  "blobs(points = 2000, dim = 784, labels = 10, spread = 0.5, seed = 1)"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--robmem", default="target/release/robmem")
    ap.add_argument("--sets", default="raw64,digits,mnist2000")
    ap.add_argument("--radii", default="max,0.5")
    ap.add_argument("--constructions", default="auto,distances")
    args = ap.parse_args()
    robmem = os.path.abspath(args.robmem)
    print("| data | radius | construction (asked) | built | map | K | ratio | width | depth "
          "| parameters | ONNX | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for key in args.sets.split(","):
        name, source = SETS[key]
        for radius in args.radii.split(","):
            for construction in args.constructions.split(","):
                work = tempfile.mkdtemp(prefix="robmem-selection-")
                try:
                    data = source
                    if data is None:
                        raw64(os.path.join(work, "raw.csv"))
                        data = 'csv("raw.csv", label = "target")'
                    r = "max" if radius == "max" else f"{radius} of limit"
                    with open(os.path.join(work, "s.rmem"), "w") as f:
                        f.write(f"dataset d = {data}\n"
                                f"network n {{ data = d  norm = linf  radius = {r}  "
                                f"construction = {construction} }}\n"
                                "emit n { onnx = \"n.onnx\" }\n")
                    clock = time.time()
                    out = subprocess.run([robmem, "-q", "compile", "s.rmem", "--json"],
                                         capture_output=True, text=True, cwd=work)
                    seconds = time.time() - clock
                    if out.returncode != 0:
                        last = [l for l in out.stderr.splitlines() if l.strip()]
                        print(f"| {name} | {radius} | {construction} | fails: "
                              f"{(last[0] if last else '')[:160]} |")
                        continue
                    s = json.loads(out.stdout.strip().splitlines()[-1])
                    size = os.path.getsize(os.path.join(work, "n.onnx"))
                    print(f"| {name} | {radius} | {construction} | {s['construction']} | "
                          f"{s['projection']} | {s['m']} | {s['ratio']:.4f} | {s['width']} | "
                          f"{s['depth']} | {s['parameters']:,} | {size / 1e6:.1f} MB | "
                          f"{seconds:.1f} |", flush=True)
                finally:
                    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
