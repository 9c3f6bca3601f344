"""Checks robmem's instance folders with onnx, onnxruntime and Marabou.

Usage: check.py INSTANCES_DIR --marabou PATH [--timeout S] [--robmem PATH]
                [--max-marabou-params P] [--max-marabou-points N] [--sample K]

INSTANCES_DIR holds one folder per network, as `robmem instances` writes
them (specs/vnnlib.md). For each folder:
  1. onnx.checker.check_model(full_check=True) accepts the ONNX file, whose
     opset is <= 13 and whose weights are all inside the file;
  2. onnxruntime's outputs at reference.json's inputs (data points, probes,
     planted witnesses) equal robmem's evaluator within float32 rounding, and
     give the same class (argmax, or nearest label value) on the data points;
     at every planted witness onnxruntime gives the label of the pair's other
     point by at least the margin written beside it (specs/construction.md
     section 9);
  3. for float32 l_inf networks, Marabou (`Marabou NET PROP`, proof mode
     first, then the default search: run_marabou) is run on every instance
     of instances.csv for networks with at most P parameters and N points,
     and on every planted instance and a sample of --sample robust ones
     (evenly spaced) for larger networks; its answer must equal
     expected.csv's. A wrong answer or a Marabou error fails; a timeout is
     counted (and planted instances that timed out are named);
  4. with --robmem, Marabou's answers are also written as a VNN-COMP
     results CSV (marabou-results.csv beside the folders) and graded by
     `robmem grade FOLDER RESULTS`, which must agree: exit 0 when this
     script found no wrong answer, 1 when it did.
Prints a table and exits 1 on any failure.
"""

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort


def load_folder(folder):
    with open(os.path.join(folder, "instances.csv")) as f:
        instances = [row for row in csv.reader(f) if row]
    with open(os.path.join(folder, "expected.csv")) as f:
        expected = {row[0]: row[1] for row in csv.reader(f) if row}
    with open(os.path.join(folder, "reference.json")) as f:
        reference = json.load(f)
    return instances, expected, reference


def check_onnx(path):
    """Checker, opset, external data. Returns (model, parameter count)."""
    model = onnx.load(path, load_external_data=False)
    onnx.checker.check_model(model, full_check=True)
    opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    assert opsets and max(opsets) <= 13, f"{path}: opset {opsets} > 13"
    for init in model.graph.initializer:
        assert init.data_location != onnx.TensorProto.EXTERNAL, f"{path}: external data in {init.name}"
    params = sum(int(np.prod(i.dims)) for i in model.graph.initializer)
    meta = {p.key: p.value for p in model.metadata_props}
    layers = sum(1 for n in model.graph.node if n.op_type == "Gemm")
    return model, params, meta, layers


def check_runtime(path, folder, reference, layers):
    """onnxruntime vs robmem's evaluator. Returns (compared rows, worst error)."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    dtype = np.float64 if "double" in inp.type else np.float32
    x = np.asarray(reference["inputs"], dtype=np.float64)
    got = sess.run(None, {inp.name: x.astype(dtype)})[0].astype(np.float64)
    want = np.asarray(reference["outputs_model_precision"], dtype=np.float64)
    want64 = np.asarray(reference["outputs_f64"], dtype=np.float64)
    scale = max(1.0, float(np.abs(want64).max()))
    eps = 2.0**-52 if dtype == np.float64 else 2.0**-23
    # float32 rounding: a few ulps of the largest output per layer (the order
    # of summation inside a dot product differs between runtimes).
    tol = 16 * eps * scale * layers
    err = float(np.abs(got - want).max())
    assert err <= tol, f"{path}: onnxruntime differs from robmem's evaluator by {err} > {tol}"
    n = reference["points"]
    same_class = np.argmax(got[:n], axis=1) == np.argmax(want64[:n], axis=1)
    if got.shape[1] == 1:
        same_class = np.abs(got[:n, 0] - want64[:n, 0]) < 0.25
    assert same_class.all(), f"{path}: onnxruntime predicts another class on points {np.where(~same_class)[0].tolist()}"
    planted = check_witnesses(sess, inp, dtype, folder, reference, tol)
    return x.shape[0], err, planted


def class_margin(y, cex):
    """How far output y gives the witness's class: out[c] - max other
    (logits), or tolerance - |Y_0 - value| (label output)."""
    y = np.asarray(y, dtype=np.float64)
    if cex.get("witness_value") is None:
        cls = cex["witness_label"]
        return float(y[cls] - np.delete(y, cls).max())
    return cex["tolerance"] - abs(float(y[0]) - cex["witness_value"])


def check_witnesses(sess, inp, dtype, folder, reference, tol):
    """Every planted witness (specs/construction.md section 9): onnxruntime gives it
    the label of the pair's other point by at least the margin written beside
    it for the model's arithmetic (float32 or float64; > 0 when none is
    certified), and agrees with robmem's recorded output. Returns how many."""
    cdir = os.path.join(folder, "counterexamples")
    arithmetic = "float32" if dtype == np.float32 else "float64"
    count = 0
    for name in sorted(os.listdir(cdir)):
        with open(os.path.join(cdir, name)) as f:
            cex = json.load(f)
        x = np.asarray([cex["input"]], dtype=np.float64)
        assert (x.astype(dtype).astype(np.float64) == x).all(), f"{name}: the witness is not {arithmetic}-representable"
        y = sess.run(None, {inp.name: x.astype(dtype)})[0][0].astype(np.float64)
        e = float(np.abs(y - np.asarray(cex["output"])).max())
        assert e <= tol, f"{name}: onnxruntime output at the witness differs by {e}"
        want = cex["margin"].get(arithmetic)
        got = class_margin(y, cex)
        if want is None:
            assert got > 0, f"{name}: onnxruntime does not give the witness label {cex['witness_label']} (margin {got})"
        else:
            assert want > 0, f"{name}: the written {arithmetic} margin {want} is not positive"
            assert got >= want, f"{name}: onnxruntime gives label {cex['witness_label']} by {got} < the certified {want}"
        count += 1
    return count


