//! The study's 3x3 "same" convolutions (stride 1, padding 1) followed by a ReLU, forward and backward for
//! one image at a time, NCHW, f32: im2col tiles + the `gemm` crate (AVX-512 kernels).
//!
//! Every function works on one image with fixed shapes, so an image's result never depends on how many
//! images or models are processed beside it, nor on the thread that runs it: that is what makes fused
//! training bit-identical to training one model alone, and results independent of the thread count.

use std::cell::RefCell;

/// Keeps freed buffers in the process instead of returning them to the kernel: with glibc's defaults
/// every large buffer is a fresh mmap whose pages the kernel zeroes again.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc malloc's tuning parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

thread_local! {
    /// The im2col tile of the thread (kept between calls: no allocation per image).
    static COL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn with_col<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    COL.with(|cell| {
        let mut v = cell.borrow_mut();
        if v.len() < len {
            v.resize(len, 0.0);
        }
        f(&mut v[..len])
    })
}

/// im2col for output rows `y0..y1` of one image:
/// `col[(ci*9 + ky*3 + kx), (y-y0)*w + x] = img[ci, y+ky-1, x+kx-1]` (0 outside the image).
/// Each row is a slice of the image plane shifted by `(ky-1)*w + (kx-1)`: one bulk copy, then the
/// wrapped-around edge column and the out-of-range rows are zeroed.
fn im2col(img: &[f32], cin: usize, h: usize, w: usize, y0: usize, y1: usize, col: &mut [f32]) {
    let hw = h * w;
    let (p0, p1) = (y0 * w, y1 * w);
    let len = p1 - p0;
    for ci in 0..cin {
        let src = &img[ci * hw..(ci + 1) * hw];
        for ky in 0..3 {
            for kx in 0..3 {
                let r = ci * 9 + ky * 3 + kx;
                let row = &mut col[r * len..(r + 1) * len];
                let d = (ky as isize - 1) * w as isize + (kx as isize - 1);
                // Valid destination range: p0 <= p < p1 with 0 <= p + d < hw.
                let lo = ((p0 as isize).max(-d) as usize).min(p1);
                let hi = ((p1 as isize).min(hw as isize - d) as usize).max(lo);
                row[..lo - p0].fill(0.0);
                if hi > lo {
                    let (s0, s1) = ((lo as isize + d) as usize, (hi as isize + d) as usize);
                    row[lo - p0..hi - p0].copy_from_slice(&src[s0..s1]);
                }
                row[hi - p0..].fill(0.0);
                if ky == 0 && y0 == 0 {
                    row[..w].fill(0.0);
                }
                if ky == 2 && y1 == h {
                    row[len - w..].fill(0.0);
                }
                match kx {
                    0 => row.iter_mut().step_by(w).for_each(|v| *v = 0.0),
                    2 => row[w - 1..].iter_mut().step_by(w).for_each(|v| *v = 0.0),
                    _ => {}
                }
            }
        }
    }
}

/// Output rows per im2col tile, so that a tile (k x rows*w floats) stays in L2 with the GEMM's packing.
fn tile_rows(k: usize, h: usize, w: usize) -> usize {
    (TILE_BYTES.load(std::sync::atomic::Ordering::Relaxed) / (4 * k * w)).clamp(1, h)
}

/// The im2col tile budget in bytes (tests shrink it to exercise the tiling).
static TILE_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(192 * 1024);

