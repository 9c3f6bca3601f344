//! The integer micro-kernel: for [`MR`] quantized rows and one group of
//! [`NR`] packed columns, the exact integers n = ||q_a - q_b||^2 and the
//! lanes where n is at most a per-row threshold.
//!
//! Two implementations compute the same integers: [`tile_vnni`] with
//! AVX-512 VNNI (`vpdpbusd`: 64 byte products per instruction, no
//! horizontal sums), and [`tile_portable`] with scalar integer arithmetic.
//! Both are exact (no rounding anywhere), so they agree bit for bit.
//!
//! # Layout
//!
//! A row is `dp` bytes (the dimension padded with zeros to a multiple of
//! 4), values 0..=127: valid both as unsigned and signed bytes, so
//! `vpdpbusd` never saturates. A column group is two strips of 16 columns;
//! a strip holds, for each group of 4 coordinates g, the 4 bytes of each of
//! its 16 columns: byte `g * 64 + lane * 4 + b` is coordinate `4 g + b` of
//! column `lane`. One `vpdpbusd` of the 4 bytes of a row (broadcast) with
//! 64 bytes of a strip adds 4 coordinates of 16 products.
//!
//! The sums fit i32: the caller keeps the padded dimension at most
//! [`super::MAX_DIM`], so ||q_a||^2 + ||q_b||^2 <= 2 * 65536 * 127^2 < 2^31.

/// Rows per micro-tile.
pub(super) const MR: usize = 6;
/// Columns per micro-tile (two strips of 16).
pub(super) const NR: usize = 32;
/// Columns per strip.
pub(super) const STRIP: usize = 16;

/// One micro-tile's inputs.
pub(super) struct Tile<'a> {
    /// [`MR`] rows of `dp` bytes each.
    pub rows: &'a [u8],
    /// ||q||^2 of the rows.
    pub sq_rows: [i32; MR],
    /// Per-row thresholds: lanes with n <= threshold are reported.
    pub thresholds: [i32; MR],
    /// Two strips of `16 dp` bytes each.
    pub panel: &'a [u8],
    /// ||q||^2 of the [`NR`] columns.
    pub sq_cols: &'a [i32],
    /// Padded dimension (a multiple of 4).
    pub dp: usize,
}

/// The lanes of each row with n <= its threshold (bit c for column c), and
/// in `out` the integers n of every row with some lane set (other rows of
/// `out` are left as they were).
pub(super) fn tile(tile: &Tile, simd: bool, out: &mut [[i32; NR]; MR]) -> [u32; MR] {
    assert!(
        tile.dp.is_multiple_of(4)
            && tile.rows.len() >= MR * tile.dp
            && tile.panel.len() >= NR * tile.dp
            && tile.sq_cols.len() >= NR,
        "micro-tile inputs of the right size"
    );
    #[cfg(target_arch = "x86_64")]
    if simd && has_vnni() {
        // SAFETY: the CPU has AVX-512 F, BW and VNNI (checked just above)
        // and the slices have the sizes the kernel reads (asserted above).
        return unsafe { tile_vnni(tile, out) };
    }
    let _ = simd;
    tile_portable(tile, out)
}

/// Whether the CPU runs the VNNI kernel.
pub(super) fn has_vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The portable kernel: the same integers with scalar arithmetic.
pub(super) fn tile_portable(tile: &Tile, out: &mut [[i32; NR]; MR]) -> [u32; MR] {
    let dp = tile.dp;
    let mut masks = [0u32; MR];
    let mut n = [[0i32; NR]; MR];
    for (r, row) in tile.rows.chunks_exact(dp).take(MR).enumerate() {
        for (c, value) in n[r].iter_mut().enumerate() {
            let strip = &tile.panel[(c / STRIP) * STRIP * dp..][..STRIP * dp];
            let lane = c % STRIP;
            let mut dot = 0i32;
            for (g, quad) in row.chunks_exact(4).enumerate() {
                let col = &strip[g * 64 + lane * 4..][..4];
                for (&x, &y) in quad.iter().zip(col) {
                    dot += i32::from(x) * i32::from(y);
                }
            }
            *value = tile.sq_rows[r] + tile.sq_cols[c] - 2 * dot;
            if *value <= tile.thresholds[r] {
                masks[r] |= 1 << c;
            }
        }
        if masks[r] != 0 {
            out[r] = n[r];
        }
    }
    masks
}

/// The VNNI kernel: [`MR`] x 2 accumulators of 16 lanes.
///
/// # Safety
/// The CPU must have AVX-512 F, BW and VNNI; `tile.rows` must hold
/// [`MR`] `dp` bytes, `tile.panel` [`NR`] `dp` bytes and `tile.sq_cols`
/// [`NR`] values (checked by [`tile`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn tile_vnni(tile: &Tile, out: &mut [[i32; NR]; MR]) -> [u32; MR] {
    use std::arch::x86_64::*;
    let dp = tile.dp;
    let rows = tile.rows.as_ptr();
    let p0 = tile.panel.as_ptr();
    let p1 = p0.add(STRIP * dp);
    let mut acc = [[_mm512_setzero_si512(); 2]; MR];
    let mut g = 0;
    while g < dp {
        // SAFETY (all reads): g < dp, so rows + r dp + g .. + 4 is inside
        // row r, and p0/p1 + 16 g .. + 64 inside each strip of 16 dp bytes.
        let v0 = _mm512_loadu_si512(p0.add(16 * g) as *const _);
        let v1 = _mm512_loadu_si512(p1.add(16 * g) as *const _);
        for (r, a) in acc.iter_mut().enumerate() {
            let quad = (rows.add(r * dp + g) as *const i32).read_unaligned();
            let b = _mm512_set1_epi32(quad);
            a[0] = _mm512_dpbusd_epi32(a[0], b, v0);
            a[1] = _mm512_dpbusd_epi32(a[1], b, v1);
        }
        g += 4;
    }
    let sq0 = _mm512_loadu_si512(tile.sq_cols.as_ptr() as *const _);
    let sq1 = _mm512_loadu_si512(tile.sq_cols.as_ptr().add(STRIP) as *const _);
    let mut masks = [0u32; MR];
    for (r, a) in acc.iter().enumerate() {
        let sq_r = _mm512_set1_epi32(tile.sq_rows[r]);
        let t = _mm512_set1_epi32(tile.thresholds[r]);
        let n0 = _mm512_sub_epi32(_mm512_add_epi32(sq_r, sq0), _mm512_slli_epi32::<1>(a[0]));
        let n1 = _mm512_sub_epi32(_mm512_add_epi32(sq_r, sq1), _mm512_slli_epi32::<1>(a[1]));
        let m0 = _mm512_cmple_epi32_mask(n0, t);
        let m1 = _mm512_cmple_epi32_mask(n1, t);
        let mask = u32::from(m0) | (u32::from(m1) << 16);
        if mask != 0 {
            let o = out[r].as_mut_ptr();
            _mm512_storeu_si512(o as *mut _, n0);
            _mm512_storeu_si512(o.add(STRIP) as *mut _, n1);
        }
        masks[r] = mask;
    }
    masks
}