# Seconds of proof-producing search before the default search takes over.
PROOF_SECONDS = 5

# A planted (sat) instance that times out gets one more default search this long.
PLANTED_RETRY_SECONDS = 120

ANSWER = re.compile(r"^\s*(sat|unsat|timeout|unknown|error)\s*$", re.IGNORECASE)


def run_marabou_once(marabou, onnx_path, vnnlib_path, timeout, prove):
    """One Marabou run: 'sat', 'unsat', 'timeout', 'unknown' or 'error: ...'."""
    cmd = [marabou, onnx_path, vnnlib_path, "--verbosity", "0", "--timeout", str(timeout)]
    if prove:
        cmd.append("--prove-unsat")
    # Marabou's own --timeout is not always honoured (it can loop in its main
    # loop without checking the clock), so the process is killed as well.
    # --prove-unsat leaves delegated*.smtlib files in the working directory:
    # run Marabou in a scratch folder so that they never land in the checkout.
    try:
        with tempfile.TemporaryDirectory(prefix="marabou-") as scratch:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 2, cwd=scratch)
    except subprocess.TimeoutExpired:
        return "timeout"
    for line in out.stdout.splitlines():
        m = ANSWER.match(line)
        if m:
            return m.group(1).lower()
    tail = (out.stdout + out.stderr).strip().splitlines()[-3:]
    return "error: exit %d: %s" % (out.returncode, " | ".join(tail))


def run_marabou(marabou, onnx_path, vnnlib_path, timeout):
    """Returns ('sat' | 'unsat' | 'timeout' | 'unknown' | 'error: ...', mode).

    Two searches, because neither settles every instance of the suite:
    Marabou 2.0's proof-producing mode (--prove-unsat, which also checks a
    proof of every unsat answer) settles at once the small instances on
    which its default search loops (grid_net points 11 and 15), but takes
    over a minute on the deeper networks (cloud_linf, 76 layers), which the
    default search settles in 1-3 s. So: proof mode for a few seconds, then
    the default search for the full timeout.
    """
    first = min(PROOF_SECONDS, timeout)
    got = run_marabou_once(marabou, onnx_path, vnnlib_path, first, prove=True)
    if got in ("sat", "unsat") or got.startswith("error"):
        return got, "proof"
    return run_marabou_once(marabou, onnx_path, vnnlib_path, timeout, prove=False), "default"


def chosen_instances(instances, expected, sample):
    """Every planted instance and `sample` robust ones, evenly spaced (all if sample is 0)."""
    planted = [i for i in instances if expected[i[1]] == "sat"]
    robust = [i for i in instances if expected[i[1]] != "sat"]
    if sample and len(robust) > sample:
        step = len(robust) / sample
        robust = [robust[int(k * step)] for k in range(sample)]
    return robust + planted


