//! The CPU trainer: K models of one network ([`Net`]) on plain f32 slices: forward, cross-entropy,
//! backward and each model's optimizer ([`crate::optim`]), without a graph and without allocating per
//! step, on the 3x3 kernels of [`crate::kernels::winograd`] or [`crate::kernels::direct`] (per layer,
//! [`Convolution`]) for the vector path chosen at run time ([`crate::kernels::simd::Isa`]).
//!
//! Its passes are written for the layer lists [`Net::new`] makes: 3x3 "same" convolutions with ReLU,
//! then a linear layer on their flattened output. A layer's parameters are found by its index and
//! slot ([`Net::param_index`]), not by position arithmetic.
//!
//! A batch is cut into fixed chunks of [`CHUNK`] images. One task runs forward and backward for one
//! (model, chunk) pair, image by image, keeping only that image's activations (they stay in cache), and
//! adds the image's gradient to the chunk's partial gradient; the partials are summed in chunk order.
//! The arithmetic of model k is therefore the same whether it trains alone or among 13 others, on 1
//! thread or 16: fused training is bit-identical to `--fuse 1`.

use super::net::{Net, BIAS, CLASSES, WEIGHT};
use super::StepInput;
use crate::kernels::direct::{self, Conv, Epilogue, WeightGrad};
use crate::kernels::lines::Lines;
use crate::kernels::simd::{Isa, Path, WithPath};
use crate::kernels::winograd::{self, Tiling};
use crate::kernels::Convolution;
use crate::optim::ModelOptimizer;
use rayon::prelude::*;
use std::cell::RefCell;

/// Images per gradient-accumulation chunk (fixed, for thread-count-independent results).
pub const CHUNK: usize = 8;
/// Test images per evaluation task.
const EVAL_CHUNK: usize = 64;
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

/// Each convolution's kernels for the forward pass and the input gradient: its [`Tiling`], or `None`
/// for the direct kernels (the weight gradient is always direct).
type Tilings = [Option<Tiling>];

/// The kernels of each convolution of `net` under `convolution` (what results record).
pub fn layer_tilings(net: &Net, convolution: Convolution) -> Vec<Option<Tiling>> {
    (0..net.convs())
        .map(|l| convolution.tiling(net.cin(l), net.conv()[l], net.rows, net.cols))
        .collect()
}

/// What a [`Scratch`] is sized for: the convolutions' channels, the image's rows and columns, each
/// convolution's kernels.
type Fitted = (Vec<usize>, usize, usize, Vec<Option<Tiling>>);

