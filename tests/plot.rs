//! The pictures (src/plot) and `robmem report` (src/report, src/cli/report.rs):
//! well-formed SVG with the titles and series asked for, decision-region
//! colours that agree with the network, and a self-contained page that
//! escapes what the user wrote.

mod support;

use plotters::style::RGBColor;
use robmem::analysis::separation::separation;
use robmem::eval::evaluate_point;
use robmem::norm::Norm;
use robmem::pipeline::compile;
use robmem::plot::curves::{line_chart, ratio_against_width, TheoryCurve};
use robmem::plot::histogram::{bins, histogram_chart, Histogram};
use robmem::plot::regions::{regions_chart, Readout, RegionMap, RegionPicture, TIE};
use robmem::plot::slice::Plane;
use robmem::plot::{dark, light, Curve};
use robmem::spec::{OutputKind, ProjectionChoice, RadiusSpec};
use std::path::Path;
use support::{random_data, robmem_in, spec, text};

/// Every text node of `svg` (which must be well-formed XML), joined by newlines.
fn texts(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `<title>` of an SVG document.
fn title(svg: &str) -> String {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let t = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("title"));
    t.and_then(|n| n.text()).unwrap_or_default().to_string()
}

/// `#RRGGBB` of a colour, as plotters writes it.
fn hex(RGBColor(r, g, b): RGBColor) -> String {
    format!("#{r:02X}{g:02X}{b:02X}")
}

#[test]
fn line_chart_is_well_formed_and_names_its_series() {
    let curves = vec![
        Curve {
            label: "projection <random> & co".into(),
            points: vec![(8.0, 0.2), (12.0, 0.5), (16.0, 0.6)],
        },
        Curve {
            label: "distances".into(),
            points: vec![(40.0, 0.9)],
        },
    ];
    let theory = TheoryCurve {
        curve: Curve {
            label: "theory shape".into(),
            points: vec![(8.0, 0.1), (40.0, 0.7)],
        },
        source: "Shape only.".into(),
    };
    let figure = line_chart(&ratio_against_width(curves, Some(theory))).unwrap();
    assert_eq!(title(&figure.svg), "Certified ratio against width");
    let t = texts(&figure.svg);
    for want in [
        "Certified ratio against width",
        "projection <random> & co",
        "distances",
        "theory shape",
        "width (largest hidden layer)",
    ] {
        assert!(t.contains(want), "{want:?} missing from {t}");
    }
    assert!(figure.caption.contains("Dashed: theory shape. Shape only."));
    // Two measured series and the dashed theory curve are drawn in their colours.
    assert!(figure.svg.contains(&hex(dark(0))) && figure.svg.contains(&hex(dark(1))));
}

#[test]
fn histogram_draws_one_bar_per_non_empty_bin() {
    let values: Vec<f64> = (0..50).map(|i| 0.1 * (1 + i % 7) as f64).collect();
    let h = Histogram {
        title: "Certified margins of net (float32)".into(),
        x_label: "certified logit margin".into(),
        values: values.clone(),
        caption: String::new(),
    };
    let figure = histogram_chart(&h).unwrap();
    let t = texts(&figure.svg);
    assert!(t.contains("certified logit margin") && t.contains("points"));
    let doc = roxmltree::Document::parse(&figure.svg).unwrap();
    let bars = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(&hex(dark(0))[..]))
        .count();
    let non_empty = bins(&values).iter().filter(|b| b.2 > 0).count();
    assert_eq!(bars, non_empty);
    assert_eq!(non_empty, 7);
}

/// A rectangle of the SVG: x, y, width, height and fill.
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    fill: String,
}

fn rects(svg: &str) -> Vec<Rect> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let number = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<f64>().unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill").is_some())
        .map(|n| Rect {
            x: number(n, "x"),
            y: number(n, "y"),
            w: number(n, "width"),
            h: number(n, "height"),
            fill: n.attribute("fill").unwrap().to_string(),
        })
        .collect()
}

