//! Direct 3x3 convolution kernels with AVX-512, NHWC, for the layers whose output has 16 or 32 channels
//! (the study's conv2 forward, its input gradient, and its weight gradient: three quarters of the
//! arithmetic of a training step).
//!
//! Layouts: activations are `(h+2) x (w+2) x c` with a zero border ("padded"), or `h x w x c`; weights are
//! HWIO, `w[((ky*3 + kx)*cin + ci)*cout + co]`. Each output vector is a register accumulator fed by
//! FMAs with a broadcast input value, in a fixed order (taps, then input channels), so a pixel's result
//! does not depend on the block it is computed in or on the thread.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Whether this CPU runs the kernels (else the callers use the im2col + GEMM path).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `out[y, x, :] = act(bias + sum_{ky,kx,ci} inp[y+ky, x+kx, ci] * w[ky, kx, ci, :])` for every pixel of an
/// `h x w` image: `inp` padded with `cin` channels; `out` with `cout` = `LANES * CV` channels, padded when
/// `out_padded` (only the interior is written), `act` = ReLU when `relu`. `LANES` = 16 (AVX-512) or 8
/// (AVX-512VL, for the 8-channel layer). Needs [`available`].
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub fn conv<const LANES: usize, const CV: usize>(
    inp: &[f32],
    cin: usize,
    h: usize,
    w: usize,
    wt: &[f32],
    bias: Option<&[f32]>,
    relu: bool,
    out: &mut [f32],
    out_padded: bool,
) {
    let cout = LANES * CV;
    assert!(available() && (LANES == 16 || LANES == 8));
    assert!(inp.len() >= (h + 2) * (w + 2) * cin);
    let out_w = if out_padded { w + 2 } else { w };
    let out_h = if out_padded { h + 2 } else { h };
    assert!(wt.len() >= 9 * cin * cout && out.len() >= out_h * out_w * cout);
    assert!(bias.is_none_or(|b| b.len() >= cout));
    // Pixels per block: the accumulators (N * CV registers) plus CV weight registers fit in 32.
    const BLOCK: usize = 14;
    let nb = BLOCK / CV;
    let off = usize::from(out_padded);
    for y in 0..h {
        let mut x0 = 0;
        while x0 < w {
            let n = nb.min(w - x0);
            let inp_at = (y * (w + 2) + x0) * cin;
            let out_at = ((y + off) * out_w + x0 + off) * cout;
            let (i, wp, o) = (inp.as_ptr(), wt.as_ptr(), out.as_mut_ptr());
            macro_rules! block {
                ($($n:literal)*) => {
                    // SAFETY: the CPU has the kernels' features (asserted); the asserts above bound
                    // every index a block reads and writes (pixels x0..x0+n of output row y, rows
                    // y..y+2 of the padded input, the 9 * cin * cout weights).
                    unsafe {
                        match (LANES, n) {
                            $((16, $n) => conv_block16::<CV, $n>(i.add(inp_at), (w + 2) * cin, cin, wp, bias, relu, o.add(out_at)),)*
                            $((8, $n) => conv_block8::<CV, $n>(i.add(inp_at), (w + 2) * cin, cin, wp, bias, relu, o.add(out_at)),)*
                            _ => unreachable!(),
                        }
                    }
                };
            }
            block!(1 2 3 4 5 6 7 8 9 10 11 12 13 14);
            x0 += n;
        }
    }
}

/// `dw[ky, kx, ci, :] += sum_{y,x} inp[y+ky, x+kx, ci] * g[y, x, :]` (pixels in row-major order): `inp`
/// padded with `cin` channels (a multiple of `CB`), `g` with `LANES * CV` channels, padded when
/// `g_padded`, `dw` HWIO. Needs [`available`].
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
pub fn weight_grad<const LANES: usize, const CV: usize, const CB: usize>(
    inp: &[f32],
    cin: usize,
    h: usize,
    w: usize,
    g: &[f32],
    g_padded: bool,
    dw: &mut [f32],
) {
    let cout = LANES * CV;
    assert!(available() && (LANES == 16 || LANES == 8));
    assert!(cin.is_multiple_of(CB) && 3 * CB * CV <= 24);
    assert!(inp.len() >= (h + 2) * (w + 2) * cin);
    let (gw, goff) = if g_padded { (w + 2, 1) } else { (w, 0) };
    assert!(g.len() >= (h + 2 * goff) * gw * cout && dw.len() >= 9 * cin * cout);
    for ky in 0..3 {
        for c0 in (0..cin).step_by(CB) {
            let (i, gp, d) = (inp.as_ptr(), g.as_ptr(), dw.as_mut_ptr());
            // SAFETY: the CPU has the kernels' features (asserted); the asserts above bound every index.
            unsafe {
                if LANES == 16 {
                    weight_grad_block16::<CV, CB>(i, cin, h, w, gp, gw, goff, ky, c0, d)
                } else {
                    weight_grad_block8::<CV, CB>(i, cin, h, w, gp, gw, goff, ky, c0, d)
                }
            }
        }
    }
}