def grade(robmem, folder, results, any_wrong):
    """Writes `results` (VNN-COMP rows) beside `folder` and runs `robmem
    grade` on them; returns None when its exit status agrees with this
    script's count of wrong answers (1 with any, 0 without), else a reason."""
    path = folder.rstrip("/") + "-marabou-results.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(results)
    out = subprocess.run([robmem, "grade", folder, path], capture_output=True, text=True)
    want = 1 if any_wrong else 0
    if out.returncode == want:
        return None
    tail = (out.stdout + out.stderr).strip().splitlines()[-3:]
    return f"exit {out.returncode}, expected {want}: " + " | ".join(tail)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--marabou", required=True)
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--robmem", help="robmem binary: grade Marabou's answers with `robmem grade`")
    ap.add_argument("--max-marabou-params", type=int, default=4000)
    ap.add_argument("--max-marabou-points", type=int, default=40)
    ap.add_argument(
        "--sample",
        type=int,
        default=24,
        help="robust instances run on networks above the size limits (0: all of them)",
    )
    args = ap.parse_args()

    folders = sorted(
        os.path.join(args.dir, f)
        for f in os.listdir(args.dir)
        if os.path.exists(os.path.join(args.dir, f, "instances.csv"))
    )
    if not folders:
        print(f"interop: FAILED: no instance folders in {args.dir}")
        return 1
    failures = []
    rows = []
    totals = {"unsat": 0, "sat": 0, "timeout": 0, "wrong": 0, "skipped": 0}
    planted_timeouts = []
    for folder in folders:
        name = os.path.basename(folder)
        started = time.time()
        instances, expected, reference = load_folder(folder)
        onnx_rel = instances[0][0]
        onnx_path = os.path.join(folder, onnx_rel)
        row = {"folder": name}
        try:
            _, params, meta, layers = check_onnx(onnx_path)
            row["params"] = params
            row["checker"] = "ok"
        except Exception as e:  # noqa: BLE001 - reported as a failure
            failures.append(f"{name}: onnx checker: {e}")
            row["checker"] = "FAIL"
            rows.append(row)
            continue
        try:
            compared, err, witnesses = check_runtime(onnx_path, folder, reference, layers)
            row["ort"] = f"ok ({compared} inputs, {witnesses} witnesses, err {err:.1e})"
        except Exception as e:  # noqa: BLE001
            failures.append(f"{name}: onnxruntime: {e}")
            row["ort"] = "FAIL"
        solvable = meta.get("robmem.norm") == "linf" and reference.get("precision") == "float32"
        small = params <= args.max_marabou_params and reference["points"] <= args.max_marabou_points
        counts = {"unsat": 0, "sat": 0, "timeout": 0, "wrong": 0}
        if solvable:
            chosen = instances if small else chosen_instances(instances, expected, args.sample)
            by_default = 0
            results = []
            for onnx_rel, vnnlib_rel, _ in chosen:
                want = expected[vnnlib_rel]
                asked = time.time()
                got, mode = run_marabou(
                    os.path.abspath(args.marabou),
                    os.path.abspath(os.path.join(folder, onnx_rel)),
                    os.path.abspath(os.path.join(folder, vnnlib_rel)),
                    args.timeout,
                )
                if want == "sat" and got in ("timeout", "unknown"):
                    # A planted instance has a witness inside its box, and
                    # Marabou must find it: give the rare hard one (a deep
                    # network's) one longer default search before counting
                    # a timeout.
                    got = run_marabou_once(
                        os.path.abspath(args.marabou),
                        os.path.abspath(os.path.join(folder, onnx_rel)),
                        os.path.abspath(os.path.join(folder, vnnlib_rel)),
                        PLANTED_RETRY_SECONDS,
                        prove=False,
                    )
                    mode = "default"
                answer = "error" if got.startswith("error") else got
                results.append(["robmem", onnx_rel, vnnlib_rel, "0", answer, f"{time.time() - asked:.2f}"])
                if mode == "default" and got in ("sat", "unsat"):
                    by_default += 1
                if got == "timeout" or got == "unknown":
                    if want == "sat":
                        # A planted instance has a witness inside its box:
                        # a timeout there is Marabou's limit, reported by name.
                        planted_timeouts.append(f"{name}: {vnnlib_rel}")
                    counts["timeout"] += 1
                elif got == want:
                    counts[got] += 1
                else:
                    counts["wrong"] += 1
                    failures.append(f"{name}: {vnnlib_rel}: Marabou says {got}, expected {want}")
            if args.robmem:
                graded = grade(args.robmem, folder, results, counts["wrong"] > 0)
                if graded:
                    failures.append(f"{name}: robmem grade: {graded}")
            row["marabou"] = "{unsat} unsat, {sat} sat, {timeout} timeouts, {wrong} wrong".format(**counts)
            row["marabou_of"] = f"{len(chosen)}/{len(instances)}, {by_default} by the default search"
            for k, v in counts.items():
                totals[k] += v
            totals["skipped"] += len(instances) - len(chosen)
        else:
            row["marabou"] = "skipped (not l_inf, or float64)"
            totals["skipped"] += len(instances)
        row["seconds"] = f"{time.time() - started:.1f}"
        rows.append(row)

    print()
    print(
        f"{'folder':22} {'params':>7}  {'checker':7}  {'onnxruntime':38}  {'Marabou':36} "
        f"{'run of all, answered by':36} {'s':>6}"
    )
    for r in rows:
        print(
            f"{r['folder']:22} {r.get('params', '-'):>7}  {r.get('checker', '-'):7}  "
            f"{r.get('ort', '-'):38}  {r.get('marabou', '-'):36} {r.get('marabou_of', '-'):36} "
            f"{r.get('seconds', '-'):>6}"
        )
    print()
    print(
        "Marabou: {unsat} unsat and {sat} sat as expected, {timeout} timeouts, "
        "{wrong} wrong answers; {skipped} instances not run (not l_inf, or not in the sample)".format(**totals)
    )
    for t in planted_timeouts:
        print(f"Marabou timed out on planted (sat) instance {t}")
    if failures:
        print(f"\ninterop: FAILED ({len(failures)} failures):")
        for f in failures:
            print("  " + f)
        return 1
    print("interop: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