/// One image's activations and gradients, NHWC, on cache lines (kept per thread between calls).
#[derive(Default)]
struct Scratch {
    /// The network and kernels this scratch is sized for.
    fitted: Option<Fitted>,
    /// The image with a zero border.
    xp: Lines,
    /// Each convolution's output: padded, except the last (the linear layer's input).
    act: Vec<Lines>,
    /// The gradient with respect to each convolution's output: padded, except the first.
    grad: Vec<Lines>,
    logits: [f32; CLASSES],
    /// The chunk's images so far, each the last convolution's output in PyTorch's CHW order (the
    /// linear layer's input as it sees it), and its loss gradient: their products go into the linear
    /// layer's weight gradient when the chunk is flushed ([`add_linear_weight_grads`]).
    linear_inputs: Vec<f32>,
    linear_dl: Vec<[f32; CLASSES]>,
    /// The chunk's weight gradients of each convolution, HWIO.
    dw: Vec<Vec<f32>>,
    /// The Winograd kernels' buffers.
    winograd: winograd::Workspace,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scratch {
    fn fit(&mut self, net: &Net, tilings: &Tilings) {
        // Compared in place: this runs once per task, and a key built to compare would allocate.
        let fits = self.fitted.as_ref().is_some_and(|(conv, rows, cols, t)| {
            conv == net.conv() && (*rows, *cols) == (net.rows, net.cols) && t == tilings
        });
        if fits {
            return;
        }
        let key = (net.conv().to_vec(), net.rows, net.cols, tilings.to_vec());
        let (hw, padded, last) = (net.pixels(), net.padded(), net.convs() - 1);
        self.xp = Lines::zeros(padded);
        self.act = (0..=last)
            .map(|l| Lines::zeros(net.conv()[l] * if l < last { padded } else { hw }))
            .collect();
        self.grad = (0..=last)
            .map(|l| Lines::zeros(net.conv()[l] * if l > 0 { padded } else { hw }))
            .collect();
        self.linear_inputs = vec![0.0; CHUNK * net.conv()[last] * hw];
        self.linear_dl = Vec::with_capacity(CHUNK);
        self.dw = (0..=last)
            .map(|l| vec![0.0; 9 * net.cin(l) * net.conv()[l]])
            .collect();
        self.fitted = Some(key);
    }
}

/// Floats of convolution `l`'s kernel weights: HWIO, or its Winograd domain.
fn weights_len(net: &Net, tiling: Option<Tiling>, l: usize) -> usize {
    let (cin, cout) = (net.cin(l), net.conv()[l]);
    tiling.map_or(9 * cin * cout, |t| t.domain_len(cin, cout))
}

/// Weights derived from a model's parameters for the kernels, refreshed after every step: each
/// convolution's (HWIO, or in its Winograd domain), the input-gradient weights of every convolution
/// but the first (flipped, then the same; empty for the first), and the linear layer's in NHWC order.
struct Packed {
    w: Vec<Lines>,
    flipped: Vec<Lines>,
    linear: Vec<f32>,
    /// HWIO weights on their way to the Winograd domain.
    hwio: Vec<f32>,
}

impl Packed {
    fn new(net: &Net, tilings: &Tilings, p: &[f32]) -> Self {
        let n = |l: usize| Lines::zeros(weights_len(net, tilings[l], l));
        let mut k = Self {
            w: (0..net.convs()).map(n).collect(),
            flipped: (0..net.convs())
                .map(|l| if l == 0 { Lines::default() } else { n(l) })
                .collect(),
            linear: vec![0.0; CLASSES * net.conv()[net.convs() - 1] * net.pixels()],
            hwio: Vec::new(),
        };
        k.update(net, tilings, p);
        k
    }

    fn update(&mut self, net: &Net, tilings: &Tilings, p: &[f32]) {
        for (l, &tiling) in tilings.iter().enumerate() {
            let (cin, cout, wt) = (
                net.cin(l),
                net.conv()[l],
                net.param(p, net.param_index(l, WEIGHT)),
            );
            let Some(tiling) = tiling else {
                direct::oihw_to_hwio(wt, cin, cout, &mut self.w[l]);
                if l > 0 {
                    direct::flip_oihw_to_hwio(wt, cin, cout, &mut self.flipped[l]);
                }
                continue;
            };
            self.hwio.resize(9 * cin * cout, 0.0);
            direct::oihw_to_hwio(wt, cin, cout, &mut self.hwio);
            winograd::weights_from_hwio(tiling, &self.hwio, cin, cout, &mut self.w[l]);
            if l > 0 {
                // The input gradient convolves `cout` channels into `cin`.
                direct::flip_oihw_to_hwio(wt, cin, cout, &mut self.hwio);
                winograd::weights_from_hwio(tiling, &self.hwio, cout, cin, &mut self.flipped[l]);
            }
        }
        let last = net.convs() - 1;
        let linear = net.param(p, net.param_index(net.convs(), WEIGHT));
        direct::linear_chw_to_hwc(
            linear,
            CLASSES,
            net.conv()[last],
            net.pixels(),
            &mut self.linear,
        );
    }
}

#[inline(always)]
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

/// A convolution on the kernels `tiling` chooses.
#[inline(always)]
fn conv<P: Path>(path: P, tiling: Option<Tiling>, c: Conv, work: &mut winograd::Workspace) {
    match tiling {
        Some(t) => winograd::conv(path, t, c, work),
        None => direct::conv(path, c),
    }
}

/// Forward pass of one image: fills `s.logits`, and the activations the backward pass needs.
#[inline(always)]
fn forward<P: Path>(
    path: P,
    layers: Layers,
    p: &[f32],
    packed: &Packed,
    x: &[f32],
    s: &mut Scratch,
) {
    let net = layers.net;
    let (h, w, last) = (net.rows, net.cols, net.convs() - 1);
    let Scratch {
        xp,
        act,
        logits,
        winograd,
        ..
    } = s;
    direct::chw_to_padded_hwc(x, 1, h, w, xp);
    for l in 0..=last {
        let (done, rest) = act.split_at_mut(l);
        let c = Conv {
            inp: if l == 0 { xp } else { &done[l - 1] },
            cin: net.cin(l),
            h,
            w,
            wt: &packed.w[l],
            bias: Some(net.param(p, net.param_index(l, BIAS))),
            epilogue: Epilogue::Relu,
            out: &mut rest[0],
            cout: net.conv()[l],
            out_padded: l < last,
        };
        conv(path, layers.tilings[l], c, winograd);
    }
    let (y, b) = (&act[last], net.param(p, net.param_index(net.convs(), BIAS)));
    let flat = y.len();
    for c in 0..CLASSES {
        logits[c] = b[c] + dot(&packed.linear[c * flat..(c + 1) * flat], y);
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

/// The network and each convolution's kernels.
#[derive(Clone, Copy)]
struct Layers<'a> {
    net: &'a Net,
    tilings: &'a Tilings,
}

/// One image's forward pass ([`Isa::dispatch`]es it).
struct Forward<'a> {
    layers: Layers<'a>,
    p: &'a [f32],
    packed: &'a Packed,
    x: &'a [f32],
    s: &'a mut Scratch,
}

impl WithPath for Forward<'_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, path: P) {
        forward(path, self.layers, self.p, self.packed, self.x, self.s)
    }
}

