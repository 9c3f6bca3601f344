#!/usr/bin/env bash
# Compile benchmarks of issue #3 (figures recorded in BENCHMARKS.md).
#
# Builds robmem in release, writes the benchmark specs into a temporary
# folder and runs `robmem compile --json` on each under `/usr/bin/time -v`,
# printing the compile summary (seconds per phase), wall-clock time and peak
# resident memory. Then compiles every network of examples/*.rmem twice,
# with `projection = random` and with `projection = auto`, and prints a
# Markdown table of width, depth, parameters and ratio side by side.
#
# Usage: scripts/bench_compile.sh [digits] [mnist] [examples]
#   (no argument: all three). Environment: ROBMEM=path/to/robmem skips the
#   build and uses that binary (the commit printed is then the worktree's,
#   not necessarily the binary's); KEEP=1 keeps the temporary folder.
#
# Needs /usr/bin/time (`apt-get install -y time`) and jq.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(digits mnist examples)

if [ -z "${ROBMEM:-}" ]; then
    (cd "$root" && cargo build --release --quiet)
    ROBMEM="$root/target/release/robmem"
fi
for tool in /usr/bin/time jq; do
    command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d -t robmem-bench.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "temporary folder: $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet HEAD -- src || echo '+dirty'), nproc $(nproc)"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# binary: $ROBMEM"

# blobs data set with the given shape and spread, l2, radius 0.5 of limit.
blobs_spec() { # name points dim labels spread
    cat <<EOF
dataset $1 = blobs(points = $2, dim = $3, labels = $4, spread = $5, seed = 1)

network ${1}_net {
    data   = $1
    norm   = l2
    radius = 0.5 of limit
}

emit ${1}_net { onnx = "$1.onnx" }
EOF
}

# Compiles spec $1 under /usr/bin/time -v and prints the figures.
timed_compile() {
    local spec=$1 name
    name=$(basename "$spec" .rmem)
    echo "## $name: $(grep -m1 '^dataset' "$spec")"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    /usr/bin/time -v "$ROBMEM" compile "$spec" --json --out "$tmp/out-$name" \
        >"$tmp/$name.json" 2>"$tmp/$name.time"
    jq -c '{points, dim, labels, projection, m, draws, width, depth, parameters, ratio, seconds}' "$tmp/$name.json"
    grep -E 'Elapsed \(wall|Maximum resident|User time|System time' "$tmp/$name.time" | sed 's/^\s*/  /'
    ls -l "$tmp/out-$name"/*.onnx | awk '{print "  onnx bytes: " $5}'
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Spread 0.5: within-class distances (0.5 sqrt(2 d)) exceed the distance
# between class centres (about sqrt(d / 6)) by a factor 1.7 in any dimension,
# so the classes' point clouds overlap; they are still separable, as real
# data sets are (delta > 0).
for case in "${cases[@]}"; do
    case $case in
    digits)
        blobs_spec digits 1797 64 10 0.5 >"$tmp/digits.rmem"
        timed_compile "$tmp/digits.rmem"
        ;;
    mnist)
        blobs_spec mnist 60000 784 10 0.5 >"$tmp/mnist.rmem"
        timed_compile "$tmp/mnist.rmem"
        ;;
    examples)
        # Spec variants live next to a link to examples/data (CSV paths are
        # relative to the spec).
        mkdir -p "$tmp/examples"
        ln -s "$root/examples/data" "$tmp/examples/data"
        echo "## examples: projection = random vs auto"
        echo
        echo "| spec | network | random: m, width, depth, parameters, ratio | auto: projection, m, width, depth, parameters, ratio |"
        echo "|---|---|---|---|"
        for spec in "$root"/examples/*.rmem; do
            base=$(basename "$spec" .rmem)
            for projection in random auto; do
                # Drop any `projection = ...`, then set it right after `data = NAME`
                # inside network blocks (`dataset` lines do not match `\bdata\s*=`).
                sed -E -e 's/\bprojection\s*=\s*[a-z]+//' \
                    -e "s/\\bdata(\\s*)=(\\s*)([A-Za-z_][A-Za-z0-9_]*)/data\\1=\\2\\3 projection = $projection/" \
                    "$spec" >"$tmp/examples/$base-$projection.rmem"
                "$ROBMEM" compile "$tmp/examples/$base-$projection.rmem" --json \
                    --out "$tmp/examples/out-$base-$projection" \
                    >"$tmp/examples/$base-$projection.json" 2>"$tmp/examples/$base-$projection.err" || true
            done
            jq -r '.network' "$tmp/examples/$base-auto.json" "$tmp/examples/$base-random.json" 2>/dev/null |
                awk '!seen[$0]++' | while read -r network; do
                row() { # file
                    jq -r --arg n "$network" 'select(.network == $n) |
                        "\(.projection) m=\(.m), w \(.width), depth \(.depth), \(.parameters) params, ratio \(.ratio | if . == null then "-" else (. * 1000 | round / 1000) end)"' "$1"
                }
                r=$(row "$tmp/examples/$base-random.json")
                a=$(row "$tmp/examples/$base-auto.json")
                echo "| $base | $network | ${r:-failed: $(grep -m1 -io 'radius[^│]*' "$tmp/examples/$base-random.err" | head -c 160)} | ${a:-failed} |"
            done
        done
        ;;
    *)
        echo "unknown case $case (digits, mnist, examples)" >&2
        exit 2
        ;;
    esac
done
