#!/usr/bin/env bash
# Scale benchmarks of issue #6: robmem check / compile (/ verify) on
# MNIST-shaped data against a scikit-learn and NumPy baseline, in one run.
#
# For each size N (default 1000, 4000, 16000, 60000): writes a deterministic
# N x 784, 10-label blobs data set as .npy (scripts/baseline.py gen, seed 1;
# cached under target/bench-data/N), a spec reading it (l2, radius 0.5 of
# limit, width auto), then runs under `/usr/bin/time -v`:
#   robmem --quiet check SPEC --json            exact l2 separation
#   robmem --quiet compile SPEC --json --out D  compile, write the ONNX and the certificate
#   robmem --quiet verify D/NAME.cert.json      check the certificate
#                                               (skipped if the binary has no verify)
#   baseline.py sep x.npy y.npy                 sklearn and NumPy separation
#   baseline.py gemm                            NumPy float32 GEMM rate, right
#                                               after check (the machine is shared:
#                                               the rate moves with the load)
# Prints a Markdown table ready for BENCHMARKS.md (commit, machine, load
# average) and checks that both Python deltas equal robmem's exactly.
#
# Usage: scripts/bench.sh [--sizes 1000,4000]
# Environment: ROBMEM=path/to/robmem skips the build; KEEP=1 keeps the work
# folder. compile writes the ONNX file and its certificate; verify checks it.
# Needs python3 (3.11) with venv, /usr/bin/time and jq. The virtual
# environment is target/bench-venv (scripts/requirements-bench.txt).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sizes=1000,4000,16000,60000
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --sizes=*) sizes=${1#--sizes=}; shift ;;
    -h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (usage: scripts/bench.sh [--sizes 1000,4000])" >&2; exit 2 ;;
    esac
done
for tool in /usr/bin/time jq python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

venv=$root/target/bench-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, sklearn' 2>/dev/null; then
    echo "setting up $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r "$root/scripts/requirements-bench.txt"
fi
py=$venv/bin/python

if [ -z "${ROBMEM:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
    ROBMEM=$root/target/release/robmem
fi

work=$(mktemp -d -t robmem-bench6.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "work folder: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi

has_verify=0
"$ROBMEM" verify --help >/dev/null 2>&1 && has_verify=1

# Runs "$@" under /usr/bin/time -v; stdout to $out.json, figures to $out.time.
timed() { # out cmd...
    local out=$1
    shift
    /usr/bin/time -v "$@" >"$out.json" 2>"$out.time"
}
wall() { # time file -> seconds
    awk -F': ' '/Elapsed \(wall/ {n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s}' "$1"
}
rss() { # time file -> MiB
    awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$1"
}
load() { cut -d' ' -f1 /proc/loadavg; }

commit=$(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet HEAD -- src || echo '+dirty')
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit; binary $ROBMEM"
echo "Machine: $(nproc) cores (nproc), $(lscpu | sed -n 's/^Model name: *//p'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}'); rustc $(rustc --version | cut -d' ' -f2)"
echo "Python: $("$py" -c 'import sys, numpy, sklearn; print(sys.version.split()[0], "numpy", numpy.__version__, "scikit-learn", sklearn.__version__)')"
echo "GEMM: NumPy float32 3072 x 784 x 3072, best of 5, measured right after each check"
echo

echo "| N | load (1 min) | check wall | check RSS | compile wall | compile RSS | m, width, depth | ONNX | verify wall | verify RSS | sklearn | NumPy Gram | robmem / sklearn | robmem GFLOP/s (needed flops) | GEMM GFLOP/s | of GEMM rate | deltas equal |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
status=0
for n in ${sizes//,/ }; do
    data=$root/target/bench-data/$n
    if [ ! -f "$data/y.npy" ]; then
        mkdir -p "$data"
        "$py" "$root/scripts/baseline.py" gen "$n" 784 10 1 "$data"
    fi
    spec=$work/mnist$n.rmem
    cat >"$spec" <<SPEC
dataset mnist$n = npy(features = "$data/x.npy", labels = "$data/y.npy")

network mnist${n}_net {
    data   = mnist$n
    norm   = l2
    radius = 0.5 of limit
}

emit mnist${n}_net {
    onnx        = "mnist${n}_net.onnx"
    certificate = "mnist${n}_net.cert.json"
}
SPEC
    l0=$(load)
    timed "$work/check$n" "$ROBMEM" --quiet check "$spec" --json
    gemm=$("$py" "$root/scripts/baseline.py" gemm | jq '.gemm_gflops')
    timed "$work/compile$n" "$ROBMEM" --quiet compile "$spec" --json --out "$work/out$n"
    onnx=$work/out$n/mnist${n}_net.onnx
    v_wall=-
    v_rss=-
    if [ "$has_verify" = 1 ]; then
        if timed "$work/verify$n" "$ROBMEM" --quiet verify "$work/out$n/mnist${n}_net.cert.json"; then
            v_wall="$(wall "$work/verify$n.time") s"
            v_rss="$(rss "$work/verify$n.time") MiB"
        else
            v_wall="failed (exit $?)"
        fi
    fi
    "$py" "$root/scripts/baseline.py" sep "$data/x.npy" "$data/y.npy" >"$work/base$n.json"
    l1=$(load)
    delta=$(jq '.delta' "$work/check$n.json")
    c_wall=$(wall "$work/check$n.time")
    sk=$(jq '.sklearn_seconds' "$work/base$n.json")
    npy=$(jq '.numpy_seconds' "$work/base$n.json")
    flop=$(jq '.needed_gflop' "$work/base$n.json")
    equal=$(jq -r --argjson d "$delta" 'if .sklearn_delta == $d and .numpy_delta == $d then "yes" else "NO: sklearn \(.sklearn_delta), numpy \(.numpy_delta), robmem \($d)" end' "$work/base$n.json")
    [ "$equal" = yes ] || status=1
    shape=$(jq -r '"\(.m) (\(.projection)), \(.width), \(.depth)"' "$work/compile$n.json")
    bytes=$(stat -c %s "$onnx" 2>/dev/null || echo 0)
    awk -v n="$n" -v l="$l0-$l1" -v cw="$c_wall" -v cr="$(rss "$work/check$n.time")" \
        -v pw="$(wall "$work/compile$n.time")" -v pr="$(rss "$work/compile$n.time")" \
        -v shape="$shape" -v mb="$bytes" -v vw="$v_wall" -v vr="$v_rss" \
        -v sk="$sk" -v np="$npy" -v flop="$flop" -v gemm="$gemm" -v eq="$equal" 'BEGIN {
        rate = flop / cw
        printf "| %d | %s | %.2f s | %d MiB | %.2f s | %d MiB | %s | %.0f MB | %s | %s | %.2f s | %.2f s | %.2f | %.1f | %.1f | %.2f | %s |\n",
            n, l, cw, cr, pw, pr, shape, mb / 1e6, vw, vr, sk, np, cw / sk, rate, gemm, rate / gemm, eq
    }'
done
[ "$has_verify" = 1 ] || echo "
(no verify column: \`robmem verify --help\` fails, the subcommand does not exist in this binary)"
echo "
check and compile are /usr/bin/time -v wall clock and maximum RSS of the whole
process (data loading included); sklearn and NumPy Gram are the baseline's
in-process times for the same separation (data already loaded). GFLOP/s counts
2 d flops per differently-labelled unordered pair over check's wall time."
exit $status
