//! The study's CNN on plain f32 slices, for K models at once: forward, cross-entropy, backward and
//! PyTorch's SGD with momentum, without a graph and without allocating per step.
//!
//! Conv2d(1,32,3,same)-ReLU-Conv2d(32,16,3,same)-ReLU-Conv2d(16,8,3,same)-ReLU-Flatten-Linear(6272,10).
//!
//! A batch is cut into fixed chunks of [`CHUNK`] images. One task runs forward and backward for one
//! (model, chunk) pair, image by image, keeping only that image's activations (about 175 KB: they stay
//! in cache), and adds the image's gradient to the chunk's partial gradient; the partials are summed in
//! chunk order. The arithmetic of model k is therefore the same whether it trains alone or among 13
//! others, on 1 thread or 16: fused training is bit-identical to `--fuse 1`.

use crate::conv::Conv;
use crate::direct;
use rayon::prelude::*;
use std::cell::RefCell;

/// Images per gradient-accumulation chunk (fixed, for thread-count-independent results).
pub const CHUNK: usize = 8;
/// Test images per evaluation task.
const EVAL_CHUNK: usize = 64;
/// Output classes.
pub const CLASSES: usize = 10;
/// Channels after each convolution.
const CHANNELS: [usize; 4] = [1, 32, 16, 8];

/// Parameter names in PyTorch's `state_dict` order (`nn.Sequential` indices of the study's model).
pub const PARAM_NAMES: [&str; 8] = [
    "seq.0.weight",
    "seq.0.bias",
    "seq.2.weight",
    "seq.2.bias",
    "seq.4.weight",
    "seq.4.bias",
    "seq.7.weight",
    "seq.7.bias",
];

/// The network's shapes for `rows x cols` images, and where each parameter lies in one flat vector.
#[derive(Clone, Debug)]
pub struct Net {
    pub rows: usize,
    pub cols: usize,
    convs: [Conv; 3],
    /// Start of each parameter in the flat vector, and the total length last.
    offsets: [usize; 9],
}

impl Net {
    pub fn new(rows: usize, cols: usize) -> Self {
        let convs = [0, 1, 2].map(|l| Conv {
            cin: CHANNELS[l],
            cout: CHANNELS[l + 1],
            h: rows,
            w: cols,
        });
        let mut offsets = [0; 9];
        for (i, (_, shape, _)) in Self::specs(rows, cols).iter().enumerate() {
            offsets[i + 1] = offsets[i] + shape.iter().product::<usize>();
        }
        Self {
            rows,
            cols,
            convs,
            offsets,
        }
    }