/// One image's forward and backward pass: adds the gradient of `loss * scale` to the biases' gradients
/// in `grad`, and keeps what the weight gradients need in the scratch (the convolutions' sums and the
/// linear layer's input and loss gradient, added to `grad` by [`flush_weight_grads`]); returns the
/// loss.
struct TrainImage<'a, 'g> {
    layers: Layers<'a>,
    p: &'a [f32],
    packed: &'a Packed,
    x: &'a [f32],
    label: usize,
    scale: f32,
    s: &'a mut Scratch,
    grad: &'a mut [&'g mut [f32]],
}

impl WithPath for TrainImage<'_, '_> {
    type Output = f32;
    #[inline(always)]
    fn run<P: Path>(self, path: P) -> f32 {
        let TrainImage {
            layers,
            p,
            packed,
            x,
            label,
            scale,
            s,
            grad,
        } = self;
        forward(path, layers, p, packed, x, s);
        let mut dl = [0f32; CLASSES];
        let loss = cross_entropy(&s.logits, label, Some((scale, &mut dl)));
        backward(path, layers, packed, &dl, s, grad);
        loss
    }
}

/// The backward pass after [`forward`]: the biases' gradients into `grad`, the convolutions' weight
/// gradients into `s.dw`, the linear layer's input and loss gradient into the chunk's in `s`.
#[inline(always)]
fn backward<P: Path>(
    path: P,
    Layers { net, tilings }: Layers,
    packed: &Packed,
    dl: &[f32; CLASSES],
    s: &mut Scratch,
    grad: &mut [&mut [f32]],
) {
    let (h, w, layers) = (net.rows, net.cols, net.convs());
    let last = layers - 1;
    let Scratch {
        xp,
        act,
        grad: g,
        linear_inputs,
        linear_dl,
        dw,
        winograd,
        ..
    } = s;
    let flat = act[last].len();
    let image = linear_dl.len();
    direct::hwc_to_chw(
        &act[last],
        net.conv()[last],
        h * w,
        &mut linear_inputs[image * flat..(image + 1) * flat],
    );
    linear_dl.push(*dl);
    linear_backward(
        net,
        packed,
        dl,
        &act[last],
        &mut g[last],
        grad[net.param_index(layers, BIAS)],
    );
    for l in (0..layers).rev() {
        let (cin, cout, g_padded) = (net.cin(l), net.conv()[l], l > 0);
        let (before, from_l) = g.split_at_mut(l);
        let gl = &from_l[0];
        bias_grad(gl, h, w, cout, g_padded, grad[net.param_index(l, BIAS)]);
        let inp = if l == 0 { &xp[..] } else { &act[l - 1][..] };
        let wg = WeightGrad {
            inp,
            cin,
            h,
            w,
            g: gl,
            cout,
            g_padded,
            dw: &mut dw[l],
        };
        // Direct whatever the tiling: F4's weight gradient (winograd::weight_grad) amplifies rounding
        // (docs/kernels.md).
        direct::weight_grad(path, wg);
        if l == 0 {
            break;
        }
        // The gradient with respect to the previous layer's output: the transposed convolution
        // through that layer's ReLU.
        let c = Conv {
            inp: gl,
            cin: cout,
            h,
            w,
            wt: &packed.flipped[l],
            bias: None,
            epilogue: Epilogue::ReluGrad(&act[l - 1]),
            out: &mut before[l - 1],
            cout: cin,
            out_padded: l > 1,
        };
        conv(path, tilings[l], c, winograd);
    }
}

