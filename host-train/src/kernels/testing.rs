//! What the kernels' tests share: inputs, the definitions of the convolution and its weight gradient
//! (f64 sums), padding, and running a check on every path.

use super::simd::{Isa, Path, Simd, WithPath};

/// Runs `check` on every path this CPU has; prints the others as skipped.
pub fn on_every_path<W: WithPath<Output = ()> + Copy>(check: W) {
    for isa in Isa::ALL {
        match isa.missing_feature() {
            Some(f) => eprintln!("{}: skipped (this CPU lacks {f})", isa.name()),
            None => {
                isa.dispatch(check);
                eprintln!("{}: checked", isa.name());
            }
        }
    }
}

pub fn noise(n: usize, seed: u32) -> Vec<f32> {
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

pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The padded input value `inp[y+ky, x+kx, ci]` (padded coordinates).
pub fn padded_at(inp: &[f32], w: usize, c: usize, y: usize, x: usize, ci: usize) -> f64 {
    inp[(y * (w + 2) + x) * c + ci] as f64
}

/// The definition of [`super::direct::Conv`] without its epilogue, unpadded `h x w x cout` output.
pub fn conv_reference(
    inp: &[f32],
    cin: usize,
    h: usize,
    w: usize,
    wt: &[f32],
    bias: &[f32],
    cout: usize,
) -> Vec<f32> {
    let mut out = vec![0.0; h * w * cout];
    for y in 0..h {
        for x in 0..w {
            for co in 0..cout {
                let mut s = bias[co] as f64;
                for ky in 0..3 {
                    for kx in 0..3 {
                        for ci in 0..cin {
                            let wv = wt[((ky * 3 + kx) * cin + ci) * cout + co] as f64;
                            s += wv * padded_at(inp, w, cin, y + ky, x + kx, ci);
                        }
                    }
                }
                out[(y * w + x) * cout + co] = s as f32;
            }
        }
    }
    out
}

/// The definition of [`super::direct::WeightGrad`] for an unpadded gradient.
pub fn weight_grad_reference(
    inp: &[f32],
    cin: usize,
    h: usize,
    w: usize,
    g: &[f32],
    cout: usize,
) -> Vec<f32> {
    let mut dw = vec![0.0; 9 * cin * cout];
    for ky in 0..3 {
        for kx in 0..3 {
            for ci in 0..cin {
                for co in 0..cout {
                    let mut s = 0f64;
                    for y in 0..h {
                        for x in 0..w {
                            s += padded_at(inp, w, cin, y + ky, x + kx, ci)
                                * g[(y * w + x) * cout + co] as f64;
                        }
                    }
                    dw[((ky * 3 + kx) * cin + ci) * cout + co] = s as f32;
                }
            }
        }
    }
    dw
}

pub fn pad(src: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut p = vec![0.0; (h + 2) * (w + 2) * c];
    for y in 0..h {
        for x in 0..w {
            let d = ((y + 1) * (w + 2) + x + 1) * c;
            p[d..d + c].copy_from_slice(&src[(y * w + x) * c..][..c]);
        }
    }
    p
}

pub fn interior(p: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut out = vec![0.0; h * w * c];
    for y in 0..h {
        for x in 0..w {
            let s = ((y + 1) * (w + 2) + x + 1) * c;
            out[(y * w + x) * c..][..c].copy_from_slice(&p[s..s + c]);
        }
    }
    out
}

/// (lanes, registers) of the register type the kernels of `P` run `channels` channels on: its widest
/// that divides them.
pub fn register_type<P: Path>(channels: usize) -> (usize, usize) {
    if channels.is_multiple_of(<P::Wide as Simd>::LANES) {
        (<P::Wide as Simd>::LANES, <P::Wide as Simd>::REGISTERS)
    } else {
        (<P::Narrow as Simd>::LANES, <P::Narrow as Simd>::REGISTERS)
    }
}