    /// (name, shape, fan_in) of every parameter, in `state_dict` order.
    pub fn specs(rows: usize, cols: usize) -> [(&'static str, Vec<usize>, usize); 8] {
        let flat = CHANNELS[3] * rows * cols;
        let mut specs: [(&'static str, Vec<usize>, usize); 8] = Default::default();
        for l in 0..3 {
            let (cin, cout) = (CHANNELS[l], CHANNELS[l + 1]);
            specs[2 * l] = (PARAM_NAMES[2 * l], vec![cout, cin, 3, 3], cin * 9);
            specs[2 * l + 1] = (PARAM_NAMES[2 * l + 1], vec![cout], cin * 9);
        }
        specs[6] = (PARAM_NAMES[6], vec![CLASSES, flat], flat);
        specs[7] = (PARAM_NAMES[7], vec![CLASSES], flat);
        specs
    }

    /// Floats in one model's flat parameter vector.
    pub fn len(&self) -> usize {
        self.offsets[8]
    }

    /// Parameter `i` (in `state_dict` order) of a flat vector.
    pub fn param<'a>(&self, flat: &'a [f32], i: usize) -> &'a [f32] {
        &flat[self.offsets[i]..self.offsets[i + 1]]
    }

    fn pixels(&self) -> usize {
        self.rows * self.cols
    }

    /// Splits a flat vector into its 8 parameters.
    fn split<'a>(&self, mut flat: &'a mut [f32]) -> [&'a mut [f32]; 8] {
        let mut out: [&'a mut [f32]; 8] = Default::default();
        for (i, o) in out.iter_mut().enumerate() {
            let (a, b) = flat.split_at_mut(self.offsets[i + 1] - self.offsets[i]);
            *o = a;
            flat = b;
        }
        out
    }
}

/// One image's activations and gradients (kept per thread between calls).
#[derive(Default)]
struct Scratch {
    /// Outputs of the three convolutions (NCHW; im2col path).
    y: [Vec<f32>; 3],
    /// Gradients with respect to those outputs (NCHW; im2col path).
    g: [Vec<f32>; 3],
    logits: [f32; CLASSES],
    /// The direct path's NHWC buffers ("p": with a zero border): the image, the three outputs, the
    /// gradients with respect to them, and the chunk's HWIO weight gradients (linear: NHWC order).
    xp: Vec<f32>,
    y1p: Vec<f32>,
    y2p: Vec<f32>,
    y3: Vec<f32>,
    g1: Vec<f32>,
    g2p: Vec<f32>,
    g3p: Vec<f32>,
    dw: [Vec<f32>; 4],
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scratch {
    fn fit(&mut self, net: &Net) {
        let (hw, padded) = (net.pixels(), (net.rows + 2) * (net.cols + 2));
        if self.y[0].len() == CHANNELS[1] * hw {
            return;
        }
        let [_, c1, c2, c3] = CHANNELS;
        for l in 0..3 {
            self.y[l] = vec![0.0; CHANNELS[l + 1] * hw];
            self.g[l] = vec![0.0; CHANNELS[l + 1] * hw];
        }
        self.xp = vec![0.0; padded];
        self.y1p = vec![0.0; padded * c1];
        self.y2p = vec![0.0; padded * c2];
        self.y3 = vec![0.0; hw * c3];
        self.g1 = vec![0.0; hw * c1];
        self.g2p = vec![0.0; padded * c2];
        self.g3p = vec![0.0; padded * c3];
        self.dw = [
            vec![0.0; net.convs[0].weights()],
            vec![0.0; net.convs[1].weights()],
            vec![0.0; net.convs[2].weights()],
            vec![0.0; CLASSES * c3 * hw],
        ];
    }
}

/// Weights derived from a model's parameters for the kernels, refreshed after every step.
struct Packed {
    /// Input-gradient weights of conv2 and conv3 for the im2col path ([`Conv::flip`]).
    flipped: [Vec<f32>; 2],
    /// The direct path's weights: the three convolutions HWIO, the input-gradient weights of conv2 and
    /// conv3 HWIO, and the linear layer's in NHWC order.
    w: [Vec<f32>; 3],
    w_flipped: [Vec<f32>; 2],
    linear: Vec<f32>,
}

impl Packed {
    fn new(net: &Net, p: &[f32], fast: bool) -> Self {
        let n = |l: usize| vec![0.0; net.convs[l].weights()];
        let mut k = Self {
            flipped: [n(1), n(2)],
            w: [n(0), n(1), n(2)],
            w_flipped: [n(1), n(2)],
            linear: vec![0.0; CLASSES * CHANNELS[3] * net.pixels()],
        };
        k.update(net, p, fast);
        k
    }

