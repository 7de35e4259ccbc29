//! The study's 3x3 "same" convolutions as candle custom ops: `relu(conv2d(x, w, padding=1) + b)` forward
//! and its backward, on im2col + the `gemm` crate (candle's own GEMM, AVX-512 kernels), parallel over
//! images with rayon.
//!
//! Determinism: the batch is cut into fixed chunks of [`CHUNK`] images whatever the thread count; each
//! chunk sums its weight and bias gradients in image order and the chunks are summed in chunk order, so a
//! run gives the same bits with 1, 2 or 16 threads (checkpoint resume relies on it).

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Storage, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;
use std::cell::RefCell;

/// Keeps freed activation and gradient buffers in the process instead of returning them to the kernel:
/// with glibc's defaults every 12 MB per-batch buffer is a fresh mmap whose pages the kernel zeroes
/// again (20-45% of a step on this workload).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc malloc's tuning parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Images per gradient-accumulation chunk (fixed, for thread-count-independent results).
pub const CHUNK: usize = 8;

/// `relu(conv2d(x, w, stride 1, padding 1) + b)` for a 3x3 kernel, NCHW, f32, CPU.
#[derive(Clone, Copy, Debug)]
pub struct Conv3x3Relu {
    /// Whether the backward pass computes the gradient of the input (false for the first layer, whose
    /// input is the data).
    pub input_grad: bool,
}

thread_local! {
    static COL: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static TMP: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn with_buf<R>(
    key: &'static std::thread::LocalKey<RefCell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    key.with(|cell| {
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
    debug_assert!(c.len() >= (m - 1) * c_rs + n);
    debug_assert!(a.len() > (m - 1) * a_rs + (k - 1) * a_cs);
    debug_assert!(b.len() > (k - 1) * b_rs + (n - 1) * b_cs);
    // SAFETY: the slices cover every index the strides reach (checked above in debug builds and by the
    // callers' shapes); `c` is row-major m x n.
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
            Parallelism::None,
        )
    }
}

#[allow(clippy::too_many_arguments)]
/// Forward on slices: `y[b, co, :, :] = relu(w[co] * x[b] + bias[co])`.
pub fn forward(
    x: &[f32],
    wt: &[f32],
    bias: &[f32],
    y: &mut [f32],
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
) {
    let hw = h * w;
    let k = cin * 9;
    y.par_chunks_mut(cout * hw)
        .zip(x.par_chunks(cin * hw))
        .for_each(|(yi, xi)| {
            let ty = tile_rows(k, h, w);
            with_buf(&COL, k * ty * w, |col| {
                for y0 in (0..h).step_by(ty) {
                    let y1 = (y0 + ty).min(h);
                    let n = (y1 - y0) * w;
                    im2col(xi, cin, h, w, y0, y1, &mut col[..k * n]);
                    gemm_f32(
                        cout,
                        n,
                        k,
                        &mut yi[y0 * w..],
                        hw,
                        false,
                        wt,
                        k,
                        1,
                        col,
                        n,
                        1,
                    );
                }
            });
            for (co, row) in yi.chunks_mut(hw).enumerate() {
                let b = bias[co];
                row.iter_mut().for_each(|v| *v = (*v + b).max(0.0));
            }
        });
}