/// `c[m, n] (+)= a[m, k] @ b[k, n]` with explicit strides (row stride, column stride).
#[allow(clippy::too_many_arguments)]
#[inline]
fn gemm_f32(
    m: usize,
    n: usize,
    k: usize,
    c: &mut [f32],
    c_rs: usize,
    accumulate: bool,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
) {
    assert!(m > 0 && n > 0 && k > 0);
    assert!(c.len() > (m - 1) * c_rs + (n - 1));
    assert!(a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    assert!(b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the asserts above check that the slices cover every index the strides reach; `c` is
    // row-major with unit column stride.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            c_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

/// Runs `f(y0, n, col)` over the row tiles of an image `img` with `c` channels: `col` is the im2col of
/// output rows `y0..y0 + n / w` (`c * 9` rows of `n` values), tiles sized by [`tile_rows`].
fn for_each_tile(
    img: &[f32],
    c: usize,
    h: usize,
    w: usize,
    mut f: impl FnMut(usize, usize, &[f32]),
) {
    let k = c * 9;
    let ty = tile_rows(k, h, w);
    with_col(k * ty * w, |col| {
        for y0 in (0..h).step_by(ty) {
            let y1 = (y0 + ty).min(h);
            let n = (y1 - y0) * w;
            im2col(img, c, h, w, y0, y1, &mut col[..k * n]);
            f(y0, n, &col[..k * n]);
        }
    });
}

/// The shape of one convolution layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    pub cin: usize,
    pub cout: usize,
    pub h: usize,
    pub w: usize,
}

impl Conv {
    /// Weights `(cout, cin, 3, 3)`.
    pub fn weights(&self) -> usize {
        self.cout * self.cin * 9
    }

    /// `y = relu(conv(x, wt) + bias)` for one image: `x` is `(cin, h, w)`, `y` is `(cout, h, w)`.
    pub fn forward(&self, x: &[f32], wt: &[f32], bias: &[f32], y: &mut [f32]) {
        let Conv { cin, cout, h, w } = *self;
        let hw = h * w;
        let k = cin * 9;
        for_each_tile(x, cin, h, w, |y0, n, col| {
            gemm_f32(cout, n, k, &mut y[y0 * w..], hw, false, wt, k, 1, col, n, 1);
        });
        for (row, &b) in y.chunks_mut(hw).zip(bias) {
            row.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
        }
    }

    /// `flipped[ci, co*9 + (2-ky)*3 + (2-kx)] = wt[co, ci, ky, kx]`: the input gradient of a 3x3 "same"
    /// convolution is the same convolution of the output gradient with these weights.
    pub fn flip(&self, wt: &[f32], flipped: &mut [f32]) {
        let Conv { cin, cout, .. } = *self;
        for co in 0..cout {
            for ci in 0..cin {
                for t in 0..9 {
                    flipped[ci * cout * 9 + co * 9 + (8 - t)] = wt[(co * cin + ci) * 9 + t];
                }
            }
        }
    }

    /// Backward of [`Conv::forward`] for one image. `g` holds the gradient of the loss with respect to
    /// `y` and is turned in place into the gradient before the ReLU; `dw` and `db` are added to; `dx`
    /// (the input gradient, when wanted, with the [`Conv::flip`]ped weights) is overwritten.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        x: &[f32],
        y: &[f32],
        g: &mut [f32],
        dw: &mut [f32],
        db: &mut [f32],
        dx: Option<(&[f32], &mut [f32])>,
    ) {
        let Conv { cin, cout, h, w } = *self;
        let hw = h * w;
        for (gv, &o) in g.iter_mut().zip(y) {
            if o <= 0.0 {
                *gv = 0.0;
            }
        }
        for (row, d) in g.chunks(hw).zip(db.iter_mut()) {
            *d += row.iter().sum::<f32>();
        }
        let k = cin * 9;
        for_each_tile(x, cin, h, w, |y0, n, col| {
            // dw[cout, k] += g[cout, tile] @ col^T[tile, k]
            gemm_f32(cout, k, n, dw, k, true, &g[y0 * w..], hw, 1, col, 1, n);
        });
        if let Some((flipped, dx)) = dx {
            let k2 = cout * 9;
            for_each_tile(g, cout, h, w, |y0, n, col| {
                let dxt = &mut dx[y0 * w..];
                gemm_f32(cin, n, k2, dxt, hw, false, flipped, k2, 1, col, n, 1);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor, Var};

    #[test]
    fn matches_candle_conv2d_forward_and_backward() {
        // One tile per image, tiles of one row, tiles of three rows.
        for budget in [192 * 1024, 4 * 27 * 7 + 100, 4 * 45 * 7 * 3] {
            TILE_BYTES.store(budget, std::sync::atomic::Ordering::Relaxed);
            check_against_candle();
        }
        TILE_BYTES.store(192 * 1024, std::sync::atomic::Ordering::Relaxed);
    }

    fn vec(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn max_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    fn check_against_candle() {
        let dev = Device::Cpu;
        let (bsz, cin, cout, h, w) = (3, 3, 5, 6, 7);
        let conv = Conv { cin, cout, h, w };
        let x = Var::randn(0f32, 1.0, (bsz, cin, h, w), &dev).unwrap();
        let wt = Var::randn(0f32, 0.5, (cout, cin, 3, 3), &dev).unwrap();
        let bias = Var::randn(0f32, 0.5, cout, &dev).unwrap();
        let probe = Tensor::randn(0f32, 1.0, (bsz, cout, h, w), &dev).unwrap();
        let theirs = x
            .conv2d(&wt, 1, 1, 1, 1)
            .unwrap()
            .broadcast_add(&bias.reshape((1, (), 1, 1)).unwrap())
            .unwrap()
            .relu()
            .unwrap();
        let grads = (&theirs * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();

        let (xs, ws, bs, ps) = (vec(&x), vec(&wt), vec(&bias), vec(&probe));
        let mut flipped = vec![0.0; conv.weights()];
        conv.flip(&ws, &mut flipped);
        let (img, out) = (cin * h * w, cout * h * w);
        let mut y = vec![0.0; bsz * out];
        let mut dw = vec![0.0; conv.weights()];
        let mut db = vec![0.0; cout];
        let mut dx = vec![f32::NAN; bsz * img];
        for i in 0..bsz {
            let yi = &mut y[i * out..(i + 1) * out];
            conv.forward(&xs[i * img..(i + 1) * img], &ws, &bs, yi);
            let mut g = ps[i * out..(i + 1) * out].to_vec();
            conv.backward(
                &xs[i * img..(i + 1) * img],
                yi,
                &mut g,
                &mut dw,
                &mut db,
                Some((&flipped, &mut dx[i * img..(i + 1) * img])),
            );
        }
        assert!(max_diff(&y, &vec(&theirs)) < 1e-4, "forward");
        assert!(max_diff(&dx, &vec(grads.get(&x).unwrap())) < 1e-3, "dx");
        assert!(max_diff(&dw, &vec(grads.get(&wt).unwrap())) < 1e-3, "dw");
        assert!(max_diff(&db, &vec(grads.get(&bias).unwrap())) < 1e-3, "db");
    }
}