/// The linear layer's backward pass but its weight gradient (the chunk's flush adds that,
/// [`add_linear_weight_grads`]): its bias gradient `db += dl`, and dy = W^T dl in NHWC order, masked
/// by the last convolution's ReLU (its output `y`), into `dy` (padded when that convolution is not
/// the first).
#[inline(always)]
fn linear_backward(
    net: &Net,
    packed: &Packed,
    dl: &[f32; CLASSES],
    y: &[f32],
    dy: &mut [f32],
    db: &mut [f32],
) {
    let (h, w, last) = (net.rows, net.cols, net.convs() - 1);
    for (d, &v) in db.iter_mut().zip(dl) {
        *d += v;
    }
    let c_last = net.conv()[last];
    let flat = y.len();
    // Row by row: a padded row's interior and the same pixels of the flat input are contiguous.
    let row = w * c_last;
    for yy in 0..h {
        let at = if last > 0 {
            ((yy + 1) * (w + 2) + 1) * c_last
        } else {
            yy * row
        };
        let out = &mut dy[at..][..row];
        // Each element's 10 products summed in a register (class order, from 0.0), not 10 passes over
        // the row through memory; then the ReLU's gradient.
        let wrows: [&[f32]; CLASSES] =
            std::array::from_fn(|c| &packed.linear[c * flat + yy * row..][..row]);
        let y_row = &y[yy * row..(yy + 1) * row];
        for (i, (gv, &o)) in out.iter_mut().zip(y_row).enumerate() {
            let mut sum = 0f32;
            for (&d, wrow) in dl.iter().zip(&wrows) {
                sum += d * wrow[i];
            }
            *gv = if o > 0.0 { sum } else { 0.0 };
        }
    }
}

#[inline(always)]
/// `db[ch] += sum over pixels (row-major) of g[pixel, ch]`, `g` NHWC, padded or not.
fn bias_grad(g: &[f32], h: usize, w: usize, c: usize, padded: bool, db: &mut [f32]) {
    match c {
        8 => bias_grad_sums::<8>(g, h, w, padded, db),
        16 => bias_grad_sums::<16>(g, h, w, padded, db),
        32 => bias_grad_sums::<32>(g, h, w, padded, db),
        64 => bias_grad_sums::<64>(g, h, w, padded, db),
        _ => unreachable!("check_conv allows only direct::CHANNELS"),
    }
}

#[inline(always)]
/// [`bias_grad`] for `C` channels: the `C` sums stay in registers across the pixels (adding into `db` in
/// memory pixel after pixel was 4% of a step on Zen 3). Each channel still adds its pixels one by one
/// in row-major order onto `db`'s value, so the bits are a plain loop's.
fn bias_grad_sums<const C: usize>(g: &[f32], h: usize, w: usize, padded: bool, db: &mut [f32]) {
    let (gw, off) = if padded { (w + 2, 1) } else { (w, 0) };
    let db: &mut [f32; C] = db.try_into().expect("db has C channels");
    let mut sums = *db;
    for y in 0..h {
        for x in 0..w {
            let px: &[f32; C] = g[((y + off) * gw + x + off) * C..][..C]
                .try_into()
                .expect("a pixel has C channels");
            for (s, &v) in sums.iter_mut().zip(px) {
                *s += v;
            }
        }
    }
    *db = sums;
}