/// The kernels for one vector width: `$lanes` floats per register.
macro_rules! kernels {
    ($conv:ident, $wgrad:ident, $lanes:literal, $feature:literal, $v:ty, $zero:ident, $load:ident,
     $store:ident, $set1:ident, $fmadd:ident, $max:ident) => {
        /// One block of `N` output pixels of [`conv`], `CV` registers each, in registers throughout.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $conv<const CV: usize, const N: usize>(
            inp: *const f32,
            row: usize,
            cin: usize,
            wt: *const f32,
            bias: Option<&[f32]>,
            relu: bool,
            out: *mut f32,
        ) {
            let cout = $lanes * CV;
            let mut acc: [[$v; CV]; N] = [[$zero(); CV]; N];
            if let Some(b) = bias {
                for v in 0..CV {
                    let bv = $load(b.as_ptr().add($lanes * v));
                    for a in acc.iter_mut() {
                        a[v] = bv;
                    }
                }
            }
            for ky in 0..3 {
                for kx in 0..3 {
                    let base = inp.add(ky * row + kx * cin);
                    let wtap = wt.add((ky * 3 + kx) * cin * cout);
                    for ci in 0..cin {
                        let mut wv: [$v; CV] = [$zero(); CV];
                        for (v, r) in wv.iter_mut().enumerate() {
                            *r = $load(wtap.add(ci * cout + $lanes * v));
                        }
                        for (j, a) in acc.iter_mut().enumerate() {
                            let xv = $set1(*base.add(j * cin + ci));
                            for v in 0..CV {
                                a[v] = $fmadd(wv[v], xv, a[v]);
                            }
                        }
                    }
                }
            }
            let zero = $zero();
            for (j, a) in acc.iter().enumerate() {
                for v in 0..CV {
                    let r = if relu { $max(a[v], zero) } else { a[v] };
                    $store(out.add(j * cout + $lanes * v), r);
                }
            }
        }

        /// The 3 (kx) x `CB` (ci) x `CV` output registers `dw[ky, 0..3, c0..c0+CB, :]` of
        /// [`weight_grad`], kept in registers over all pixels.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn $wgrad<const CV: usize, const CB: usize>(
            inp: *const f32,
            cin: usize,
            h: usize,
            w: usize,
            g: *const f32,
            gw: usize,
            goff: usize,
            ky: usize,
            c0: usize,
            dw: *mut f32,
        ) {
            let cout = $lanes * CV;
            let at =
                |kx: usize, c: usize, v: usize| ((ky * 3 + kx) * cin + c0 + c) * cout + $lanes * v;
            let mut acc: [[[$v; CV]; CB]; 3] = [[[$zero(); CV]; CB]; 3];
            for (kx, a) in acc.iter_mut().enumerate() {
                for (c, r) in a.iter_mut().enumerate() {
                    for (v, x) in r.iter_mut().enumerate() {
                        *x = $load(dw.add(at(kx, c, v)));
                    }
                }
            }
            for y in 0..h {
                let row = inp.add(((y + ky) * (w + 2)) * cin + c0);
                let grow = g.add(((y + goff) * gw + goff) * cout);
                for x in 0..w {
                    let mut gv: [$v; CV] = [$zero(); CV];
                    for (v, r) in gv.iter_mut().enumerate() {
                        *r = $load(grow.add(x * cout + $lanes * v));
                    }
                    for (kx, a) in acc.iter_mut().enumerate() {
                        let px = row.add((x + kx) * cin);
                        for (c, r) in a.iter_mut().enumerate() {
                            let xv = $set1(*px.add(c));
                            for v in 0..CV {
                                r[v] = $fmadd(xv, gv[v], r[v]);
                            }
                        }
                    }
                }
            }
            for (kx, a) in acc.iter().enumerate() {
                for (c, r) in a.iter().enumerate() {
                    for (v, x) in r.iter().enumerate() {
                        $store(dw.add(at(kx, c, v)), *x);
                    }
                }
            }
        }
    };
}

