//! PNG copies of the pictures: an SVG [`Figure`](super::Figure) rasterised
//! by resvg (pure Rust) with the DejaVu Sans font embedded in robmem
//! (`assets/fonts/`, its licence beside it), so that no system font or
//! library is read and every machine draws the same pixels.

use super::PlotError;
use resvg::{tiny_skia, usvg};
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera licence, `assets/fonts/LICENSE-DejaVu.txt`):
/// the font every text of a PNG is drawn in.
const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// The options of every rasterisation: the embedded font only, standing in
/// for the generic family `sans-serif` the SVGs name.
fn options() -> &'static usvg::Options<'static> {
    static OPTIONS: OnceLock<usvg::Options<'static>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut options = usvg::Options::default();
        let fonts = options.fontdb_mut();
        fonts.load_font_data(FONT.to_vec());
        fonts.set_sans_serif_family("DejaVu Sans");
        options
    })
}

/// The PNG image of the SVG document `svg`, at its own size in pixels.
pub fn rasterise(svg: &str) -> Result<Vec<u8>, PlotError> {
    let tree = usvg::Tree::from_str(svg, options()).map_err(|e| PlotError(e.to_string()))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| PlotError(format!("an empty picture ({size:?})")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| PlotError(e.to_string()))
}

/// The `tEXt` chunk every PNG robmem writes carries (keyword `Software`):
/// it tells a picture robmem made from a user's file.
pub const SOFTWARE: &str = "robmem";

/// The PNG image of `svg` (as [`rasterise`]) with a `tEXt` chunk
/// `Software: robmem` after its header.
pub fn rasterise_marked(svg: &str) -> Result<Vec<u8>, PlotError> {
    let png = rasterise(svg)?;
    // Signature (8 bytes), then IHDR: length (4), type (4), 13 bytes, CRC (4).
    const AFTER_HEADER: usize = 8 + 4 + 4 + 13 + 4;
    if png.len() < AFTER_HEADER || &png[12..16] != b"IHDR" {
        return Err(PlotError("the PNG encoder wrote no header".into()));
    }
    let mut data = b"Software\0".to_vec();
    data.extend_from_slice(SOFTWARE.as_bytes());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = b"tEXt".to_vec();
    body.extend_from_slice(&data);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = png[..AFTER_HEADER].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_HEADER..]);
    Ok(out)
}

/// True when `bytes` are a PNG file carrying robmem's `tEXt` chunk.
pub fn made_by_robmem(bytes: &[u8]) -> bool {
    let mut marker = b"tEXtSoftware\0".to_vec();
    marker.extend_from_slice(SOFTWARE.as_bytes());
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.windows(marker.len()).any(|w| w == marker)
}

/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_of_the_standard_check_string() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // The IEND chunk's CRC, as every PNG file ends.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn a_marked_png_is_recognised_and_a_plain_one_is_not() {
        let svg = r##"<svg width="40" height="20" viewBox="0 0 40 20" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="20" height="20" fill="#0072B2"/><text x="22" y="14" font-family="sans-serif" font-size="12">A</text></svg>"##;
        let plain = rasterise(svg).unwrap();
        let marked = rasterise_marked(svg).unwrap();
        assert!(!made_by_robmem(&plain));
        assert!(made_by_robmem(&marked));
        assert!(!made_by_robmem(b"tEXtSoftware\0robmem, but not a PNG"));
        assert_eq!(marked.len(), plain.len() + 12 + "Software\0robmem".len());
    }
}