#[test]
fn decision_region_colours_are_the_networks_predictions() {
    let data = random_data(5, 30, 2, 3, false);
    let sep = separation(data.points.view(), &data.labels, Norm::L2);
    let s = spec(
        Norm::L2,
        RadiusSpec::Max,
        OutputKind::Logits,
        ProjectionChoice::Auto,
    );
    let compiled = compile(&data, &s, &sep).unwrap();
    let (columns, rows) = (36, 30);
    let map = RegionMap::predict(
        &compiled.network,
        &Readout::Logits,
        Plane::coordinates(),
        ((-1.2, 1.2), (-1.1, 1.1)),
        (columns, rows),
    );
    // The map is the network's prediction at every cell's centre.
    for row in 0..rows {
        for column in 0..columns {
            let (a, b) = map.centre(column, row);
            let out = evaluate_point(&compiled.network, &map.plane.point(a, b));
            assert_eq!(map.class_at(column, row), Readout::Logits.class(&out));
        }
    }
    let classes: std::collections::BTreeSet<_> = map.cells.iter().collect();
    assert!(classes.len() >= 3, "every label has a region: {classes:?}");
    let picture = RegionPicture {
        title: "Decision regions of test".into(),
        map: map.clone(),
        class_names: vec!["0".into(), "1".into(), "2".into()],
        markers: Vec::new(),
        caption: String::new(),
    };
    let svg = regions_chart(&picture).unwrap().svg;
    // The region rectangles: one cell row high, in a class colour.
    let colours: Vec<String> = (0..3).map(|i| hex(light(i))).chain([hex(TIE)]).collect();
    let all = rects(&svg);
    let candidates: Vec<&Rect> = all.iter().filter(|r| colours.contains(&r.fill)).collect();
    let left = candidates.iter().map(|r| r.x).fold(f64::INFINITY, f64::min);
    let right = candidates.iter().map(|r| r.x + r.w).fold(0.0, f64::max);
    let top = candidates.iter().map(|r| r.y).fold(f64::INFINITY, f64::min);
    let bottom = candidates.iter().map(|r| r.y + r.h).fold(0.0, f64::max);
    let (cell_w, cell_h) = (
        (right - left) / columns as f64,
        (bottom - top) / rows as f64,
    );
    let regions: Vec<&Rect> = candidates
        .into_iter()
        .filter(|r| (r.h - cell_h).abs() <= 1.0)
        .collect();
    let mut checked = 0;
    for row in (0..rows).step_by(3) {
        for column in (0..columns).step_by(5) {
            let px = left + (column as f64 + 0.5) * cell_w;
            let py = bottom - (row as f64 + 0.5) * cell_h;
            let hit = regions
                .iter()
                .find(|r| r.x <= px && px <= r.x + r.w && r.y <= py && py <= r.y + r.h)
                .unwrap_or_else(|| panic!("no region rectangle at cell ({column}, {row})"));
            let want = map
                .class_at(column, row)
                .map_or(hex(TIE), |c| hex(light(c)));
            assert_eq!(hit.fill, want, "cell ({column}, {row})");
            checked += 1;
        }
    }
    assert_eq!(checked, 10 * 8);
}

/// Writes `spec` as `spec.rmem` in a new folder and returns it.
fn spec_folder(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spec.rmem"), spec).unwrap();
    dir
}

/// Decodes standard base64.
fn unbase64(s: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> = s.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (d as u32) << (18 - 6 * i));
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    out
}

/// The SVG documents inside `page`'s `data:` URIs.
fn pictures(page: &str) -> Vec<String> {
    const PREFIX: &str = "src=\"data:image/svg+xml;base64,";
    page.match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &page[at + PREFIX.len()..];
            String::from_utf8(unbase64(&rest[..rest.find('"').unwrap()])).unwrap()
        })
        .collect()
}

const HOSTILE: &str = r#"
dataset d {
    [0, 0]     -> "<script>alert(1)</script>"
    [1, 1]     -> "<script>alert(1)</script>"
    [0, 1]     -> "a&b"
    [1, 0.2]   -> "a&b"
}
network n { data = d norm = linf radius = 0.5 of limit }
"#;