kernels!(
    conv_block16,
    weight_grad_block16,
    16,
    "avx512f",
    __m512,
    _mm512_setzero_ps,
    _mm512_loadu_ps,
    _mm512_storeu_ps,
    _mm512_set1_ps,
    _mm512_fmadd_ps,
    _mm512_max_ps
);
kernels!(
    conv_block8,
    weight_grad_block8,
    8,
    "avx512f,avx512vl,fma",
    __m256,
    _mm256_setzero_ps,
    _mm256_loadu_ps,
    _mm256_storeu_ps,
    _mm256_set1_ps,
    _mm256_fmadd_ps,
    _mm256_max_ps
);

/// OIHW (PyTorch) weights `(cout, cin, 3, 3)` to HWIO.
pub fn oihw_to_hwio(w: &[f32], cin: usize, cout: usize, out: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                out[(t * cin + ci) * cout + co] = w[(co * cin + ci) * 9 + t];
            }
        }
    }
}

/// Adds HWIO weights to OIHW ones.
pub fn add_hwio_to_oihw(hwio: &[f32], cin: usize, cout: usize, oihw: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                oihw[(co * cin + ci) * 9 + t] += hwio[(t * cin + ci) * cout + co];
            }
        }
    }
}

/// The input-gradient weights in HWIO form of the transposed convolution: `f[ky, kx, co, ci] =
/// w[co, ci, 2-ky, 2-kx]` (from OIHW `w`), so that `dx = conv(g, f)` with `cout` input channels.
pub fn flip_oihw_to_hwio(w: &[f32], cin: usize, cout: usize, out: &mut [f32]) {
    for co in 0..cout {
        for ci in 0..cin {
            for t in 0..9 {
                out[((8 - t) * cout + co) * cin + ci] = w[(co * cin + ci) * 9 + t];
            }
        }
    }
}

/// The linear layer's weights `(classes, c*h*w)` (PyTorch's flatten of NCHW) reordered for an NHWC input:
/// `out[k, p*c + ci] = w[k, ci*hw + p]`.
pub fn linear_chw_to_hwc(w: &[f32], classes: usize, c: usize, hw: usize, out: &mut [f32]) {
    let n = c * hw;
    for k in 0..classes {
        for ci in 0..c {
            for p in 0..hw {
                out[k * n + p * c + ci] = w[k * n + ci * hw + p];
            }
        }
    }
}

/// Adds NHWC-ordered linear weights (as [`linear_chw_to_hwc`] makes them) to PyTorch-ordered ones.
pub fn add_linear_hwc_to_chw(hwc: &[f32], classes: usize, c: usize, hw: usize, chw: &mut [f32]) {
    let n = c * hw;
    for k in 0..classes {
        for ci in 0..c {
            for p in 0..hw {
                chw[k * n + ci * hw + p] += hwc[k * n + p * c + ci];
            }
        }
    }
}

/// NCHW plane-major `(c, h, w)` into the interior of a padded `(h+2, w+2, c)` buffer (border untouched).
pub fn chw_to_padded_hwc(src: &[f32], c: usize, h: usize, w: usize, dst: &mut [f32]) {
    let hw = h * w;
    for y in 0..h {
        for x in 0..w {
            let d = ((y + 1) * (w + 2) + x + 1) * c;
            for (ci, v) in dst[d..d + c].iter_mut().enumerate() {
                *v = src[ci * hw + y * w + x];
            }
        }
    }
}

/// `(h, w, c)` (unpadded) into `(c, h, w)`.
#[cfg(test)]
fn hwc_to_chw(src: &[f32], c: usize, h: usize, w: usize, dst: &mut [f32]) {
    for p in 0..h * w {
        for ci in 0..c {
            dst[ci * h * w + p] = src[p * c + ci];
        }
    }
}