/// `dw[c][e] += dl[c] * y[e]` for each of the chunk's images in order (`inputs`: their linear-layer
/// inputs in CHW order, `dls` their loss gradients): each element adds the images' products one by one
/// in image order, the bits of adding each image's product as its backward pass comes, but `dw`
/// (62,720 floats, beyond the core's first cache) is read and written once a chunk, a block at a time,
/// not once an image.
#[inline(always)]
fn add_linear_weight_grads(inputs: &[f32], dls: &[[f32; CLASSES]], dw: &mut [f32]) {
    /// Floats of a row of `dw` per block: a block of each image's input stays in the first cache
    /// while every class adds to its block.
    const BLOCK: usize = 512;
    let flat = dw.len() / CLASSES;
    for b0 in (0..flat).step_by(BLOCK) {
        let b1 = (b0 + BLOCK).min(flat);
        for (c, row) in dw.chunks_exact_mut(flat).enumerate() {
            let out = &mut row[b0..b1];
            for (i, dl) in dls.iter().enumerate() {
                let d = dl[c];
                for (gw, &v) in out.iter_mut().zip(&inputs[i * flat + b0..i * flat + b1]) {
                    *gw += d * v;
                }
            }
        }
    }
}

/// [`add_linear_weight_grads`] on the chosen vector path ([`Isa::dispatch`]es it; the loops are
/// plain Rust, vectorized by the compiler for that path's instructions).
struct LinearWeightGrads<'a> {
    inputs: &'a [f32],
    dls: &'a [[f32; CLASSES]],
    dw: &'a mut [f32],
}

impl WithPath for LinearWeightGrads<'_> {
    type Output = ();
    #[inline(always)]
    fn run<P: Path>(self, _: P) {
        add_linear_weight_grads(self.inputs, self.dls, self.dw)
    }
}

/// Adds a chunk's weight gradients to `grad`: the linear layer's ([`add_linear_weight_grads`]) and the
/// convolutions' (`s.dw`, HWIO, into PyTorch's OIHW), and clears them for the next chunk.
fn flush_weight_grads(net: &Net, isa: Isa, s: &mut Scratch, grad: &mut [&mut [f32]]) {
    isa.dispatch(LinearWeightGrads {
        inputs: &s.linear_inputs,
        dls: &s.linear_dl,
        dw: grad[net.param_index(net.convs(), WEIGHT)],
    });
    s.linear_dl.clear();
    for (l, dw) in s.dw.iter_mut().enumerate() {
        direct::add_hwio_to_oihw(
            dw,
            net.cin(l),
            net.conv()[l],
            grad[net.param_index(l, WEIGHT)],
        );
        dw.fill(0.0);
    }
}

/// K models of one network, trained together on the same batches; their optimizers (and their
/// state) are the caller's ([`crate::optim`]).
pub struct CpuModels {
    pub net: Net,
    /// Flat parameters per model.
    pub params: Vec<Vec<f32>>,
    /// Kernel weights derived from each model's parameters, refreshed after each change.
    packed: Vec<Packed>,
    /// The kernels' vector path.
    isa: Isa,
    /// Each convolution's kernels.
    tilings: Vec<Option<Tiling>>,
    /// Per (model, chunk) partial gradients of the current batch.
    partial: Vec<f32>,
    /// Per (model, chunk) sums of the batch's losses.
    chunk_losses: Vec<f64>,
}

impl CpuModels {
    /// Models with the given flat parameters, trained on the `isa` kernels (one this CPU has:
    /// [`Isa::select`]), each convolution as `convolution` chooses.
    pub fn new(net: Net, params: Vec<Vec<f32>>, isa: Isa, convolution: Convolution) -> Self {
        let tilings = layer_tilings(&net, convolution);
        let packed = params
            .iter()
            .map(|p| Packed::new(&net, &tilings, p))
            .collect();
        Self {
            net,
            params,
            packed,
            isa,
            tilings,
            partial: Vec::new(),
            chunk_losses: Vec::new(),
        }
    }

    /// Bytes of memory one model needs for a batch of `batch` images (parameters, up to three
    /// optimizer buffers, packed weights, partial gradients).
    pub fn bytes_per_model(net: &Net, batch: usize) -> usize {
        4 * net.param_count() * (5 + batch.div_ceil(CHUNK))
    }

    /// Changes model k's parameters in place (e.g. Schedule-Free's switch between `y` and `x`).
    pub fn update_params(&mut self, k: usize, f: impl FnOnce(&mut [f32])) {
        f(&mut self.params[k]);
        self.packed[k].update(&self.net, &self.tilings, &self.params[k]);
    }