#[test]
fn report_page_is_self_contained_and_escapes_labels() {
    let dir = spec_folder(HOSTILE);
    let out = robmem_in(dir.path(), &["report", "spec.rmem"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.path().join("spec.report.html")).unwrap();
    let lower = page.to_lowercase();
    for banned in [
        "http:", "https:", "<script", "<link", "<iframe", "url(", "//cdn",
    ] {
        assert!(!lower.contains(banned), "the page contains {banned:?}");
    }
    let sources = page.matches("src=\"").count();
    assert_eq!(
        sources,
        page.matches("src=\"data:image/svg+xml;base64,").count()
    );
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("a&amp;b"));
    // The check facts, the summary and the certificate's claims.
    for want in [
        "separation  delta",
        "network     width",
        "holds in",
        "smallest margin",
    ] {
        assert!(page.contains(want), "{want:?} missing");
    }
    let svgs = pictures(&page);
    assert_eq!(svgs.len(), 2, "decision regions and margins");
    assert_eq!(title(&svgs[0]), "Decision regions of n");
    assert_eq!(title(&svgs[1]), "Certified margins of n (float32)");
    let legend = texts(&svgs[0]);
    assert!(
        legend.contains("label <script>alert(1)</script>"),
        "{legend}"
    );
    assert!(legend.contains("label a&b"));
}

#[test]
fn report_slices_higher_dimensional_data_and_compares_networks() {
    let dir = spec_folder(
        "dataset c = blobs(points = 40, dim = 5, labels = 3, spread = 0.1, seed = 2)\n\
         network narrow { data = c norm = l2 radius = max width = 8 }\n\
         network wide { data = c norm = l2 radius = max }\n",
    );
    let out = robmem_in(dir.path(), &["report", "spec.rmem", "--out", "page.html"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.path().join("page.html")).unwrap();
    let titles: Vec<String> = pictures(&page).iter().map(|s| title(s)).collect();
    for want in [
        "Certified ratio against width",
        "Certified ratio against N",
        "Width and depth against N",
    ] {
        assert!(
            titles.iter().any(|t| t == want),
            "{want} missing from {titles:?}"
        );
    }
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("Decision regions of narrow (slice through point")),
        "{titles:?}"
    );
    assert!(page.contains("Shape only"), "the theory curve's caption");
}

#[test]
fn report_replaces_only_its_own_page() {
    let dir = spec_folder(HOSTILE);
    let page = dir.path().join("spec.report.html");
    std::fs::write(&page, "my notes").unwrap();
    let out = robmem_in(dir.path(), &["report", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("robmem did not write"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&page).unwrap(), "my notes");
    let out = robmem_in(dir.path(), &["report", "spec.rmem", "--out", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("input of the spec"));
    std::fs::remove_file(&page).unwrap();
    let mut pages = Vec::new();
    for _ in 0..2 {
        let out = robmem_in(dir.path(), &["report", "spec.rmem"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        pages.push(std::fs::read_to_string(&page).unwrap());
    }
    assert!(pages[0] == pages[1], "the page is the same on every run");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary left behind: {names:?}");
    assert!(Path::new(&page).exists());
}

#[test]
fn report_shows_networks_that_did_not_compile() {
    let dir = spec_folder(
        "dataset d { [0] -> 0  [1] -> 1 }\n\
         network ok { data = d norm = l2 radius = 0.5 of limit }\n\
         network too_far { data = d norm = l2 radius = 3 }\n",
    );
    let out = robmem_in(dir.path(), &["report", "spec.rmem"]);
    assert_eq!(out.status.code(), Some(1));
    let page = std::fs::read_to_string(dir.path().join("spec.report.html")).unwrap();
    assert!(page.contains("network too_far: not compiled"));
    assert!(page.contains("1-D data: no plane to draw"));
}

#[test]
fn report_shows_the_pictures_of_a_specs_sweeps() {
    let dir = spec_folder(
        "dataset b = blobs(points = 80, dim = 8, labels = 3, spread = 0.3, seed = 4)\n\
         network net { data = b  radius = max  width = 16  seed = 1 }\n\
         sweep net { width = [12, 16, 24]  points = [40, 80] }\n",
    );
    let out = robmem_in(dir.path(), &["report", "spec.rmem", "--out", "page.html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let page = std::fs::read_to_string(dir.path().join("page.html")).unwrap();
    assert!(page.contains("<h2>Sweep of network net</h2>"), "{page}");
    let titles: Vec<String> = pictures(&page).iter().map(|svg| title(svg)).collect();
    for want in [
        "Certified ratio against width",
        "Certified ratio against N",
        "Width and depth against N",
    ] {
        assert!(titles.iter().any(|t| t == want), "{want} in {titles:?}");
    }
    // No table or scratch file is written beside the spec.
    let mut files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["page.html", "spec.rmem"]);
}