    /// Refreshes the weights the active path reads: the direct kernels' (`fast`) or the im2col path's.
    fn update(&mut self, net: &Net, p: &[f32], fast: bool) {
        for l in 1..3 {
            let wt = net.param(p, 2 * l);
            if fast {
                let (cin, cout) = (CHANNELS[l], CHANNELS[l + 1]);
                direct::flip_oihw_to_hwio(wt, cin, cout, &mut self.w_flipped[l - 1]);
            } else {
                net.convs[l].flip(wt, &mut self.flipped[l - 1]);
            }
        }
        if !fast {
            return;
        }
        for l in 0..3 {
            let (cin, cout) = (CHANNELS[l], CHANNELS[l + 1]);
            direct::oihw_to_hwio(net.param(p, 2 * l), cin, cout, &mut self.w[l]);
        }
        let (classes, c3, hw) = (CLASSES, CHANNELS[3], net.pixels());
        direct::linear_chw_to_hwc(net.param(p, 6), classes, c3, hw, &mut self.linear);
    }
}

#[inline]
/// `sum(a[i] * b[i])` with 16 partial sums in a fixed order (vectorizes; same bits on every run).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..16 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Forward pass of one image: fills `s.logits`, and the activations the backward pass needs.
fn forward(net: &Net, p: &[f32], packed: &Packed, fast: bool, x: &[f32], s: &mut Scratch) {
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `fast` is only set where direct::available() (the CPU has the features).
        unsafe { forward_direct(net, p, packed, x, s) };
        return;
    }
    let _ = (packed, fast);
    let Scratch { y, logits, .. } = s;
    let [y1, y2, y3] = y;
    net.convs[0].forward(x, net.param(p, 0), net.param(p, 1), y1);
    net.convs[1].forward(y1, net.param(p, 2), net.param(p, 3), y2);
    net.convs[2].forward(y2, net.param(p, 4), net.param(p, 5), y3);
    let (wl, b) = (net.param(p, 6), net.param(p, 7));
    let flat = y3.len();
    for c in 0..CLASSES {
        logits[c] = b[c] + dot(&wl[c * flat..(c + 1) * flat], y3);
    }
}

/// [`forward`] on the direct kernels, compiled for AVX-512 (so the glue loops vectorize too).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,fma")]
fn forward_direct(net: &Net, p: &[f32], packed: &Packed, x: &[f32], s: &mut Scratch) {
    let (h, w) = (net.rows, net.cols);
    let [_, c1, c2, c3] = CHANNELS;
    direct::chw_to_padded_hwc(x, 1, h, w, &mut s.xp);
    direct::conv::<16, 2>(
        &s.xp,
        1,
        h,
        w,
        &packed.w[0],
        Some(net.param(p, 1)),
        true,
        &mut s.y1p,
        true,
    );
    direct::conv::<16, 1>(
        &s.y1p,
        c1,
        h,
        w,
        &packed.w[1],
        Some(net.param(p, 3)),
        true,
        &mut s.y2p,
        true,
    );
    direct::conv::<8, 1>(
        &s.y2p,
        c2,
        h,
        w,
        &packed.w[2],
        Some(net.param(p, 5)),
        true,
        &mut s.y3,
        false,
    );
    let (wl, b, flat) = (&packed.linear, net.param(p, 7), c3 * h * w);
    for c in 0..CLASSES {
        s.logits[c] = b[c] + dot(&wl[c * flat..(c + 1) * flat], &s.y3);
    }
}

/// Cross-entropy of `logits` against `label`; with `grad`, also `d loss / d logits` scaled by `scale`.
fn cross_entropy(
    logits: &[f32; CLASSES],
    label: usize,
    grad: Option<(f32, &mut [f32; CLASSES])>,
) -> f32 {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| (l - m).exp()).sum();
    let lse = m + sum.ln();
    if let Some((scale, g)) = grad {
        for c in 0..CLASSES {
            let p = (logits[c] - lse).exp();
            g[c] = (p - if c == label { 1.0 } else { 0.0 }) * scale;
        }
    }
    lse - logits[label]
}

#[allow(clippy::too_many_arguments)]
/// Forward and backward of one image; adds its gradient (of `loss * scale`) to `grad` (the direct path
/// adds the weight gradients to `s.dw` instead, see [`flush_weight_grads`]); returns the loss.
fn train_image(
    net: &Net,
    p: &[f32],
    packed: &Packed,
    fast: bool,
    x: &[f32],
    label: usize,
    scale: f32,
    s: &mut Scratch,
    grad: &mut [f32],
) -> f32 {
    forward(net, p, packed, fast, x, s);
    let mut dl = [0f32; CLASSES];
    let loss = cross_entropy(&s.logits, label, Some((scale, &mut dl)));
    let [dw1, db1, dw2, db2, dw3, db3, dw4, db4] = net.split(grad);
    for c in 0..CLASSES {
        db4[c] += dl[c];
    }
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: `fast` is only set where direct::available() (the CPU has the features).
        unsafe { backward_direct(net, packed, &dl, s, db1, db2, db3) };
        let _ = (dw1, dw2, dw3, dw4);
        return loss;
    }
    let _ = fast;
    let Scratch { y, g, .. } = s;
    let flat = y[2].len();
    // Linear layer: dW += dl (x) y3, dy3 = W^T dl.
    let w4 = net.param(p, 6);
    for c in 0..CLASSES {
        let d = dl[c];
        for (gw, &v) in dw4[c * flat..(c + 1) * flat].iter_mut().zip(&y[2]) {
            *gw += d * v;
        }
    }
    let g3 = &mut g[2];
    g3.fill(0.0);
    for c in 0..CLASSES {
        let d = dl[c];
        for (gv, &wv) in g3.iter_mut().zip(&w4[c * flat..(c + 1) * flat]) {
            *gv += d * wv;
        }
    }
    let [g1, g2, g3] = g;
    net.convs[2].backward(&y[1], &y[2], g3, dw3, db3, Some((&packed.flipped[1], g2)));
    net.convs[1].backward(&y[0], &y[1], g2, dw2, db2, Some((&packed.flipped[0], g1)));
    net.convs[0].backward(x, &y[0], g1, dw1, db1, None);
    loss
}