    /// One optimizer step of every model on the batch `x` (`n` images) / `labels`, model k with
    /// `optimizers[k]` as `steps[k]` says for each param group; writes each model's mean loss on the
    /// batch into `losses`.
    pub fn step(
        &mut self,
        input: StepInput,
        losses: &mut [f32],
        optimizers: &mut [ModelOptimizer],
    ) {
        let StepInput { x, labels, steps } = input;
        let net = &self.net;
        let n = labels.len();
        let px = net.pixels();
        let k_models = self.params.len();
        let plen = net.param_count();
        let chunks = n.div_ceil(CHUNK);
        self.partial.resize(k_models * chunks * plen, 0.0);
        let scale = 1.0 / n as f32;
        let (params, packed, isa) = (&self.params, &self.packed, self.isa);
        let tilings = &self.tilings;
        let layers = Layers { net, tilings };
        self.chunk_losses.resize(k_models * chunks, 0.0);
        self.partial
            .par_chunks_mut(plen)
            .zip(self.chunk_losses.par_iter_mut())
            .enumerate()
            .for_each(|(task, (grad, chunk_loss))| {
                let (k, c) = (task / chunks, task % chunks);
                grad.fill(0.0);
                let mut grad = net.split(grad);
                let mut loss = 0f64;
                SCRATCH.with(|s| {
                    let s = &mut *s.borrow_mut();
                    s.fit(net, tilings);
                    for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                        loss += isa.dispatch(TrainImage {
                            layers,
                            p: &params[k],
                            packed: &packed[k],
                            x: &x[i * px..(i + 1) * px],
                            label: labels[i] as usize,
                            scale,
                            s,
                            grad: &mut grad,
                        }) as f64;
                    }
                    flush_weight_grads(net, isa, s, &mut grad);
                });
                *chunk_loss = loss;
            });
        for (k, loss) in losses.iter_mut().enumerate().take(k_models) {
            let sum: f64 = self.chunk_losses[k * chunks..(k + 1) * chunks].iter().sum();
            *loss = (sum / n as f64) as f32;
        }
        // The optimizer sums the chunks in order: the gradient does not depend on the thread count.
        let partial = &self.partial;
        self.params
            .par_iter_mut()
            .zip(optimizers.par_iter_mut())
            .zip(self.packed.par_iter_mut())
            .enumerate()
            .for_each(|(k, ((p, opt), fl))| {
                let parts = &partial[k * chunks * plen..(k + 1) * chunks * plen];
                opt.step(p, parts, &steps[k]);
                fl.update(net, tilings, p);
            });
    }

    /// Mean test loss and accuracy of every model on `images` / `labels`.
    pub fn evaluate(&self, images: &[f32], labels: &[u32]) -> Vec<(f32, f32)> {
        let net = &self.net;
        let layers = Layers {
            net,
            tilings: &self.tilings,
        };
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
                    s.fit(net, &self.tilings);
                    let (mut loss, mut correct) = (0f64, 0usize);
                    for i in c * EVAL_CHUNK..((c + 1) * EVAL_CHUNK).min(n) {
                        self.isa.dispatch(Forward {
                            layers,
                            p: &self.params[k],
                            packed: &self.packed[k],
                            x: &images[i * px..(i + 1) * px],
                            s,
                        });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bias_grad_sums_each_channel_in_pixel_order() {
        let (h, w) = (5, 7);
        for c in direct::CHANNELS {
            for padded in [false, true] {
                let gw = if padded { w + 2 } else { w };
                let n = (h + 2 * usize::from(padded)) * gw * c;
                // Values of mixed magnitude, so that any other order of the additions rounds differently.
                let g: Vec<f32> = (0..n)
                    .map(|i| ((i * 2_654_435_761) % 10_007) as f32 / 97.0 - 51.3)
                    .collect();
                let start: Vec<f32> = (0..c).map(|i| 0.1 + i as f32 * 1e-3).collect();
                let mut want = start.clone();
                let off = usize::from(padded);
                for y in 0..h {
                    for x in 0..w {
                        for ch in 0..c {
                            want[ch] += g[((y + off) * gw + x + off) * c + ch];
                        }
                    }
                }
                let mut got = start;
                bias_grad(&g, h, w, c, padded, &mut got);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{c} channels, padded {padded}");
            }
        }
    }
}
