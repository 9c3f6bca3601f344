#!/usr/bin/env bash
# Benchmarks of issue 15, item 2 (pruned exact separation): `robmem check`
# of two binaries (OLD, the kernel before; NEW, the pruned sweep) against
# scikit-learn, in one run, on two generators:
#   blobs     scripts/baseline.py gen (the scripts/bench.sh data, isotropic)
#   clustered scripts/baseline.py genclust (intrinsic dimension 16)
# For each generator and size N (default 15000,30000,60000,120000; 784
# dimensions, 10 labels, seed 1, cached under target/bench-data/GEN-N):
#   OLD --quiet check SPEC --json, NEW --quiet check SPEC --json
#     under /usr/bin/time -v (wall clock, peak RSS)
#   baseline.py sep (scikit-learn, skipped above SKLEARN_MAX points,
#     default 60000)
# Prints a Markdown table and fails when the deltas or pairs differ.
#
# Usage: OLD=path NEW=path scripts/bench_prune.sh [--sizes 15000,30000]
#        [--gens blobs,clustered]
# Needs target/bench-venv (see scripts/bench.sh), /usr/bin/time and jq.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
sizes=15000,30000,60000,120000
gens=blobs,clustered
while [ $# -gt 0 ]; do
    case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --gens) gens=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
: "${OLD:?set OLD to the robmem binary before the change}"
: "${NEW:?set NEW to the robmem binary with the pruned sweep}"
sk_max=${SKLEARN_MAX:-60000}
py=$root/target/bench-venv/bin/python
[ -x "$py" ] || { echo "missing $py: run scripts/bench.sh once" >&2; exit 2; }
work=$(mktemp -d -t robmem-prune.XXXXXX)
trap 'rm -rf "$work"' EXIT

wall() { awk -F': ' '/Elapsed \(wall/ {n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s}' "$1"; }
rss() { awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$1"; }
load() { cut -d' ' -f1 /proc/loadavg; }

echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); OLD $OLD; NEW $NEW"
echo "Machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'); $(free -g | awk '/^Mem:/ {print $2 " GiB RAM"}')"
echo
echo "| data | N | load (1 min) | old check | new check | new RSS | sklearn | new / sklearn | old / new | delta | pair | same |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
status=0
for gen in ${gens//,/ }; do
    case $gen in
    blobs) cmd=gen ;;
    clustered) cmd=genclust ;;
    *) echo "unknown generator $gen" >&2; exit 2 ;;
    esac
    for n in ${sizes//,/ }; do
        data=$root/target/bench-data/$gen-$n
        if [ ! -f "$data/y.npy" ]; then
            mkdir -p "$data"
            "$py" "$root/scripts/baseline.py" "$cmd" "$n" 784 10 1 "$data"
        fi
        spec=$work/$gen$n.rmem
        cat >"$spec" <<SPEC
dataset d$n = npy(features = "$data/x.npy", labels = "$data/y.npy")

network n$n {
    data   = d$n
    norm   = l2
    radius = 0.5 of limit
}
SPEC
        l0=$(load)
        /usr/bin/time -v "$OLD" --quiet check "$spec" --json >"$work/old.json" 2>"$work/old.time"
        /usr/bin/time -v "$NEW" --quiet check "$spec" --json >"$work/new.json" 2>"$work/new.time"
        sk=-
        ratio=-
        if [ "$n" -le "$sk_max" ]; then
            "$py" "$root/scripts/baseline.py" sep "$data/x.npy" "$data/y.npy" >"$work/base.json"
            sk=$(jq '.sklearn_seconds' "$work/base.json")
            ratio=$(awk -v a="$(wall "$work/new.time")" -v b="$sk" 'BEGIN {printf "%.3f", a / b}')
            [ "$(jq '.sklearn_delta' "$work/base.json")" = "$(jq '.delta' "$work/new.json")" ] || status=1
        fi
        l1=$(load)
        same=yes
        for key in delta pair; do
            [ "$(jq -c ".$key" "$work/old.json")" = "$(jq -c ".$key" "$work/new.json")" ] || { same=NO; status=1; }
        done
        ow=$(wall "$work/old.time")
        nw=$(wall "$work/new.time")
        echo "| $gen | $n | $l0-$l1 | $ow s | $nw s | $(rss "$work/new.time") MiB | $sk s | $ratio | $(awk -v a="$ow" -v b="$nw" 'BEGIN {printf "%.1f", a / b}') | $(jq '.delta' "$work/new.json") | $(jq -c '[.pair[].index]' "$work/new.json") | $same |"
    done
done
exit $status