/// The backward pass of [`train_image`] on the direct kernels, compiled for AVX-512: bias gradients into
/// `db*`, weight gradients into `s.dw`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,fma")]
fn backward_direct(
    net: &Net,
    packed: &Packed,
    dl: &[f32; CLASSES],
    s: &mut Scratch,
    db1: &mut [f32],
    db2: &mut [f32],
    db3: &mut [f32],
) {
    let (h, w) = (net.rows, net.cols);
    let [_, c1, c2, c3] = CHANNELS;
    let Scratch {
        xp,
        y1p,
        y2p,
        y3,
        g1,
        g2p,
        g3p,
        dw,
        ..
    } = s;
    let flat = y3.len();
    // Linear layer: dW += dl (x) y3, dy3 = W^T dl (NHWC order), masked by the ReLU.
    for c in 0..CLASSES {
        let d = dl[c];
        for (gw, &v) in dw[3][c * flat..(c + 1) * flat].iter_mut().zip(y3.iter()) {
            *gw += d * v;
        }
    }
    // Row by row: a padded row's interior and the same pixels of the flat input are contiguous.
    let row = w * c3;
    for y in 0..h {
        let out = &mut g3p[((y + 1) * (w + 2) + 1) * c3..][..row];
        out.fill(0.0);
        for (c, &d) in dl.iter().enumerate() {
            let wrow = &packed.linear[c * flat + y * row..][..row];
            for (gv, &wv) in out.iter_mut().zip(wrow) {
                *gv += d * wv;
            }
        }
        for (gv, &o) in out.iter_mut().zip(&y3[y * row..(y + 1) * row]) {
            if o <= 0.0 {
                *gv = 0.0;
            }
        }
    }
    bias_grad(g3p, h, w, c3, true, db3);
    direct::weight_grad::<8, 1, 8>(y2p, c2, h, w, g3p, true, &mut dw[2]);
    direct::conv::<16, 1>(g3p, c3, h, w, &packed.w_flipped[1], None, false, g2p, true);
    mask_interior(g2p, y2p, h, w, c2);
    bias_grad(g2p, h, w, c2, true, db2);
    direct::weight_grad::<16, 1, 8>(y1p, c1, h, w, g2p, true, &mut dw[1]);
    direct::conv::<16, 2>(g2p, c2, h, w, &packed.w_flipped[0], None, false, g1, false);
    for (pix, gv) in g1.chunks_mut(c1).enumerate() {
        let (y, x) = (pix / w, pix % w);
        let o = &y1p[((y + 1) * (w + 2) + x + 1) * c1..][..c1];
        for (g, &o) in gv.iter_mut().zip(o) {
            if o <= 0.0 {
                *g = 0.0;
            }
        }
    }
    bias_grad(g1, h, w, c1, false, db1);
    direct::weight_grad::<16, 2, 1>(xp, 1, h, w, g1, false, &mut dw[0]);
}

#[inline]
/// Zeroes the gradient `g` (padded NHWC) where the ReLU output `y` (padded NHWC) is not positive.
#[cfg(target_arch = "x86_64")]
fn mask_interior(g: &mut [f32], y: &[f32], h: usize, w: usize, c: usize) {
    let row = (w + 2) * c;
    for yy in 1..=h {
        let (gr, yr) = (&mut g[yy * row + c..][..w * c], &y[yy * row + c..][..w * c]);
        for (gv, &o) in gr.iter_mut().zip(yr) {
            *gv = if o > 0.0 { *gv } else { 0.0 };
        }
    }
}

#[inline]
/// `db[ch] += sum over pixels (row-major) of g[pixel, ch]`, `g` NHWC, padded or not.
#[cfg(target_arch = "x86_64")]
fn bias_grad(g: &[f32], h: usize, w: usize, c: usize, padded: bool, db: &mut [f32]) {
    let (gw, off) = if padded { (w + 2, 1) } else { (w, 0) };
    for y in 0..h {
        for x in 0..w {
            let px = &g[((y + off) * gw + x + off) * c..][..c];
            for (d, &v) in db.iter_mut().zip(px) {
                *d += v;
            }
        }
    }
}