/// The interior of a padded `(h+2, w+2, c)` buffer into `(c, h, w)`.
#[cfg(test)]
fn padded_hwc_to_chw(src: &[f32], c: usize, h: usize, w: usize, dst: &mut [f32]) {
    for y in 0..h {
        for x in 0..w {
            let s = ((y + 1) * (w + 2) + x + 1) * c;
            for ci in 0..c {
                dst[ci * h * w + y * w + x] = src[s + ci];
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::conv::Conv;

    fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 2000) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// Forward, input gradient and weight gradient against the im2col + GEMM path, for the study's three
    /// layer shapes, on an image width with remainder blocks (17 = 14 + 3 = 7 + 7 + 3).
    #[test]
    fn match_the_gemm_path() {
        if !available() {
            eprintln!("no AVX-512: skipped");
            return;
        }
        check(1, 32);
        check(32, 16);
        check(16, 8);
    }

    fn check(cin: usize, cout: usize) {
        let (h, w) = (5, 17);
        let layer = Conv { cin, cout, h, w };
        let hw = h * w;
        let padded = (h + 2) * (w + 2);
        let x = noise(cin * hw, 1);
        let wt = noise(layer.weights(), 2);
        let bias = noise(cout, 3);
        let g0 = noise(cout * hw, 4);

        let mut y_ref = vec![0.0; cout * hw];
        layer.forward(&x, &wt, &bias, &mut y_ref);
        let mut g_ref = g0.clone();
        let (mut dw_ref, mut db_ref, mut dx_ref) = (
            vec![0.0; layer.weights()],
            vec![0.0; cout],
            vec![0.0; cin * hw],
        );
        let mut flipped = vec![0.0; layer.weights()];
        layer.flip(&wt, &mut flipped);
        layer.backward(
            &x,
            &y_ref,
            &mut g_ref,
            &mut dw_ref,
            &mut db_ref,
            Some((&flipped, &mut dx_ref)),
        );

        let mut xp = vec![0.0; padded * cin];
        chw_to_padded_hwc(&x, cin, h, w, &mut xp);
        let mut w_hwio = vec![0.0; layer.weights()];
        oihw_to_hwio(&wt, cin, cout, &mut w_hwio);
        let mut yp = vec![0.0; padded * cout];
        match cout {
            32 => conv::<16, 2>(&xp, cin, h, w, &w_hwio, Some(&bias), true, &mut yp, true),
            16 => conv::<16, 1>(&xp, cin, h, w, &w_hwio, Some(&bias), true, &mut yp, true),
            8 => conv::<8, 1>(&xp, cin, h, w, &w_hwio, Some(&bias), true, &mut yp, true),
            _ => unreachable!(),
        }
        assert!(
            yp[..(w + 2) * cout].iter().all(|&v| v == 0.0),
            "border written"
        );
        let mut y = vec![0.0; cout * hw];
        padded_hwc_to_chw(&yp, cout, h, w, &mut y);
        // Sums of up to 288 products of values in [-1, 1]: f32 rounding in another order is ~1e-5.
        assert!(
            max_diff(&y, &y_ref) < 5e-5,
            "forward {cin}->{cout}: {}",
            max_diff(&y, &y_ref)
        );

        // The masked output gradient (g_ref after backward), padded NHWC, for dx and dw.
        let mut gp = vec![0.0; padded * cout];
        chw_to_padded_hwc(&g_ref, cout, h, w, &mut gp);
        let mut dw_hwio = vec![0.0; layer.weights()];
        match cout {
            32 => weight_grad::<16, 2, 1>(&xp, cin, h, w, &gp, true, &mut dw_hwio),
            16 => weight_grad::<16, 1, 8>(&xp, cin, h, w, &gp, true, &mut dw_hwio),
            8 => weight_grad::<8, 1, 8>(&xp, cin, h, w, &gp, true, &mut dw_hwio),
            _ => unreachable!(),
        }
        let mut dw = vec![0.0; layer.weights()];
        add_hwio_to_oihw(&dw_hwio, cin, cout, &mut dw);
        assert!(max_diff(&dw, &dw_ref) < 1e-4, "dw {cin}->{cout}");
        if !cin.is_multiple_of(16) {
            return;
        }
        let mut f_hwio = vec![0.0; layer.weights()];
        flip_oihw_to_hwio(&wt, cin, cout, &mut f_hwio);
        let mut dx = vec![0.0; hw * cin];
        match cin {
            32 => conv::<16, 2>(&gp, cout, h, w, &f_hwio, None, false, &mut dx, false),
            16 => conv::<16, 1>(&gp, cout, h, w, &f_hwio, None, false, &mut dx, false),
            _ => unreachable!(),
        }
        let mut dx_chw = vec![0.0; cin * hw];
        hwc_to_chw(&dx, cin, h, w, &mut dx_chw);
        assert!(max_diff(&dx_chw, &dx_ref) < 1e-4, "dx {cin}->{cout}");
    }
}
