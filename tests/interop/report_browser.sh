#!/usr/bin/env bash
# `robmem report` in a real browser: headless Chromium (Debian's package,
# installed with apt-get when /usr/bin/chromium is absent) opens report
# pages with network access disabled, and every image must have rendered
# with a non-zero size.
#
#   tests/interop/report_browser.sh ROBMEM WORKDIR
#
# The page itself has no script. A probe copy adds one (and lets the page's
# Content-Security-Policy run it; images stay limited to data: URIs) that,
# on load, writes each image's natural size into an attribute; Chromium's
# --dump-dom prints the result and check_dom below reads it.
set -euo pipefail
ROBMEM=$1
WORK=$2
CHROMIUM=/usr/bin/chromium

if [ ! -x "$CHROMIUM" ]; then
    echo "report-browser: installing Debian's chromium with apt-get"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }; then
        echo "report-browser: FAILED: chromium is not installed and apt-get could not install it"
        exit 1
    fi
fi
"$CHROMIUM" --version

mkdir -p "$WORK"
# (No '&' or '|' in it: it goes through sed.)
PROBE='<script>window.addEventListener("load",()=>{const imgs=[...document.images];imgs.forEach(i=>{const shown=i.complete?Math.min(i.naturalWidth,i.getBoundingClientRect().width):0;i.setAttribute("data-rendered",shown>0?i.naturalWidth+"x"+i.naturalHeight:"no");});document.body.setAttribute("data-images",String(imgs.length));});</script>'

check_dom() { # PAGE DOM
    python3 - "$1" "$2" <<'PY'
import re, sys
page, dom = open(sys.argv[1]).read(), open(sys.argv[2]).read()
want = page.count('src="data:image/svg+xml;base64,')
m = re.search(r'data-images="(\d+)"', dom)
if not m:
    sys.exit(f"report-browser: FAILED: {sys.argv[1]}: the page did not load (no probe result)")
rendered = re.findall(r'data-rendered="([^"]*)"', dom)
bad = [r for r in rendered if not re.fullmatch(r"[1-9]\d*x[1-9]\d*", r)]
if int(m.group(1)) != want or len(rendered) != want or bad or want == 0:
    sys.exit(f"report-browser: FAILED: {sys.argv[1]}: {want} images in the page, "
             f"{m.group(1)} in the DOM, rendered: {rendered}")
print(f"report-browser: {sys.argv[1]}: {want} images rendered ({', '.join(rendered)})")
PY
}

for spec in examples/xor.rmem examples/generators.rmem examples/label.rmem examples/sweep.rmem; do
    name=$(basename "$spec" .rmem)
    page="$WORK/$name.html"
    "$ROBMEM" -q report "$spec" --out "$page"
    probe="$WORK/$name.probe.html"
    sed -e "s|default-src 'none';|default-src 'none'; script-src 'unsafe-inline';|" \
        -e "s|</body>|$PROBE</body>|" "$page" > "$probe"
    profile=$(mktemp -d)
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --virtual-time-budget=10000 \
        --dump-dom "file://$(realpath "$probe")" > "$WORK/$name.dom.html" 2> "$WORK/$name.chromium.log"
    rm -rf "$profile"
    check_dom "$page" "$WORK/$name.dom.html"
done
echo "report-browser: ok"