/// Adds a chunk's direct-path weight gradients (`s.dw`: HWIO, linear in NHWC order) to `grad` (PyTorch's
/// layouts) and zeroes them for the next chunk.
fn flush_weight_grads(net: &Net, s: &mut Scratch, grad: &mut [f32]) {
    let [dw1, _, dw2, _, dw3, _, dw4, _] = net.split(grad);
    for (l, dst) in [dw1, dw2, dw3].into_iter().enumerate() {
        direct::add_hwio_to_oihw(&s.dw[l], CHANNELS[l], CHANNELS[l + 1], dst);
    }
    direct::add_linear_hwc_to_chw(&s.dw[3], CLASSES, CHANNELS[3], net.pixels(), dw4);
    for d in s.dw.iter_mut() {
        d.fill(0.0);
    }
}

/// K models of the study's CNN with PyTorch's SGD state: trained together on the same batches, each
/// with its own lr and momentum.
pub struct Models {
    pub net: Net,
    /// Flat parameters per model.
    pub params: Vec<Vec<f32>>,
    /// SGD momentum buffers per model (`None` until the first step with momentum, as in PyTorch).
    pub momentum: Vec<Option<Vec<f32>>>,
    /// Kernel weights derived from each model's parameters, refreshed after each step.
    packed: Vec<Packed>,
    /// Whether conv2 runs on the direct AVX-512 kernels (else im2col + GEMM).
    fast: bool,
    /// Per (model, chunk) partial gradients of the current batch.
    partial: Vec<f32>,
    /// Per (model, chunk) sums of the batch's losses.
    chunk_losses: Vec<f64>,
}

impl Models {
    /// Models with the given flat parameters and momentum buffers.
    pub fn new(net: Net, params: Vec<Vec<f32>>, momentum: Vec<Option<Vec<f32>>>) -> Self {
        assert_eq!(params.len(), momentum.len());
        let fast = direct::available() && std::env::var_os("HOST_TRAIN_NO_DIRECT").is_none();
        let packed = params.iter().map(|p| Packed::new(&net, p, fast)).collect();
        Self {
            net,
            params,
            momentum,
            packed,
            fast,
            partial: Vec::new(),
            chunk_losses: Vec::new(),
        }
    }

    /// Bytes of memory one model needs for a batch of `batch` images (parameters, momentum, flipped
    /// weights, partial gradients).
    pub fn bytes_per_model(net: &Net, batch: usize) -> usize {
        4 * net.len() * (3 + batch.div_ceil(CHUNK))
    }