/// Gradients of [`forward`]: returns (dx if wanted, dw, db) given the forward output `y` and `dy`.
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    wt: &[f32],
    y: &[f32],
    dy: &[f32],
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    input_grad: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Vec<f32>) {
    let hw = h * w;
    let k = cin * 9;
    let batch = x.len() / (cin * hw);
    let mut dx = Vec::new();
    if input_grad {
        dx.reserve_exact(x.len());
        // SAFETY: every element is written below (one GEMM without reading dst per image).
        #[allow(clippy::uninit_vec)]
        unsafe {
            dx.set_len(x.len())
        };
    }
    // wflip[ci, co*9 + (2-ky)*3 + (2-kx)] = w[co, ci, ky, kx]: the input gradient is a 3x3 "same"
    // convolution of the output gradient with these weights.
    let mut wflip = vec![0f32; if input_grad { cin * cout * 9 } else { 0 }];
    if input_grad {
        for co in 0..cout {
            for ci in 0..cin {
                for t in 0..9 {
                    wflip[ci * cout * 9 + co * 9 + (8 - t)] = wt[(co * cin + ci) * 9 + t];
                }
            }
        }
    }
    let chunks = batch.div_ceil(CHUNK);
    // Per-chunk [dw | db].
    let mut partial = vec![0.0f32; chunks * (cout * k + cout)];
    let dx_chunks: Vec<&mut [f32]> = if input_grad {
        dx.chunks_mut(CHUNK * cin * hw).collect()
    } else {
        (0..chunks).map(|_| <&mut [f32]>::default()).collect()
    };
    partial
        .par_chunks_mut(cout * k + cout)
        .zip(dx_chunks)
        .enumerate()
        .for_each(|(c, (part, dxc))| {
            let (dw, db) = part.split_at_mut(cout * k);
            let first = c * CHUNK;
            let last = (first + CHUNK).min(batch);
            with_buf(&TMP, cout * hw, |gp| {
                for (j, i) in (first..last).enumerate() {
                    let yi = &y[i * cout * hw..(i + 1) * cout * hw];
                    let dyi = &dy[i * cout * hw..(i + 1) * cout * hw];
                    for ((g, &d), &o) in gp.iter_mut().zip(dyi).zip(yi) {
                        *g = if o > 0.0 { d } else { 0.0 };
                    }
                    for (co, row) in gp.chunks(hw).enumerate() {
                        db[co] += row.iter().sum::<f32>();
                    }
                    let xi = &x[i * cin * hw..(i + 1) * cin * hw];
                    let ty = tile_rows(k, h, w);
                    with_buf(&COL, k * ty * w, |col| {
                        for y0 in (0..h).step_by(ty) {
                            let y1 = (y0 + ty).min(h);
                            let n = (y1 - y0) * w;
                            im2col(xi, cin, h, w, y0, y1, &mut col[..k * n]);
                            // dw[cout, k] += gp[cout, tile] @ col^T[tile, k]
                            let acc = j > 0 || y0 > 0;
                            gemm_f32(cout, k, n, dw, k, acc, &gp[y0 * w..], hw, 1, col, 1, n);
                        }
                    });
                    if input_grad {
                        // dx = conv3x3(gp, w flipped and transposed): im2col of gp, then GEMM.
                        let k2 = cout * 9;
                        let ty = tile_rows(k2, h, w);
                        let dxi = &mut dxc[j * cin * hw..(j + 1) * cin * hw];
                        with_buf(&COL, k2 * ty * w, |col| {
                            for y0 in (0..h).step_by(ty) {
                                let y1 = (y0 + ty).min(h);
                                let n = (y1 - y0) * w;
                                im2col(gp, cout, h, w, y0, y1, &mut col[..k2 * n]);
                                gemm_f32(
                                    cin,
                                    n,
                                    k2,
                                    &mut dxi[y0 * w..],
                                    hw,
                                    false,
                                    &wflip,
                                    k2,
                                    1,
                                    col,
                                    n,
                                    1,
                                );
                            }
                        });
                    }
                }
            });
        });
    let mut dw = vec![0.0f32; cout * k];
    let mut db = vec![0.0f32; cout];
    for part in partial.chunks(cout * k + cout) {
        dw.iter_mut()
            .zip(&part[..cout * k])
            .for_each(|(a, b)| *a += b);
        db.iter_mut()
            .zip(&part[cout * k..])
            .for_each(|(a, b)| *a += b);
    }
    (input_grad.then_some(dx), dw, db)
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let v = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => candle_core::bail!("conv3x3: expected a contiguous f32 tensor"),
    }
}

/// Reads a CPU f32 tensor's data (made contiguous first), then runs `f` on it.
fn read<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> candle_core::Result<R>) -> candle_core::Result<R> {
    let t = t.contiguous()?;
    let (s, l) = t.storage_and_layout();
    match &*s {
        Storage::Cpu(c) => f(contiguous(c, l)?),
        _ => candle_core::bail!("conv3x3: CPU tensors only"),
    }
}

