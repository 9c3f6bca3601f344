//! The report page: one self-contained HTML document. Every picture is an
//! `<img>` whose source is a `data:` URI (base64 SVG), the style is inline,
//! there is no script, and a Content-Security-Policy forbids fetching
//! anything: the page opens without network access. Every text from the
//! spec or the data (names, labels, messages) is escaped.

use super::{NetworkSection, Report};
use crate::plot::{escape_xml, Figure};

/// The marker of a page robmem wrote: `robmem report` replaces an existing
/// file only when it holds this.
pub const GENERATOR: &str = "<meta name=\"generator\" content=\"robmem report\">";

/// The page's style.
const STYLE: &str = "body{font-family:sans-serif;max-width:70em;margin:1em auto;padding:0 1em;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}h3{font-size:1.05em;margin-bottom:.3em}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}\
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
figure{display:inline-block;vertical-align:top;margin:.5em;max-width:660px}\
figcaption{font-size:.85em;color:#444}img{max-width:100%;height:auto;border:1px solid #eee}\
.note{color:#8a5a00}.failed{color:#a00}";

/// `text` escaped for HTML text and attribute values.
pub fn escape(text: &str) -> String {
    escape_xml(text)
}

/// `bytes` in standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The page of `report`.
pub fn render(report: &Report) -> String {
    let spec = escape(&report.spec);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{GENERATOR}\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
         <title>robmem report: {spec}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>robmem report: {spec}</h1>\n<p>Written by robmem {} from <code>{spec}</code>. \
         Pictures are evaluations of the compiled networks; the claims are the certificates', \
         checked by the independent checker (<code>robmem verify</code>).</p>\n",
        env!("CARGO_PKG_VERSION")
    );
    if !report.networks.is_empty() || !report.failures.is_empty() {
        page += "<ul>\n";
        for n in &report.networks {
            let name = escape(&n.name);
            page += &format!("<li><a href=\"#network-{name}\">network {name}</a></li>\n");
        }
        for (name, _) in &report.failures {
            page += &format!(
                "<li class=\"failed\">network {}: not compiled</li>\n",
                escape(name)
            );
        }
        page += "</ul>\n";
    }
    if !report.overview.is_empty() {
        page += "<h2>The networks of this spec</h2>\n";
        for f in &report.overview {
            page += &figure(f);
        }
    }
    for (network, figures) in &report.sweeps {
        page += &format!("<h2>Sweep of network {}</h2>\n", escape(network));
        for f in figures {
            page += &figure(f);
        }
    }
    for n in &report.networks {
        page += &section(n);
    }
    for (name, message) in &report.failures {
        page += &format!(
            "<h2 class=\"failed\">network {}: not compiled</h2>\n<pre>{}</pre>\n",
            escape(name),
            escape(message)
        );
    }
    page += "</body>\n</html>\n";
    page
}

/// The section of one network.
fn section(n: &NetworkSection) -> String {
    let name = escape(&n.name);
    let mut out = format!(
        "<h2 id=\"network-{name}\">network {name}</h2>\n<h3>Check</h3>\n<pre>{}</pre>\n\
         <h3>Compiled network</h3>\n<pre>{}</pre>\n<h3>Certificate</h3>\n",
        escape(&n.check),
        escape(&n.summary)
    );
    if n.claims.is_empty() {
        out += "<p class=\"note\">No certificate.</p>\n";
    } else {
        out += "<table>\n";
        for (what, value) in &n.claims {
            out += &format!(
                "<tr><th>{}</th><td>{}</td></tr>\n",
                escape(what),
                escape(value)
            );
        }
        out += "</table>\n";
    }
    if let Some(json) = &n.certificate_json {
        out += &format!(
            "<details><summary>The certificate (JSON)</summary><pre>{}</pre></details>\n",
            escape(json)
        );
    }
    out += "<h3>Pictures</h3>\n";
    for f in &n.figures {
        out += &figure(f);
    }
    for note in &n.notes {
        out += &format!("<p class=\"note\">{}</p>\n", escape(note));
    }
    out
}

/// One picture with its caption.
fn figure(f: &Figure) -> String {
    format!(
        "<figure><img alt=\"{}\" src=\"data:image/svg+xml;base64,{}\"><figcaption><b>{}.</b> {}</figcaption></figure>\n",
        escape(&f.title),
        base64(f.svg.as_bytes()),
        escape(&f.title),
        escape(&f.caption)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn hostile_names_are_escaped() {
        let report = Report {
            spec: "<script>alert(1)</script>.rmem".into(),
            failures: vec![("x\"><script>".into(), "<b>&".into())],
            ..Report::default()
        };
        let page = render(&report);
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;.rmem"));
        assert!(page.contains("&lt;b&gt;&amp;"));
    }
}