    /// One SGD step of every model on the batch `x` (`n` images) / `labels`, model k with `lr[k]` and
    /// `momentum[k]`; writes each model's mean loss on the batch into `losses`.
    pub fn step(
        &mut self,
        x: &[f32],
        labels: &[u32],
        lr: &[f32],
        momentum: &[f32],
        losses: &mut [f32],
    ) {
        let net = &self.net;
        let n = labels.len();
        let px = net.pixels();
        let k_models = self.params.len();
        let plen = net.len();
        let chunks = n.div_ceil(CHUNK);
        self.partial.resize(k_models * chunks * plen, 0.0);
        let scale = 1.0 / n as f32;
        let (params, packed, fast) = (&self.params, &self.packed, self.fast);
        self.chunk_losses.resize(k_models * chunks, 0.0);
        self.partial
            .par_chunks_mut(plen)
            .zip(self.chunk_losses.par_iter_mut())
            .enumerate()
            .for_each(|(task, (grad, chunk_loss))| {
                let (k, c) = (task / chunks, task % chunks);
                grad.fill(0.0);
                let mut loss = 0f64;
                SCRATCH.with(|s| {
                    let s = &mut *s.borrow_mut();
                    s.fit(net);
                    for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                        let l = train_image(
                            net,
                            &params[k],
                            &packed[k],
                            fast,
                            &x[i * px..(i + 1) * px],
                            labels[i] as usize,
                            scale,
                            s,
                            grad,
                        );
                        loss += l as f64;
                    }
                    if fast {
                        flush_weight_grads(net, s, grad);
                    }
                });
                *chunk_loss = loss;
            });
        for (k, loss) in losses.iter_mut().enumerate().take(k_models) {
            let sum: f64 = self.chunk_losses[k * chunks..(k + 1) * chunks].iter().sum();
            *loss = (sum / n as f64) as f32;
        }
        // Sum the chunks in order, then PyTorch's SGD: buf = m*buf + g (buf = g at first), p -= lr*buf.
        let partial = &self.partial;
        self.params
            .par_iter_mut()
            .zip(self.momentum.par_iter_mut())
            .zip(self.packed.par_iter_mut())
            .enumerate()
            .for_each(|(k, ((p, buf), fl))| {
                let parts = &partial[k * chunks * plen..(k + 1) * chunks * plen];
                let (lr, m) = (lr[k], momentum[k]);
                if m != 0.0 && buf.is_none() {
                    *buf = Some(vec![0.0; plen]);
                    sgd(p, buf.as_deref_mut(), parts, plen, lr, m, true);
                } else {
                    sgd(
                        p,
                        buf.as_deref_mut().filter(|_| m != 0.0),
                        parts,
                        plen,
                        lr,
                        m,
                        false,
                    );
                }
                fl.update(net, p, fast);
            });
    }

    /// Mean test loss and accuracy of every model on `images` / `labels`.
    pub fn evaluate(&self, images: &[f32], labels: &[u32]) -> Vec<(f32, f32)> {
        let net = &self.net;
        let n = labels.len();
        let px = net.pixels();
        let chunks = n.div_ceil(EVAL_CHUNK);
        let k_models = self.params.len();
        let per_task: Vec<(f64, usize)> = (0..k_models * chunks)
            .into_par_iter()
            .map(|task| {
                let (k, c) = (task / chunks, task % chunks);
                SCRATCH.with(|s| {
                    let s = &mut *s.borrow_mut();
                    s.fit(net);
                    let (mut loss, mut correct) = (0f64, 0usize);
                    for i in c * EVAL_CHUNK..((c + 1) * EVAL_CHUNK).min(n) {
                        let x = &images[i * px..(i + 1) * px];
                        forward(net, &self.params[k], &self.packed[k], self.fast, x, s);
                        let label = labels[i] as usize;
                        loss += cross_entropy(&s.logits, label, None) as f64;
                        // The first maximum, as torch.argmax.
                        let pred = (0..CLASSES).fold(0, |best, c| {
                            if s.logits[c] > s.logits[best] {
                                c
                            } else {
                                best
                            }
                        });
                        correct += usize::from(pred == label);
                    }
                    (loss, correct)
                })
            })
            .collect();
        (0..k_models)
            .map(|k| {
                let part = &per_task[k * chunks..(k + 1) * chunks];
                let loss: f64 = part.iter().map(|t| t.0).sum();
                let correct: usize = part.iter().map(|t| t.1).sum();
                ((loss / n as f64) as f32, correct as f32 / n as f32)
            })
            .collect()
    }
}

/// Sums the per-chunk gradients `parts` in order and applies one step of `torch.optim.SGD` (dampening 0,
/// no Nesterov, no weight decay) to `p`. `first`: the momentum buffer is created from this gradient.
fn sgd(
    p: &mut [f32],
    buf: Option<&mut [f32]>,
    parts: &[f32],
    plen: usize,
    lr: f32,
    m: f32,
    first: bool,
) {
    // Block by block, so the sum of the chunks stays in cache.
    const BLOCK: usize = 1024;
    let chunks = parts.len() / plen;
    let mut g = [0f32; BLOCK];
    let mut buf = buf;
    for start in (0..plen).step_by(BLOCK) {
        let end = (start + BLOCK).min(plen);
        let g = &mut g[..end - start];
        g.copy_from_slice(&parts[start..end]);
        for c in 1..chunks {
            for (a, b) in g.iter_mut().zip(&parts[c * plen + start..c * plen + end]) {
                *a += b;
            }
        }
        let p = &mut p[start..end];
        match buf.as_deref_mut() {
            Some(b) => {
                let b = &mut b[start..end];
                for ((pv, bv), &gv) in p.iter_mut().zip(b.iter_mut()).zip(g.iter()) {
                    *bv = if first { gv } else { *bv * m + gv };
                    *pv -= lr * *bv;
                }
            }
            None => {
                for (pv, &gv) in p.iter_mut().zip(g.iter()) {
                    *pv -= lr * gv;
                }
            }
        }
    }
}