impl Conv3x3Relu {
    fn dims(x: &Layout, w: &Layout) -> candle_core::Result<(usize, usize, usize, usize, usize)> {
        let (b, cin, h, wd) = x.shape().dims4()?;
        let (cout, cin2, kh, kw) = w.shape().dims4()?;
        if cin != cin2 || kh != 3 || kw != 3 || h < 2 || wd < 2 {
            candle_core::bail!("conv3x3: bad shapes x {:?} w {:?}", x.shape(), w.shape());
        }
        Ok((b, cin, cout, h, wd))
    }
}

impl CustomOp3 for Conv3x3Relu {
    fn name(&self) -> &'static str {
        "conv3x3-bias-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (b, cin, cout, h, w) = Self::dims(l1, l2)?;
        let x = contiguous(s1, l1)?;
        let wt = contiguous(s2, l2)?;
        let bias = contiguous(s3, l3)?;
        if bias.len() != cout {
            candle_core::bail!(
                "conv3x3: bias has {} values for {cout} channels",
                bias.len()
            );
        }
        let mut y = Vec::with_capacity(b * cout * h * w);
        // SAFETY: every element is written by `forward` (gemm without reading dst, then bias+relu).
        #[allow(clippy::uninit_vec)]
        unsafe {
            y.set_len(b * cout * h * w)
        };
        forward(x, wt, bias, &mut y, cin, cout, h, w);
        Ok((CpuStorage::F32(y), Shape::from((b, cout, h, w))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        wt: &Tensor,
        _bias: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (b, cin, h, w) = x.dims4()?;
        let cout = wt.dim(0)?;
        let (dx, dw, db) = read(x, |xs| {
            read(wt, |ws| {
                read(res, |ys| {
                    read(grad_res, |gs| {
                        Ok(backward(xs, ws, ys, gs, cin, cout, h, w, self.input_grad))
                    })
                })
            })
        })?;
        let dev = x.device();
        let dx = match dx {
            Some(v) => Some(Tensor::from_vec(v, (b, cin, h, w), dev)?),
            None => None,
        };
        Ok((
            dx,
            Some(Tensor::from_vec(dw, wt.shape(), dev)?),
            Some(Tensor::from_vec(db, cout, dev)?),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn reference(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
        x.conv2d(w, 1, 1, 1, 1)
            .unwrap()
            .broadcast_add(&b.reshape((1, (), 1, 1)).unwrap())
            .unwrap()
            .relu()
            .unwrap()
    }

    #[test]
    fn matches_candle_conv2d_forward_and_backward() {
        // One tile per image, tiles of one row, tiles of three rows.
        for budget in [192 * 1024, 4 * 27 * 7 + 100, 4 * 45 * 7 * 3] {
            TILE_BYTES.store(budget, std::sync::atomic::Ordering::Relaxed);
            check_against_candle();
        }
    }

    fn check_against_candle() {
        let dev = Device::Cpu;
        let (bsz, cin, cout, h, w) = (11, 3, 5, 6, 7);
        let x = Var::randn(0f32, 1.0, (bsz, cin, h, w), &dev).unwrap();
        let wt = Var::randn(0f32, 0.5, (cout, cin, 3, 3), &dev).unwrap();
        let bias = Var::randn(0f32, 0.5, cout, &dev).unwrap();
        let probe = Tensor::randn(0f32, 1.0, (bsz, cout, h, w), &dev).unwrap();

        let ours = x
            .as_tensor()
            .apply_op3(&wt, &bias, Conv3x3Relu { input_grad: true })
            .unwrap();
        let theirs = reference(&x, &wt, &bias);
        let diff = (&ours - &theirs)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-4, "forward differs by {diff}");

        let g1 = (&ours * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (&theirs * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [x.as_tensor(), wt.as_tensor(), bias.as_tensor()] {
            let a = g1.get(v).unwrap();
            let b = g2.get(v).unwrap();
            let d = (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(d < 1e-3, "gradient differs by {d} for {:?}", v.shape());
        }
        // Without the input gradient.
        let ours = x
            .as_tensor()
            .apply_op3(&wt, &bias, Conv3x3Relu { input_grad: false })
            .unwrap();
        let g3 = (&ours * &probe)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        assert!(g3.get(&x).is_none());
        let d = (g3.get(&wt).unwrap() - g2.get(&wt).unwrap())
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap();
        assert!(d.to_scalar::<f32>().unwrap() < 1e-3);
    }
}
