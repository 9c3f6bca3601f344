#!/usr/bin/env bash
# Interoperability suite (issue #5): robmem's ONNX and VNN-LIB output checked
# by onnx, onnxruntime and Marabou.
#
#   tests/interop/run.sh            # everything
#   INTEROP_TIMEOUT=20 tests/interop/run.sh
#   INTEROP_SAMPLE=0 tests/interop/run.sh   # Marabou on every instance (about an hour)
#
# It creates a Python virtual environment under target/interop/venv, installs
# pinned versions of onnx, onnxruntime and maraboupy from the package
# registry (pip), builds robmem in release mode, writes l_inf variants of the
# examples and a few generated data sets under target/interop/work, runs
# `robmem instances` on them and then tests/interop/check.py, which
#   1. runs onnx.checker.check_model(full_check=True) on every ONNX file;
#   2. compares onnxruntime's outputs with robmem's evaluator (the counter-
#      examples and a float32 re-evaluation in numpy) on every data point and
#      on probes;
#   3. runs `Marabou NET.onnx PROP.vnnlib` on the float32 l_inf networks:
#      every instance of the small ones (at most INTEROP_MAX_PARAMS
#      parameters and INTEROP_MAX_POINTS points), every planted instance and
#      INTEROP_SAMPLE evenly spaced robust ones of the larger ones
#      (INTEROP_SAMPLE=0: all), and compares with expected.csv: a wrong
#      answer fails, a timeout is counted and reported; Marabou's answers are
#      also graded by `robmem grade`, which must agree.
# Before the checks, tests/interop/report_browser.sh opens `robmem report`
# pages in headless Chromium (installed with apt-get when absent) and checks
# that every picture renders.
# If the registry cannot be reached, the suite says so and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROOT=target/interop
VENV=${INTEROP_VENV:-$ROOT/venv}
WORK=$ROOT/work
PY=${PYTHON:-python3}
# Pinned versions with wheels for CPython 3.11 on Linux x86_64.
PINS=(onnx==1.23.2 onnxruntime==1.32.0 maraboupy==2.0.0 numpy==2.4.6 protobuf==7.36.2)
TIMEOUT=${INTEROP_TIMEOUT:-20}

started=$(date +%s)
echo "== interop: Python environment ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV" || { echo "interop: FAILED: cannot create a virtual environment with $PY -m venv (install python3-venv)"; exit 1; }
fi
if ! "$VENV/bin/pip" install --disable-pip-version-check -q "${PINS[@]}"; then
    echo "interop: FAILED: pip could not install ${PINS[*]}."
    echo "interop: the package registry (PyPI) may be unreachable from here; the suite did NOT run."
    exit 1
fi
"$VENV/bin/python" -c "import onnx, onnxruntime; print('onnx', onnx.__version__, '| onnxruntime', onnxruntime.__version__)"
[ -x "$VENV/bin/Marabou" ] || { echo "interop: FAILED: maraboupy did not install the Marabou command"; exit 1; }
"$VENV/bin/Marabou" --version | head -1

echo "== interop: build robmem (release)"
cargo build --release --quiet
ROBMEM=$PWD/target/release/robmem

echo "== interop: specs"
rm -rf "$WORK"
mkdir -p "$WORK"
cp -r examples/data "$WORK/data"
# l_inf variants of the examples: every norm becomes linf, every precision
# float32 (Marabou 2.0 reads float32 models only), and every radius half the
# limit, or `max` where the width budget cannot certify half the limit in l_inf.
# They keep the score construction (narrow networks Marabou settles within
# the time budget); tests/interop/specs/distances.rmem covers distances.
linf_variant() { # FILE RADIUS
    sed -E -e 's/norm( *)= *(l1|l2|linf|l\([^)]*\))/norm\1= linf  construction = scores/' \
           -e "s/radius( *)= *(max|[0-9.eE+-]+( of limit)?)/radius\\1= $2/" \
           -e 's/precision( *)= *f64/precision\1= f32/' "$1"
}
cp tests/interop/specs/*.rmem "$WORK/"

echo "== interop: robmem instances"
for f in tests/interop/specs/*.rmem; do
    "$ROBMEM" instances "$WORK/$(basename "$f")" --out "$WORK/instances" --unsafe 2 --timeout "$TIMEOUT"
done
for f in examples/*.rmem; do
    spec="$WORK/example_$(basename "$f")"
    linf_variant "$f" "0.5 of limit" > "$spec"
    if ! "$ROBMEM" instances "$spec" --out "$WORK/instances" --unsafe 2 --timeout "$TIMEOUT" 2> "$spec.err"; then
        echo "($(basename "$f"): half the limit is not certifiable in l_inf within its budgets; using radius = max)"
        linf_variant "$f" "max" > "$spec"
        "$ROBMEM" instances "$spec" --out "$WORK/instances" --unsafe 2 --timeout "$TIMEOUT"
    fi
done

echo "== interop: robmem report in headless Chromium"
tests/interop/report_browser.sh "$ROBMEM" "$WORK/report"

echo "== interop: checks"
"$VENV/bin/python" tests/interop/check.py "$WORK/instances" \
    --marabou "$VENV/bin/Marabou" --timeout "$TIMEOUT" --robmem "$ROBMEM" \
    --max-marabou-params "${INTEROP_MAX_PARAMS:-4000}" --max-marabou-points "${INTEROP_MAX_POINTS:-64}" \
    --sample "${INTEROP_SAMPLE:-24}"
echo "interop: done in $(( $(date +%s) - started )) s"
